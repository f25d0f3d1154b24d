"""Marshmallow schemas for the JSON API: what comes in and what goes out.

They check types and shapes only (a number is a number, a date is ``YYYY-MM-DD``, a list
is a list, ids fit in a 64-bit column). Every rule about the fund — limits, states, who
may act — is the services' job, so nothing here is written twice. Enumerations come from
the one place they are declared (the workflow and the models). The same schemas drive the
OpenAPI document, so the document says what the server does.
"""

from __future__ import annotations

import re
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..models import DRIVERS, PARTNER_ROLES, RATINGS, REPORT_KINDS, ROLES
from ..models.schedule import SCHEDULE_KINDS
from ..models.school import NATIONS as SCHOOL_NATIONS
from ..models.school import STATUSES as SCHOOL_STATUSES
from ..reports.value_targeting import FSM_BANDS, FSM_NOT_KNOWN
from ..request_guard import CONTROL
from ..services.measure_results import MEASURE_RESULTS
from ..services.notifications import MESSAGE_KINDS
from ..services.parsing import DAYS, MEASURE_VALUE, PENCE, ROW_ID, Bounds, NumberRefused, parse_number
from ..services.queries.exceptions import EXCEPTION_KINDS
from ..services.schedule import MAX_OFFICER_DATES
from ..services.terms import CADENCES
from ..workflow import APPLICATION_LIFECYCLE, APPLICATION_STATES, CLAIM_STATES, SCHEDULE_STATES

INT64_MAX = 2**63 - 1
#: Row ids are the database's 32-bit integer keys.
ID_MAX = 2**31 - 1
#: Claims are verified or rejected through the API; paying is a disbursement.
CLAIM_DECISIONS = ("verify", "reject")
#: What a liaison officer does to a monitoring schedule item through the API.
SCHEDULE_OFFICER_ACTIONS = ("waive", "reschedule")
#: A fund's schedule settings, in whole weeks.
FINAL_REPORT_WEEKS = Bounds(2, 0, minimum=0, maximum=52)
CLAIM_DEADLINE_WEEKS = Bounds(2, 0, minimum=0, maximum=26)

# --------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------


#: What the OpenAPI document says of every string: no NUL or other control characters but
#: tab, line feed and carriage return (the request guard refuses them with 400).
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"


class Text(fields.String):
    """A string a database can store: no NUL or other control characters (but tab, LF, CR),
    no lone surrogates. The OpenAPI document says so with a ``pattern``."""

    default_error_messages = {"unstorable": "Use ordinary text: this contains characters that cannot be kept"}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": NO_CONTROL_CHARACTERS, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL.search(text):
            raise self.make_error("unstorable")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("unstorable") from None
        return text


class Number(fields.Field):
    """A JSON number, read as an exact ``Decimal`` (2.5 days stays 2.5) by the one bounded
    parser (:func:`fundflow.services.parsing.parse_number`): what its column ``bounds`` cannot
    hold — too large, too many decimal places — is a field error, never a rounded value.
    Written back as a JSON number: an integer when whole, otherwise a decimal."""

    default_error_messages = {"invalid": "Not a valid number."}

    def __init__(self, bounds: Bounds | None = None, **kwargs: Any) -> None:
        """``bounds``: the column an input is stored in (its limits go into the OpenAPI
        document); output fields leave it out."""
        metadata = dict(kwargs.pop("metadata", {}))
        if bounds is not None:
            metadata = {
                "minimum": float(bounds.smallest),
                "maximum": float(bounds.largest),
                "multipleOf": float(Decimal(1).scaleb(-bounds.places)),
                **metadata,
            }
        super().__init__(metadata=metadata, **kwargs)
        self.bounds = bounds or MEASURE_VALUE

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.make_error("invalid")
        try:
            return parse_number(value, self.bounds, what="a number")
        except NumberRefused as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | float | None:
        if value is None:
            return None
        number = Decimal(value)
        if number == number.to_integral_value():
            return int(number)
        return float(number)


class StrictBoolean(fields.Boolean):
    """``true`` or ``false`` only (marshmallow's Boolean would also take 1, "yes", …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class IsoDate(fields.Date):
    """A date written exactly ``YYYY-MM-DD``, as the OpenAPI ``date`` format (RFC 3339
    full-date) says: not ``2026-1-5``, not ``20260105``, not other scripts' digits."""

    PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not self.PATTERN.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


class UtcDateTime(fields.DateTime):
    """Times are kept as naive UTC; the API writes them in ISO 8601 with the offset."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()


class Whole(fields.Integer):
    """A JSON whole number that fits its integer column, read by the one bounded parser.
    As JSON Schema says, ``283.0`` is an integer (and so accepted as 283); ``283.5``,
    ``"283"`` and ``true`` are not."""

    def __init__(self, bounds: Bounds, **kwargs: Any) -> None:
        limits = validate.Range(min=int(bounds.smallest), max=int(bounds.largest))
        super().__init__(strict=True, validate=limits, **kwargs)
        self.bounds = bounds

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.make_error("invalid", input=value)
        try:
            return int(parse_number(value, self.bounds, what="a whole number"))
        except NumberRefused as exc:
            raise ValidationError(str(exc)) from None


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    """A row id: a whole number that fits the database's integer key."""
    return Whole(ROW_ID, **kwargs)


