"""Control exceptions: the records an auditor follows up, one list over every kind.

Each kind is one SELECT with the same columns; the list is their UNION ALL, ordered (newest
first) and paged in SQL, and the summary one grouped count over the same union. The plain-
English sentence each row shows (:func:`detail`) is written only for the page of rows read.

Kinds:

* ``causing_concern_override`` — an award approved with an override note because a
  supporting school is causing concern (``Application.override_note``, written by
  :func:`fundflow.services.lifecycle.perform` from the approval's comment);
* ``partial_award`` — an award (made, or waiting for countersignature) of less than asked;
* ``reversal`` — a payment reversed (a ``Disbursement`` with ``reverses_id``);
* ``flagged_claim`` — a claim flagged as possible double funding: the same person claimed
  for overlapping days on another bid at the same school (``overlaps_claim_id``);
* ``overlapping_claim`` — such a claim verified or paid all the same (the flag let through);
* ``day_rate_at_cap`` — an activity of an award paid at the fund's highest day rate;
* ``late_report`` — an impact report sent after its due date, or past it and not sent;
* ``waived_report`` — an impact report a liaison officer (or a cancelled award) waived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from ...extensions import db
from ...formatting import day, money
from ...models import (
    SCHEDULE_KIND_LABELS,
    Activity,
    Application,
    BackfillClaim,
    Disbursement,
    Fund,
    ScheduleItem,
    User,
)
from ...workflow import (
    AWAITING_COUNTERSIGN_STATUSES,
    AWARDED_STATUSES,
    COUNTED_CLAIM_STATUSES,
    MET_SCHEDULE_STATUSES,
    NOT_YET_LATE_SCHEDULE_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    WAIVED_SCHEDULE_STATUSES,
)
from ..access import funds_seen_by
from .auditor import REPORT_ITEM_KINDS

#: Every kind, in the order the summary lists them, with what its count is called.
EXCEPTION_KINDS: dict[str, str] = {
    "causing_concern_override": "Awards overriding the rule for schools causing concern",
    "partial_award": "Awards of less than was asked for",
    "reversal": "Payments reversed",
    "flagged_claim": "Claims flagged as possible double funding",
    "overlapping_claim": "Flagged claims verified or paid all the same",
    "day_rate_at_cap": "Activities paid at the fund's highest day rate",
    "late_report": "Impact reports sent late or still missing",
    "waived_report": "Impact reports waived",
}
#: The decisions that made an award, whose time an award's exceptions carry.
_DECIDED = AWARDED_STATUSES + AWAITING_COUNTERSIGN_STATUSES
#: Items marked late (by ``run-schedule``): open and no longer "not yet late".
LATE_SCHEDULE_STATUSES = tuple(s for s in OPEN_SCHEDULE_STATUSES if s not in NOT_YET_LATE_SCHEDULE_STATUSES)
#: Free text quoted in a sentence is cut to this many characters.
QUOTED = 200


@dataclass(frozen=True)
class ControlException:
    """One exception as the API and the page show it, and the bid it links to."""

    kind: str
    reference: str
    detail: str
    at: datetime
    record_id: int


@dataclass(frozen=True)
class ExceptionsPage:
    items: list[ControlException]
    total: int
    page: int
    per_page: int
    #: Every kind's count (over the fund, whatever kind is chosen), in ``EXCEPTION_KINDS`` order.
    counts: dict[str, int]


def _columns(
    kind: str,
    at: Any,
    record_id: Any,
    *,
    other_id: Any = None,
    pence_a: Any = None,
    pence_b: Any = None,
    text_a: Any = None,
    text_b: Any = None,
    day_a: Any = None,
    day_b: Any = None,
) -> list[Any]:
    """The union's columns, the same types in every branch (PostgreSQL insists)."""

    def typed(value: Any, type_: Any) -> Any:
        return cast(null(), type_) if value is None else type_coerce(value, type_)

    return [
        literal(kind, String(40)).label("kind"),
        at.label("at"),
        Application.reference.label("reference"),
        type_coerce(record_id, Integer).label("record_id"),
        typed(other_id, Integer).label("other_id"),
        typed(pence_a, BigInteger).label("pence_a"),
        typed(pence_b, BigInteger).label("pence_b"),
        typed(text_a, String).label("text_a"),
        typed(text_b, String).label("text_b"),
        typed(day_a, Date).label("day_a"),
        typed(day_b, Date).label("day_b"),
    ]


