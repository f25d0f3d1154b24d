"""Forms for the liaison officer's pages. They check the shape of what was typed (a yes or
no, a sum of money); the services decide whether the action is allowed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import (
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..fields import Checkboxes, GovDateField, PoundsField, Radios, choices_of
from ..models import DRIVER_LABELS, DRIVERS, RATING_LABELS, RATINGS
from ..services.impact import EvaluationInput
from ..services.lifecycle import ActionInput
from ..services.reviews import ReviewInput

YES_NO = [("yes", "Yes"), ("no", "No")]
VALUE_FOR_MONEY = [("1", "1 Poor"), ("2", "2 Adequate"), ("3", "3 Good"), ("4", "4 Excellent")]
RECOMMENDATION_CHOICES = [
    ("approve", "Approve"),
    ("request_changes", "Request changes"),
    ("reject", "Reject"),
]
LONG_TEXT = Length(max=10_000, message="Use 10,000 characters or fewer")


def _required_choice(label: str, pairs: list[tuple[str, str]], message: str) -> RadioField:
    """Radios whose only message, when nothing or something unknown is sent, is ``message``."""
    return RadioField(
        label,
        choices=choices_of(pairs),
        widget=Radios(),
        validate_choice=False,
        validators=[InputRequired(message), AnyOf([v for v, _ in pairs], message=message)],
    )


class QueueFilterForm(Form):
    """The work queue's filters, read from the query string (GET, so no CSRF token)."""

    fund = SelectField("Fund", choices=[], widget=GovSelect(), validate_choice=False)
    status = SelectField("Status", choices=[], widget=GovSelect(), validate_choice=False)
    q = StringField(
        "School, school number or bid reference",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200)],
    )


class ReviewForm(FlaskForm):
    eligible = _required_choice(
        "Is the bid eligible for the fund?", YES_NO, "Say whether the bid is eligible"
    )
    aligned_with_priorities = _required_choice(
        "Is it aligned with the fund's priorities?", YES_NO, "Say whether the bid is aligned with priorities"
    )
    supporting_school_has_capacity = _required_choice(
        "Does the supporting school have the capacity to give this support?",
        YES_NO,
        "Say whether the supporting school has capacity",
    )
    value_for_money = _required_choice(
        "How good is its value for money?", VALUE_FOR_MONEY, "Score value for money from 1 to 4"
    )
    comments = TextAreaField("Comments", widget=GovTextArea(), validators=[Optional(), LONG_TEXT])
    recommendation = _required_choice(
        "Your recommendation", RECOMMENDATION_CHOICES, "Choose approve, request changes or reject"
    )
    submit = SubmitField("Save review", widget=GovSubmitInput())

    def review_input(self) -> ReviewInput:
        """The review as the service takes it."""
        return ReviewInput(
            eligible=self.eligible.data == "yes",
            aligned_with_priorities=self.aligned_with_priorities.data == "yes",
            supporting_school_has_capacity=self.supporting_school_has_capacity.data == "yes",
            value_for_money=int(self.value_for_money.data),
            comments=self.comments.data or "",
            recommendation=self.recommendation.data,
        )


class _DecisionForm(FlaskForm):
    """A decision on a bid with a comment: what :func:`lifecycle.perform` is asked to do."""

    def action_input(self, action: str) -> ActionInput:
        return ActionInput(action=action, comment=self.comment.data or "")


#: How many interim report dates the approve page offers.
REPORT_DATE_BOXES = 6


def _report_date(ordinal: str) -> GovDateField:
    return GovDateField(f"{ordinal} interim report due on (optional)", description="For example, 12 12 2026")