def Pence(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """Money in whole pence. Its limits (more than 0, within the award …) are the services'."""
    return Whole(PENCE, **kwargs)


def Words(limit: int, **kwargs: Any) -> Text:  # noqa: N802
    """Free text of at most ``limit`` characters: what its column holds (Text columns get
    a limit a person never needs to pass). The OpenAPI document says ``maxLength``."""
    return Text(validate=validate.Length(max=limit, error=f"Use {limit:,} characters or fewer"), **kwargs)


def choice(values: Any, **kwargs: Any) -> Text:
    return Text(validate=validate.OneOf(list(values)), **kwargs)


#: Output fields are always present: marked required so the OpenAPI document says so.
OUT = {"required": True}

# --------------------------------------------------------------------------------------
# Query strings
# --------------------------------------------------------------------------------------


class QuerySchema(Schema):
    """Query parameters: unknown ones are ignored."""

    class Meta:
        unknown = EXCLUDE


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ApplicationListQuery(PageQuery):
    status = choice(APPLICATION_STATES)
    fund_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))


class FundFilterQuery(QuerySchema):
    fund_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))


class ValueForMoneyQuery(FundFilterQuery):
    """The report's per-bid rows come a page at a time; its totals cover every bid."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    date_from = IsoDate(
        data_key="from", metadata={"description": "Bids submitted, and payments paid, on or after this day"}
    )
    date_to = IsoDate(
        data_key="to", metadata={"description": "Bids submitted, and payments paid, on or before this day"}
    )
    local_authority = Words(10, metadata={"description": "Bids whose lead school is in this LA (GIAS code)"})
    priority_area = Words(
        200, metadata={"description": "Bids naming this priority area (case and spaces ignored)"}
    )


class ExceptionsQuery(PageQuery):
    """Control exceptions: one fund's (or every fund's), of one kind or all, a page at a time."""

    fund_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))
    kind = choice(EXCEPTION_KINDS, metadata={"description": "One kind of exception; every kind if left out"})


class RequiredFundQuery(QuerySchema):
    fund_id = fields.Integer(required=True, validate=validate.Range(min=1, max=ID_MAX))


class TermlyReportQuery(RequiredFundQuery):
    """The termly report: a fund and one of its terms (checked against the fund: 422 on `term`)."""

    term = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9]{4}-(autumn|winter|spring|summer)$", error="Give a term like 2026-autumn"
        ),
        metadata={
            "description": "A term of the school year: 2026-autumn, 2026-spring or 2026-summer; "
            "a four-term (Scottish) organisation's funds also have 2026-winter"
        },
    )


class TransparencyQuery(FundFilterQuery):
    date_from = IsoDate(data_key="from")
    date_to = IsoDate(data_key="to")


# --------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    # Looser than the columns: a sign-in that cannot match any account is a failed attempt
    # (401, counted by the throttle), not a form error that would say why.
    email = Words(1000, required=True)
    password = Words(1000, required=True)


class FundInputSchema(Schema):
    name = Words(200, required=True)
    financial_year = Words(9, required=True, metadata={"example": "2026-27"})
    budget_pence = Pence(required=True)
    opens_on = IsoDate(required=True)
    closes_on = IsoDate(required=True)
    max_daily_rate_pence = Pence(required=True)
    max_award_pence = Pence(allow_none=True, load_default=None)
    countersign_threshold_pence = Pence(allow_none=True, load_default=None)
    requires_partner_endorsement = StrictBoolean(load_default=False)
    delivery_ends_on = IsoDate(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The last day backfill can be claimed for; after closes_on. "
            "Left out or null: a year after closes_on."
        },
    )
    report_cadence = choice(
        CADENCES,
        load_default="termly",
        metadata={
            "description": "When awards send interim impact reports; set_by_officer: on dates "
            "the approving liaison officer gives"
        },
    )
    final_report_weeks = Whole(
        FINAL_REPORT_WEEKS,
        load_default=6,
        metadata={"description": "The final report is due this many weeks after the bid's last measure"},
    )
    claim_deadline_weeks = Whole(
        CLAIM_DEADLINE_WEEKS,
        load_default=4,
        metadata={"description": "Backfill is claimed within this many weeks of each activity's end"},
    )
    local_authorities = fields.List(
        Words(9, metadata={"example": "S12000049"}),
        load_default=list,
        validate=validate.Length(max=100, error="Name at most 100 councils"),
        metadata={
            "description": "GSS codes of the member councils of the admin's organisation whose schools "
            "may bid; left out or empty: every member council"
        },
    )


class SchoolInputSchema(Schema):
    urn = Words(
        6,
        load_default=None,
        metadata={"example": "110123", "description": "An English school's URN (or nation and identifier)"},
    )
    nation = fields.String(
        validate=validate.OneOf(SCHOOL_NATIONS),
        load_default="england",
        metadata={"description": "england, wales, scotland or northern_ireland"},
    )
    identifier = Words(
        12,
        load_default=None,
        metadata={
            "example": "6812345",
            "description": "The official identifier: URN (England, 6 digits), school number "
            "(Wales, 7 digits), SEED code (Scotland, 7 digits) or DE reference (Northern Ireland, NNN-NNNN)",
        },
    )
    gss_code = Words(9, load_default="", metadata={"example": "W06000015"})
    name = Words(200, required=True)
    phase = Words(60, load_default="")
    la_code = Words(10, load_default="")
    la_name = Words(120, load_default="")
    trust = Words(200, load_default="")
    establishment_type = Words(120, load_default="")
    postcode = Words(12, load_default="")
    causing_concern = StrictBoolean(load_default=False)


class PartnerInputSchema(Schema):
    """A partner school, named one way: ``school_id``, or ``identifier`` (with ``nation`` when
    the number fits schools in two nations), or an English school's ``urn``."""

    school_id = Id(load_default=None, metadata={"description": "The school's id, as GET /schools gives it"})
    identifier = Words(
        12,
        load_default=None,
        metadata={
            "example": "8412345",
            "description": "URN (England), school number (Wales), SEED code (Scotland) or DE reference "
            "(Northern Ireland); 422 on partners.<n>.nation when it fits schools in two nations",
        },
    )
    nation = choice(
        SCHOOL_NATIONS,
        load_default=None,
        metadata={"description": "england, wales, scotland or northern_ireland: the identifier's nation"},
    )
    urn = Words(
        6, load_default=None, metadata={"example": "110123", "description": "An English school's URN"}
    )
    role = choice(PARTNER_ROLES, required=True)


