"""Drafting bids: create, edit while draft or changes requested, and keep each version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..dates import long_date
from ..extensions import db
from ..models import (
    PARTNER_ROLES,
    Activity,
    Application,
    ApplicationPartner,
    ApplicationVersion,
    BackfillClaim,
    Event,
    Fund,
    ImpactReport,
    Measure,
    Review,
    School,
    User,
    utcnow,
)
from ..workflow import (
    APPLICATION_LIFECYCLE,
    daily_rate_problem,
    due_date_problem,
)
from ..workflow import EDITABLE_STATUSES as EDITABLE_STATUSES  # re-exported: pages import it
from . import audit, eligibility, school_lookup
from .clock import today
from .errors import NotPermitted, Problems, ValidationFailed
from .firing import operate_on_bid
from .parsing import is_half_days, text_field, to_date, to_decimal
from .unit_of_work import lock, retrying, transaction

BidRowT = TypeVar("BidRowT", ApplicationVersion, BackfillClaim, Event, ImpactReport, Review)

MAX_DAYS = Decimal(365)
MAX_DAILY_RATE_PENCE = 10_000_00
MAX_LIST = 50
#: Longest reason for following a measure up after the delivery period (its column).
REASON_MAX = 1000


@dataclass(frozen=True)
class PartnerInput:
    """A partner school and its part. The school is named by ``school_id``, by ``identifier``
    (with ``nation`` when the identifier fits schools in two nations) or, for an English
    school, by ``urn`` as before: ``PartnerInput("137101", "supporting")``."""

    urn: str | None = None
    role: str = ""
    school_id: int | None = None
    identifier: str | None = None
    nation: str | None = None


@dataclass(frozen=True)
class ActivityInput:
    description: str
    staff_role: str
    days: Decimal | float | int | str
    daily_rate_pence: int
    #: When the release is planned to start and end (YYYY-MM-DD or a date). Optional here, so
    #: older callers keep working; the web form asks for both. The claim deadline on the
    #: award's monitoring schedule follows the end.
    starts_on: date | str | None = None
    ends_on: date | str | None = None


@dataclass(frozen=True)
class MeasureInput:
    indicator: str
    unit: str
    baseline: Decimal | float | int | str
    target: Decimal | float | int | str
    due_on: date | str
    #: Why the target is followed up after the fund's delivery period (only then needed).
    follow_up_reason: str = ""


@dataclass(frozen=True)
class BidDetails:
    """What a headteacher writes. ``None`` means "leave as it is" when editing."""

    title: str | None = None
    need: str | None = None
    priority_areas: list[str] | None = None
    partners: list[PartnerInput] | None = None
    activities: list[ActivityInput] | None = None
    measures: list[MeasureInput] | None = None
    fund_id: int | None = field(default=None)


def activity_cost_pence(days: Decimal, daily_rate_pence: int) -> int:
    """Days × daily rate, rounded to the penny once (half up)."""
    return int((Decimal(days) * daily_rate_pence).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _validated_partners(
    problems: Problems,
    partners: list[PartnerInput],
    lead_school_id: int,
    named_before: frozenset[int] = frozenset(),
) -> list[tuple[School, str]]:
    """``named_before``: the ids of schools already on the bid, which may stay even if closed
    since (history keeps them); a closed school cannot be newly named."""
    if len(partners) > MAX_LIST:
        problems.add("partners", f"Name at most {MAX_LIST} partner schools")
        return []
    result, seen = [], set()
    for i, partner in enumerate(partners):
        name = f"partners.{i}"
        if partner.role not in PARTNER_ROLES:
            problems.add(f"{name}.role", "Choose supporting or supported")
        named = school_lookup.SchoolNamed(partner.school_id, partner.identifier, partner.nation, partner.urn)
        found = school_lookup.find(problems, named, f"{name}.")
        if found is None:
            continue
        school, field_name = found.school, f"{name}.{found.field}"
        if school.id == lead_school_id:
            problems.add(field_name, "The lead school cannot also be a partner")
        elif school.id in seen:
            problems.add(field_name, f"{school.name} ({school.identifier_label}) is named twice")
        elif school.is_closed and school.id not in named_before:
            closed = f"{school.name} ({school.identifier_label}) has closed"
            problems.add(field_name, f"{closed}: a closed school cannot be named on a bid")
        else:
            seen.add(school.id)
            result.append((school, partner.role))
    return result


def _validated_activities(
    problems: Problems, activities: list[ActivityInput], fund: Fund | None
) -> list[Activity]:
    """Each activity's text, days and daily rate, checked against the fund's cap on the
    daily rate here, where it is typed, not only when the bid is sent."""
    if len(activities) > MAX_LIST:
        problems.add("activities", f"List at most {MAX_LIST} activities")
        return []
    result = []
    for i, item in enumerate(activities):
        name = f"activities.{i}"
        description = text_field(problems, f"{name}.description", item.description, required=True, limit=2000)
        staff_role = text_field(problems, f"{name}.staff_role", item.staff_role, required=True, limit=200)
        days = to_decimal(item.days)
        if days is None or days <= 0:
            problems.add(f"{name}.days", "Enter the number of days, more than 0")
        elif not is_half_days(days):
            problems.add(f"{name}.days", "Days must be whole or half days, like 2 or 2.5")
        elif days > MAX_DAYS:
            problems.add(f"{name}.days", f"Enter at most {MAX_DAYS} days")
        rate = item.daily_rate_pence
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            problems.add(f"{name}.daily_rate_pence", "Enter the daily rate in pence, more than 0")
        elif rate > MAX_DAILY_RATE_PENCE:
            problems.add(f"{name}.daily_rate_pence", "That daily rate is too high")
        elif fund is not None and (problem := daily_rate_problem(rate, fund.max_daily_rate_pence)):
            problems.add(f"{name}.daily_rate_pence", problem)
        starts_on, ends_on = _activity_dates(problems, name, item, fund)
        if not problems.pairs or all(not f.startswith(name) for f, _ in problems.pairs):
            result.append(
                Activity(
                    position=i,
                    description=description,
                    staff_role=staff_role,
                    days=days,
                    daily_rate_pence=rate,
                    cost_pence=activity_cost_pence(days, rate),
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            )
    return result


def _activity_date(problems: Problems, field_name: str, value: Any, which: str) -> date | None:
    """A planned date as given: None when left out; a problem when it is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = to_date(value)
    if parsed is None:
        problems.add(field_name, f"Enter the {which} date as YYYY-MM-DD")
    return parsed