class ApproveForm(_DecisionForm):
    awarded = PoundsField(
        "Award",
        validators=[InputRequired("Enter the award in pounds")],
    )
    conditions = TextAreaField(
        "Conditions of the award (optional)",
        widget=GovTextArea(),
        description="For example: report progress each term.",
        validators=[Optional(), LONG_TEXT],
    )
    comment = TextAreaField("Note (optional)", widget=GovTextArea(), validators=[Optional(), LONG_TEXT])
    # Interim report dates, asked for only when the fund leaves them to the officer.
    report_date_1 = _report_date("First")
    report_date_2 = _report_date("Second")
    report_date_3 = _report_date("Third")
    report_date_4 = _report_date("Fourth")
    report_date_5 = _report_date("Fifth")
    report_date_6 = _report_date("Sixth")
    submit = SubmitField("Approve award", widget=GovSubmitInput())

    #: Form field (in pounds) → the service field it feeds (in pence); a problem with the
    #: report dates is shown on the first of them.
    service_fields = {"awarded": "awarded_pence", "report_date_1": "report_dates"}

    def report_date_fields(self) -> list[GovDateField]:
        return [self[f"report_date_{n}"] for n in range(1, REPORT_DATE_BOXES + 1)]

    def action_input(self, action: str) -> ActionInput:
        dates = [f.data.isoformat() for f in self.report_date_fields() if f.data is not None]
        return ActionInput(
            action=action,
            comment=self.comment.data or "",
            awarded_pence=self.awarded.pence,
            conditions=self.conditions.data or "",
            report_dates=dates or None,
        )


def _written_reason(label: str, hint: str) -> TextAreaField:
    """The comment box a decision's reason goes in (the service says when one is needed)."""
    return TextAreaField(label, widget=GovTextArea(), description=hint, validators=[LONG_TEXT])


class RequestChangesForm(_DecisionForm):
    comment = _written_reason(
        "What needs to change", "The lead headteacher sees this and changes the bid before sending it back."
    )
    submit = SubmitField("Request changes", widget=GovSubmitInput())


class RejectForm(_DecisionForm):
    comment = _written_reason(
        "Reason for rejecting the bid", "The schools see this reason. It is kept in the audit trail."
    )
    submit = SubmitField("Reject bid", widget=GovSubmitInput())


class CountersignForm(FlaskForm):
    submit = SubmitField("Countersign award", widget=GovSubmitInput())


class CancelForm(_DecisionForm):
    comment = _written_reason(
        "Reason for cancelling the award", "Claims not yet paid will be rejected with this reason."
    )
    submit = SubmitField("Cancel award", widget=GovSubmitInput())


CLAIM_DECISIONS = {"verify": "Verify the claim", "reject": "Reject the claim"}


class ClaimDecisionForm(FlaskForm):
    decision = _required_choice("Your decision", list(CLAIM_DECISIONS.items()), "Choose verify or reject")
    comment = _written_reason("Comment", "Give the reason if you reject the claim.")
    submit = SubmitField("Save decision", widget=GovSubmitInput())

    #: A claim over what is left of the award is refused on the decision to verify it.
    service_fields = {"decision": "amount_pence"}


class EvaluationForm(FlaskForm):
    rating = _required_choice(
        "Were the intended outcomes achieved?",
        [(r, RATING_LABELS[r]) for r in RATINGS],
        "Choose achieved, partly achieved or not achieved",
    )
    drivers = SelectMultipleField(
        "Which improvement drivers did the work show?",
        choices=choices_of([(d, DRIVER_LABELS[d]) for d in DRIVERS]),
        widget=Checkboxes(),
        description="Select all that apply.",
    )
    comment = TextAreaField("Comment", widget=GovTextArea(), validators=[Optional(), LONG_TEXT])
    submit = SubmitField("Save evaluation", widget=GovSubmitInput())

    def evaluation_input(self) -> EvaluationInput:
        """The evaluation as the service takes it."""
        return EvaluationInput(
            rating=self.rating.data, drivers=list(self.drivers.data or []), comment=self.comment.data or ""
        )


class WaiveItemForm(FlaskForm):
    comment = _written_reason(
        "Reason for waiving it",
        "The school sees this reason. It is kept in the audit trail.",
    )
    submit = SubmitField("Waive", widget=GovSubmitInput())


class RescheduleItemForm(FlaskForm):
    due_on = GovDateField(
        "New due date", required_message="Enter the new due date", description="For example, 27 3 2027"
    )
    comment = _written_reason(
        "Reason for the change",
        "The school sees this reason. It is kept in the audit trail.",
    )
    submit = SubmitField("Change due date", widget=GovSubmitInput())
