"""``run_schedule``: reminders before and on the day, late marking the day after, weekly
overdue reminders, one escalation to the liaison officers, and never a reminder twice.
Time is moved with the app's clock (``clock.as_of`` sets ``FUNDFLOW_TODAY``), never slept."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event, Notification, OutboundEmail, ScheduleItem
from fundflow.services import admin, impact, lifecycle, schedule
from fundflow.services.clock import as_of

APPROVED = date(2026, 9, 1)
INTERIM_DUE = date(2026, 12, 12)  # the first termly date after approval


@pytest.fixture(autouse=True)
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = APPROVED.isoformat()


class Award:
    """An award approved on :data:`APPROVED` with people around it: the lead school's two
    headteachers (and one whose account is off), a partner's headteacher, the approving
    officer, another free officer and one seconded to the partner school."""

    def __init__(self, make):
        self.make = make
        fund = make.fund(delivery_ends_on=date(2027, 7, 31))
        self.lead = make.headteacher()
        self.colleague = make.headteacher(school=self.lead.school)
        gone = make.headteacher(school=self.lead.school)
        partner_school = make.school()
        self.partner_head = make.headteacher(school=partner_school)
        self.officer = make.liaison()
        self.other_officer = make.liaison()
        self.seconded = make.liaison(school=partner_school)
        self.bid = make.application(
            "approved",
            fund=fund,
            lead=self.lead,
            partner=partner_school,
            liaison=self.officer,
            approved_on=APPROVED,
        )
        admin.update_user(None, gone, roles=["headteacher"], school_urn=gone.school.urn, active=False)
        self.gone = gone

    def item(self, kind: str = "interim_report") -> ScheduleItem:
        db.session.expire_all()
        return db.session.execute(
            select(ScheduleItem)
            .where(ScheduleItem.application_id == self.bid.id, ScheduleItem.kind == kind)
            .order_by(ScheduleItem.due_on)
            .limit(1)
        ).scalar_one()

    def keep_only(self, kept: ScheduleItem) -> None:
        """Waive every other item, so only ``kept`` can be reminded of."""
        for other in db.session.execute(
            select(ScheduleItem).where(ScheduleItem.application_id == self.bid.id, ScheduleItem.id != kept.id)
        ).scalars():
            schedule.waive(self.officer, other, "Not needed for this test")


@pytest.fixture
def award(make) -> Award:
    return Award(make)


def reminders() -> list[tuple[str, int]]:
    """(kind, recipient) of each reminder sent so far, in order."""
    kinds = ("due_soon", "due_today", "overdue", "overdue_escalated")
    rows = db.session.execute(
        select(Notification.kind, Notification.user_id)
        .where(Notification.kind.in_(kinds))
        .order_by(Notification.id)
    )
    return [(kind, user_id) for kind, user_id in rows]


def run_on(day: date) -> schedule.ScheduleRun:
    with as_of(day):
        return schedule.run_schedule()


def run_daily(first: date, last: date) -> dict[date, list[tuple[str, int]]]:
    """Run the schedule once a day from ``first`` to ``last``; what each day sent."""
    sent: dict[date, list[tuple[str, int]]] = {}
    day = first
    while day <= last:
        before = len(reminders())
        run_on(day)
        new = reminders()[before:]
        if new:
            sent[day] = new
        day += timedelta(days=1)
    return sent


# ------------------------------------------------------------------------------ the timeline


def test_an_unanswered_report_is_reminded_before_on_and_after_its_day_then_escalated(award):
    item = award.item()
    assert item.due_on == INTERIM_DUE
    award.keep_only(item)
    heads = [award.lead.id, award.colleague.id]
    officers = [award.officer.id, award.other_officer.id]

    sent = run_daily(APPROVED, INTERIM_DUE + timedelta(days=30))

    def to(kind: str, people: list[int]) -> list[tuple[str, int]]:
        return [(kind, person) for person in people]

    assert sent == {
        INTERIM_DUE - timedelta(days=14): to("due_soon", heads),
        INTERIM_DUE: to("due_today", heads),
        INTERIM_DUE + timedelta(days=1): to("overdue", heads),
        INTERIM_DUE + timedelta(days=8): to("overdue", heads),
        INTERIM_DUE + timedelta(days=14): to("overdue_escalated", officers),
        INTERIM_DUE + timedelta(days=15): to("overdue", heads),
        INTERIM_DUE + timedelta(days=22): to("overdue", heads),
        INTERIM_DUE + timedelta(days=29): to("overdue", heads),
    }


def test_an_item_is_marked_late_the_day_after_it_falls_due_by_the_system(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE)
    assert award.item().status == "due"
    result = run_on(INTERIM_DUE + timedelta(days=1))
    assert result.marked_late == 1
    assert award.item().status == "late"
    [event] = db.session.execute(select(Event).where(Event.action == "mark_late")).scalars().all()
    assert (event.actor_id, event.actor_email) == (None, "system")
    assert (event.subject_type, event.subject_id) == ("schedule_item", item.id)
    assert (event.from_status, event.to_status) == ("due", "late")
    assert event.application_id == award.bid.id


def test_the_reminders_name_the_bid_and_link_to_where_the_school_acts(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE - timedelta(days=14))
    notes = db.session.execute(select(Notification).where(Notification.kind == "due_soon")).scalars().all()
    assert notes
    for note in notes:
        assert award.bid.reference in note.subject
        assert award.bid.reference in note.body and award.bid.title in note.body
        assert "Interim impact report" in note.body
        assert "12 December 2026" in note.body
        assert note.link == f"/headteacher/bids/{award.bid.reference}/view"
        assert note.application_id == award.bid.id


def test_the_escalation_goes_to_free_liaison_officers_and_links_to_the_bid(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE + timedelta(days=14))
    notes = (
        db.session.execute(select(Notification).where(Notification.kind == "overdue_escalated"))
        .scalars()
        .all()
    )
    assert sorted(n.user_id for n in notes) == sorted([award.officer.id, award.other_officer.id])
    assert award.seconded.id not in {n.user_id for n in notes}
    for note in notes:
        assert note.link == f"/liaison/bids/{award.bid.reference}"
        assert "14 days late" in note.body


def test_a_late_claim_deadline_is_never_escalated(award):
    item = award.item("claim_deadline")
    award.keep_only(item)
    sent = run_daily(item.due_on - timedelta(days=15), item.due_on + timedelta(days=30))
    kinds = Counter(kind for day in sent.values() for kind, _ in day)
    assert kinds == {"due_soon": 2, "due_today": 2, "overdue": 2 * 5}
    assert award.item("claim_deadline").escalated_on is None


def test_running_twice_on_the_same_day_sends_nothing_more(award):
    for day in (
        INTERIM_DUE - timedelta(days=14),
        INTERIM_DUE,
        INTERIM_DUE + timedelta(days=1),
        INTERIM_DUE + timedelta(days=14),
    ):
        run_on(day)
        sent, emails, events = len(reminders()), count(OutboundEmail), count(Event)
        again = run_on(day)
        assert again == schedule.ScheduleRun(0, 0, 0)
        assert (len(reminders()), count(OutboundEmail), count(Event)) == (sent, emails, events)


def count(model) -> int:
    return len(db.session.execute(select(model.id)).all())


def test_a_missed_day_sends_only_todays_reminder_not_the_ones_it_missed(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE + timedelta(days=3))  # nothing ran before: no "due soon" or "due today" now
    assert Counter(kind for kind, _ in reminders()) == {"overdue": 2}
    assert award.item().status == "late"


def test_a_report_waived_or_sent_gets_no_more_reminders(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE - timedelta(days=14))
    with as_of(INTERIM_DUE - timedelta(days=3)):
        impact.submit_report(
            award.lead,
            award.bid,
            impact.ReportInput(
                kind="interim",
                narrative="On track.",
                results=[impact.ResultInput(measure_id=m.id, actual="62") for m in award.bid.measures],
            ),
        )
    assert award.item().status == "submitted"
    before = reminders()
    sent = run_daily(INTERIM_DUE - timedelta(days=2), INTERIM_DUE + timedelta(days=30))
    assert sent == {}
    assert reminders() == before
    assert award.item().status == "submitted"


def test_a_waived_item_gets_no_reminders(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE + timedelta(days=1))
    schedule.waive(award.officer, item, "Staff illness")
    before = reminders()
    sent = run_daily(INTERIM_DUE + timedelta(days=2), INTERIM_DUE + timedelta(days=30))
    assert sent == {}
    assert reminders() == before
    assert award.item().status == "waived"


def test_a_rescheduled_item_starts_its_reminders_over(award):
    item = award.item()
    award.keep_only(item)
    run_daily(INTERIM_DUE - timedelta(days=14), INTERIM_DUE + timedelta(days=14))  # escalated
    assert award.item().escalated_on == INTERIM_DUE + timedelta(days=14)
    moved_to = INTERIM_DUE + timedelta(days=60)
    with as_of(INTERIM_DUE + timedelta(days=15)):
        schedule.reschedule(award.officer, item, moved_to, "Head off sick")
    assert award.item().status == "due"
    before = len(reminders())

    sent = run_daily(INTERIM_DUE + timedelta(days=15), moved_to + timedelta(days=15))
    heads = [award.lead.id, award.colleague.id]
    officers = [award.officer.id, award.other_officer.id]
    assert sent == {
        moved_to - timedelta(days=14): [("due_soon", h) for h in heads],
        moved_to: [("due_today", h) for h in heads],
        moved_to + timedelta(days=1): [("overdue", h) for h in heads],
        moved_to + timedelta(days=8): [("overdue", h) for h in heads],
        moved_to + timedelta(days=14): [("overdue_escalated", o) for o in officers],
        moved_to + timedelta(days=15): [("overdue", h) for h in heads],
    }
    assert len(reminders()) == before + 12


def test_an_item_moved_to_a_date_within_two_weeks_is_reminded_the_same_day(award):
    item = award.item()
    award.keep_only(item)
    run_on(INTERIM_DUE + timedelta(days=2))
    moved_from = INTERIM_DUE + timedelta(days=3)
    with as_of(moved_from):
        schedule.reschedule(award.officer, item, moved_from + timedelta(days=5), "Nearly done")
    before = len(reminders())
    run_on(moved_from)
    assert [kind for kind, _ in reminders()[before:]] == ["due_soon", "due_soon"]


def test_reminders_go_to_active_lead_headteachers_only(award):
    item = award.item()
    award.keep_only(item)
    run_daily(INTERIM_DUE - timedelta(days=14), INTERIM_DUE + timedelta(days=14))
    recipients = {user_id for _, user_id in reminders()}
    assert award.gone.id not in recipients
    assert award.partner_head.id not in recipients
    assert award.seconded.id not in recipients


def test_reminders_of_every_item_on_the_same_day_each_go_once(award):
    first_day = INTERIM_DUE - timedelta(days=14)
    result = run_on(first_day)
    assert result.reminders == 1  # only the first interim report is within two weeks
    assert run_on(first_day) == schedule.ScheduleRun(0, 0, 0)


def test_a_closed_award_gets_no_more_reminders(award, make):
    """An award closed with an interim report never sent (its final report evaluated) is
    not chased for it: closing waives what was left."""
    bid = award.bid
    lifecycle.perform(bid, award.lead, lifecycle.ActionInput(action="finish_delivery"))
    with as_of(INTERIM_DUE - timedelta(days=20)):
        report = impact.submit_report(
            award.lead,
            bid,
            impact.ReportInput(
                kind="final",
                narrative="Done early.",
                results=[impact.ResultInput(measure_id=m.id, actual="75") for m in bid.measures],
            ),
        )
        impact.evaluate_report(
            award.officer, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
        )
        lifecycle.perform(bid, award.officer, lifecycle.ActionInput(action="close"))
    assert award.item().status == "waived"
    sent = run_daily(INTERIM_DUE - timedelta(days=15), INTERIM_DUE + timedelta(days=20))
    assert sent == {}


def test_a_cancelled_award_gets_no_more_reminders(award):
    lifecycle.perform(
        award.bid, award.officer, lifecycle.ActionInput(action="cancel", comment="Closed school")
    )
    sent = run_daily(INTERIM_DUE - timedelta(days=15), INTERIM_DUE + timedelta(days=20))
    assert sent == {}


def test_a_reminder_taken_in_the_digest_is_written_without_an_email(award):
    item = award.item()
    award.keep_only(item)
    award.lead.notification_preferences = {"due_soon": "digest"}
    db.session.commit()
    run_on(INTERIM_DUE - timedelta(days=14))
    notes = {
        n.user_id: n
        for n in db.session.execute(select(Notification).where(Notification.kind == "due_soon")).scalars()
    }
    assert (notes[award.lead.id].delivery, notes[award.lead.id].email_id) == ("digest", None)
    assert notes[award.colleague.id].delivery == "immediate"
    email = db.session.get(OutboundEmail, notes[award.colleague.id].email_id)
    assert email.to_address == award.colleague.email
    assert email.kind == "due_soon"
    assert f"/headteacher/bids/{award.bid.reference}/view" in email.body
