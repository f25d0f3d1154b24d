"""``run_schedule`` on a real PostgreSQL, run by several machines at the same moment: each
reminder is sent once, and a report sent while the schedule runs meets its item without a
deadlock. Each thread has its own app context (so its own session and connection) and
waits at a barrier so all start together, as in ``test_postgres_races``.

Run locally with a throwaway cluster:
``source scripts/throwaway-postgres.sh && start_throwaway_postgres && pytest -m postgres …``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Event, Notification, OutboundEmail, ScheduleItem, User
from fundflow.services import audit, impact, schedule
from tests.factories import Factory
from tests.integration.test_postgres_races import race

pytestmark = pytest.mark.postgres

REMINDER_KINDS = ("due_soon", "due_today", "overdue", "overdue_escalated")


def run_schedule_job(day: date) -> Callable[[threading.Barrier], schedule.ScheduleRun]:
    def job(barrier: threading.Barrier) -> schedule.ScheduleRun:
        barrier.wait()
        return schedule.run_schedule(day)

    return job


def make_overdue(items: list[ScheduleItem], day: date, days_late: int) -> None:
    """Put items ``days_late`` past their date, never reminded (as if the schedule had not
    run for a while): the next run marks each late, reminds and (reports) escalates."""
    for item in items:
        item.due_on = day - timedelta(days=days_late)
        item.next_reminder_on = item.due_on - timedelta(days=schedule.REMIND_BEFORE_DAYS)
    db.session.commit()


def test_four_schedule_runs_at_once_send_each_reminder_once(pg_app):
    make = Factory()
    officer = make.liaison()
    bids = [make.application("approved", liaison=officer) for _ in range(10)]
    items = list(
        db.session.execute(
            select(ScheduleItem).where(ScheduleItem.application_id.in_([b.id for b in bids]))
        ).scalars()
    )
    assert len(items) >= 30
    day = date.today()
    make_overdue(items, day, days_late=schedule.ESCALATE_AFTER_DAYS)
    reports = sum(item.kind in schedule.ESCALATED_KINDS for item in items)
    db.session.remove()

    outcomes = race(pg_app, [run_schedule_job(day) for _ in range(4)])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    total = schedule.ScheduleRun(
        *(sum(getattr(o, f.name) for o in outcomes) for f in dataclasses.fields(schedule.ScheduleRun))
    )
    assert total == schedule.ScheduleRun(marked_late=len(items), reminders=len(items), escalations=reports)

    db.session.remove()
    sent = Counter(
        (row.application_id, row.kind, row.user_id, row.subject)
        for row in db.session.execute(
            select(
                Notification.application_id, Notification.kind, Notification.user_id, Notification.subject
            ).where(Notification.kind.in_(REMINDER_KINDS))
        )
    )
    assert set(sent.values()) == {1}
    kinds = Counter(kind for _, kind, _, _ in sent)
    assert kinds == {"overdue": len(items), "overdue_escalated": reports}  # one lead, one free officer
    emails = db.session.execute(select(OutboundEmail.id).where(OutboundEmail.kind.in_(REMINDER_KINDS))).all()
    assert len(emails) == len(items) + reports
    late_events = (
        db.session.execute(select(Event.subject_id).where(Event.action == "mark_late")).scalars().all()
    )
    assert sorted(late_events) == sorted(item.id for item in items)
    assert {i.status for i in db.session.execute(select(ScheduleItem)).scalars()} == {"late"}
    assert schedule.run_schedule(day) == schedule.ScheduleRun(0, 0, 0)
    assert audit.verify_chain().ok


def test_a_report_sent_while_the_schedule_runs_meets_its_item_without_deadlock(pg_app):
    make = Factory()
    officer = make.liaison()
    bids = [make.application("approved", liaison=officer) for _ in range(6)]
    day = date.today()
    targets = []
    for bid in bids:
        first = db.session.execute(
            select(ScheduleItem)
            .where(ScheduleItem.application_id == bid.id, ScheduleItem.kind == "interim_report")
            .order_by(ScheduleItem.due_on)
            .limit(1)
        ).scalar_one()
        make_overdue([first], day, days_late=schedule.ESCALATE_AFTER_DAYS)
        targets.append((bid.id, bid.created_by_id, first.id, [m.id for m in bid.measures]))
    db.session.remove()

    def send_report(bid_id: int, lead_id: int, measure_ids: list[int], stagger: float) -> Callable:
        """Sent ``stagger`` seconds after the start, so that some reports arrive before the
        schedule reaches their item and some after."""

        def job(barrier: threading.Barrier) -> int:
            bid = db.session.get(Application, bid_id)
            lead = db.session.get(User, lead_id)
            data = impact.ReportInput(
                kind="interim",
                narrative="On track.",
                results=[impact.ResultInput(measure_id=m, actual="66") for m in measure_ids],
            )
            barrier.wait()
            time.sleep(stagger)
            return impact.submit_report(lead, bid, data).id

        return job

    jobs = [
        send_report(bid_id, lead_id, measures, 0.15 * n)
        for n, (bid_id, lead_id, _, measures) in enumerate(targets)
    ]
    outcomes = race(pg_app, [*jobs, run_schedule_job(day), run_schedule_job(day)])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    report_ids = outcomes[: len(targets)]
    db.session.remove()
    for (bid_id, _, item_id, _), report_id in zip(targets, report_ids, strict=True):
        item = db.session.get(ScheduleItem, item_id)
        assert (item.status, item.report_id, item.completed_on) == ("submitted", report_id, day)
        moves = [
            (e.action, e.from_status, e.to_status)
            for e in db.session.execute(
                select(Event)
                .where(Event.subject_type == "schedule_item", Event.subject_id == item_id)
                .order_by(Event.seq)
            ).scalars()
        ]
        # the schedule got there first (late, then met) or the report did (met; nothing to chase)
        assert moves in (
            [("mark_late", "due", "late"), ("mark_submitted", "late", "submitted")],
            [("mark_submitted", "due", "submitted")],
        ), moves
        chased = (
            db.session.execute(
                select(Notification.kind).where(
                    Notification.application_id == bid_id,
                    Notification.kind.in_(("overdue", "overdue_escalated")),
                )
            )
            .scalars()
            .all()
        )
        assert bool(chased) == (len(moves) == 2)
    assert audit.verify_chain().ok