class ActivityInputSchema(Schema):
    description = Words(2000, required=True)
    staff_role = Words(200, required=True)
    days = Number(
        DAYS, required=True, metadata={"description": "Whole or half days, e.g. 2.5", "multipleOf": 0.5}
    )
    daily_rate_pence = Pence(required=True)
    starts_on = IsoDate(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "When the release is planned to start: on or after the fund opens. "
            "Give both dates or neither."
        },
    )
    ends_on = IsoDate(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "When the release is planned to end: on or after starts_on and by the "
            "fund's delivery_ends_on. Backfill is claimed within claim_deadline_weeks of it."
        },
    )


class MeasureInputSchema(Schema):
    indicator = Words(300, required=True)
    unit = Words(60, required=True)
    baseline = Number(MEASURE_VALUE, required=True)
    target = Number(MEASURE_VALUE, required=True)
    due_on = IsoDate(required=True)
    follow_up_reason = Words(
        1000,
        load_default="",
        metadata={
            "description": "Why the target is followed up after the fund's delivery period; needed "
            "only when due_on is after it. Approving the bid accepts the later date."
        },
    )


class ApplicationPatchSchema(Schema):
    """Edit a bid: each part given replaces what was there; parts left out stay as they are."""

    title = Words(200)
    need = Words(10_000)
    priority_areas = fields.List(
        Words(200), validate=validate.Length(max=20, error="Choose at most 20 priority areas")
    )
    partners = fields.List(fields.Nested(PartnerInputSchema))
    activities = fields.List(fields.Nested(ActivityInputSchema))
    measures = fields.List(fields.Nested(MeasureInputSchema))


class ApplicationCreateSchema(ApplicationPatchSchema):
    fund_id = Id(required=True)
    title = Words(200, required=True)


class ActionRequestSchema(Schema):
    action = choice(APPLICATION_LIFECYCLE.actions, required=True)
    comment = Words(10_000, load_default="")
    awarded_pence = Pence(allow_none=True, load_default=None)
    conditions = Words(10_000, load_default="")
    report_dates = fields.List(
        IsoDate(),
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=MAX_OFFICER_DATES),
        metadata={
            "description": "approve only, when the fund's report_cadence is set_by_officer: the interim "
            "report dates (each after today)"
        },
    )


class ScheduleActionSchema(Schema):
    action = choice(SCHEDULE_OFFICER_ACTIONS, required=True)
    comment = Words(2000, load_default="", metadata={"description": "The reason (needed for both)"})
    due_on = IsoDate(
        allow_none=True, load_default=None, metadata={"description": "reschedule: the new due date"}
    )


class ClaimCreateSchema(Schema):
    period_start = IsoDate(required=True)
    period_end = IsoDate(required=True)
    staff_released = Words(300, required=True, metadata={"description": "The role of the person released"})
    staff_name = Words(200, required=True, metadata={"description": "The name of the person released"})
    days = Number(DAYS, required=True, metadata={"description": "Whole or half days", "multipleOf": 0.5})
    amount_pence = Pence(required=True)


class ClaimActionSchema(Schema):
    action = choice(CLAIM_DECISIONS, required=True)
    comment = Words(10_000, load_default="")


class DisbursementCreateSchema(Schema):
    amount_pence = Pence(required=True)
    paid_on = IsoDate(required=True)
    reference = Words(60, required=True)


class ReversalSchema(Schema):
    reason = Words(2000, required=True)


class ClaimReversalSchema(Schema):
    reverses_id = Id(required=True, metadata={"description": "The payment of this claim to reverse"})
    reason = Words(2000, required=True)


class ResultInputSchema(Schema):
    measure_id = Id(required=True)
    actual = Number(MEASURE_VALUE, required=True)


class ImpactReportCreateSchema(Schema):
    kind = choice(REPORT_KINDS, required=True)
    narrative = Words(20_000, required=True)
    results = fields.List(fields.Nested(ResultInputSchema), required=True)


