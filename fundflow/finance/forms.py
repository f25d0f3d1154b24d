from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..fields import GovDateField, PoundsField


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


class FundFilterForm(FlaskForm):
    """A GET filter: no CSRF token (it changes nothing) and read from the query string."""

    class Meta:
        csrf = False

    fund_id = SelectField("Fund", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Show payments", widget=GovSubmitInput())