def activity_dates_problem(starts_on: date, ends_on: date, fund: Fund | None) -> tuple[str, str] | None:
    """The rule for an activity's planned dates, written once: (which date, what is wrong)
    or None. The release happens while the fund runs: not before it opens, ending by the
    end of its delivery period (the last day backfill can be claimed for), and not ending
    before it starts."""
    if fund is not None and starts_on < fund.opens_on:
        return "starts_on", f"The activity cannot start before the fund opens, {long_date(fund.opens_on)}"
    if ends_on < starts_on:
        return "ends_on", "The activity must end on or after the day it starts"
    if fund is not None and fund.delivery_ends_on is not None and ends_on > fund.delivery_ends_on:
        end = long_date(fund.delivery_ends_on)
        return "ends_on", f"The activity must end by the end of the fund's delivery period, {end}"
    return None


def _activity_dates(
    problems: Problems, name: str, item: ActivityInput, fund: Fund | None
) -> tuple[date | None, date | None]:
    """An activity's planned start and end, checked: both or neither (a bid made before the
    dates were asked for has neither)."""
    before = len(problems.pairs)
    starts_on = _activity_date(problems, f"{name}.starts_on", item.starts_on, "start")
    ends_on = _activity_date(problems, f"{name}.ends_on", item.ends_on, "end")
    if len(problems.pairs) > before:
        return None, None
    if starts_on is None and ends_on is not None:
        problems.add(f"{name}.starts_on", "Enter the date the activity starts as well as the date it ends")
    elif ends_on is None and starts_on is not None:
        problems.add(f"{name}.ends_on", "Enter the date the activity ends as well as the date it starts")
    elif (
        starts_on is not None
        and ends_on is not None
        and (problem := activity_dates_problem(starts_on, ends_on, fund))
    ):
        problems.add(f"{name}.{problem[0]}", problem[1])
    return starts_on, ends_on


def _validated_measures(problems: Problems, measures: list[MeasureInput], fund: Fund | None) -> list[Measure]:
    """Each measure's text and numbers, and a due date after today (the bid is sent later
    still) and by the end of the fund's delivery period, unless the measure states why it
    is followed up later."""
    if len(measures) > MAX_LIST:
        problems.add("measures", f"List at most {MAX_LIST} measures")
        return []
    result = []
    for i, item in enumerate(measures):
        name = f"measures.{i}"
        indicator = text_field(problems, f"{name}.indicator", item.indicator, required=True, limit=300)
        unit = text_field(problems, f"{name}.unit", item.unit, required=True, limit=60)
        baseline, target = to_decimal(item.baseline), to_decimal(item.target)
        for label, value in (("baseline", baseline), ("target", target)):
            if value is None:
                problems.add(f"{name}.{label}", f"Enter the {label} as a number")
            elif abs(value) >= Decimal("1e10"):
                problems.add(f"{name}.{label}", f"The {label} is too large")
        reason = text_field(
            problems, f"{name}.follow_up_reason", item.follow_up_reason, required=False, limit=REASON_MAX
        )
        due_on = to_date(item.due_on)
        end = fund.delivery_ends_on if fund is not None else None
        if due_on is None:
            problems.add(f"{name}.due_on", "Enter the due date as YYYY-MM-DD")
        elif problem := due_date_problem(due_on, reason, today(), end):
            problems.add(f"{name}.due_on", problem)
        if all(not f.startswith(name + ".") for f, _ in problems.pairs):
            result.append(
                Measure(
                    indicator=indicator,
                    unit=unit,
                    baseline=baseline,
                    target=target,
                    due_on=due_on,
                    follow_up_reason=reason,
                )
            )
    return result