class EvaluationCreateSchema(Schema):
    rating = choice(RATINGS, required=True)
    drivers = fields.List(choice(DRIVERS), load_default=list)
    comment = Words(10_000, load_default="")


# --------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(**OUT, metadata={"description": "snake_case, for programs"})
    message = fields.String(**OUT, metadata={"description": "for a person"})
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Only for 422 validation errors: messages per field (dotted names)"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, **OUT)


class TokenSchema(Schema):
    token = fields.String(**OUT)


class MeSchema(Schema):
    email = fields.String(**OUT)
    name = fields.String(**OUT)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), **OUT)
    school_id = fields.Integer(allow_none=True, **OUT)
    school_nation = fields.String(allow_none=True, validate=validate.OneOf(SCHOOL_NATIONS), **OUT)
    school_identifier = fields.String(allow_none=True, **OUT)
    school_urn = fields.String(
        allow_none=True, metadata={"description": "English schools only, else null"}, **OUT
    )


class FundCouncilSchema(Schema):
    gss_code = fields.String(**OUT, metadata={"example": "S12000049"})
    name = fields.String(**OUT, metadata={"example": "Glasgow City"})


class FundSchema(Schema):
    id = fields.Integer(**OUT)
    name = fields.String(**OUT)
    financial_year = fields.String(**OUT)
    budget_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT)
    available_pence = fields.Integer(**OUT)
    opens_on = IsoDate(**OUT)
    closes_on = IsoDate(**OUT)
    max_award_pence = fields.Integer(allow_none=True, **OUT)
    max_daily_rate_pence = fields.Integer(**OUT)
    countersign_threshold_pence = fields.Integer(allow_none=True, **OUT)
    requires_partner_endorsement = fields.Boolean(**OUT)
    delivery_ends_on = IsoDate(**OUT, metadata={"description": "Claims cover days up to this date"})
    report_cadence = fields.String(validate=validate.OneOf(list(CADENCES)), **OUT)
    final_report_weeks = fields.Integer(**OUT)
    claim_deadline_weeks = fields.Integer(**OUT)
    local_authorities = fields.List(
        fields.Nested(FundCouncilSchema),
        **OUT,
        metadata={"description": "The councils whose schools may bid, by name"},
    )


class SchoolSchema(Schema):
    school_id = fields.Integer(attribute="id", **OUT)
    urn = fields.String(allow_none=True, metadata={"description": "English schools only, else null"}, **OUT)
    nation = fields.String(validate=validate.OneOf(SCHOOL_NATIONS), **OUT)
    identifier = fields.String(**OUT)
    giving360_id = fields.String(metadata={"example": "GB-WALEDU-6812345"}, **OUT)
    gss_code = fields.String(**OUT)
    name = fields.String(**OUT)
    phase = fields.String(**OUT)
    la_code = fields.String(**OUT)
    la_name = fields.String(**OUT)
    trust = fields.String(**OUT)
    establishment_type = fields.String(**OUT)
    postcode = fields.String(**OUT)
    causing_concern = fields.Boolean(**OUT)
    status = fields.String(
        validate=validate.OneOf(SCHOOL_STATUSES),
        metadata={"description": "GIAS establishment status; a closed school cannot be named on a new bid"},
        **OUT,
    )


class PartnerSchema(Schema):
    school_id = fields.Integer(**OUT)
    nation = fields.String(attribute="school.nation", validate=validate.OneOf(SCHOOL_NATIONS), **OUT)
    identifier = fields.String(attribute="school.identifier", metadata={"example": "8412345"}, **OUT)
    urn = fields.String(
        attribute="school.urn",
        allow_none=True,
        metadata={"description": "English schools only, else null"},
        **OUT,
    )
    name = fields.String(attribute="school.name", **OUT)
    role = fields.String(validate=validate.OneOf(PARTNER_ROLES), **OUT)
    endorsed = fields.Boolean(**OUT)


class ActivitySchema(Schema):
    id = fields.Integer(**OUT)
    description = fields.String(**OUT)
    staff_role = fields.String(**OUT)
    days = Number(**OUT)
    daily_rate_pence = fields.Integer(**OUT)
    cost_pence = fields.Integer(**OUT)
    starts_on = IsoDate(allow_none=True, **OUT, metadata={"description": "null when not given"})
    ends_on = IsoDate(allow_none=True, **OUT, metadata={"description": "null when not given"})


class MeasureSchema(Schema):
    id = fields.Integer(**OUT)
    indicator = fields.String(**OUT)
    unit = fields.String(**OUT)
    baseline = Number(**OUT)
    target = Number(**OUT)
    due_on = IsoDate(**OUT)
    follow_up_reason = fields.String(**OUT)


class ScheduleItemSchema(Schema):
    id = fields.Integer(**OUT)
    kind = fields.String(validate=validate.OneOf(SCHEDULE_KINDS), **OUT)
    due_on = IsoDate(**OUT)
    status = fields.String(validate=validate.OneOf(list(SCHEDULE_STATES)), **OUT)
    completed_on = IsoDate(allow_none=True, **OUT, metadata={"description": "When it was met or waived"})
    waived_reason = fields.String(**OUT)


