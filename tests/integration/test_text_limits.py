"""Free text has a length limit everywhere it comes in: every text field on every form and
every string in every API body, matching what its column holds. Too long is a message on
that field (a form re-rendered with 422, or the API's 422 with ``fields``), never a 500,
and nothing is written."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from marshmallow import Schema, fields, validate
from wtforms import Form, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import fundflow
from fundflow.api import schemas
from fundflow.extensions import db
from fundflow.models import Application, ImpactEvaluation, ImpactReport, Measure, Review
from fundflow.services import auth as auth_service
from fundflow.services import impact

API = "/api/v1"
#: Fields whose text is read by their own parser into a number of pence (bounded there).
PARSED_AMOUNTS = {"PoundsField"}


def _form_classes() -> list[type[Form]]:
    found = []
    for module_info in pkgutil.walk_packages(fundflow.__path__, "fundflow."):
        if not module_info.name.endswith("forms"):
            continue
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, Form):
                found.append(cls)
    return found


def _text_fields(form_class: type[Form]) -> list[tuple[str, UnboundField]]:
    return [
        (name, unbound)
        for name, unbound in inspect.getmembers(form_class, lambda v: isinstance(v, UnboundField))
        if issubclass(unbound.field_class, StringField | TextAreaField)
        and unbound.field_class.__name__ not in PARSED_AMOUNTS
    ]


def _length_limit(unbound: UnboundField) -> int | None:
    validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
    limits = [v.max for v in validators or [] if isinstance(v, Length) and v.max and v.max > 0]
    return min(limits) if limits else None


FORM_TEXT_FIELDS = [
    pytest.param(cls, name, unbound, id=f"{cls.__module__.split('.')[1]}.{cls.__name__}.{name}")
    for cls in _form_classes()
    for name, unbound in _text_fields(cls)
]


def test_the_forms_have_text_fields_to_check():
    assert len(FORM_TEXT_FIELDS) > 40


@pytest.mark.parametrize(("form_class", "name", "unbound"), FORM_TEXT_FIELDS)
def test_every_text_field_on_every_form_has_a_length_limit(form_class, name, unbound):
    limit = _length_limit(unbound)
    assert limit is not None, f"{form_class.__name__}.{name} takes text of any length"
    assert limit <= 20_000


def _free_text(schema_class: type[Schema]) -> list[tuple[str, schemas.Text, bool]]:
    """(name, field, in a list) for each free-text field: Text that is not a choice."""
    texts = []
    for name, field in schema_class().fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, schemas.Text) and not any(
            isinstance(v, validate.OneOf) for v in inner.validators
        ):
            texts.append((name, inner, inner is not field))
    return texts


API_TEXT_FIELDS = [
    pytest.param(cls, name, field, in_list, id=f"{cls.__name__}.{name}")
    for _, cls in inspect.getmembers(schemas, inspect.isclass)
    if issubclass(cls, Schema) and cls.__module__ == schemas.__name__
    for name, field, in_list in _free_text(cls)
]


def test_the_api_bodies_have_text_fields_to_check():
    assert len(API_TEXT_FIELDS) > 30


@pytest.mark.parametrize(("schema_class", "name", "field", "in_list"), API_TEXT_FIELDS)
def test_every_string_in_every_api_body_has_a_limit_that_refuses_one_character_more(
    schema_class, name, field, in_list
):
    limits = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max]
    assert limits, f"{schema_class.__name__}.{name} takes text of any length"
    limit = min(limits)
    assert limit <= 20_000

    def body(text: str) -> dict[str, Any]:
        return {name: [text] if in_list else text}

    message = [f"Use {limit:,} characters or fewer"]
    errors = schema_class().validate(body("x" * (limit + 1)), partial=True)
    assert errors[name] == ({0: message} if in_list else message)
    assert name not in schema_class().validate(body("x" * limit), partial=True)


def test_the_openapi_document_gives_every_string_in_a_request_body_a_max_length(client):
    document = client.get(f"{API}/openapi.json").get_json()
    components = document["components"]["schemas"]

    def strings(schema: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
        if "$ref" in schema:
            return strings(components[schema["$ref"].rsplit("/", 1)[1]], path)
        found = []
        for name, prop in schema.get("properties", {}).items():
            found += strings(prop, f"{path}.{name}")
        if "items" in schema:
            found += strings(schema["items"], f"{path}[]")
        if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
            found.append((path, schema))
        return found

    bodies = [
        (f"{method.upper()} {url}", op["requestBody"]["content"]["application/json"]["schema"])
        for url, operations in document["paths"].items()
        for method, op in operations.items()
        if isinstance(op, dict) and "requestBody" in op
    ]
    unlimited = [where for label, body in bodies for where, s in strings(body, label) if "maxLength" not in s]
    assert bodies and unlimited == []


# ----------------------------------------------------------- end to end, site and API


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_service.issue_token(user, 'test')}"}


def test_api_need_one_character_over_the_limit_is_422_on_need_and_nothing_is_saved(make, client):
    bid = make.application("draft")
    response = client.patch(
        f"{API}/applications/{bid.reference}", json={"need": "n" * 10_001}, headers=_bearer(make.lead_of(bid))
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"need": ["Use 10,000 characters or fewer"]}
    db.session.expire_all()
    assert db.session.get(Application, bid.id).need == "Reading is below the local average."


def test_api_comment_over_the_limit_on_an_action_is_422_on_comment(make, client):
    bid = make.application("under_review")
    response = client.post(
        f"{API}/applications/{bid.reference}/actions",
        json={"action": "request_changes", "comment": "c" * 10_001},
        headers=_bearer(make.liaison()),
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["comment"]
    db.session.expire_all()
    assert db.session.get(Application, bid.id).status == "under_review"


def test_api_follow_up_reason_over_its_column_is_422(make, client):
    bid = make.application("draft")
    measure = {
        "indicator": "Attendance",
        "unit": "%",
        "baseline": 90,
        "target": 95,
        "due_on": bid.measures[0].due_on.isoformat(),
        "follow_up_reason": "r" * 1001,
    }
    response = client.patch(
        f"{API}/applications/{bid.reference}",
        json={"measures": [measure]},
        headers=_bearer(make.lead_of(bid)),
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["measures.0.follow_up_reason"]


def test_api_evaluation_comment_over_the_limit_is_422_and_nothing_is_written(make, client):
    bid = make.application("monitoring")
    report = impact.submit_report(
        make.lead_of(bid),
        bid,
        impact.ReportInput(
            kind="final",
            narrative="Done.",
            results=[impact.ResultInput(measure_id=m.id, actual="70") for m in bid.measures],
        ),
    )
    response = client.post(
        f"{API}/impact-reports/{report.id}/evaluation",
        json={"rating": "achieved", "drivers": [], "comment": "c" * 10_001},
        headers=_bearer(make.liaison()),
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["comment"]
    assert db.session.query(ImpactEvaluation).count() == 0


@pytest.mark.parametrize(
    ("task", "data", "field_id"),
    [
        ("need", {"title": "T" * 201, "need": "", "priority_areas": ""}, "title"),
        ("need", {"title": "Reading", "need": "n" * 10_001, "priority_areas": ""}, "need"),
        (
            "activities",
            {
                "activities-0-description": "d" * 2001,
                "activities-0-staff_role": "Deputy",
                "activities-0-days": "2",
                "activities-0-daily_rate": "250",
            },
            "activities-0-description",
        ),
        (
            "measures",
            {
                "measures-0-indicator": "i" * 301,
                "measures-0-unit": "%",
                "measures-0-baseline": "1",
                "measures-0-target": "2",
                "measures-0-due_on": ["1", "1", "2100"],
                "measures-0-follow_up_reason": "Later",
            },
            "measures-0-indicator",
        ),
    ],
)
def test_headteacher_task_with_text_over_its_limit_is_refused_on_that_field(
    make, client, auth, task, data, field_id
):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(f"/headteacher/bids/{bid.reference}/{task}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'href="#{field_id}"' in page
    assert "characters or fewer" in page
    db.session.expire_all()
    saved = db.session.get(Application, bid.id)
    assert saved.title == "Phonics partnership"
    assert [m.indicator for m in db.session.query(Measure).filter_by(application_id=bid.id)] == [
        "Phonics pass rate"
    ]


def test_liaison_review_comment_over_the_limit_is_refused_on_its_field(make, client, auth):
    bid = make.application("under_review")
    auth.login(make.liaison())
    response = client.post(
        f"/liaison/bids/{bid.reference}/review",
        data={
            "eligible": "yes",
            "aligned_with_priorities": "yes",
            "supporting_school_has_capacity": "yes",
            "value_for_money": "3",
            "comments": "c" * 10_001,
            "recommendation": "approve",
        },
    )
    assert response.status_code == 422
    assert 'href="#comments"' in response.get_data(as_text=True)
    assert db.session.query(Review).count() == 0


def test_impact_narrative_over_the_limit_is_refused_on_its_field(make, client, auth):
    bid = make.application("monitoring")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/reports/new",
        data={"kind": "interim", "narrative": "n" * 20_001, "results-0-actual": "70"},
    )
    assert response.status_code == 422
    assert 'href="#narrative"' in response.get_data(as_text=True)
    assert db.session.query(ImpactReport).count() == 0
