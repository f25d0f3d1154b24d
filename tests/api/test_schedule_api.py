"""The monitoring schedule through the API: funds' schedule settings, the application's
``schedule``, interim report dates given when approving, and a liaison officer waiving an
item or changing its due date (``POST /schedule-items/<id>/actions``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.extensions import db
from fundflow.models import Event, ScheduleItem
from fundflow.services import schedule
from fundflow.services.clock import today
from fundflow.services.queries.schedule import schedule_for

from .conftest import error_of
from .test_funds_schools import fund_body

ITEM_FIELDS = {"id", "kind", "due_on", "status", "completed_on", "waived_reason"}


def final_item(app) -> ScheduleItem:
    return next(i for i in schedule_for(app.id) if i.kind == "final_report")


def act(api, user, item, **body):
    return api.post(f"/schedule-items/{item.id}/actions", user, json=body)


# ---------------------------------------------------------------------------------- funds


def test_a_fund_is_created_with_its_schedule_settings(api, make):
    body = fund_body(report_cadence="set_by_officer", final_report_weeks=10, claim_deadline_weeks=0)
    response = api.post("/funds", make.user("admin"), json=body)
    assert response.status_code == 201
    fund = response.get_json()
    assert fund["report_cadence"] == "set_by_officer"
    assert fund["final_report_weeks"] == 10 and fund["claim_deadline_weeks"] == 0


def test_schedule_settings_left_out_take_their_defaults(api, make):
    fund = api.post("/funds", make.user("admin"), json=fund_body()).get_json()
    assert (fund["report_cadence"], fund["final_report_weeks"], fund["claim_deadline_weeks"]) == (
        "termly",
        6,
        4,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"report_cadence": "monthly"}, "report_cadence"),
        ({"final_report_weeks": 53}, "final_report_weeks"),
        ({"final_report_weeks": -1}, "final_report_weeks"),
        ({"claim_deadline_weeks": 27}, "claim_deadline_weeks"),
        ({"claim_deadline_weeks": 2.5}, "claim_deadline_weeks"),
    ],
)
def test_schedule_settings_out_of_range_are_refused(api, make, changes, field):
    response = api.post("/funds", make.user("admin"), json=fund_body(**changes))
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


# --------------------------------------------------------------------------- applications


def test_an_approved_application_shows_its_schedule(api, make):
    app = make.application("approved")
    body = api.get(f"/applications/{app.reference}", make.liaison()).get_json()
    assert body["schedule"], "an approved award has a schedule"
    assert all(set(item) == ITEM_FIELDS for item in body["schedule"])
    kinds = [item["kind"] for item in body["schedule"]]
    assert "final_report" in kinds and "claim_deadline" in kinds
    dates = [item["due_on"] for item in body["schedule"]]
    assert dates == sorted(dates)
    assert {item["status"] for item in body["schedule"]} == {"due"}


def test_a_bid_not_yet_approved_has_an_empty_schedule(api, make):
    app = make.application("submitted")
    assert api.get(f"/applications/{app.reference}", make.liaison()).get_json()["schedule"] == []


def test_approving_with_report_dates_schedules_those_interim_reports(api, make):
    app = make.application("under_review", fund=make.fund(report_cadence="set_by_officer"))
    dates = [(today() + timedelta(days=n)).isoformat() for n in (60, 30)]
    response = api.post(
        f"/applications/{app.reference}/actions",
        make.liaison(),
        json={"action": "approve", "report_dates": dates},
    )
    assert response.status_code == 200, response.get_json()
    interims = [i["due_on"] for i in response.get_json()["schedule"] if i["kind"] == "interim_report"]
    assert interims == sorted(dates)


@pytest.mark.parametrize("dates", [["2020-01-01"], ["2030-1-5"], "2030-01-05"])
def test_report_dates_must_be_future_iso_dates_in_a_list(api, make, dates):
    app = make.application("under_review", fund=make.fund(report_cadence="set_by_officer"))
    response = api.post(
        f"/applications/{app.reference}/actions",
        make.liaison(),
        json={"action": "approve", "report_dates": dates},
    )
    assert response.status_code == 422
    assert any(name.startswith("report_dates") for name in error_of(response)["fields"])


def test_application_list_runs_the_same_queries_with_schedules_for_2_or_10_bids(api, make, count_queries):
    officer = make.liaison()
    fund = make.fund()

    def measure() -> int:
        db.session.commit()
        with count_queries() as statements:
            assert api.get("/applications?per_page=50", officer).status_code == 200
        return len(statements)

    for _ in range(2):
        make.application("approved", fund=fund)
    api.get("/applications", officer)  # warm
    few = measure()
    for _ in range(8):
        make.application("approved", fund=fund)
    assert measure() == few


# ----------------------------------------------------------------------------- items


def test_liaison_officer_waives_an_item_with_a_reason(api, make):
    app = make.application("approved")
    item = final_item(app)
    response = act(api, make.liaison(), item, action="waive", comment="School merged")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ITEM_FIELDS
    assert body["id"] == item.id and body["status"] == "waived"
    assert body["waived_reason"] == "School merged" and body["completed_on"] == today().isoformat()
    event = db.session.query(Event).filter_by(subject_type="schedule_item", subject_id=item.id).one()
    assert event.action == "waive" and event.payload["reason"] == "School merged"


def test_waiving_without_a_reason_is_422_on_comment(api, make):
    item = final_item(make.application("approved"))
    response = act(api, make.liaison(), item, action="waive")
    assert response.status_code == 422
    assert "comment" in error_of(response)["fields"]


def test_liaison_officer_changes_a_due_date(api, make):
    app = make.application("approved")
    item = final_item(app)
    schedule.run_schedule(item.due_on + timedelta(days=2))
    new_date = (today() + timedelta(days=400)).isoformat()
    response = act(api, make.liaison(), item, action="reschedule", comment="Long illness", due_on=new_date)
    assert response.status_code == 200
    assert response.get_json()["status"] == "due" and response.get_json()["due_on"] == new_date


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"comment": "Later"}, "due_on"),
        ({"comment": "Earlier", "due_on": "2020-01-01"}, "due_on"),
        ({"due_on": "2099-01-01"}, "comment"),
    ],
)
def test_changing_a_due_date_needs_a_date_from_today_and_a_reason(api, make, body, field):
    item = final_item(make.application("approved"))
    response = act(api, make.liaison(), item, action="reschedule", **body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_conflicted_officer_gets_403(api, make):
    school = make.school()
    app = make.application("approved", partner=school)
    response = act(api, make.liaison(school=school), final_item(app), action="waive", comment="Mine")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_the_lead_headteacher_may_not_waive_their_own_report(api, make):
    app = make.application("approved")
    response = act(api, make.lead_of(app), final_item(app), action="waive", comment="Too busy")
    assert response.status_code == 403


def test_someone_who_cannot_see_the_bid_gets_404(api, make):
    app = make.application("approved")
    response = act(api, make.headteacher(), final_item(app), action="waive", comment="x")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_item_already_waived_is_409(api, make):
    item = final_item(make.application("approved"))
    officer = make.liaison()
    assert act(api, officer, item, action="waive", comment="Once").status_code == 200
    response = act(api, officer, item, action="reschedule", comment="Again", due_on="2099-01-01")
    assert response.status_code == 409


@pytest.mark.parametrize("action", ["mark_submitted", "mark_late", "delete"])
def test_only_waive_and_reschedule_are_offered(api, make, action):
    item = final_item(make.application("approved"))
    response = act(api, make.liaison(), item, action=action, comment="x")
    assert response.status_code == 422
    assert "action" in error_of(response)["fields"]


def test_a_waived_final_report_lets_the_bid_close(api, make):
    app = make.application("monitoring")
    officer = make.liaison()
    close = {"action": "close"}
    assert api.post(f"/applications/{app.reference}/actions", officer, json=close).status_code == 422
    act(api, officer, final_item(app), action="waive", comment="No report possible")
    response = api.post(f"/applications/{app.reference}/actions", officer, json=close)
    assert response.status_code == 200 and response.get_json()["status"] == "closed"