def _decided_at() -> Any:
    """When the award was decided (bids decided before that was kept: when they were sent)."""
    return func.coalesce(Application.decided_at, Application.submitted_at, Application.created_at)


def _day_start(column: Any) -> Any:
    """A date column as a timestamp at midnight, to sort with the other kinds' times."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(column, DateTime)
    return func.datetime(column)


def _overrides() -> Select:
    return select(
        *_columns(
            "causing_concern_override",
            _decided_at(),
            Application.id,
            pence_a=Application.awarded_pence,
            text_a=Application.override_note,
        )
    ).where(Application.override_note != "", Application.status.in_(_DECIDED))


def _partial_awards() -> Select:
    return select(
        *_columns(
            "partial_award",
            _decided_at(),
            Application.id,
            pence_a=Application.awarded_pence,
            pence_b=Application.requested_pence,
        )
    ).where(Application.status.in_(_DECIDED), Application.awarded_pence < Application.requested_pence)


def _reversals() -> Select:
    original = aliased(Disbursement)
    return (
        select(
            *_columns(
                "reversal",
                Disbursement.created_at,
                Disbursement.id,
                other_id=BackfillClaim.id,
                pence_a=Disbursement.amount_pence,
                text_a=Disbursement.reason,
                text_b=original.reference,
                day_a=original.paid_on,
            )
        )
        .select_from(Disbursement)
        .join(original, original.id == Disbursement.reverses_id)
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .join(Application, Application.id == BackfillClaim.application_id)
    )


def _claims(kind: str, at: Any, *, counted_only: bool) -> Select:
    other = aliased(BackfillClaim)
    other_bid = aliased(Application)
    query = (
        select(
            *_columns(
                kind,
                at,
                BackfillClaim.id,
                other_id=other.id,
                pence_a=BackfillClaim.amount_pence,
                text_a=BackfillClaim.staff_name,
                text_b=other_bid.reference,
            )
        )
        .select_from(BackfillClaim)
        .join(Application, Application.id == BackfillClaim.application_id)
        .join(other, other.id == BackfillClaim.overlaps_claim_id)
        .join(other_bid, other_bid.id == other.application_id)
        .where(BackfillClaim.overlaps_claim_id.is_not(None))  # lets PostgreSQL use its index
    )
    if counted_only:
        query = query.where(BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES))
    return query


def _flagged_claims() -> Select:
    return _claims("flagged_claim", BackfillClaim.created_at, counted_only=False)


def _overlapping_claims() -> Select:
    verified = func.coalesce(BackfillClaim.verified_at, BackfillClaim.updated_at)
    return _claims("overlapping_claim", verified, counted_only=True)


def _rates_at_cap() -> Select:
    return (
        select(
            *_columns(
                "day_rate_at_cap",
                _decided_at(),
                Activity.id,
                pence_a=Activity.daily_rate_pence,
                text_a=Activity.description,
                text_b=Activity.staff_role,
            )
        )
        .select_from(Activity)
        .join(Application, Application.id == Activity.application_id)
        .join(Fund, Fund.id == Application.fund_id)
        .where(
            Application.status.in_(AWARDED_STATUSES), Activity.daily_rate_pence >= Fund.max_daily_rate_pence
        )
    )


def _late_reports(today: date) -> Select:
    met_late = ScheduleItem.status.in_(MET_SCHEDULE_STATUSES) & (
        ScheduleItem.completed_on > ScheduleItem.due_on
    )
    overdue = ScheduleItem.status.in_(LATE_SCHEDULE_STATUSES) | (
        ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES) & (ScheduleItem.due_on < today)
    )
    return _schedule_items(
        "late_report", _day_start(func.coalesce(ScheduleItem.completed_on, ScheduleItem.due_on))
    ).where(met_late | overdue)


def _waived_reports() -> Select:
    return _schedule_items("waived_report", ScheduleItem.updated_at).where(
        ScheduleItem.status.in_(WAIVED_SCHEDULE_STATUSES)
    )


def _schedule_items(kind: str, at: Any) -> Select:
    return (
        select(
            *_columns(
                kind,
                at,
                ScheduleItem.id,
                text_a=ScheduleItem.kind,
                text_b=ScheduleItem.waived_reason,
                day_a=ScheduleItem.due_on,
                day_b=ScheduleItem.completed_on,
            )
        )
        .select_from(ScheduleItem)
        .join(Application, Application.id == ScheduleItem.application_id)
        .where(ScheduleItem.kind.in_(REPORT_ITEM_KINDS))
    )


def _branches(today: date) -> dict[str, Select]:
    return {
        "causing_concern_override": _overrides(),
        "partial_award": _partial_awards(),
        "reversal": _reversals(),
        "flagged_claim": _flagged_claims(),
        "overlapping_claim": _overlapping_claims(),
        "day_rate_at_cap": _rates_at_cap(),
        "late_report": _late_reports(today),
        "waived_report": _waived_reports(),
    }


def _union(fund_id: int | None, kinds: list[str], today: date, viewer: User | None) -> Any:
    """The chosen kinds' branches, each filtered by fund (so each can use the fund's index),
    and to ``viewer``'s organisation's funds (every organisation's without a viewer)."""
    branches = _branches(today)
    chosen = []
    for kind in kinds:
        branch = branches[kind]
        chosen.append(branch.where(*funds_seen_by(viewer, Application.fund_id, fund_id)))
    return union_all(*chosen).subquery("control_exceptions")


def counts(fund_id: int | None, today: date, viewer: User | None = None) -> dict[str, int]:
    """Every kind's count for the fund (or all funds), one grouped query."""
    union = _union(fund_id, list(EXCEPTION_KINDS), today, viewer)
    rows = db.session.execute(select(union.c.kind, func.count()).group_by(union.c.kind)).all()
    found = {kind: int(count) for kind, count in rows}
    return {kind: found.get(kind, 0) for kind in EXCEPTION_KINDS}


def exceptions_page(
    fund_id: int | None, kind: str | None, page: int, per_page: int, today: date, viewer: User | None = None
) -> ExceptionsPage:
    """One page of the fund's exceptions (of ``kind``, or every kind), newest first, with
    every kind's count: two queries, whatever the page holds."""
    every = counts(fund_id, today, viewer)
    total = every[kind] if kind else sum(every.values())
    ordered = _ordered(fund_id, kind, today, viewer)
    rows = db.session.execute(ordered.limit(per_page).offset((page - 1) * per_page))
    return ExceptionsPage([_exception(row) for row in rows], total, page, per_page, every)


def _day_of(column: Any) -> Any:
    """The day of the union's ``at`` (a text time on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def in_period(
    fund_id: int | None, first_day: date, last_day: date, today: date, limit: int, viewer: User | None = None
) -> tuple[dict[str, int], list[ControlException]]:
    """The exceptions that happened from ``first_day`` to ``last_day``: every kind's count
    (one statement, in ``EXCEPTION_KINDS`` order) and the first ``limit`` of them in time
    order (another)."""
    union = _union(fund_id, list(EXCEPTION_KINDS), today, viewer)
    when = _day_of(union.c.at)
    within = (when >= first_day, when <= last_day)
    found = dict(
        db.session.execute(select(union.c.kind, func.count()).where(*within).group_by(union.c.kind)).all()
    )
    rows = db.session.execute(
        select(union).where(*within).order_by(union.c.at, union.c.kind, union.c.record_id).limit(limit)
    )
    return {kind: int(found.get(kind, 0)) for kind in EXCEPTION_KINDS}, [_exception(row) for row in rows]


def _ordered(fund_id: int | None, kind: str | None, today: date, viewer: User | None) -> Select:
    union = _union(fund_id, [kind] if kind else list(EXCEPTION_KINDS), today, viewer)
    return select(union).order_by(union.c.at.desc(), union.c.kind, union.c.record_id.desc())


def all_exceptions(
    fund_id: int | None, kind: str | None, today: date, batch: int = 500, viewer: User | None = None
) -> Any:
    """Every exception of the fund (of ``kind``), newest first, read ``batch`` rows at a
    time: what the CSV download streams."""
    query = _ordered(fund_id, kind, today, viewer).execution_options(yield_per=batch, stream_results=True)
    result = db.session.connection().execute(query)
    try:
        for rows in result.partitions():
            yield from (_exception(row) for row in rows)
    finally:
        result.close()


def _quoted(text: str | None) -> str:
    text = " ".join((text or "").split())
    return "“" + (text if len(text) <= QUOTED else text[: QUOTED - 1] + "…") + "”"


def _report_name(kind: str | None) -> str:
    return SCHEDULE_KIND_LABELS.get(kind or "", "Impact report")


def _when(value: Any) -> str:
    return day(date.fromisoformat(value) if isinstance(value, str) else value)


def _override(r: Any) -> str:
    return (
        f"Award of {money(r.pence_a)} approved although a supporting school is causing concern. "
        f"Override note: {_quoted(r.text_a)}"
    )


def _partial(r: Any) -> str:
    return f"Awarded {money(r.pence_a)} of {money(r.pence_b)} requested"


def _reversal(r: Any) -> str:
    return (
        f"Payment {r.text_b} of {money(abs(r.pence_a or 0))}, made on {_when(r.day_a)} for claim "
        f"{r.other_id}, was reversed. Reason: {_quoted(r.text_a)}"
    )


def _claim_overlap(what: str) -> Callable[[Any], str]:
    """A sentence about a claim that overlaps another: the flagged and the verified kind differ
    only in what happened to the claim."""

    def sentence(r: Any) -> str:
        return (
            f"Claim {r.record_id} ({money(r.pence_a)} for {r.text_a}) {what} claim {r.other_id} on {r.text_b}"
        )

    return sentence


def _at_cap(r: Any) -> str:
    return f"{r.text_a} ({r.text_b}) is paid at {money(r.pence_a)} a day, the fund's highest day rate"


def _late(r: Any) -> str:
    what, due = _report_name(r.text_a), _when(r.day_a)
    if r.day_b is not None:
        return f"{what} due on {due} was sent on {_when(r.day_b)}"
    return f"{what} due on {due} has not been sent"


def _waived(r: Any) -> str:
    reason = f". Reason: {_quoted(r.text_b)}" if (r.text_b or "").strip() else ""
    return f"{_report_name(r.text_a)} due on {_when(r.day_a)} was waived{reason}"


DETAILS: dict[str, Callable[[Any], str]] = {
    "causing_concern_override": _override,
    "partial_award": _partial,
    "reversal": _reversal,
    "flagged_claim": _claim_overlap("was flagged as possible double funding: it overlaps"),
    "overlapping_claim": _claim_overlap("was verified although it overlaps"),
    "day_rate_at_cap": _at_cap,
    "late_report": _late,
    "waived_report": _waived,
}


def detail(row: Any) -> str:
    """The plain-English sentence an exception row says ("Awarded £8,000.00 of £10,000.00
    requested"), ending in a full stop."""
    text = DETAILS[row.kind](row)
    return text if text.endswith((".", "”")) else text + "."


def _at(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite's datetime() of a date
        return datetime.fromisoformat(value)
    return value


def _exception(row: Any) -> ControlException:
    return ControlException(row.kind, row.reference, detail(row), _at(row.at), row.record_id)
