"""An award's monitoring schedule: what it owes by when, and the reminders that follow.

When an award is approved (directly, or by its countersignature) it gets its schedule:
interim impact reports at the fund's cadence (or on the dates the approving liaison
officer set), a final report ``final_report_weeks`` after the last measure falls due, and
a last day to claim backfill ``claim_deadline_weeks`` after each activity's planned end.
Each item moves only through the workflow's ``SCHEDULE_LIFECYCLE``, one Event per move:
sending a report meets the item it answers, finishing delivery meets the claim deadlines,
cancelling the award waives what it still owed, a liaison officer may waive an item or
move its date, and :func:`run_schedule` marks items late and sends the reminders.

Locks: schedule items are locked after their application (and its claims), before the
audit chain, as ``unit_of_work`` orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from ..dates import long_date
from ..extensions import db
from ..models import Application, ImpactReport, ScheduleItem, User
from ..workflow import (
    NOT_YET_LATE_SCHEDULE_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    SCHEDULE_LIFECYCLE,
    WAIVED_SCHEDULE_STATUSES,
    GuardContext,
)
from . import audit, messages
from .clock import today
from .errors import ValidationFailed
from .firing import fire
from .parsing import clean_text, to_date
from .terms import interim_dates
from .unit_of_work import lock, retrying, transaction

#: Reminders go to the school this many days before an item is due, and the liaison
#: officers hear of it once it is this many days late.
REMIND_BEFORE_DAYS = 14
ESCALATE_AFTER_DAYS = 14
OVERDUE_EVERY_DAYS = 7
#: Late reports are escalated to the liaison officers; a late claim deadline only reminds
#: the school (its unclaimed backfill is the school's loss, not a gap in the monitoring).
ESCALATED_KINDS = ("interim_report", "final_report")
#: The most interim report dates a liaison officer may set on one award.
MAX_OFFICER_DATES = 12


class SystemActor:
    """fundflow itself, firing the schedule's automatic moves (``mark_late``). It is no
    user: its events name no actor ("system")."""

    id = None
    email = "system"
    name = "fundflow"
    school_id = None
    active = True

    def has_role(self, role: str) -> bool:
        return role == "system"


SYSTEM = SystemActor()


# ----------------------------------------------------------------------- making a schedule


def final_report_due(application: Application) -> date:
    """``final_report_weeks`` after the bid's last measure falls due."""
    fund = application.fund
    last_measure = max((m.due_on for m in application.measures), default=fund.delivery_ends_on)
    return last_measure + timedelta(weeks=fund.final_report_weeks)


def planned_items(application: Application, approved_on: date) -> list[tuple[str, date, int | None]]:
    """(kind, due date, activity id) of each item the award will owe, in date order."""
    fund = application.fund
    final_due = final_report_due(application)
    if fund.report_cadence == "set_by_officer":
        interims = sorted({date.fromisoformat(d) for d in application.interim_report_dates or []})
    else:
        interims = interim_dates(fund.report_cadence, approved_on, final_due)
    items: list[tuple[str, date, int | None]] = [("interim_report", d, None) for d in interims]
    items.append(("final_report", final_due, None))
    deadlines: dict[date, int | None] = {}
    for activity in application.activities:
        end = activity.ends_on or fund.delivery_ends_on
        deadlines.setdefault(end + timedelta(weeks=fund.claim_deadline_weeks), activity.id)
    items.extend(("claim_deadline", d, activity_id) for d, activity_id in deadlines.items())
    return sorted(items, key=lambda item: (item[1], item[0]))


def first_reminder(due_on: date, day: date) -> date:
    return max(due_on - timedelta(days=REMIND_BEFORE_DAYS), day)


def create_schedule(application: Application, day: date) -> list[dict[str, object]]:
    """Give a newly approved award its schedule, in the caller's transaction. Returns the
    items as plain data for the approving Event's payload, which records them (an item's
    later moves have Events of their own)."""
    created = []
    for kind, due_on, activity_id in planned_items(application, day):
        db.session.add(
            ScheduleItem(
                application_id=application.id,
                kind=kind,
                activity_id=activity_id,
                due_on=due_on,
                status=SCHEDULE_LIFECYCLE.initial,
                next_reminder_on=first_reminder(due_on, day),
            )
        )
        created.append({"kind": kind, "due_on": due_on})
    db.session.flush()
    return created


