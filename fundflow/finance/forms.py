from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..fields import GovDateField, PoundsField, choices_of
from ..models import Fund


class PaymentForm(FlaskForm):
    amount = PoundsField(
        "Amount paid",
        required_message="Enter the amount paid",
        description="In pounds. It starts at what is left to pay on the claim.",
    )
    paid_on = GovDateField(
        "Date paid",
        required_message="Enter the date the payment was made",
        description="For example, 27 3 2026",
    )
    reference = StringField(
        "Payment reference",
        widget=GovTextInput(),
        description="The reference in the finance system, unique within the fund. "
        "Letters, numbers, / _ . - (up to 60).",
        validators=[DataRequired("Enter the payment reference"), Length(max=60)],
    )
    submit = SubmitField("Record payment", widget=GovSubmitInput())


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        "Why is this payment being reversed?",
        widget=GovTextArea(),
        description="For example, paid to the wrong school or entered twice. Auditors will read this.",
        validators=[DataRequired("Give the reason for the reversal"), Length(max=2000)],
    )
    submit = SubmitField("Reverse payment", widget=GovSubmitInput())


def fund_choices(funds: Iterable[Fund], *, blank: str | None = None) -> list[SelectChoice]:
    pairs = [("", blank)] if blank else []
    return choices_of(pairs + [(str(f.id), fund_label(f)) for f in funds])


def fund_label(fund: Fund) -> str:
    """The fund's name, with its financial year unless the name already says it."""
    return fund.name if fund.financial_year in fund.name else f"{fund.name} ({fund.financial_year})"


def chosen_id(value: str | None) -> int | None:
    """A select's value as a row id, or None for "all" and anything unreadable."""
    if not value or not value.isdigit() or len(value) > 9:  # row ids fit a database integer
        return None
    return int(value)


class FundFilterForm(FlaskForm):
    """A GET filter: no CSRF token (it changes nothing) and read from the query string."""

    class Meta:
        csrf = False

    fund_id = SelectField("Fund", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Show payments", widget=GovSubmitInput())


class TransparencyForm(FlaskForm):
    """Which payments go into a Local Government Transparency Code file (a GET form)."""

    class Meta:
        csrf = False

    fund_id = SelectField("Fund", widget=GovSelect(), validators=[DataRequired("Choose the fund")])
    date_from = GovDateField("Payments made from", required_message="Enter the first date to include")
    date_to = GovDateField("Up to and including", required_message="Enter the last date to include")
    submit = SubmitField("Download transparency CSV", widget=GovSubmitInput())

    def validate_date_to(self, field: GovDateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The last date must be the same as or after the first date")