class ApplicationSchema(Schema):
    reference = fields.String(**OUT)
    fund_id = fields.Integer(**OUT)
    lead_school_id = fields.Integer(**OUT)
    lead_school_nation = fields.String(
        attribute="lead_school.nation", validate=validate.OneOf(SCHOOL_NATIONS), **OUT
    )
    lead_school_identifier = fields.String(attribute="lead_school.identifier", **OUT)
    lead_school_urn = fields.String(
        attribute="lead_school.urn",
        allow_none=True,
        metadata={"description": "English schools only, else null"},
        **OUT,
    )
    title = fields.String(**OUT)
    need = fields.String(**OUT)
    priority_areas = fields.List(fields.String(), **OUT)
    status = fields.String(validate=validate.OneOf(list(APPLICATION_STATES)), **OUT)
    version = fields.Integer(**OUT)
    requested_pence = fields.Integer(**OUT)
    awarded_pence = fields.Integer(allow_none=True, **OUT)
    conditions = fields.String(**OUT)
    claimed_pence = fields.Integer(**OUT, metadata={"description": "Verified and paid claims"})
    paid_pence = fields.Integer(**OUT, metadata={"description": "Net of reversals"})
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf(list(APPLICATION_LIFECYCLE.actions))),
        **OUT,
        metadata={"description": "The actions this user may fire now"},
    )
    partners = fields.List(fields.Nested(PartnerSchema), **OUT)
    activities = fields.List(fields.Nested(ActivitySchema), **OUT)
    measures = fields.List(fields.Nested(MeasureSchema), **OUT)
    schedule = fields.List(
        fields.Nested(ScheduleItemSchema),
        **OUT,
        metadata={"description": "The award's monitoring schedule, by due date (empty until approved)"},
    )
    approved_on = IsoDate(allow_none=True, **OUT)
    created_at = UtcDateTime(**OUT)
    updated_at = UtcDateTime(**OUT)


class PageSchema(Schema):
    page = fields.Integer(**OUT)
    per_page = fields.Integer(**OUT)
    total = fields.Integer(**OUT)


class ApplicationPageSchema(PageSchema):
    items = fields.List(fields.Nested(ApplicationSchema), **OUT)


class FundPageSchema(PageSchema):
    items = fields.List(fields.Nested(FundSchema), **OUT)


class SchoolPageSchema(PageSchema):
    items = fields.List(fields.Nested(SchoolSchema), **OUT)


class EventSchema(Schema):
    id = fields.Integer(**OUT)
    at = UtcDateTime(**OUT)
    actor_email = fields.String(**OUT)
    action = fields.String(**OUT)
    from_status = fields.String(allow_none=True, **OUT)
    to_status = fields.String(allow_none=True, **OUT)
    payload = fields.Dict(**OUT)
    hash = fields.String(**OUT)
    prev_hash = fields.String(**OUT)


class ClaimSchema(Schema):
    id = fields.Integer(**OUT)
    application_reference = fields.String(attribute="application.reference", **OUT)
    status = fields.String(validate=validate.OneOf(list(CLAIM_STATES)), **OUT)
    period_start = IsoDate(**OUT)
    period_end = IsoDate(**OUT)
    staff_released = fields.String(**OUT)
    staff_name = fields.String(**OUT)
    days = Number(**OUT)
    amount_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT, metadata={"description": "Net of reversals"})
    possible_double_funding = fields.Boolean(
        **OUT,
        metadata={
            "description": "The same person at the same school is claimed for overlapping days "
            "on another bid: for the liaison officer to check"
        },
    )
    overlaps_claim_id = fields.Integer(
        allow_none=True, **OUT, metadata={"description": "The overlapping claim on another bid"}
    )
    overlaps_application_reference = fields.String(allow_none=True, **OUT)
    created_at = UtcDateTime(**OUT)


class DisbursementSchema(Schema):
    id = fields.Integer(**OUT)
    claim_id = fields.Integer(**OUT)
    application_reference = fields.String(attribute="claim.application.reference", **OUT)
    amount_pence = fields.Integer(**OUT, metadata={"description": "Negative for a reversal"})
    paid_on = IsoDate(**OUT)
    reference = fields.String(**OUT)
    payee_school_urn = fields.String(attribute="payee_school.urn", **OUT)
    reverses_id = fields.Integer(allow_none=True, **OUT, metadata={"description": "The payment reversed"})
    reverses_reference = fields.String(allow_none=True, **OUT, metadata={"description": "Its reference"})
    reverses_paid_on = IsoDate(allow_none=True, **OUT, metadata={"description": "Its date"})
    reason = fields.String(**OUT)
    created_at = UtcDateTime(**OUT)


class ImpactResultSchema(Schema):
    measure_id = fields.Integer(**OUT)
    indicator = fields.String(attribute="measure.indicator", **OUT)
    actual = Number(**OUT)


class ImpactReportSchema(Schema):
    id = fields.Integer(**OUT)
    application_reference = fields.String(attribute="application.reference", **OUT)
    kind = fields.String(validate=validate.OneOf(REPORT_KINDS), **OUT)
    narrative = fields.String(**OUT)
    status = fields.String(**OUT)
    results = fields.List(fields.Nested(ImpactResultSchema), **OUT)
    created_at = UtcDateTime(**OUT)