def officer_dates(values: Iterable[str] | None, day: date) -> list[str]:
    """Check the interim report dates a liaison officer sets when approving; ISO dates."""
    given = [v for v in (values or []) if str(v).strip()]
    if len(given) > MAX_OFFICER_DATES:
        raise ValidationFailed({"report_dates": [f"Set {MAX_OFFICER_DATES} dates or fewer"]})
    dates = []
    for value in given:
        parsed = to_date(value)
        if parsed is None:
            raise ValidationFailed({"report_dates": [f"“{str(value)[:40]}” is not a date: use YYYY-MM-DD"]})
        if parsed <= day:
            raise ValidationFailed({"report_dates": ["Each report date must be after today"]})
        dates.append(parsed.isoformat())
    return sorted(set(dates))


def check_officer_dates(application: Application, dates: list[str] | None) -> None:
    """Officer-set dates are for a fund whose cadence is "set_by_officer", and each falls
    before the award's final report."""
    if not dates:
        return
    fund = application.fund
    if fund.report_cadence != "set_by_officer":
        raise ValidationFailed(
            {"report_dates": ["This fund sets its own report dates (each term or half term): give none"]}
        )
    final_due = final_report_due(application)
    if any(date.fromisoformat(d) >= final_due for d in dates):
        before = f"Each interim report must fall due before the final report, {long_date(final_due)}"
        raise ValidationFailed({"report_dates": [before]})


# ---------------------------------------------------------------- moves made by other actions


def lock_open_items(application_id: int, kinds: Iterable[str] | None = None) -> list[ScheduleItem]:
    """The award's items still owed, locked (after the application, before the chain)."""
    query = select(ScheduleItem.id).where(
        ScheduleItem.application_id == application_id, ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES)
    )
    if kinds is not None:
        query = query.where(ScheduleItem.kind.in_(list(kinds)))
    ids = db.session.execute(query.order_by(ScheduleItem.due_on, ScheduleItem.id)).scalars().all()
    return [lock(ScheduleItem, item_id) for item_id in ids]


def item_for_report(application_id: int, kind: str) -> ScheduleItem | None:
    """The open item a report of ``kind`` answers (the earliest interim one), locked."""
    wanted = "final_report" if kind == "final" else "interim_report"
    items = lock_open_items(application_id, [wanted])
    return items[0] if items else None


def _move(item: ScheduleItem, user: User | SystemActor, action: str, day: date, **facts: object) -> None:
    ctx = GuardContext(record=item, user=user, today=day, **facts)  # type: ignore[arg-type]
    moved = fire(SCHEDULE_LIFECYCLE, action, ctx)
    payload: dict[str, object] = {"kind": item.kind, "due_on": item.due_on}
    if ctx.comment:
        payload["reason"] = ctx.comment
    actor = None if isinstance(user, SystemActor) else user
    audit.record(actor, action, item, transition=moved, payload=payload)


def meet(items: Iterable[ScheduleItem], user: User, day: date, report: ImpactReport | None = None) -> None:
    """Record items as done: the report that answers them was sent, or delivery finished."""
    for item in items:
        item.completed_on = day
        item.next_reminder_on = None
        if report is not None:
            item.report_id = report.id
        _move(item, user, "mark_submitted", day)


def waive_all(items: Iterable[ScheduleItem], user: User, reason: str, day: date) -> None:
    """Waive items, giving the reason: what a cancelled or closed award still owed, or the
    one a liaison officer lets the award off."""
    for item in items:
        item.waived_reason = reason
        item.completed_on = day
        item.next_reminder_on = None
        _move(item, user, "waive", day, comment=reason)


# ----------------------------------------------------------------- a liaison officer's moves


@retrying
def waive(user: User, item: ScheduleItem, reason: str) -> ScheduleItem:
    """A liaison officer with no link to the schools waives an item, giving the reason."""
    reason = _reason(reason)
    with transaction():
        lock(Application, item.application_id)
        item = lock(ScheduleItem, item.id)
        waive_all([item], user, reason, today())
    return item


def _reason(reason: str) -> str:
    reason = clean_text(reason)
    if len(reason) > 2000:
        raise ValidationFailed({"comment": ["Use 2,000 characters or fewer"]})
    return reason


