"""Forms for the headteacher's pages.

Forms only *parse* what a person typed: pounds become integer pence, three date boxes
become a date, blank rows are dropped. Every rule about what is allowed (school
identifiers, half days, caps, dates in the past) is checked by the services, whose errors
:func:`fundflow.forms.submit_form` puts back on the right field (a form's
``service_fields`` say which service field each of its fields feeds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovFileInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, StopValidation

from ..fields import Checkbox, PoundsField, Radios
from ..forms import refresh_list_errors
from ..models.school import NATION_LABELS
from ..services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from ..services.claims import ClaimInput
from ..services.evidence import Upload


def at_most(limit: int) -> Length:
    """The longest text a field takes: what its column holds (the services say the same)."""
    return Length(max=limit, message=f"Use {limit:,} characters or fewer")


#: Numbers typed as text: far longer than any number a column holds.
NUMBER_TEXT = at_most(40)


# --------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------


class DateInput(GovDateInput):
    """GOV.UK date boxes whose day box carries the field's id, so that the error summary's
    link lands in the first box, and whose saved values are shown unpadded (3, not 03)."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        params["id"] = f"{field.id}-date"
        params["items"][0]["id"] = field.id
        if field.raw_data is None and field.data:
            values = (field.data.day, field.data.month, field.data.year)
            for item, value in zip(params["items"], values, strict=True):
                item["value"] = str(value)
        return params


class DateField(Field):
    """The GOV.UK date input: three boxes (day, month, year) sharing one name.

    Empty boxes give ``None``; ``required_message`` makes an answer necessary.
    """

    widget = DateInput()

    def __init__(
        self,
        label: str | None = None,
        *,
        required_message: str | None = None,
        invalid_message: str = "Enter a real date, like 27 3 2027",
        **kwargs: Any,
    ):
        super().__init__(label, **kwargs)
        self.required_message = required_message
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [str(v).strip() for v in (list(valuelist) + ["", "", ""])[:3]]
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except (ValueError, OverflowError):
            raise ValueError(self.invalid_message) from None

    def is_blank(self) -> bool:
        return self.data is None and not any(self.raw_data or [])

    def pre_validate(self, form: Any) -> None:
        if self.required_message and self.data is None and not self.process_errors:
            raise StopValidation(self.required_message)

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


# --------------------------------------------------------------------------------------
# Starting a bid and the task pages
# --------------------------------------------------------------------------------------


class StartForm(FlaskForm):
    fund = RadioField(
        "Which fund are you bidding to?",
        validate_choice=False,
        widget=Radios(),
    )
    title = StringField(
        "Title of the bid",
        description="A short name both schools will recognise, like “Phonics partnership”.",
        widget=GovTextInput(),
        validators=[at_most(200)],
    )
    submit = SubmitField("Start the bid", widget=GovSubmitInput())

    service_fields = {"fund": "fund_id"}

    def process_fund(self) -> int | None:
        """The chosen fund's id, or None (the service says "Choose a fund")."""
        try:
            return int(self.fund.data) if self.fund.data not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def details(self) -> BidDetails:
        """The new bid's fund and title as the service takes them."""
        return BidDetails(fund_id=self.process_fund(), title=self.title.data or "")


class NeedForm(FlaskForm):
    title = StringField("Title of the bid", widget=GovTextInput(), validators=[at_most(200)])
    need = TextAreaField(
        "What need will the support meet?",
        description="Describe the need in your school (or the partner school) and the evidence for it.",
        widget=GovTextArea(),
        validators=[at_most(10_000)],
    )
    priority_areas = TextAreaField(
        "Priority areas",
        description="The fund's priorities this bid addresses. Put each one on its own line.",
        widget=GovTextArea(),
        validators=[at_most(20 * 201)],  # up to 20 lines of up to 200 characters
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())

    def areas(self) -> list[str]:
        return [line.strip() for line in (self.priority_areas.data or "").splitlines() if line.strip()]

    def details(self) -> BidDetails:
        """The bid's title, need and priority areas as the service takes them."""
        return BidDetails(title=self.title.data or "", need=self.need.data or "", priority_areas=self.areas())


#: The nation a partner school's identifier belongs to: asked only to tell apart schools in
#: two nations with the same seven digits (a Welsh school number and a Scottish SEED code).
PARTNER_NATIONS = [
    SelectChoice("", "Work it out from the number"),
    *(SelectChoice(nation, label) for nation, label in NATION_LABELS.items()),
]