class EvaluationSchema(Schema):
    id = fields.Integer(**OUT)
    report_id = fields.Integer(**OUT)
    rating = fields.String(validate=validate.OneOf(RATINGS), **OUT)
    drivers = fields.List(fields.String(validate=validate.OneOf(DRIVERS)), **OUT)
    comment = fields.String(**OUT)
    evaluated_at = UtcDateTime(**OUT)


class NotificationSchema(Schema):
    id = fields.Integer(**OUT)
    kind = fields.String(validate=validate.OneOf(list(MESSAGE_KINDS)), **OUT)
    subject = fields.String(**OUT)
    body = fields.String(**OUT, metadata={"description": "Plain text; paragraphs split by blank lines"})
    link = fields.String(**OUT, metadata={"description": "The full address of the page to act on"})
    application_reference = fields.String(allow_none=True, **OUT, metadata={"description": "The bid, if any"})
    created_at = UtcDateTime(**OUT)
    read = fields.Boolean(**OUT)


class NotificationPageSchema(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema), **OUT)
    unread = fields.Integer(**OUT, metadata={"description": "How many of all your messages are unread"})


class ControlExceptionSchema(Schema):
    kind = fields.String(**OUT, metadata={"enum": list(EXCEPTION_KINDS)})
    reference = fields.String(**OUT, metadata={"description": "The bid it is about"})
    detail = fields.String(**OUT, metadata={"description": "What happened, in a sentence, amounts in pounds"})
    at = UtcDateTime(**OUT)


class ExceptionsPageSchema(PageSchema):
    """Newest first; ``total`` counts the exceptions of the chosen kind (or every kind)."""

    items = fields.List(fields.Nested(ControlExceptionSchema), **OUT)


class ChainReportSchema(Schema):
    ok = fields.Boolean(**OUT)
    events_checked = fields.Integer(**OUT)
    first_bad_event_id = fields.Integer(allow_none=True, **OUT)


class ReportFundSchema(Schema):
    id = fields.Integer(**OUT)
    name = fields.String(**OUT)
    budget_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT)
    available_pence = fields.Integer(**OUT)


class ValueForMoneyTotalsSchema(Schema):
    applications = fields.Integer(**OUT)
    requested_pence = fields.Integer(**OUT)
    awarded_pence = fields.Integer(**OUT)
    claimed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    supported_schools = fields.Integer(**OUT)
    cost_per_supported_school_pence = fields.Integer(allow_none=True, **OUT)
    average_value_for_money_score = fields.Float(allow_none=True, **OUT)
    impact_ratings = fields.Dict(keys=fields.String(), values=fields.Integer(), **OUT)


class VfmMeasureSchema(Schema):
    indicator = fields.String(**OUT)
    unit = fields.String(**OUT)
    baseline = fields.String(**OUT, metadata={"description": "A decimal"})
    target = fields.String(**OUT)
    latest_actual = fields.String(allow_none=True, **OUT)
    result = fields.String(**OUT, validate=validate.OneOf(MEASURE_RESULTS))


class ValueForMoneyRowSchema(Schema):
    reference = fields.String(**OUT)
    title = fields.String(**OUT)
    fund_id = fields.Integer(**OUT)
    lead_school_nation = fields.String(validate=validate.OneOf(SCHOOL_NATIONS), **OUT)
    lead_school_identifier = fields.String(**OUT)
    lead_school_urn = fields.String(
        allow_none=True, metadata={"description": "English schools only, else null"}, **OUT
    )
    lead_school_name = fields.String(**OUT)
    status = fields.String(**OUT)
    requested_pence = fields.Integer(**OUT)
    awarded_pence = fields.Integer(allow_none=True, **OUT)
    claimed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    value_for_money_score = fields.Integer(allow_none=True, **OUT)
    impact_rating = fields.String(allow_none=True, **OUT)
    supported_schools = fields.Integer(**OUT)
    cost_per_supported_school_pence = fields.Integer(allow_none=True, **OUT)
    measures = fields.List(
        fields.Nested(VfmMeasureSchema),
        **OUT,
        metadata={"description": "The bid's measures: baseline, target, latest actual and result"},
    )


class VfmSpendMonthSchema(Schema):
    month = fields.String(**OUT, metadata={"example": "2026-09"})
    paid_pence = fields.Integer(**OUT)
    cumulative_paid_pence = fields.Integer(**OUT)


class VfmMoneySchema(Schema):
    """budget = committed + available; committed = paid + still to pay; awarded = committed + released."""

    budget_pence = fields.Integer(**OUT)
    awarded_pence = fields.Integer(**OUT, metadata={"description": "Awards made (countersigned if needed)"})
    awaiting_countersignature_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT, metadata={"description": "Net of reversals, paid in the date range"})
    still_to_pay_pence = fields.Integer(**OUT)
    released_pence = fields.Integer(**OUT, metadata={"description": "Unspent rest of ended awards"})
    available_pence = fields.Integer(**OUT)
    spend_over_time = fields.List(fields.Nested(VfmSpendMonthSchema), **OUT)


class VfmStaffRoleSchema(Schema):
    staff_role = fields.String(**OUT)
    days = fields.String(**OUT, metadata={"description": 'A decimal, e.g. "12.5"'})
    cost_pence = fields.Integer(**OUT)


