"""The liaison officer and the monitoring schedule: the schedule on the bid page, waiving an
item or changing its due date (with a reason, audited, never by a conflicted officer), the
interim report dates set when approving, and the queue's "due soon" and "overdue" sections."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Event, ScheduleItem
from fundflow.services import schedule
from fundflow.services.clock import today
from fundflow.services.queries.schedule import schedule_for

CONFLICT = "your school takes part in this bid"


def fresh(item: ScheduleItem) -> ScheduleItem:
    db.session.expire_all()
    return db.session.get(ScheduleItem, item.id)


def item_of(app: Application, kind: str) -> ScheduleItem:
    return next(i for i in schedule_for(app.id) if i.kind == kind)


def own_school_award(make, state: str = "approved"):
    """An award in ``state`` in which the returned officer's own school is a partner."""
    school = make.school()
    app = make.application(state, partner=school)
    return app, make.liaison(school=school)


def officer_fund(make):
    """A fund whose interim report dates the approving officer sets."""
    return make.fund(report_cadence="set_by_officer")


def date_boxes(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


# ----------------------------------------------------------------------------- bid page


def test_bid_page_shows_the_schedule_with_waive_and_change_links(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    auth.login(make.liaison())
    page = client.get(f"/liaison/bids/{app.reference}").text
    assert "Monitoring schedule" in page and "Final impact report" in page
    assert f"/liaison/schedule/{final.id}/waive" in page
    assert f"/liaison/schedule/{final.id}/reschedule" in page
    assert 'Change due date<span class="govuk-visually-hidden">: final impact report due' in page


def test_conflicted_officer_sees_the_schedule_without_links(client, auth, make):
    app, officer = own_school_award(make)
    auth.login(officer)
    page = client.get(f"/liaison/bids/{app.reference}").text
    assert "Final impact report" in page
    assert "/liaison/schedule/" not in page


def test_settled_items_offer_no_links(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    schedule.waive(make.liaison(), final, "Not needed")
    auth.login(make.liaison())
    page = client.get(f"/liaison/bids/{app.reference}").text
    assert f"/liaison/schedule/{final.id}/" not in page
    assert "Not needed" in page


# -------------------------------------------------------------------------------- waive


def test_liaison_officer_waives_an_item_giving_a_reason_and_it_is_audited(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    auth.login(make.liaison())
    assert client.get(f"/liaison/schedule/{final.id}/waive").status_code == 200
    response = client.post(f"/liaison/schedule/{final.id}/waive", data={"comment": "School closed for works"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/liaison/bids/{app.reference}")
    item = fresh(final)
    assert item.status == "waived" and item.waived_reason == "School closed for works"
    assert item.completed_on == today()
    event = db.session.execute(
        select(Event).where(Event.subject_type == "schedule_item", Event.subject_id == final.id)
    ).scalar_one()
    assert event.action == "waive" and event.to_status == "waived"
    assert event.payload["reason"] == "School closed for works"


def test_waiving_needs_a_reason(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    auth.login(make.liaison())
    response = client.post(f"/liaison/schedule/{final.id}/waive", data={"comment": "  "})
    assert response.status_code == 422
    assert "govuk-error-summary" in response.text and "Give the reason" in response.text
    assert fresh(final).status == "due"


def test_conflicted_officer_cannot_waive(client, auth, make):
    app, officer = own_school_award(make)
    final = item_of(app, "final_report")
    auth.login(officer)
    page = client.get(f"/liaison/schedule/{final.id}/waive")
    assert page.status_code == 200
    assert CONFLICT in page.text and 'method="post" novalidate' not in page.text
    response = client.post(f"/liaison/schedule/{final.id}/waive", data={"comment": "My own bid"})
    assert response.status_code == 403
    assert fresh(final).status == "due"


def test_an_item_already_waived_cannot_be_waived_again(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    schedule.waive(make.liaison(), final, "Not needed")
    auth.login(make.liaison())
    assert "already done or waived" in client.get(f"/liaison/schedule/{final.id}/waive").text
    response = client.post(f"/liaison/schedule/{final.id}/waive", data={"comment": "Again"})
    assert response.status_code == 409


def test_an_item_that_does_not_exist_is_not_found(client, auth, make):
    auth.login(make.liaison())
    assert client.get("/liaison/schedule/999999/waive").status_code == 404
    assert client.get("/liaison/schedule/999999/reschedule").status_code == 404


def test_only_liaison_officers_reach_the_item_pages(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    auth.login(make.lead_of(app))
    assert client.get(f"/liaison/schedule/{final.id}/waive").status_code == 403
    assert client.post(f"/liaison/schedule/{final.id}/reschedule", data={}).status_code == 403


def test_a_waived_final_report_lets_the_bid_close(client, auth, make):
    app = make.application("monitoring")
    final = item_of(app, "final_report")
    officer = make.liaison()
    auth.login(officer)
    client.post(f"/liaison/bids/{app.reference}/close")
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == "monitoring"  # no final report yet
    client.post(f"/liaison/schedule/{final.id}/waive", data={"comment": "Head left; no report possible"})
    response = client.post(f"/liaison/bids/{app.reference}/close")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == "closed"


# ---------------------------------------------------------------------------- reschedule


def test_changing_the_due_date_moves_a_late_item_back_to_due(client, auth, make):
    app = make.application("approved")
    final = item_of(app, "final_report")
    schedule.run_schedule(final.due_on + timedelta(days=1))
    assert fresh(final).status == "late"
    new_date = today() + timedelta(days=200)
    auth.login(make.liaison())
    response = client.post(
        f"/liaison/schedule/{final.id}/reschedule",
        data={"due_on": date_boxes(new_date), "comment": "Head on long-term leave"},
    )
    assert response.status_code == 302
    item = fresh(final)
    assert item.status == "due" and item.due_on == new_date
    event = db.session.execute(
        select(Event).where(Event.subject_id == final.id, Event.action == "reschedule")
    ).scalar_one()
    assert event.payload["reason"] == "Head on long-term leave"
    assert event.payload["due_on"] == new_date.isoformat()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"comment": "Later"}, "Enter the new due date"),
        ({"due_on": ["1", "1", "2020"], "comment": "Earlier"}, "today or in the future"),
        ({"due_on": ["31", "2", "2030"], "comment": "Later"}, "must be a real date"),
    ],
)
def test_a_new_due_date_must_be_a_real_date_from_today(client, auth, make, data, message):
    app = make.application("approved")
    final = item_of(app, "final_report")
    auth.login(make.liaison())
    response = client.post(f"/liaison/schedule/{final.id}/reschedule", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert fresh(final).due_on == final.due_on


def test_conflicted_officer_cannot_change_a_due_date(client, auth, make):
    app, officer = own_school_award(make)
    final = item_of(app, "final_report")
    auth.login(officer)
    response = client.post(
        f"/liaison/schedule/{final.id}/reschedule",
        data={"due_on": date_boxes(today() + timedelta(days=300)), "comment": "Mine"},
    )
    assert response.status_code == 403
    assert fresh(final).due_on == final.due_on


# ----------------------------------------------------------------------------- approving


def test_approve_page_says_what_the_schedule_will_be(client, auth, make):
    app = make.application("under_review", fund=make.fund(report_cadence="half_termly", final_report_weeks=8))
    auth.login(make.liaison())
    page = client.get(f"/liaison/bids/{app.reference}/decide/approve").text
    assert "Interim impact reports: each half term" in page
    assert "The final report is due 8 weeks after the last measure" in page
    assert "Final impact report: " in page and "Last day to claim backfill: " in page
    assert "Interim report dates" not in page  # the cadence sets them


def test_approving_with_officer_set_dates_makes_those_interim_items(client, auth, make):
    app = make.application("under_review", fund=officer_fund(make))
    first, second = today() + timedelta(days=40), today() + timedelta(days=70)
    auth.login(make.liaison())
    page = client.get(f"/liaison/bids/{app.reference}/decide/approve").text
    assert "Interim report dates" in page and "First interim report due on (optional)" in page
    response = client.post(
        f"/liaison/bids/{app.reference}/decide/approve",
        data={"awarded": "1200", "report_date_1": date_boxes(second), "report_date_2": date_boxes(first)},
    )
    assert response.status_code == 302
    interims = [i.due_on for i in schedule_for(app.id) if i.kind == "interim_report"]
    assert interims == [first, second]


def test_approving_with_a_past_report_date_is_refused_on_the_first_date(client, auth, make):
    app = make.application("under_review", fund=officer_fund(make))
    auth.login(make.liaison())
    response = client.post(
        f"/liaison/bids/{app.reference}/decide/approve",
        data={"awarded": "1200", "report_date_1": date_boxes(today() - timedelta(days=3))},
    )
    assert response.status_code == 422
    assert "Each report date must be after today" in response.text
    assert 'id="report_date_1-error"' in response.text
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == "under_review"


def test_approving_without_officer_dates_schedules_no_interim_reports(client, auth, make):
    app = make.application("under_review", fund=officer_fund(make))
    auth.login(make.liaison())
    client.post(f"/liaison/bids/{app.reference}/decide/approve", data={"awarded": "1200"})
    kinds = [i.kind for i in schedule_for(app.id)]
    assert "interim_report" not in kinds and "final_report" in kinds


# --------------------------------------------------------------------------------- queue


def queue(client, **params) -> str:
    response = client.get("/liaison/", query_string=params)
    assert response.status_code == 200, response.text[:500]
    return response.text


def award_with_final_due(make, fund, due_in_days: int, **kwargs) -> Application:
    """An approved award whose final report falls due ``due_in_days`` from today (its other
    items are moved well away, so each award puts one row in a section)."""
    app = make.application("approved", fund=fund, **kwargs)
    officer = make.liaison()
    for item in schedule_for(app.id):
        if item.kind == "final_report":
            item.due_on = today() + timedelta(days=due_in_days)
        else:
            schedule.waive(officer, item, "Not part of this test")
    db.session.commit()
    return app


def test_queue_lists_items_due_in_the_next_14_days_and_overdue_ones(client, auth, make):
    fund = make.fund(report_cadence="set_by_officer")
    soon = award_with_final_due(make, fund, 10)
    later = award_with_final_due(make, fund, 30)
    overdue = award_with_final_due(make, fund, -3)
    conflicted_school = make.school()
    mine = award_with_final_due(make, fund, 5, partner=conflicted_school)
    auth.login(make.liaison(school=conflicted_school))
    page = queue(client, section="due_soon")
    assert 'Due soon<span class="govuk-visually-hidden"> in the next 14 days</span> (1)' in page
    assert 'Overdue items<span class="govuk-visually-hidden"> on award schedules</span> (1)' in page
    assert soon.reference in page and "Final impact report" in page
    assert later.reference not in page and overdue.reference not in page
    assert mine.reference not in page  # conflicted: left out
    page = queue(client, section="overdue_items")
    assert overdue.reference in page and soon.reference not in page
    assert f'href="/liaison/bids/{overdue.reference}"' in page


def test_the_schedule_sections_keep_the_fund_filter(client, auth, make):
    fund, other = make.fund(), make.fund()
    mine = award_with_final_due(make, fund, 3)
    theirs = award_with_final_due(make, other, 3)
    auth.login(make.liaison())
    page = queue(client, section="due_soon", fund=str(fund.id))
    assert mine.reference in page and theirs.reference not in page


@pytest.mark.parametrize("section", ["due_soon", "overdue_items"])
def test_schedule_sections_run_the_same_queries_for_5_and_50_items(
    app, client, auth, make, count_queries, section
):
    fund = make.fund()
    due_in = 7 if section == "due_soon" else -7
    for _ in range(5):
        award_with_final_due(make, fund, due_in)
    auth.login(make.liaison())
    app.config["PER_PAGE"] = 100
    queue(client, section=section)  # warm: both measured pages start from the same state
    db.session.commit()
    with count_queries() as few:
        assert "(5)" in queue(client, section=section)
    for _ in range(45):
        award_with_final_due(make, fund, due_in)
    db.session.commit()
    with count_queries() as many:
        assert "(50)" in queue(client, section=section)
    assert len(many) == len(few), "\n".join(many)