class PartnerRow(Form):
    identifier = StringField(
        "School's URN, school number or SEED code",
        description="The URN (6 digits) of a school in England, the school number (7 digits) in Wales, "
        "the SEED code (7 digits) in Scotland, or the DE reference number (like 123-4567) in "
        "Northern Ireland.",
        widget=GovTextInput(),
        validators=[at_most(20)],
    )
    nation = SelectField(
        "Which nation is the school in?",
        description="Only needed when schools in two nations have the same number.",
        choices=PARTNER_NATIONS,
        validate_choice=False,  # the service says what is wrong with an unknown one
        widget=GovSelect(),
    )
    role = RadioField(
        "What is this school's part?",
        choices=[
            SelectChoice("supporting", "Supporting: it gives support"),
            SelectChoice("supported", "Supported: it receives support"),
        ],
        validate_choice=False,
        widget=Radios(),
    )
    remove = BooleanField("Remove this school from the bid", widget=Checkbox())

    def is_blank(self) -> bool:
        return not (self.identifier.data or "").strip() and not self.role.data


class ActivityRow(Form):
    description = StringField("What will happen", widget=GovTextInput(), validators=[at_most(2000)])
    staff_role = StringField("Who will be released", widget=GovTextInput(), validators=[at_most(200)])
    days = StringField("Days", widget=GovTextInput(), validators=[NUMBER_TEXT])
    daily_rate = PoundsField("Daily rate for backfill, in pounds")
    starts_on = DateField(
        "When the activity starts", invalid_message="Enter a real start date, like 7 9 2026"
    )
    ends_on = DateField("When the activity ends", invalid_message="Enter a real end date, like 18 12 2026")
    remove = BooleanField("Remove this activity", widget=Checkbox())

    #: Form field (in pounds) → the service field it feeds (in pence).
    service_fields = {"daily_rate": "daily_rate_pence"}

    def is_blank(self) -> bool:
        texts = (self.description.data, self.staff_role.data, self.days.data, self.daily_rate.text)
        blank_dates = self.starts_on.is_blank() and self.ends_on.is_blank()
        return not any((text or "").strip() for text in texts) and blank_dates


class MeasureRow(Form):
    indicator = StringField("Indicator", widget=GovTextInput(), validators=[at_most(300)])
    unit = StringField("Unit", widget=GovTextInput(), validators=[at_most(60)])
    baseline = StringField("Baseline", widget=GovTextInput(), validators=[NUMBER_TEXT])
    target = StringField("Target", widget=GovTextInput(), validators=[NUMBER_TEXT])
    due_on = DateField("When the target is due", invalid_message="Enter a real due date, like 31 3 2027")
    follow_up_reason = TextAreaField(
        "Reason for a later follow-up (only if due after the delivery period ends)",
        widget=GovTextArea(),
        validators=[at_most(1000)],
    )
    remove = BooleanField("Remove this measure", widget=Checkbox())

    def is_blank(self) -> bool:
        texts = (self.indicator, self.unit, self.baseline, self.target, self.follow_up_reason)
        return not any((f.data or "").strip() for f in texts) and self.due_on.is_blank()


@dataclass
class Rows:
    """Inputs for a service built from a list of rows, and which form row each came from."""

    inputs: list[Any] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)