class VfmSchoolSchema(Schema):
    nation = fields.String(validate=validate.OneOf(SCHOOL_NATIONS), **OUT)
    identifier = fields.String(**OUT)
    urn = fields.String(allow_none=True, metadata={"description": "English schools only, else null"}, **OUT)
    name = fields.String(**OUT)
    role = fields.String(**OUT, validate=validate.OneOf(["lead", *PARTNER_ROLES]))
    bids = fields.Integer(**OUT)
    days = fields.String(**OUT)
    committed_pence = fields.Integer(**OUT)


class VfmBoughtSchema(Schema):
    days_funded = fields.String(**OUT, metadata={"description": "Planned days of awarded bids, a decimal"})
    days_claimed = fields.String(**OUT, metadata={"description": "Days on verified or paid claims"})
    by_staff_role = fields.List(fields.Nested(VfmStaffRoleSchema), **OUT, metadata={"description": "Top 20"})
    by_school = fields.List(fields.Nested(VfmSchoolSchema), **OUT, metadata={"description": "Top 25 by days"})
    schools_total = fields.Integer(**OUT)
    average_day_rate_pence = fields.Integer(allow_none=True, **OUT)
    highest_day_rate_pence = fields.Integer(allow_none=True, **OUT)
    day_rate_cap_pence = fields.Integer(allow_none=True, **OUT)
    activities_at_cap = fields.Integer(**OUT)
    supported_schools = fields.Integer(**OUT)
    pupils_in_supported_schools = fields.Integer(**OUT)
    cost_per_supported_school_pence = fields.Integer(allow_none=True, **OUT)
    cost_per_pupil_pence = fields.Integer(allow_none=True, **OUT)


class VfmRatingsSchema(Schema):
    achieved = fields.Integer(**OUT)
    partly_achieved = fields.Integer(**OUT)
    not_achieved = fields.Integer(**OUT)


class VfmPriorityAreaSchema(Schema):
    priority_area = fields.String(**OUT)
    measures = fields.Integer(**OUT)
    achieved = fields.Integer(**OUT)
    part_way = fields.Integer(**OUT)
    not_achieved = fields.Integer(**OUT)
    share_achieved = fields.Float(allow_none=True, **OUT)
    ratings = fields.Nested(VfmRatingsSchema, **OUT)
    committed_pence = fields.Integer(
        **OUT,
        metadata={"description": "What the bids naming the area hold of the fund (a bid naming two: both)"},
    )


class VfmDriverSchema(Schema):
    driver = fields.String(**OUT, validate=validate.OneOf(DRIVERS))
    label = fields.String(**OUT)
    reports = fields.Integer(**OUT)
    ratings = fields.Nested(VfmRatingsSchema, **OUT)


class VfmOutcomesSchema(Schema):
    measures = fields.Integer(**OUT)
    with_result = fields.Integer(**OUT)
    achieved = fields.Integer(**OUT)
    part_way = fields.Integer(**OUT)
    not_achieved = fields.Integer(**OUT)
    no_result_yet = fields.Integer(**OUT)
    share_achieved = fields.Float(allow_none=True, **OUT, metadata={"description": "achieved ÷ with_result"})
    cost_per_measure_achieved_pence = fields.Integer(allow_none=True, **OUT)
    ratings = fields.Nested(VfmRatingsSchema, **OUT)
    by_priority_area = fields.List(
        fields.Nested(VfmPriorityAreaSchema), **OUT, metadata={"description": "Top 20 by measures"}
    )
    by_driver = fields.List(fields.Nested(VfmDriverSchema), **OUT)


class VfmFsmBandSchema(Schema):
    band = fields.String(**OUT, validate=validate.OneOf([*(b[0] for b in FSM_BANDS), FSM_NOT_KNOWN]))
    schools = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    share = fields.Float(allow_none=True, **OUT)


class VfmTargetingSchema(Schema):
    committed_pence = fields.Integer(**OUT)
    to_schools_causing_concern_pence = fields.Integer(**OUT)
    share_to_schools_causing_concern = fields.Float(allow_none=True, **OUT)
    by_fsm_band = fields.List(fields.Nested(VfmFsmBandSchema), **OUT)


class VfmReportCountsSchema(Schema):
    on_time = fields.Integer(**OUT)
    late = fields.Integer(**OUT)
    overdue = fields.Integer(**OUT)
    waived = fields.Integer(**OUT)


class VfmTimelinessSchema(Schema):
    median_days_to_decision = fields.Float(allow_none=True, **OUT)
    median_days_claim_to_payment = fields.Float(allow_none=True, **OUT)
    decisions = fields.Integer(**OUT)
    payments = fields.Integer(**OUT)
    reports = fields.Nested(VfmReportCountsSchema, **OUT)


class VfmFiltersSchema(Schema):
    date_from = fields.String(allow_none=True, **OUT, metadata={"format": "date"})
    date_to = fields.String(allow_none=True, **OUT, metadata={"format": "date"})
    local_authority = fields.String(allow_none=True, **OUT)
    priority_area = fields.String(allow_none=True, **OUT)


class VfmAuthoritySchema(Schema):
    code = fields.String(**OUT)
    name = fields.String(**OUT)


class VfmOptionsSchema(Schema):
    local_authorities = fields.List(fields.Nested(VfmAuthoritySchema), **OUT)
    priority_areas = fields.List(fields.String(), **OUT)


