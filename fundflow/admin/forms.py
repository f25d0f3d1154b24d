"""Admin forms. They check the shape of what was typed (money is in pounds, a financial
year is 2026-27); the rules themselves (unique emails and school identifiers, each nation's
identifier format, a headteacher needs a school, fund rules fixed once schools have bid)
are the services' to enforce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..fields import Checkboxes, GovDateField, PoundsField, Radios, choices_of
from ..models import ROLE_LABELS, Fund, LocalAuthority, User
from ..models.school import NATION_LABELS
from ..services.admin import FundInput, SchoolInput, UserInput
from ..services.terms import CADENCES

ROLE_CHOICES = choices_of(ROLE_LABELS.items())
ROLE_HINT = (
    "A seconded headteacher is both Headteacher and Liaison officer. A headteacher needs their school."
)
YES_NO = choices_of([("yes", "Yes"), ("no", "No")])


def yes(value: str | None) -> bool:
    return value == "yes"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


class RolesField(SelectMultipleField):
    widget = GovCheckboxesInput()

    def pre_validate(self, form) -> None:
        if not self.data:
            raise ValidationError("Choose at least one role")
        known = {choice.value for choice in ROLE_CHOICES}
        if any(role not in known for role in self.data):
            raise ValidationError("Choose roles from the list")


def _required_text(label: str, missing: str, max_length: int) -> StringField:
    """A one-line text box that must be filled in, up to ``max_length`` characters."""
    return StringField(
        label, widget=GovTextInput(), validators=[DataRequired(missing), Length(max=max_length)]
    )


def _school_field() -> StringField:
    return StringField(
        "School (optional)",
        widget=GovTextInput(),
        description="A headteacher's school: its URN, school number, SEED code or DE reference number "
        "(like 123-4567), or its full name.",
        validators=[Length(max=200)],
    )


def _school_nation_field() -> SelectField:
    return SelectField(
        "Which nation is the school in?",
        description="Only needed when schools in two nations have the same number.",
        choices=[SelectChoice("", "Work it out from the number"), *choices_of(NATION_LABELS.items())],
        validate_choice=False,  # the service says what is wrong with an unknown one
        widget=GovSelect(),
    )


def _text_or_none(value: str | None) -> str | None:
    return (value or "").strip() or None


#: The service names the person's school by any of these; the form's school box feeds them.
SCHOOL_SERVICE_FIELDS = {"school": ("school", "school_urn", "school_id"), "school_nation": "school_nation"}


class UserForm(FlaskForm):
    email = _required_text("Email address", "Enter the person's email address", 254)
    name = _required_text("Full name", "Enter the person's name", 200)
    roles = RolesField("Roles", choices=ROLE_CHOICES, description=ROLE_HINT)
    school = _school_field()
    school_nation = _school_nation_field()
    submit = SubmitField("Create account", widget=GovSubmitInput())

    service_fields = SCHOOL_SERVICE_FIELDS

    def user_input(self) -> UserInput:
        """The new account as the service takes it (no password: the person sets their own)."""
        return UserInput(
            email=self.email.data,
            name=self.name.data,
            roles=self.roles.data or [],
            school=_text_or_none(self.school.data),
            school_nation=_text_or_none(self.school_nation.data),
        )


class SetPasswordLinkForm(FlaskForm):
    """A button: a fresh one-time set-password link (the old one stops working)."""

    submit = SubmitField("Make a new set-password link", widget=GovSubmitInput())


class SignOutEverywhereForm(FlaskForm):
    """A button: end every session of the account and revoke its API tokens (a lost laptop)."""

    submit = SubmitField("Sign out everywhere", widget=GovSubmitInput())


class RetryEmailForm(FlaskForm):
    """A button: put an email that could not be sent back in the queue."""

    submit = SubmitField("Try again", widget=GovSubmitInput())


class UserEditForm(FlaskForm):
    roles = RolesField("Roles", choices=ROLE_CHOICES, description=ROLE_HINT)
    school = _school_field()
    school_nation = _school_nation_field()
    active = RadioField(
        "Can this person sign in?",
        widget=GovRadioInput(),
        choices=choices_of(
            [
                ("yes", "Yes, the account is active"),
                ("no", "No, deactivate the account (it is kept, with everything it did)"),
            ]
        ),
        validators=[DataRequired("Say whether the account is active")],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    service_fields = SCHOOL_SERVICE_FIELDS

    def fill(self, user: User) -> None:
        """Start the form from the account as it is."""
        self.roles.data = user.roles
        self.school.data = user.school.identifier if user.school else ""
        self.school_nation.data = user.school.nation if user.school else ""
        self.active.data = yes_no(user.active)

    def changes(self) -> dict[str, Any]:
        """The keyword arguments of :func:`fundflow.services.admin.update_user`."""
        return {
            "roles": self.roles.data or [],
            "school": _text_or_none(self.school.data),
            "school_nation": _text_or_none(self.school_nation.data),
            "active": yes(self.active.data),
        }


#: Each nation's identifier, as the school form's radios describe it.
IDENTIFIER_HINTS = {
    "england": "URN: 6 digits, from Get Information about Schools",
    "wales": "School number: 7 digits, the council's 3-digit code then the school's 4-digit number",
    "scotland": "SEED code: 7 digits, from the Scottish Government's school contact details",
    "northern_ireland": "DE reference number: 7 digits, written like 123-4567",
}


class SchoolForm(FlaskForm):
    nation = RadioField(
        "Which nation is the school in?",
        widget=Radios(),
        choices=choices_of(NATION_LABELS.items()),
        default="england",
        validate_choice=False,  # the service says what is wrong with an unknown one
    )
    identifier = StringField(
        "The school's official identifier",
        widget=GovTextInput(),
        description="Its URN in England, school number in Wales, SEED code in Scotland or DE reference "
        "number in Northern Ireland.",
        validators=[
            DataRequired("Enter the school's URN, school number, SEED code or DE reference number"),
            Length(max=20),
        ],
    )
    gss_code = StringField(
        "Local authority GSS code (optional)",
        widget=GovTextInput(),
        description="9 characters: E06… or E08… for an English council, W06… Welsh, S12… Scottish, "
        "N09… Northern Irish. It names the council in 360Giving files.",
        validators=[Length(max=20)],
    )
    name = _required_text("School name", "Enter the school's name", 200)
    phase = StringField(
        "Phase (optional)",
        widget=GovTextInput(),
        description="For example, Primary",
        validators=[Length(max=60)],
    )
    establishment_type = StringField(
        "Type of establishment (optional)", widget=GovTextInput(), validators=[Length(max=120)]
    )
    la_code = StringField(
        "Local authority code (optional)",
        widget=GovTextInput(),
        description="For example, 871 for Slough",
        validators=[Length(max=10)],
    )
    la_name = StringField(
        "Local authority name (optional)", widget=GovTextInput(), validators=[Length(max=120)]
    )
    trust = StringField("Trust (optional)", widget=GovTextInput(), validators=[Length(max=200)])
    postcode = StringField("Postcode (optional)", widget=GovTextInput(), validators=[Length(max=12)])
    causing_concern = RadioField(
        "Is the school causing concern?",
        widget=GovRadioInput(),
        description="For example, in an inspection category. It may be supported, but supporting "
        "another school then needs a liaison officer's override note.",
        choices=YES_NO,
        default="no",
        validators=[DataRequired("Say whether the school is causing concern")],
    )
    submit = SubmitField("Add school", widget=GovSubmitInput())

    def school_input(self) -> SchoolInput:
        """The school as the service takes it."""
        return SchoolInput(
            nation=self.nation.data or "",
            identifier=(self.identifier.data or "").strip(),
            gss_code=(self.gss_code.data or "").strip(),
            name=self.name.data,
            phase=self.phase.data or "",
            la_code=self.la_code.data or "",
            la_name=self.la_name.data or "",
            trust=self.trust.data or "",
            establishment_type=self.establishment_type.data or "",
            postcode=self.postcode.data or "",
            causing_concern=yes(self.causing_concern.data),
        )

    #: A school already added is refused on the identifier that names it.
    code_fields = {"duplicate_urn": "identifier", "duplicate_school": "identifier"}


class ConcernForm(FlaskForm):
    causing_concern = RadioField(
        "Is the school causing concern?",
        widget=GovRadioInput(),
        choices=YES_NO,
        validators=[DataRequired("Say whether the school is causing concern")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class SchoolSearchForm(FlaskForm):
    """A GET search: no CSRF token, nothing changes."""

    class Meta:
        csrf = False

    q = StringField(
        "Search by name, URN or school number", widget=GovTextInput(), validators=[Length(max=200)]
    )
    submit = SubmitField("Search", widget=GovSubmitInput())


class ImportForm(FlaskForm):
    file = FileField(
        "GIAS establishments CSV",
        widget=GovFileInput(),
        description="Download it from Get Information about Schools (filtered to your local authority). "
        "Every establishment is kept with its status (closed ones too); schools already here are "
        "updated by URN.",
        validators=[FileRequired("Choose a CSV file to upload")],
    )
    submit = SubmitField("Upload and import", widget=GovSubmitInput())


def _weeks_field(label: str, hint: str, default: int) -> StringField:
    """A number of whole weeks, typed; the service checks its range."""
    return StringField(
        label, widget=GovTextInput(), description=hint, default=str(default), validators=[Length(max=10)]
    )


def _whole(text: str | None) -> int | str:
    """Whole weeks as typed: the number, or the text as it is for the service to refuse."""
    cleaned = (text or "").strip()
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() else cleaned


class FundForm(FlaskForm):
    name = _required_text("Fund name", "Enter the fund's name", 200)
    financial_year = StringField(
        "Financial year",
        widget=GovTextInput(),
        description="For example, 2026-27",
        validators=[
            DataRequired("Enter the financial year"),
            Length(max=9),
            Regexp(r"^\d{4}-\d{2}$", message="Enter the financial year like 2026-27"),
        ],
    )
    budget = PoundsField("Budget", required_message="Enter the fund's budget", description="In pounds.")
    opens_on = GovDateField(
        "Takes bids from",
        required_message="Enter the date the fund opens",
        description="For example, 1 4 2026",
    )
    closes_on = GovDateField(
        "Takes bids until",
        required_message="Enter the date the fund closes",
        description="For example, 31 3 2027",
    )
    delivery_ends_on = GovDateField(
        "Delivery ends on",
        required_message="Enter the date the delivery period ends",
        description="After the fund closes. Schools can claim backfill for days up to this date. "
        "For example, 31 8 2027",
    )
    max_daily_rate = PoundsField(
        "Highest backfill daily rate",
        required_message="Enter the highest daily rate the fund pays",
        description="In pounds. No activity in a bid may cost more a day.",
    )
    max_award = PoundsField("Largest award (optional)", description="In pounds. Leave empty for no limit.")
    countersign_threshold = PoundsField(
        "Second signature needed from (optional)",
        description="In pounds. Awards of this much or more need a second liaison officer to countersign. "
        "Leave empty if none do.",
    )
    requires_partner_endorsement = RadioField(
        "Must partner schools endorse a bid before it is submitted?",
        widget=GovRadioInput(),
        choices=YES_NO,
        default="no",
        validators=[DataRequired("Say whether partner schools must endorse bids")],
    )
    report_cadence = RadioField(
        "When do awards send interim impact reports?",
        widget=Radios(),
        choices=choices_of(CADENCES.items()),
        default="termly",
        description="Each term or half term: shortly before the holiday. Or the liaison officer "
        "sets the dates when approving each award.",
        validate_choice=False,  # the service says what is wrong with an unknown one
        validators=[DataRequired("Choose when awards send interim reports")],
    )
    final_report_weeks = _weeks_field(
        "Weeks from the last measure to the final report",
        "The final impact report is due this many weeks after the bid's last measure falls due. "
        "From 0 to 52.",
        6,
    )
    claim_deadline_weeks = _weeks_field(
        "Weeks to claim backfill after an activity ends",
        "Schools claim backfill within this many weeks of each activity's planned end. From 0 to 26.",
        4,
    )
    local_authorities = SelectMultipleField(
        "Which councils' schools may bid?",
        choices=[],
        widget=Checkboxes(),
        description="Select all that apply. With none selected, schools of every member council may bid.",
    )
    submit = SubmitField("Save fund", widget=GovSubmitInput())

    def __init__(self, *args: Any, councils: Sequence[LocalAuthority] = (), **kwargs: Any) -> None:
        """``councils``: the member councils of the admin's organisation, offered as
        checkboxes when there is more than one (a new fund starts with all of them ticked)."""
        super().__init__(*args, **kwargs)
        self.local_authorities.choices = choices_of((c.gss_code, c.name) for c in councils)
        self.offers_councils = len(councils) > 1
        if not self.is_submitted():
            self.local_authorities.data = [c.gss_code for c in councils]

    #: Form field (in pounds) → the service field it feeds (in pence), for the error summary.
    service_fields = {
        "budget": "budget_pence",
        "max_daily_rate": "max_daily_rate_pence",
        "max_award": "max_award_pence",
        "countersign_threshold": "countersign_threshold_pence",
    }

    def fill(self, fund: Fund) -> None:
        """Start the form from the fund's rules as they are."""
        self.name.data = fund.name
        self.financial_year.data = fund.financial_year
        self.budget.data = fund.budget_pence
        self.opens_on.data = fund.opens_on
        self.closes_on.data = fund.closes_on
        self.delivery_ends_on.data = fund.delivery_ends_on
        self.max_daily_rate.data = fund.max_daily_rate_pence
        self.max_award.data = fund.max_award_pence
        self.countersign_threshold.data = fund.countersign_threshold_pence
        self.requires_partner_endorsement.data = yes_no(fund.requires_partner_endorsement)
        self.report_cadence.data = fund.report_cadence
        self.final_report_weeks.data = str(fund.final_report_weeks)
        self.claim_deadline_weeks.data = str(fund.claim_deadline_weeks)
        self.local_authorities.data = [c.gss_code for c in fund.local_authorities]

    def fund_input(self) -> FundInput:
        """The fund's rules as the service takes them."""
        return FundInput(
            name=self.name.data,
            financial_year=(self.financial_year.data or "").strip(),
            budget_pence=self.budget.data,
            opens_on=self.opens_on.data,
            closes_on=self.closes_on.data,
            delivery_ends_on=self.delivery_ends_on.data,
            max_daily_rate_pence=self.max_daily_rate.data,
            max_award_pence=self.max_award.data,
            countersign_threshold_pence=self.countersign_threshold.data,
            requires_partner_endorsement=yes(self.requires_partner_endorsement.data),
            report_cadence=self.report_cadence.data or "",
            final_report_weeks=_whole(self.final_report_weeks.data),
            claim_deadline_weeks=_whole(self.claim_deadline_weeks.data),
            local_authorities=tuple(self.local_authorities.data or ()) if self.offers_councils else (),
        )