class RowsForm(FlaskForm):
    """A page of repeating rows with "add another" and a remove box on each row.

    Blank rows and rows marked for removal are dropped; everything else goes to the service.
    """

    list_name = ""
    #: The service input a kept row becomes: each row field feeds the input field of its own
    #: name, or the one the row's ``service_fields`` names (see :func:`_input_value`).
    row_input_class: type = object
    #: The row fields a saved row fills in, each from the saved row's attribute of the same
    #: name or the one (dotted for a related record) that ``saved_from`` names.
    saved_fields: tuple[str, ...] = ()
    saved_from: dict[str, str] = {}
    #: The fields each kept row must fill in, each with what to say when it is left empty.
    required_in_each_row: tuple[tuple[str, str], ...] = ()
    submit = SubmitField("Save and continue", widget=GovSubmitInput())
    add_another = SubmitField("Add another", widget=GovSubmitInput())

    @property
    def rows(self) -> FieldList:
        return getattr(self, self.list_name)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for name, message in self.required_in_each_row:
            for _, row in self.kept_rows():
                field = row[name]
                if not field.errors and _is_empty(field.data):
                    field.errors = [*field.errors, message]
                    ok = False
        refresh_list_errors(self)
        return ok

    @classmethod
    def saved_data(cls, application: Any) -> dict[str, list[dict[str, Any]]]:
        """The bid's saved rows as this form's data: one blank row when there are none."""
        paths = {name: cls.saved_from.get(name, name) for name in cls.saved_fields}
        rows = [
            {name: _as_text(attrgetter(path)(item)) for name, path in paths.items()}
            for item in getattr(application, cls.list_name)
        ]
        return {cls.list_name: rows or [{}]}

    def adding_another(self) -> bool:
        return bool(self.add_another.data)

    def kept_rows(self) -> list[tuple[int, Any]]:
        return [
            (i, entry.form)
            for i, entry in enumerate(self.rows.entries)
            if not entry.form.remove.data and not entry.form.is_blank()
        ]

    def build(self) -> Rows:
        rows = Rows()
        for position, row in self.kept_rows():
            rows.inputs.append(self.row_input(row))
            rows.positions.append(position)
        return rows

    def row_input(self, row: Form) -> Any:
        renamed = getattr(row, "service_fields", {})
        fields = [(name, f) for name, f in row._fields.items() if name != "remove"]
        return self.row_input_class(**{renamed.get(name, name): _input_value(f) for name, f in fields})

    def row_data(self, row: Any) -> dict[str, Any]:
        return {name: f.data for name, f in row._fields.items() if name != "remove"}

    def with_blank_row(self) -> RowsForm:
        """The same rows, minus removed ones, plus one blank row: the "add another" step."""
        kept = [self.row_data(row) for _, row in self.kept_rows()]
        return type(self)(formdata=None, data={self.list_name: [*kept, {}]})


class PartnersForm(RowsForm):
    list_name = "partners"
    row_input_class = PartnerInput
    saved_fields = ("identifier", "nation", "role")
    saved_from = {"identifier": "school.identifier", "nation": "school.nation"}
    partners = FieldList(FormField(PartnerRow), min_entries=1, max_entries=50)
    add_another = SubmitField("Add another partner school", widget=GovSubmitInput())


class ActivitiesForm(RowsForm):
    list_name = "activities"
    row_input_class = ActivityInput
    saved_fields = ("description", "staff_role", "days", "daily_rate", "starts_on", "ends_on")
    saved_from = {"daily_rate": "daily_rate_pence"}
    activities = FieldList(FormField(ActivityRow), min_entries=1, max_entries=50)
    add_another = SubmitField("Add another activity", widget=GovSubmitInput())
    recalculate = SubmitField("Save and work out the costs", widget=GovSubmitInput())
    required_in_each_row = (
        ("daily_rate", "Enter the daily rate in pounds"),
        ("starts_on", "Enter the date the activity starts"),
        ("ends_on", "Enter the date the activity ends"),
    )


class MeasuresForm(RowsForm):
    list_name = "measures"
    row_input_class = MeasureInput
    saved_fields = ("indicator", "unit", "baseline", "target", "due_on")
    measures = FieldList(FormField(MeasureRow), min_entries=1, max_entries=50)
    add_another = SubmitField("Add another measure", widget=GovSubmitInput())
    required_in_each_row = (("due_on", "Enter the date the target is due"),)


class DeclarationForm(FlaskForm):
    confirm = BooleanField(
        "I confirm that the information in this bid is correct, that the partner schools have "
        "agreed to their part, and that backfill claims will only be made for staff actually released.",
        validators=[DataRequired("Confirm the declaration to send the bid")],
        widget=Checkbox(),
    )
    submit = SubmitField("Submit bid", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """An "are you sure?" step before an action; the button text comes from the action."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())

    def reason(self) -> str:
        """What the action is sent with as its comment: nothing, for a plain confirmation."""
        return ""


class DeclineForm(ConfirmForm):
    """Declining to endorse a partner's bid: the reason goes to the lead school."""

    comment = TextAreaField(
        "Why is your school declining to endorse this bid?",
        description="The lead school’s headteacher sees this. It is kept in the audit trail.",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the reason your school is declining to endorse the bid"),
            at_most(10_000),
        ],
    )

    def reason(self) -> str:
        return (self.comment.data or "").strip()


# --------------------------------------------------------------------------------------
# Backfill claims and impact reports
# --------------------------------------------------------------------------------------


def upload_of(file_field: FileField) -> Upload | None:
    """The uploaded file as the services expect it, or None when no file was chosen."""
    storage = file_field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return Upload(filename=storage.filename, data=storage.read())