@retrying
def reschedule(user: User, item: ScheduleItem, due_on: str | date | None, reason: str) -> ScheduleItem:
    """A liaison officer with no link to the schools moves an item's due date."""
    reason = _reason(reason)
    new_date = due_on if isinstance(due_on, date) else to_date(due_on)
    if due_on not in (None, "") and new_date is None:
        raise ValidationFailed({"due_on": ["Enter the new due date as a real date"]})
    with transaction():
        lock(Application, item.application_id)
        item = lock(ScheduleItem, item.id)
        day = today()
        old = item.due_on
        ctx = GuardContext(record=item, user=user, today=day, comment=reason, due_on=new_date)
        moved = fire(SCHEDULE_LIFECYCLE, "reschedule", ctx)
        item.due_on = new_date
        item.next_reminder_on = first_reminder(new_date, day)
        item.escalated_on = None
        audit.record(
            user,
            "reschedule",
            item,
            transition=moved,
            payload={"kind": item.kind, "from_due_on": old, "due_on": new_date, "reason": reason},
        )
    return item


# ----------------------------------------------------------------------------- the clock


@dataclass(frozen=True)
class ScheduleRun:
    marked_late: int
    reminders: int
    escalations: int


def _due_ids(day: date) -> list[int]:
    """Open items with something to do today: a reminder due, past their date but not
    marked late, or late long enough to escalate."""
    escalate_by = day - timedelta(days=ESCALATE_AFTER_DAYS)
    query = (
        select(ScheduleItem.id)
        .where(
            ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES),
            or_(
                ScheduleItem.next_reminder_on <= day,
                ScheduleItem.status.in_(NOT_YET_LATE_SCHEDULE_STATUSES) & (ScheduleItem.due_on < day),
                ScheduleItem.escalated_on.is_(None)
                & ScheduleItem.kind.in_(ESCALATED_KINDS)
                & (ScheduleItem.due_on <= escalate_by),
            ),
        )
        .order_by(ScheduleItem.id)
    )
    return list(db.session.execute(query).scalars())


def reminder_for(item: ScheduleItem, day: date) -> tuple[str | None, date | None]:
    """Which reminder an open item is owed today, and when its next one is due."""
    due = item.due_on
    if item.next_reminder_on is None or item.next_reminder_on > day:
        return None, item.next_reminder_on
    if day < due:
        return "due_soon", due
    if day == due:
        return "due_today", due + timedelta(days=1)
    return "overdue", day + timedelta(days=OVERDUE_EVERY_DAYS)


@retrying
def _run_item(item_id: int, day: date) -> tuple[int, int, int]:
    with transaction():
        item = db.session.get(ScheduleItem, item_id)
        if item is None:
            return 0, 0, 0
        lock(Application, item.application_id)
        item = lock(ScheduleItem, item_id)
        if item.status not in OPEN_SCHEDULE_STATUSES:
            return 0, 0, 0
        late = reminders = escalations = 0
        if item.status in NOT_YET_LATE_SCHEDULE_STATUSES and item.due_on < day:
            _move(item, SYSTEM, "mark_late", day)
            late = 1
        kind, next_on = reminder_for(item, day)
        if kind is not None:
            item.next_reminder_on = next_on
            item.reminders_sent += 1
            messages.reminder(item, kind, day)
            reminders = 1
        overdue_days = (day - item.due_on).days
        if item.kind in ESCALATED_KINDS and item.escalated_on is None and overdue_days >= ESCALATE_AFTER_DAYS:
            item.escalated_on = day
            messages.reminder(item, "overdue_escalated", day)
            escalations = 1
        return late, reminders, escalations


def run_schedule(day: date | None = None) -> ScheduleRun:
    """Mark items late and send the reminders due by ``day`` (today). Safe to run often and
    on several machines at once: each item is handled under its row lock, and a reminder
    moves the item's next reminder date on, so it is sent once."""
    day = day or today()
    totals = [0, 0, 0]
    for item_id in _due_ids(day):
        for i, count in enumerate(_run_item(item_id, day)):
            totals[i] += count
    return ScheduleRun(*totals)


# ----------------------------------------------------------------------------- facts


def final_reports_waived(application_ids: Iterable[int]) -> set[int]:
    """Which of these bids had their final report waived (so they may close)."""
    ids = list(application_ids)
    if not ids:
        return set()
    return set(
        db.session.execute(
            select(ScheduleItem.application_id).where(
                ScheduleItem.application_id.in_(ids),
                ScheduleItem.kind == "final_report",
                ScheduleItem.status.in_(WAIVED_SCHEDULE_STATUSES),
            )
        ).scalars()
    )
