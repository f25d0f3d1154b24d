"""An award's monitoring schedule: made on approval, met by reports and by finishing
delivery, waived on cancellation, and moved or waived by a liaison officer."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Event, ScheduleItem
from fundflow.services import applications, audit, impact, lifecycle, schedule
from fundflow.services.applications import ActivityInput
from fundflow.services.clock import as_of
from fundflow.services.errors import InvalidTransition, NotPermitted, ValidationFailed
from fundflow.services.terms import interim_dates

TODAY = date(2026, 9, 1)
DELIVERY_ENDS = date(2027, 7, 31)
MEASURES_DUE = (date(2027, 3, 1), date(2027, 5, 14))
#: Planned ends of the bid's four activities: two share a date, one has none (the fund's
#: delivery end stands in).
ACTIVITY_ENDS = (date(2027, 1, 31), date(2027, 3, 31), date(2027, 3, 31), None)


@pytest.fixture(autouse=True)
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = TODAY.isoformat()


def make_fund(make, *, cadence: str = "termly", final_weeks: int = 6, claim_weeks: int = 4, **overrides):
    fund = make.fund(delivery_ends_on=DELIVERY_ENDS, **overrides)
    fund.report_cadence = cadence
    fund.final_report_weeks = final_weeks
    fund.claim_deadline_weeks = claim_weeks
    db.session.commit()
    return fund


def bid_under_review(make, fund, *, lead=None, liaison=None, activity_ends=ACTIVITY_ENDS) -> Application:
    """A bid with two measures and an activity per planned end, waiting for a decision."""
    lead = lead or make.headteacher()
    details = make.details(fund, make.school())
    activity = details.activities[0]
    measure = details.measures[0]
    details = dataclasses.replace(
        details,
        activities=[
            ActivityInput(
                description=f"Coaching {i}", staff_role="Teacher", days="1", daily_rate_pence=200_00
            )
            for i, _ in enumerate(activity_ends)
        ]
        or [activity],
        measures=[
            dataclasses.replace(measure, indicator=f"Measure {i}", due_on=due.isoformat())
            for i, due in enumerate(MEASURES_DUE)
        ],
    )
    bid = applications.create_draft(lead, details)
    for row, ends_on in zip(sorted(bid.activities, key=lambda a: a.id), activity_ends, strict=True):
        row.ends_on = ends_on
    db.session.commit()
    make.act(bid, lead, "submit")
    make.act(bid, liaison or make.liaison(), "start_review")
    return bid


def items_of(bid: Application) -> list[ScheduleItem]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(ScheduleItem)
            .where(ScheduleItem.application_id == bid.id)
            .order_by(ScheduleItem.due_on, ScheduleItem.id)
        ).scalars()
    )


def plan(bid: Application) -> list[tuple[str, date]]:
    return [(item.kind, item.due_on) for item in items_of(bid)]


def of_kind(bid: Application, kind: str) -> list[ScheduleItem]:
    return [item for item in items_of(bid) if item.kind == kind]


def events(action: str, subject_type: str | None = None) -> list[Event]:
    query = select(Event).where(Event.action == action).order_by(Event.seq)
    if subject_type:
        query = query.where(Event.subject_type == subject_type)
    return list(db.session.execute(query).scalars())


def lifecycle_act(user):
    """``act(bid, action, **kwargs)`` as ``user``."""

    def act(bid, action, **kwargs):
        return lifecycle.perform(bid, user, lifecycle.ActionInput(action=action, **kwargs))

    return act


def interim(bid: Application, lead, kind: str = "interim"):
    return impact.submit_report(
        lead,
        bid,
        impact.ReportInput(
            kind=kind,
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in bid.measures],
        ),
    )


FINAL_DUE = MEASURES_DUE[-1] + timedelta(weeks=6)  # 2027-06-25
CLAIM_DEADLINES = [date(2027, 2, 28), date(2027, 4, 28), DELIVERY_ENDS + timedelta(weeks=4)]


@pytest.fixture
def approved(make):
    """An award approved today on a termly fund, with its lead headteacher and officer."""
    fund = make_fund(make)
    lead, officer = make.headteacher(), make.liaison()
    bid = bid_under_review(make, fund, lead=lead, liaison=officer)
    make.act(bid, officer, "approve")
    return bid, lead, officer


# ---------------------------------------------------------------------- making the schedule


def test_approving_an_award_gives_it_termly_reports_a_final_report_and_claim_deadlines(approved):
    bid, _, _ = approved
    assert bid.status == "approved"
    assert plan(bid) == [
        ("interim_report", date(2026, 12, 12)),
        ("claim_deadline", CLAIM_DEADLINES[0]),
        ("interim_report", date(2027, 3, 27)),
        ("claim_deadline", CLAIM_DEADLINES[1]),
        ("final_report", FINAL_DUE),
        ("claim_deadline", CLAIM_DEADLINES[2]),
    ]
    assert {item.status for item in items_of(bid)} == {"due"}
    assert all(item.completed_on is None and item.report_id is None for item in items_of(bid))


def test_the_final_report_falls_due_the_funds_weeks_after_the_last_measure(make):
    fund = make_fund(make, final_weeks=10)
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer)
    make.act(bid, officer, "approve")
    assert [i.due_on for i in of_kind(bid, "final_report")] == [MEASURES_DUE[-1] + timedelta(weeks=10)]


def test_half_termly_funds_ask_for_a_report_each_half_term(make):
    fund = make_fund(make, cadence="half_termly")
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer)
    make.act(bid, officer, "approve")
    expected = interim_dates("half_termly", TODAY, FINAL_DUE)
    assert [i.due_on for i in of_kind(bid, "interim_report")] == expected
    assert expected == [
        date(2026, 10, 17),
        date(2026, 12, 12),
        date(2027, 2, 6),
        date(2027, 3, 27),
        date(2027, 5, 22),
    ]


def test_a_fund_whose_officer_sets_the_dates_uses_the_dates_given_at_approval(make):
    fund = make_fund(make, cadence="set_by_officer")
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer)
    make.act(bid, officer, "approve", report_dates=["2027-01-15", "2026-11-02", "2027-01-15"])
    assert [i.due_on for i in of_kind(bid, "interim_report")] == [date(2026, 11, 2), date(2027, 1, 15)]


def test_a_fund_whose_officer_sets_no_dates_asks_only_for_the_final_report(make):
    fund = make_fund(make, cadence="set_by_officer")
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer)
    make.act(bid, officer, "approve")
    assert of_kind(bid, "interim_report") == []
    assert len(of_kind(bid, "final_report")) == 1


def test_report_dates_set_by_the_officer_must_be_real_future_dates(make):
    fund = make_fund(make, cadence="set_by_officer")
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer)
    for dates in (["not a date"], [TODAY.isoformat()], "2027-01-01"):
        with pytest.raises(ValidationFailed):
            make.act(bid, officer, "approve", report_dates=dates)
    assert items_of(bid) == []
    assert db.session.get(Application, bid.id).status == "under_review"


def test_an_activity_without_a_planned_end_is_claimed_for_by_the_funds_delivery_end(make):
    fund = make_fund(make, claim_weeks=2)
    officer = make.liaison()
    bid = bid_under_review(make, fund, liaison=officer, activity_ends=(None,))
    make.act(bid, officer, "approve")
    [deadline] = of_kind(bid, "claim_deadline")
    assert deadline.due_on == DELIVERY_ENDS + timedelta(weeks=2)
    assert deadline.activity_id == bid.activities[0].id


def test_activities_ending_on_the_same_day_share_one_claim_deadline(approved):
    bid, _, _ = approved
    assert [i.due_on for i in of_kind(bid, "claim_deadline")] == CLAIM_DEADLINES


def test_the_approving_event_lists_the_schedule(approved):
    bid, _, _ = approved
    [event] = events("approve")
    assert event.payload["schedule"] == [{"kind": k, "due_on": d.isoformat()} for k, d in plan(bid)]


def test_a_large_award_gets_its_schedule_when_countersigned_not_before(make):
    fund = make_fund(make, countersign_threshold_pence=800_00)
    first, second = make.liaison(), make.liaison()
    bid = bid_under_review(make, fund, liaison=first)
    assert bid.requested_pence == fund.countersign_threshold_pence  # at the threshold
    make.act(bid, first, "approve")
    assert bid.status == "awaiting_countersign"
    assert items_of(bid) == []
    assert "schedule" not in events("approve")[0].payload
    later = TODAY + timedelta(days=3)
    with as_of(later):
        make.act(bid, second, "countersign")
    assert bid.status == "approved"
    [event] = events("countersign")
    assert event.payload["schedule"] == [{"kind": k, "due_on": d.isoformat()} for k, d in plan(bid)]
    assert [i.due_on for i in of_kind(bid, "interim_report")] == interim_dates("termly", later, FINAL_DUE)
    assert {item.status for item in items_of(bid)} == {"due"}


def test_a_countersignature_turned_down_leaves_no_schedule(make):
    fund = make_fund(make, countersign_threshold_pence=800_00)
    first, second = make.liaison(), make.liaison()
    bid = bid_under_review(make, fund, liaison=first)
    make.act(bid, first, "approve")
    make.act(bid, second, "reject", comment="Too much for one bid.")
    assert items_of(bid) == []


# ---------------------------------------------------------------------- meeting the schedule


def test_an_interim_report_meets_the_earliest_open_interim_item(approved):
    bid, lead, _ = approved
    report = interim(bid, lead)
    first, second = of_kind(bid, "interim_report")
    assert (first.status, first.completed_on, first.report_id) == ("submitted", TODAY, report.id)
    assert second.status == "due"
    [event] = events("mark_submitted")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("schedule_item", first.id, lead.id)
    assert (event.from_status, event.to_status) == ("due", "submitted")
    assert event.application_id == bid.id

    another = interim(bid, lead)
    assert of_kind(bid, "interim_report")[1].report_id == another.id


def test_an_interim_report_meets_a_late_item_too(approved, app):
    bid, lead, _ = approved
    first = of_kind(bid, "interim_report")[0]
    schedule.run_schedule(first.due_on + timedelta(days=1))
    assert of_kind(bid, "interim_report")[0].status == "late"
    interim(bid, lead)
    assert of_kind(bid, "interim_report")[0].status == "submitted"


def test_an_interim_report_with_no_interim_item_left_changes_nothing(approved):
    bid, lead, _ = approved
    interim(bid, lead)
    interim(bid, lead)
    before = [(i.id, i.status) for i in items_of(bid)]
    interim(bid, lead)
    assert [(i.id, i.status) for i in items_of(bid)] == before
    assert len(events("mark_submitted")) == 2


def test_a_final_report_meets_the_final_item_only(approved):
    bid, lead, _ = approved
    report = interim(bid, lead, kind="final")
    [final] = of_kind(bid, "final_report")
    assert (final.status, final.report_id, final.completed_on) == ("submitted", report.id, TODAY)
    assert {i.status for i in of_kind(bid, "interim_report")} == {"due"}


def test_finishing_delivery_meets_every_claim_deadline(approved):
    bid, lead, _ = approved
    lifecycle_act(lead)(bid, "finish_delivery")
    deadlines = of_kind(bid, "claim_deadline")
    assert {(i.status, i.completed_on) for i in deadlines} == {("submitted", TODAY)}
    assert {i.status for i in items_of(bid) if i.kind != "claim_deadline"} == {"due"}
    assert len(events("mark_submitted")) == len(deadlines)


def test_cancelling_an_award_waives_everything_it_still_owed_with_the_reason(approved):
    bid, lead, officer = approved
    interim(bid, lead)
    lifecycle_act(officer)(bid, "cancel", comment="The school has closed.")
    items = items_of(bid)
    met = [i for i in items if i.status == "submitted"]
    waived = [i for i in items if i.status == "waived"]
    assert len(met) == 1 and len(waived) == len(items) - 1
    assert {i.waived_reason for i in waived} == {"Award cancelled: The school has closed."}
    assert {i.completed_on for i in waived} == {TODAY}
    waive_events = events("waive")
    assert sorted(e.subject_id for e in waive_events) == sorted(i.id for i in waived)
    assert {e.payload["reason"] for e in waive_events} == {"Award cancelled: The school has closed."}
    assert {e.actor_id for e in waive_events} == {officer.id}


# --------------------------------------------------------------------- an officer's moves


def test_a_liaison_officer_waives_an_item_giving_the_reason(approved):
    bid, _, officer = approved
    item = of_kind(bid, "interim_report")[0]
    schedule.waive(officer, item, "  Head was on long-term leave.  ")
    item = of_kind(bid, "interim_report")[0]
    assert (item.status, item.waived_reason, item.completed_on) == (
        "waived",
        "Head was on long-term leave.",
        TODAY,
    )
    assert item.next_reminder_on is None
    [event] = events("waive")
    assert event.payload["reason"] == "Head was on long-term leave."
    assert (event.from_status, event.to_status, event.actor_id) == ("due", "waived", officer.id)


def test_waiving_needs_a_reason(approved):
    bid, _, officer = approved
    item = of_kind(bid, "interim_report")[0]
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            schedule.waive(officer, item, reason)
        assert "comment" in refused.value.fields
    assert of_kind(bid, "interim_report")[0].status == "due"
    assert events("waive") == []


def test_only_a_liaison_officer_may_waive(approved, make):
    bid, lead, _ = approved
    item = of_kind(bid, "final_report")[0]
    for user in (lead, make.user("finance"), make.headteacher(), make.user("admin")):
        with pytest.raises(NotPermitted):
            schedule.waive(user, item, "Please")
    assert of_kind(bid, "final_report")[0].status == "due"


def test_a_liaison_officer_linked_to_the_schools_may_not_waive(approved, make):
    bid, _, _ = approved
    item = of_kind(bid, "final_report")[0]
    seconded = make.liaison(school=bid.partners[0].school)
    with pytest.raises(NotPermitted):
        schedule.waive(seconded, item, "Friends")
    assert of_kind(bid, "final_report")[0].status == "due"


def test_a_settled_item_cannot_be_waived_or_moved(approved):
    bid, lead, officer = approved
    interim(bid, lead)
    item = of_kind(bid, "interim_report")[0]
    with pytest.raises(InvalidTransition):
        schedule.waive(officer, item, "Too late")
    with pytest.raises(InvalidTransition):
        schedule.reschedule(officer, item, TODAY + timedelta(days=30), "Too late")


def test_a_liaison_officer_moves_a_late_item_back_to_due_with_a_new_date(approved):
    bid, _, officer = approved
    item = of_kind(bid, "interim_report")[0]
    late_day = item.due_on + timedelta(days=20)
    schedule.run_schedule(late_day)
    assert of_kind(bid, "interim_report")[0].status == "late"
    with as_of(late_day):
        schedule.reschedule(officer, item, (late_day + timedelta(days=30)).isoformat(), "Ofsted visit")
    item = of_kind(bid, "interim_report")[0]
    assert (item.status, item.due_on) == ("due", late_day + timedelta(days=30))
    assert item.escalated_on is None
    [event] = events("reschedule")
    assert event.payload["from_due_on"] == "2026-12-12"
    assert event.payload["due_on"] == (late_day + timedelta(days=30)).isoformat()
    assert event.payload["reason"] == "Ofsted visit"
    assert (event.from_status, event.to_status) == ("late", "due")


def test_a_due_item_can_be_moved_and_stays_due(approved):
    bid, _, officer = approved
    item = of_kind(bid, "final_report")[0]
    schedule.reschedule(officer, item, date(2027, 9, 1), "Results come out later")
    item = of_kind(bid, "final_report")[0]
    assert (item.status, item.due_on) == ("due", date(2027, 9, 1))


@pytest.mark.parametrize(
    ("due_on", "reason", "field"),
    [
        (None, "Later", "due_on"),
        ("", "Later", "due_on"),
        ("31/02/2027", "Later", "due_on"),
        ("2026-08-31", "Later", "due_on"),  # yesterday
        ("2027-01-31", "", "comment"),
    ],
)
def test_rescheduling_needs_a_real_date_not_in_the_past_and_a_reason(approved, due_on, reason, field):
    bid, _, officer = approved
    item = of_kind(bid, "interim_report")[0]
    with pytest.raises(ValidationFailed) as refused:
        schedule.reschedule(officer, item, due_on, reason)
    assert field in refused.value.fields
    assert of_kind(bid, "interim_report")[0].due_on == date(2026, 12, 12)
    assert events("reschedule") == []


def test_only_an_unlinked_liaison_officer_may_reschedule(approved, make):
    bid, lead, _ = approved
    item = of_kind(bid, "interim_report")[0]
    seconded = make.liaison(school=bid.lead_school)
    for user in (lead, seconded, make.user("finance")):
        with pytest.raises(NotPermitted):
            schedule.reschedule(user, item, date(2027, 1, 31), "Later")
    assert of_kind(bid, "interim_report")[0].due_on == date(2026, 12, 12)


# ---------------------------------------------------------------------- closing the award


def test_a_waived_final_report_lets_the_award_close_once_other_reports_are_evaluated(approved):
    bid, lead, officer = approved
    act = lifecycle_act(officer)
    report = interim(bid, lead)
    lifecycle_act(lead)(bid, "finish_delivery")
    with pytest.raises(ValidationFailed):
        act(bid, "close")  # no final report
    schedule.waive(officer, of_kind(bid, "final_report")[0], "The measures were dropped.")
    with pytest.raises(ValidationFailed):
        act(bid, "close")  # the interim report is not evaluated yet
    impact.evaluate_report(
        officer, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
    )
    act(bid, "close")
    assert db.session.get(Application, bid.id).status == "closed"


def test_an_interim_item_waived_does_not_let_the_award_close(approved):
    bid, lead, officer = approved
    lifecycle_act(lead)(bid, "finish_delivery")
    for item in of_kind(bid, "interim_report"):
        schedule.waive(officer, item, "Not needed")
    with pytest.raises(ValidationFailed):
        lifecycle_act(officer)(bid, "close")


def test_the_audit_chain_verifies_after_every_schedule_move(approved, make):
    bid, lead, officer = approved
    first_interim = of_kind(bid, "interim_report")[0]
    schedule.run_schedule(first_interim.due_on + timedelta(days=15))  # late, reminded, escalated
    with as_of(first_interim.due_on + timedelta(days=15)):
        schedule.reschedule(officer, first_interim, date(2027, 1, 15), "Snow")
    report = interim(bid, lead)
    schedule.waive(officer, of_kind(bid, "interim_report")[1], "Merged into the final report")
    lifecycle_act(lead)(bid, "finish_delivery")
    final = interim(bid, lead, kind="final")
    for sent in (report, final):
        impact.evaluate_report(
            officer, sent, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
        )
    lifecycle_act(officer)(bid, "close")

    other = bid_under_review(make, make_fund(make), liaison=officer)
    lifecycle_act(officer)(other, "approve")
    lifecycle_act(officer)(other, "cancel", comment="Merged with another bid")

    assert {i.status for i in items_of(bid)} == {"submitted", "waived"}
    assert {i.status for i in items_of(other)} == {"waived"}
    report = audit.verify_chain()
    assert report.ok, report.problem


def test_editing_an_items_status_by_hand_breaks_the_chain(approved):
    bid, _, _ = approved
    item = of_kind(bid, "final_report")[0]
    item.status = "waived"
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok
    assert f"schedule_item {item.id}" in report.problem