def _validated_details(
    application: Application, details: BidDetails, problems: Problems, fund: Fund | None
) -> dict[str, Any]:
    """What ``details`` would set on ``application``, checked; problems go on ``problems``.
    Reads only: nothing is changed, so it can also check a form the person must correct."""
    values: dict[str, Any] = {}
    if details.title is not None or application.id is None:
        values["title"] = text_field(problems, "title", details.title, required=True, limit=200)
    if details.need is not None:
        values["need"] = text_field(problems, "need", details.need, required=False, limit=10_000)
    if details.priority_areas is not None:
        areas: list[str] = []
        if not isinstance(details.priority_areas, list) or len(details.priority_areas) > 20:
            problems.add("priority_areas", "Choose at most 20 priority areas")
        else:
            for i, area in enumerate(details.priority_areas):
                text = text_field(problems, f"priority_areas.{i}", area, required=True, limit=200)
                if text and text not in areas:
                    areas.append(text)
        values["priority_areas"] = areas
    if details.partners is not None:
        values["partners"] = _validated_partners(
            problems,
            details.partners,
            application.lead_school_id,
            frozenset(p.school_id for p in application.partners),
        )
    if details.activities is not None:
        values["activities"] = _validated_activities(problems, details.activities, fund)
    if details.measures is not None:
        values["measures"] = _validated_measures(problems, details.measures, fund)
    return values


def _apply_details(
    application: Application, details: BidDetails, problems: Problems, fund: Fund | None
) -> None:
    values = _validated_details(application, details, problems, fund)
    if problems:
        return
    for name in ("title", "need", "priority_areas", "activities", "measures"):
        if name in values:
            setattr(application, name, values[name])
    if "partners" in values:
        existing = {p.school_id: p for p in application.partners}
        application.partners = [
            _partner(existing.get(school.id), school, role) for school, role in values["partners"]
        ]
    application.requested_pence = sum(a.cost_pence for a in application.activities)


def check_details(application: Application | None, details: BidDetails) -> None:
    """Raise :class:`ValidationFailed` with every problem :func:`update_draft` (or, with no
    ``application``, :func:`create_draft`) would find in ``details``, saving nothing: a page
    whose own form has errors shows these too, so a person sees all that is wrong at once."""
    problems = Problems()
    if application is None:
        fund = _fund_for_new_bid(problems, details.fund_id)
        application = Application(lead_school_id=None)
    else:
        fund = application.fund
    _validated_details(application, details, problems, fund)
    problems.raise_if_any()


def _fund_for_new_bid(problems: Problems, fund_id: int | None, lead: School | None = None) -> Fund | None:
    """The fund a new bid goes into: one still open to bids from the ``lead`` school's
    council (a fund another organisation runs for other councils is "not found" to it)."""
    fund = db.session.get(Fund, fund_id) if isinstance(fund_id, int) else None
    if fund is not None and lead is not None and not eligibility.school_may_bid(lead, fund):
        fund = None
    if fund is None:
        problems.add("fund_id", "Choose a fund")
    elif fund.closes_on < today():
        problems.add("fund_id", "That fund has closed")
    return fund


def _partner(existing: ApplicationPartner | None, school: School, role: str) -> ApplicationPartner:
    """Keep an endorsement when the same school stays a partner in the same role.

    A changed role is updated on the same row (a new row for the same school would clash
    with the unique (application, school) pair on flush) and needs endorsing again."""
    if existing is None:
        return ApplicationPartner(school=school, school_id=school.id, role=role)
    if existing.role != role:
        existing.role = role
        existing.endorsed_at = None
        existing.endorsed_by_id = None
    return existing


def _next_reference(prefix: str) -> str:
    pattern = f"{prefix}-%"
    last = db.session.execute(
        select(Application.reference)
        .where(Application.reference.like(pattern))
        .order_by(func.length(Application.reference).desc(), Application.reference.desc())
        .limit(1)
    ).scalar()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}-{number:04d}"