class VfmCouncilSchema(Schema):
    gss_code = fields.String(
        allow_none=True, **OUT, metadata={"description": 'The council\'s GSS code; null for "Other"'}
    )
    name = fields.String(**OUT, metadata={"description": 'The council\'s name, or "Other"'})
    bids = fields.Integer(**OUT, metadata={"description": "Submitted bids led by a school of the council"})
    awarded_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT, metadata={"description": "Net of reversals"})
    days = fields.String(**OUT, metadata={"description": "Days of release in awarded bids, a decimal"})
    measures = fields.Integer(**OUT, metadata={"description": "Measures of awarded bids"})
    with_result = fields.Integer(**OUT)
    achieved = fields.Integer(**OUT)
    share_achieved = fields.Float(allow_none=True, **OUT, metadata={"description": "achieved ÷ with_result"})


class ValueForMoneySchema(Schema):
    fund_id = fields.Integer(allow_none=True, **OUT)
    fund = fields.Nested(ReportFundSchema, allow_none=True, **OUT)
    totals = fields.Nested(ValueForMoneyTotalsSchema, **OUT)
    rows = fields.List(
        fields.Nested(ValueForMoneyRowSchema),
        **OUT,
        metadata={"description": "One page of the bids, by reference (`page`, `per_page`)"},
    )
    page = fields.Integer(**OUT)
    per_page = fields.Integer(**OUT)
    total = fields.Integer(**OUT, metadata={"description": "How many bids there are over all pages"})
    money = fields.Nested(VfmMoneySchema, **OUT)
    bought = fields.Nested(VfmBoughtSchema, **OUT)
    outcomes = fields.Nested(VfmOutcomesSchema, **OUT)
    targeting = fields.Nested(VfmTargetingSchema, **OUT)
    timeliness = fields.Nested(VfmTimelinessSchema, **OUT)
    by_council = fields.List(
        fields.Nested(VfmCouncilSchema),
        **OUT,
        metadata={"description": "By the member council of the lead school; the rows add up to the totals"},
    )
    filters = fields.Nested(VfmFiltersSchema, **OUT)
    options = fields.Nested(VfmOptionsSchema, **OUT)


class GrantLocationSchema(Schema):
    name = fields.String(
        **OUT,
        metadata={
            "description": "The lead school's council, as the fund or the school's published list names it"
        },
    )
    description = fields.String(**OUT)
    geoCode = fields.String(  # noqa: N815 - 360Giving's names
        metadata={"description": "The council's GSS code, when known (never for Northern Ireland)"}
    )
    geoCodeType = fields.String(metadata={"example": "LAD", "description": "With geoCode"})  # noqa: N815
    countryCode = fields.String(metadata={"description": "beneficiaryLocation only: GB"})  # noqa: N815


class OrganisationSchema(Schema):
    id = fields.String(**OUT)
    name = fields.String(**OUT)
    location = fields.List(
        fields.Nested(GrantLocationSchema),
        metadata={"description": "Recipients only, when the school's local authority is known"},
    )


class GrantProgrammeSchema(Schema):
    code = fields.String(**OUT)
    title = fields.String(**OUT)


class GrantDatesSchema(Schema):
    startDate = fields.String(**OUT, metadata={"format": "date"})  # noqa: N815 - 360Giving's names
    endDate = fields.String(**OUT, metadata={"format": "date"})  # noqa: N815


class GrantClassificationSchema(Schema):
    vocabulary = fields.String(**OUT)
    code = fields.String(**OUT)
    title = fields.String(**OUT)


class GrantSchema(Schema):
    """One 360Giving grant (the fields fundflow publishes)."""

    id = fields.String(**OUT)
    title = fields.String(**OUT)
    description = fields.String(**OUT)
    currency = fields.String(**OUT)
    amountAppliedFor = fields.Float(**OUT)  # noqa: N815 - 360Giving's names
    amountAwarded = fields.Float(**OUT)  # noqa: N815
    amountDisbursed = fields.Float(**OUT)  # noqa: N815
    awardDate = fields.String(**OUT, metadata={"format": "date"})  # noqa: N815
    recipientOrganization = fields.List(fields.Nested(OrganisationSchema), **OUT)  # noqa: N815
    beneficiaryLocation = fields.List(  # noqa: N815
        fields.Nested(GrantLocationSchema),
        metadata={"description": "The lead school's council, when known (left out otherwise)"},
    )
    fundingOrganization = fields.List(  # noqa: N815
        fields.Nested(OrganisationSchema),
        **OUT,
        metadata={"description": "The fund's organisation: its 360Giving funder identifier and name"},
    )
    grantProgramme = fields.List(fields.Nested(GrantProgrammeSchema), **OUT)  # noqa: N815
    plannedDates = fields.List(fields.Nested(GrantDatesSchema), **OUT)  # noqa: N815
    classifications = fields.List(
        fields.Nested(GrantClassificationSchema),
        **OUT,
        metadata={"description": "The bid's priority areas (vocabulary `fundflow priority area`)"},
    )
    dateModified = fields.String(**OUT, metadata={"format": "date-time"})  # noqa: N815
    dataSource = fields.String(**OUT, metadata={"format": "uri"})  # noqa: N815


class GrantPackageSchema(Schema):
    grants = fields.List(fields.Nested(GrantSchema), **OUT)