def evidence_within_limit(form: FlaskForm, file_field: FileField) -> None:
    """A chosen file over EVIDENCE_MAX_BYTES is named on its field with the form's other
    mistakes (the evidence service checks it again). The server keeps only the first
    EVIDENCE_MAX_BYTES + 1 bytes of an upload (see ``register_upload_limits``)."""
    storage = file_field.data
    if storage is None or not getattr(storage, "filename", ""):
        return
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    stream = storage.stream
    position = stream.tell()
    size = stream.seek(0, 2)
    stream.seek(position)
    if size > limit:
        raise StopValidation(f"The selected file must be smaller than {limit // (1024 * 1024)} MB")


class ClaimForm(FlaskForm):
    period_start = DateField(
        "First day staff were released", required_message="Enter the first day of release"
    )
    period_end = DateField(
        "Last day staff were released",
        description="For a single day, enter the same date twice.",
        required_message="Enter the last day of release",
    )
    staff_name = StringField(
        "Name of the person released",
        description="Their full name, like “Amina Khan”. One claim per person: make another for a colleague.",
        widget=GovTextInput(),
        validators=[at_most(200)],
    )
    staff_released = StringField(
        "Their role",
        description="Like “Deputy headteacher”.",
        widget=GovTextInput(),
        validators=[at_most(300)],
    )
    days = StringField(
        "Days released",
        description="Whole or half days, like 2 or 2.5.",
        widget=GovTextInput(),
        validators=[NUMBER_TEXT],
    )
    amount = PoundsField("Amount claimed, in pounds", required_message="Enter the amount claimed in pounds")
    evidence = FileField(
        "Evidence of the backfill cost",
        description="An invoice or timesheet from the supply agency: a PDF, PNG or JPEG, smaller than 5 MB.",
        validators=[FileRequired("Select the evidence file"), evidence_within_limit],
        widget=GovFileInput(),
    )
    submit = SubmitField("Send claim", widget=GovSubmitInput())

    #: Form field (in pounds) → the service field it feeds (in pence).
    service_fields = {"amount": "amount_pence"}

    def claim_input(self) -> ClaimInput:
        """The claim as the service takes it."""
        return ClaimInput(
            period_start=self.period_start.data,
            period_end=self.period_end.data,
            staff_released=self.staff_released.data or "",
            staff_name=self.staff_name.data or "",
            days=(self.days.data or "").strip(),
            amount_pence=self.amount.pence,
            evidence=upload_of(self.evidence),
        )


class ResultRow(Form):
    actual = StringField("Actual value", widget=GovTextInput(), validators=[NUMBER_TEXT])


class ReportForm(FlaskForm):
    kind = RadioField(
        "What kind of report is this?",
        choices=[
            SelectChoice("interim", "Interim: progress so far"),
            SelectChoice("final", "Final: the end of the support, with every measure"),
        ],
        validate_choice=False,
        widget=Radios(),
    )
    results = FieldList(FormField(ResultRow), max_entries=50)
    narrative = TextAreaField(
        "What happened and what changed?",
        description="Describe the support given, what changed in practice, and how you know.",
        widget=GovTextArea(),
        validators=[at_most(20_000)],
    )
    evidence = FileField(
        "Evidence (optional)",
        description="A PDF, PNG or JPEG, smaller than 5 MB.",
        validators=[evidence_within_limit],
        widget=GovFileInput(),
    )
    submit = SubmitField("Send report", widget=GovSubmitInput())

    def ensure_rows(self, count: int) -> None:
        while len(self.results.entries) < count:
            self.results.append_entry()

    def filled(self, measure_ids: list[int]) -> Rows:
        """(measure, actual) for each row given a value, with the row it came from."""
        rows = Rows()
        for position, (measure_id, entry) in enumerate(zip(measure_ids, self.results.entries, strict=False)):
            actual = (entry.form.actual.data or "").strip()
            if actual:
                rows.inputs.append((measure_id, actual))
                rows.positions.append(position)
        return rows


def _input_value(field: Field) -> Any:
    """What a row field gives the service: pence for pounds, a date as parsed, text trimmed."""
    if isinstance(field, PoundsField):
        return field.pence
    if isinstance(field, DateField):
        return field.data
    return (field.data or "").strip()


def _as_text(value: Any) -> Any:
    """A saved number as a person types it (``2.50`` shows as ``2.5``); anything else as it is."""
    return f"{value.normalize():f}" if isinstance(value, Decimal) else value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
