"""Marshmallow schemas for the JSON API: what comes in and what goes out.

They check types and shapes only (a number is a number, a date is ``YYYY-MM-DD``, a list
is a list, ids fit in a 64-bit column). Every rule about the fund — limits, states, who
may act — is the services' job, so nothing here is written twice. Enumerations come from
the one place they are declared (the workflow and the models). The same schemas drive the
OpenAPI document, so the document says what the server does.
"""

from __future__ import annotations

import math
from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from ..models import DRIVERS, PARTNER_ROLES, RATINGS, REPORT_KINDS, ROLES
from ..workflow import APPLICATION_LIFECYCLE, APPLICATION_STATES, CLAIM_STATES

INT64_MAX = 2**63 - 1
#: Row ids are the database's 32-bit integer keys.
ID_MAX = 2**31 - 1
#: Claims are verified or rejected through the API; paying is a disbursement.
CLAIM_DECISIONS = ("verify", "reject")

# --------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------


class Text(fields.String):
    """A string a database can store: no NUL characters, no lone surrogates."""

    default_error_messages = {"unstorable": "Use ordinary text: this contains characters that cannot be kept"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("unstorable")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("unstorable") from None
        return text


class Number(fields.Field):
    """A JSON number, read as an exact ``Decimal`` (2.5 days stays 2.5) and written back as
    a JSON number: an integer when whole, otherwise a decimal."""

    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        return Decimal(str(value))

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


class UtcDateTime(fields.DateTime):
    """Times are kept as naive UTC; the API writes them in ISO 8601 with the offset."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    """A row id: a whole number that fits the database's integer key."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def Pence(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """Money in whole pence. Its limits (more than 0, within the award …) are the services'."""
    return fields.Integer(strict=True, validate=validate.Range(min=-INT64_MAX, max=INT64_MAX), **kwargs)


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


class RequiredFundQuery(QuerySchema):
    fund_id = fields.Integer(required=True, validate=validate.Range(min=1, max=ID_MAX))


class TransparencyQuery(FundFilterQuery):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")


# --------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    email = Text(required=True)
    password = Text(required=True)


class FundInputSchema(Schema):
    name = Text(required=True)
    financial_year = Text(required=True, metadata={"example": "2026-27"})
    budget_pence = Pence(required=True)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    max_daily_rate_pence = Pence(required=True)
    max_award_pence = Pence(allow_none=True, load_default=None)
    countersign_threshold_pence = Pence(allow_none=True, load_default=None)
    requires_partner_endorsement = StrictBoolean(load_default=False)


class SchoolInputSchema(Schema):
    urn = Text(required=True, metadata={"example": "110123"})
    name = Text(required=True)
    phase = Text(load_default="")
    la_code = Text(load_default="")
    la_name = Text(load_default="")
    trust = Text(load_default="")
    establishment_type = Text(load_default="")
    postcode = Text(load_default="")
    causing_concern = StrictBoolean(load_default=False)


class PartnerInputSchema(Schema):
    urn = Text(required=True)
    role = choice(PARTNER_ROLES, required=True)


class ActivityInputSchema(Schema):
    description = Text(required=True)
    staff_role = Text(required=True)
    days = Number(required=True, metadata={"description": "Whole or half days, e.g. 2.5"})
    daily_rate_pence = Pence(required=True)


class MeasureInputSchema(Schema):
    indicator = Text(required=True)
    unit = Text(required=True)
    baseline = Number(required=True)
    target = Number(required=True)
    due_on = fields.Date(required=True)


class ApplicationPatchSchema(Schema):
    """Edit a bid: each part given replaces what was there; parts left out stay as they are."""

    title = Text()
    need = Text()
    priority_areas = fields.List(Text())
    partners = fields.List(fields.Nested(PartnerInputSchema))
    activities = fields.List(fields.Nested(ActivityInputSchema))
    measures = fields.List(fields.Nested(MeasureInputSchema))


class ApplicationCreateSchema(ApplicationPatchSchema):
    fund_id = Id(required=True)
    title = Text(required=True)


class ActionRequestSchema(Schema):
    action = choice(APPLICATION_LIFECYCLE.actions, required=True)
    comment = Text(load_default="")
    awarded_pence = Pence(allow_none=True, load_default=None)
    conditions = Text(load_default="")


class ClaimCreateSchema(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    staff_released = Text(required=True)
    days = Number(required=True)
    amount_pence = Pence(required=True)


class ClaimActionSchema(Schema):
    action = choice(CLAIM_DECISIONS, required=True)
    comment = Text(load_default="")


class DisbursementCreateSchema(Schema):
    amount_pence = Pence(required=True)
    paid_on = fields.Date(required=True)
    reference = Text(required=True)


class ReversalSchema(Schema):
    reason = Text(required=True)


class ResultInputSchema(Schema):
    measure_id = Id(required=True)
    actual = Number(required=True)


class ImpactReportCreateSchema(Schema):
    kind = choice(REPORT_KINDS, required=True)
    narrative = Text(required=True)
    results = fields.List(fields.Nested(ResultInputSchema), required=True)


class EvaluationCreateSchema(Schema):
    rating = choice(RATINGS, required=True)
    drivers = fields.List(choice(DRIVERS), load_default=list)
    comment = Text(load_default="")


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
    school_urn = fields.String(allow_none=True, **OUT)


class FundSchema(Schema):
    id = fields.Integer(**OUT)
    name = fields.String(**OUT)
    financial_year = fields.String(**OUT)
    budget_pence = fields.Integer(**OUT)
    committed_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT)
    available_pence = fields.Integer(**OUT)
    opens_on = fields.Date(**OUT)
    closes_on = fields.Date(**OUT)
    max_award_pence = fields.Integer(allow_none=True, **OUT)
    max_daily_rate_pence = fields.Integer(**OUT)
    countersign_threshold_pence = fields.Integer(allow_none=True, **OUT)
    requires_partner_endorsement = fields.Boolean(**OUT)


class SchoolSchema(Schema):
    urn = fields.String(**OUT)
    name = fields.String(**OUT)
    phase = fields.String(**OUT)
    la_code = fields.String(**OUT)
    la_name = fields.String(**OUT)
    trust = fields.String(**OUT)
    establishment_type = fields.String(**OUT)
    postcode = fields.String(**OUT)
    causing_concern = fields.Boolean(**OUT)


class PartnerSchema(Schema):
    urn = fields.String(attribute="school.urn", **OUT)
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


class MeasureSchema(Schema):
    id = fields.Integer(**OUT)
    indicator = fields.String(**OUT)
    unit = fields.String(**OUT)
    baseline = Number(**OUT)
    target = Number(**OUT)
    due_on = fields.Date(**OUT)


class ApplicationSchema(Schema):
    reference = fields.String(**OUT)
    fund_id = fields.Integer(**OUT)
    lead_school_urn = fields.String(attribute="lead_school.urn", **OUT)
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
    approved_on = fields.Date(allow_none=True, **OUT)
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
    period_start = fields.Date(**OUT)
    period_end = fields.Date(**OUT)
    staff_released = fields.String(**OUT)
    days = Number(**OUT)
    amount_pence = fields.Integer(**OUT)
    paid_pence = fields.Integer(**OUT, metadata={"description": "Net of reversals"})
    created_at = UtcDateTime(**OUT)


class DisbursementSchema(Schema):
    id = fields.Integer(**OUT)
    claim_id = fields.Integer(**OUT)
    application_reference = fields.String(attribute="claim.application.reference", **OUT)
    amount_pence = fields.Integer(**OUT, metadata={"description": "Negative for a reversal"})
    paid_on = fields.Date(**OUT)
    reference = fields.String(**OUT)
    payee_school_urn = fields.String(attribute="payee_school.urn", **OUT)
    reverses_id = fields.Integer(allow_none=True, **OUT)
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


class ValueForMoneyRowSchema(Schema):
    reference = fields.String(**OUT)
    title = fields.String(**OUT)
    fund_id = fields.Integer(**OUT)
    lead_school_urn = fields.String(**OUT)
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


class ValueForMoneySchema(Schema):
    fund_id = fields.Integer(allow_none=True, **OUT)
    fund = fields.Nested(ReportFundSchema, allow_none=True, **OUT)
    totals = fields.Nested(ValueForMoneyTotalsSchema, **OUT)
    rows = fields.List(fields.Nested(ValueForMoneyRowSchema), **OUT)


class OrganisationSchema(Schema):
    id = fields.String(**OUT)
    name = fields.String(**OUT)


class GrantProgrammeSchema(Schema):
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
    fundingOrganization = fields.List(fields.Nested(OrganisationSchema), **OUT)  # noqa: N815
    grantProgramme = fields.List(fields.Nested(GrantProgrammeSchema), **OUT)  # noqa: N815


class GrantPackageSchema(Schema):
    grants = fields.List(fields.Nested(GrantSchema), **OUT)