@retrying
def create_draft(user: User, details: BidDetails) -> Application:
    """A headteacher starts a bid for their own school."""
    if not user.has_role("headteacher") or user.school_id is None:
        raise NotPermitted("Only a headteacher of a school can start a bid")
    if user.school is not None and user.school.is_closed:
        raise NotPermitted(f"{user.school.name} has closed: a closed school cannot start a new bid")
    problems = Problems()
    fund = _fund_for_new_bid(problems, details.fund_id, user.school)
    application = Application(
        lead_school_id=user.school_id,
        created_by_id=user.id,
        status=APPLICATION_LIFECYCLE.initial,
        version=1,
        priority_areas=[],
        need="",
    )
    _apply_details(application, details, problems, fund)
    problems.raise_if_any()
    # the fund's organisation's prefix: references stay unique across organisations
    prefix = f"{fund.organisation.reference_prefix}-{today().year}"
    for _attempt in range(5):
        try:
            with transaction():
                lock(Fund, fund.id)
                application.fund_id = fund.id
                application.reference = _next_reference(prefix)
                db.session.add(application)
                db.session.flush()
                audit.record(
                    user,
                    "create",
                    application,
                    transition=(None, application.status),
                    payload={"reference": application.reference, "title": application.title},
                )
            return application
        except IntegrityError:
            continue  # another writer took the reference first; take the next one
    raise ValidationFailed({"reference": ["Could not allocate a reference; try again"]})


@retrying
def update_draft(user: User, application: Application, details: BidDetails) -> Application:
    """The lead headteacher edits a bid that is a draft or has changes requested."""
    with transaction():
        application, moved = operate_on_bid(user, application, "edit")
        problems = Problems()
        _apply_details(application, details, problems, application.fund)
        problems.raise_if_any()
        audit.record(
            user,
            "edit",
            application,
            transition=moved,
            payload={"requested_pence": application.requested_pence},
        )
    return application


def snapshot(application: Application) -> dict[str, Any]:
    """The bid's content as plain data, kept with each submitted version."""
    return {
        "title": application.title,
        "need": application.need,
        "priority_areas": list(application.priority_areas),
        "partners": [_partner_snapshot(p) for p in application.partners],
        "activities": [_activity_snapshot(a) for a in application.activities],
        "measures": [_measure_snapshot(m) for m in application.measures],
        "requested_pence": application.requested_pence,
    }


def _partner_snapshot(partner: ApplicationPartner) -> dict[str, Any]:
    kept = {"urn": partner.school.urn, "name": partner.school.name, "role": partner.role}
    # a school outside England only, so versions kept of English partners compare unchanged
    if partner.school.nation != "england":
        kept |= {"nation": partner.school.nation, "identifier": partner.school.identifier}
    return kept


def _activity_snapshot(activity: Activity) -> dict[str, Any]:
    kept = {
        "description": activity.description,
        "staff_role": activity.staff_role,
        "days": str(activity.days),
        "daily_rate_pence": activity.daily_rate_pence,
        "cost_pence": activity.cost_pence,
    }
    # only when planned, so versions kept before the dates were asked for compare unchanged
    if activity.starts_on is not None:
        kept["starts_on"] = activity.starts_on.isoformat()
    if activity.ends_on is not None:
        kept["ends_on"] = activity.ends_on.isoformat()
    return kept


def _measure_snapshot(measure: Measure) -> dict[str, Any]:
    kept = {
        "indicator": measure.indicator,
        "unit": measure.unit,
        "baseline": str(measure.baseline),
        "target": str(measure.target),
        "due_on": measure.due_on.isoformat(),
    }
    if measure.follow_up_reason:  # only when stated, so older versions compare unchanged
        kept["follow_up_reason"] = measure.follow_up_reason
    return kept


def keep_version(application: Application) -> None:
    """Record what this version said as it was submitted (same transaction)."""
    application.versions.append(
        ApplicationVersion(version=application.version, snapshot=snapshot(application), submitted_at=utcnow())
    )


def rows_of_bid(model: type[BidRowT], application_id: int, order_by: Any, *options: Any) -> list[BidRowT]:
    """Every ``model`` row that belongs to one bid, in ``order_by`` order; ``options`` say
    what to load with them."""
    return list(
        db.session.execute(
            select(model).where(model.application_id == application_id).options(*options).order_by(order_by)
        ).scalars()
    )


def kept_versions(application: Application) -> list[ApplicationVersion]:
    """The versions kept of a bid, one for each time it was sent, oldest first."""
    return rows_of_bid(ApplicationVersion, application.id, ApplicationVersion.version)


def version_changes(older: dict[str, Any], newer: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(part, before, after) for each part of the bid that differs between two snapshots."""
    return [(key, older.get(key), newer.get(key)) for key in newer if older.get(key) != newer.get(key)]
