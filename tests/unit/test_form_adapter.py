"""The one adapter from forms to services (:func:`fundflow.forms.submit_form`): a refusal
lands on the field that feeds the service field it names, on the row its input came from,
or at the top of the error summary; a form failing its own checks writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, StringField
from wtforms.validators import DataRequired

from fundflow.forms import attempt, submit_form
from fundflow.services.errors import Conflict, NotPermitted, ValidationFailed


class Row(Form):
    rate = IntegerField("Rate in pounds")
    service_fields = {"rate": "rate_pence"}


class MoneyForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired("Enter a name")])
    amount = IntegerField("Amount in pounds")
    reference = StringField("Reference")
    rows = FieldList(FormField(Row), min_entries=3)
    service_fields = {"amount": "amount_pence"}
    code_fields = {"taken": "name"}


@dataclass
class Kept:
    positions: list[int] = field(default_factory=list)


@pytest.fixture
def post() -> Iterator:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"

    def posting(**data: str):
        return app.test_request_context("/", method="POST", data=data)

    yield posting


def refuse(exc: Exception):
    def act(_data: object) -> None:
        raise exc

    return act


def test_a_refusal_on_a_pence_field_shows_on_the_pounds_field_that_feeds_it(post):
    with post(name="A", amount="5"):
        form = MoneyForm()
        outcome = submit_form(form, refuse(ValidationFailed({"amount_pence": ["Too much"]})))
    assert not outcome.done and outcome.status == 422
    assert form.amount.errors == ["Too much"]
    assert form.form_errors == []


def test_a_refusal_on_a_field_the_form_lacks_goes_to_the_top_of_the_summary(post):
    with post(name="A"):
        form = MoneyForm()
        outcome = submit_form(form, refuse(ValidationFailed({"action": ["Choose one"], "name": ["Taken"]})))
    assert outcome.status == 422
    assert form.form_errors == ["Choose one"]
    assert form.name.errors == ["Taken"]


def test_a_refusal_without_fields_goes_to_the_summary_with_its_status(post):
    with post(name="A"):
        form = MoneyForm()
        outcome = submit_form(form, refuse(Conflict("Someone else changed it")))
    assert (outcome.done, outcome.status) == (False, 409)
    assert form.form_errors == ["Someone else changed it"]


def test_a_row_refusal_shows_on_the_row_its_input_came_from(post):
    with post(name="A"):
        form = MoneyForm()
        # The service saw two rows: form rows 0 and 2 (row 1 was blank and dropped).
        outcome = submit_form(
            form, refuse(ValidationFailed({"rows.1.rate_pence": ["Over the cap"]})), lambda: Kept([0, 2])
        )
    assert outcome.status == 422
    assert [entry.form.rate.errors for entry in form.rows.entries] == [[], [], ["Over the cap"]]
    assert form.rows.errors == [{}, {}, {"rate": ["Over the cap"]}]


def test_a_refusal_code_that_names_a_field_shows_on_that_field(post):
    with post(name="A", reference="X1"):
        form = MoneyForm()
        taken = submit_form(form, refuse(Conflict("That name is taken", code="taken")))
        again = MoneyForm()
        duplicate = submit_form(again, refuse(Conflict("Used before", code="duplicate_reference")))
    assert (taken.status, form.name.errors, form.form_errors) == (409, ["That name is taken"], [])
    assert (duplicate.status, again.reference.errors) == (409, ["Used before"])


def test_a_form_failing_its_own_checks_writes_nothing_and_shows_the_services_other_problems(post):
    written = []
    with post(name="", amount="5"):
        form = MoneyForm()
        outcome = submit_form(
            form,
            written.append,
            lambda: "input",
            refuse(ValidationFailed({"name": ["Service says name"], "amount_pence": ["Too much"]})),
        )
    assert written == []
    assert (outcome.done, outcome.status) == (False, 422)
    assert form.name.errors == ["Enter a name"]  # the form's own message, not both
    assert form.amount.errors == ["Too much"]


def test_a_form_that_passes_returns_the_services_answer(post):
    with post(name="A", amount="5"):
        form = MoneyForm()
        outcome = submit_form(form, lambda data: f"saved {data}", lambda: form.amount.data)
    assert (outcome.done, outcome.value, outcome.status) == (True, "saved 5", 200)


def test_nothing_posted_renders_the_form_with_200():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    with app.test_request_context("/"):
        form = MoneyForm()
        outcome = submit_form(form, refuse(AssertionError("the service must not run")))
    assert (outcome.done, outcome.status) == (False, 200)


def test_a_refusal_the_view_does_not_catch_goes_on_to_the_error_pages(post):
    with post(name="A"), pytest.raises(NotPermitted):
        submit_form(MoneyForm(), refuse(NotPermitted("No")), catching=ValidationFailed)


def test_a_button_refusal_is_a_message_unless_it_is_let_through():
    def not_permitted() -> None:
        raise NotPermitted("Not yours")

    def conflict() -> None:
        raise Conflict("Already done")

    assert attempt(conflict).message == "Already done"
    assert attempt(lambda: 3).value == 3
    with pytest.raises(NotPermitted):
        attempt(not_permitted, letting_through=(NotPermitted,))
