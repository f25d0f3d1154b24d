from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..fields import GovDateField, PoundsField
from ..services.payments import DisbursementInput


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

    #: Form field (in pounds) → the service field it feeds (in pence).
    service_fields = {"amount": "amount_pence"}

    def start(self, unpaid_pence: int, paid_on: date) -> None:
        """Start the form at what is left to pay on the claim, paid today."""
        self.amount.data = unpaid_pence if unpaid_pence > 0 else None
        self.paid_on.data = paid_on

    def disbursement_input(self) -> DisbursementInput:
        """The payment as the service takes it."""
        return DisbursementInput(
            amount_pence=self.amount.data,
            paid_on=self.paid_on.data,
            reference=(self.reference.data or "").strip(),
        )


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
