"""Rules an auditor tests on a bid's measures, its impact reports and its activities: each
refused with a message on its field, on the site and through the API, and nothing written.

* measure due dates fall after today and by the end of the fund's delivery period, or the
  measure states why it is followed up later (approving the bid accepts that date);
* one final impact report per bid, and ``close`` needs every report sent evaluated;
* a daily rate over the fund's cap is refused on the activities step itself;
* a form shows all its errors at once, each linked to its field.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, Event, ImpactReport, Measure
from fundflow.services import applications, impact, lifecycle
from fundflow.services.applications import BidDetails, MeasureInput
from fundflow.services.clock import today
from fundflow.services.errors import ValidationFailed

API = "/api/v1"


def _measure(due_on: date | str, reason: str = "") -> MeasureInput:
    return MeasureInput(
        indicator="Phonics pass rate",
        unit="%",
        baseline="60",
        target="75",
        due_on=due_on if isinstance(due_on, str) else due_on.isoformat(),
        follow_up_reason=reason,
    )


def _planned(row: int) -> dict[str, list[str]]:
    """The planned start and end dates of activity row ``row``, as typed in the date boxes."""
    start, end = today() + timedelta(days=30), today() + timedelta(days=60)
    return {
        f"activities-{row}-starts_on": [str(start.day), str(start.month), str(start.year)],
        f"activities-{row}-ends_on": [str(end.day), str(end.month), str(end.year)],
    }


def _reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _events(application: Application) -> int:
    return db.session.execute(
        select(func.count(Event.id)).where(Event.application_id == application.id)
    ).scalar_one()


def _report(bid: Application, kind: str) -> impact.ReportInput:
    return impact.ReportInput(
        kind=kind,
        narrative="Coaching changed how phonics is taught.",
        results=[impact.ResultInput(measure_id=m.id, actual="70") for m in bid.measures],
    )


def _bearer(user) -> dict[str, str]:
    from fundflow.services import auth

    return {"Authorization": f"Bearer {auth.issue_token(user, 'test')}"}


def _summary_links(page: str) -> list[str]:
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


# --------------------------------------------------------------------- measure due dates


@pytest.mark.parametrize("due_on", ["2020-11-30", "today"])
def test_a_measure_due_in_the_past_or_today_is_refused_on_its_due_date(make, due_on):
    bid = make.application("draft")
    due = today().isoformat() if due_on == "today" else due_on
    with pytest.raises(ValidationFailed) as refused:
        applications.update_draft(make.lead_of(bid), bid, BidDetails(measures=[_measure(due)]))
    assert refused.value.fields == {"measures.0.due_on": ["The target must fall due after today"]}
    assert [m.due_on for m in _reload(bid).measures] == [today() + timedelta(days=90)]


def test_a_measure_due_after_the_delivery_period_needs_a_reason_for_the_later_follow_up(make):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    late = fund.delivery_ends_on + timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        applications.update_draft(make.lead_of(bid), bid, BidDetails(measures=[_measure(late)]))
    (message,) = refused.value.fields["measures.0.due_on"]
    assert f"{fund.delivery_ends_on:%-d %B %Y}" in message
    assert "reason for a later follow-up" in message


def test_a_measure_due_on_the_last_day_of_the_delivery_period_is_kept(make):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    applications.update_draft(make.lead_of(bid), bid, BidDetails(measures=[_measure(fund.delivery_ends_on)]))
    assert [m.due_on for m in _reload(bid).measures] == [fund.delivery_ends_on]


def test_a_later_follow_up_with_its_reason_is_kept_and_shown_to_the_liaison_officer(make, client, auth):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    lead = make.lead_of(bid)
    late = fund.delivery_ends_on + timedelta(days=60)
    reason = "Key Stage 2 results are published in July"
    applications.update_draft(lead, bid, BidDetails(measures=[_measure(late, reason)]))
    make.act(bid, lead, "submit")
    assert _reload(bid).status == "submitted"
    assert [(m.due_on, m.follow_up_reason) for m in bid.measures] == [(late, reason)]
    officer = make.liaison()
    make.act(bid, officer, "start_review")
    auth.login(officer)
    page = client.get(f"/liaison/bids/{bid.reference}").get_data(as_text=True)
    assert reason in page
    approve = client.get(f"/liaison/bids/{bid.reference}/decide/approve").get_data(as_text=True)
    assert "Approving the award accepts these later dates" in approve
    assert reason in approve


def test_submitting_is_refused_when_a_saved_measure_has_fallen_due(make):
    bid = make.application("draft")
    db.session.execute(
        Measure.__table__.update()
        .where(Measure.application_id == bid.id)
        .values(due_on=today() - timedelta(days=1))
    )
    db.session.commit()
    events = _events(bid)
    with pytest.raises(ValidationFailed) as refused:
        make.act(_reload(bid), make.lead_of(bid), "submit")
    assert list(refused.value.fields) == ["measures"]
    assert "after today" in refused.value.fields["measures"][0]
    assert _reload(bid).status == "draft"
    assert _events(bid) == events


def test_measures_page_refuses_a_due_date_in_2020_on_the_due_date_field(make, client, auth):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/measures",
        data={
            "measures-0-indicator": "Attendance",
            "measures-0-unit": "%",
            "measures-0-baseline": "90",
            "measures-0-target": "95",
            "measures-0-due_on": ["30", "11", "2020"],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The target must fall due after today" in page
    assert _summary_links(page) == ["measures-0-due_on"]
    assert [m.indicator for m in _reload(bid).measures] == ["Phonics pass rate"]


def test_measures_page_keeps_a_later_follow_up_with_its_reason(make, client, auth):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    late = fund.delivery_ends_on + timedelta(days=30)
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/measures",
        data={
            "measures-0-indicator": "Attendance",
            "measures-0-unit": "%",
            "measures-0-baseline": "90",
            "measures-0-target": "95",
            "measures-0-due_on": [str(late.day), str(late.month), str(late.year)],
            "measures-0-follow_up_reason": "Attendance is reported for the whole school year",
        },
    )
    assert response.status_code == 302
    (measure,) = _reload(bid).measures
    assert (measure.due_on, measure.follow_up_reason) == (
        late,
        "Attendance is reported for the whole school year",
    )


def test_api_refuses_a_measure_due_in_2020_with_422_on_its_field(make, client):
    bid = make.application("draft")
    body = {
        "measures": [
            {"indicator": "Attendance", "unit": "%", "baseline": 90, "target": 95, "due_on": "2020-11-30"}
        ]
    }
    response = client.patch(
        f"{API}/applications/{bid.reference}", json=body, headers=_bearer(make.lead_of(bid))
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == {"measures.0.due_on": ["The target must fall due after today"]}


def test_api_takes_and_shows_a_follow_up_reason(make, client):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    late = (fund.delivery_ends_on + timedelta(days=30)).isoformat()
    measure = {"indicator": "Attendance", "unit": "%", "baseline": 90, "target": 95, "due_on": late}
    headers = _bearer(make.lead_of(bid))
    refused = client.patch(
        f"{API}/applications/{bid.reference}", json={"measures": [measure]}, headers=headers
    )
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == ["measures.0.due_on"]
    measure["follow_up_reason"] = "Attendance is reported for the whole year"
    saved = client.patch(f"{API}/applications/{bid.reference}", json={"measures": [measure]}, headers=headers)
    assert saved.status_code == 200
    (shown,) = saved.get_json()["measures"]
    assert (shown["due_on"], shown["follow_up_reason"]) == (late, measure["follow_up_reason"])


# ---------------------------------------------------------------------- impact reports


def test_a_second_final_report_on_one_bid_is_refused_on_the_kind_field(make):
    bid = make.application("monitoring")
    lead = make.lead_of(bid)
    impact.submit_report(lead, bid, _report(bid, "final"))
    with pytest.raises(ValidationFailed) as refused:
        impact.submit_report(lead, bid, _report(bid, "final"))
    assert list(refused.value.fields) == ["kind"]
    assert "already has its final report" in refused.value.fields["kind"][0]
    impact.submit_report(lead, bid, _report(bid, "interim"))
    kinds = db.session.execute(
        select(ImpactReport.kind).where(ImpactReport.application_id == bid.id).order_by(ImpactReport.id)
    ).scalars()
    assert list(kinds) == ["final", "interim"]


def test_report_page_refuses_a_second_final_report_with_the_error_on_kind(make, client, auth):
    bid = make.application("monitoring")
    lead = make.lead_of(bid)
    impact.submit_report(lead, bid, _report(bid, "final"))
    auth.login(lead)
    response = client.post(
        f"/headteacher/bids/{bid.reference}/reports/new",
        data={"kind": "final", "narrative": "Again.", "results-0-actual": "72"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already has its final report" in page
    assert _summary_links(page) == ["kind"]
    assert db.session.query(ImpactReport).filter_by(application_id=bid.id).count() == 1


def test_api_refuses_a_second_final_report_with_422_on_kind(make, client):
    bid = make.application("monitoring")
    lead = make.lead_of(bid)
    impact.submit_report(lead, bid, _report(bid, "final"))
    body = {
        "kind": "final",
        "narrative": "Again.",
        "results": [{"measure_id": m.id, "actual": 72} for m in bid.measures],
    }
    response = client.post(
        f"{API}/applications/{bid.reference}/impact-reports", json=body, headers=_bearer(lead)
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["kind"]
    assert db.session.query(ImpactReport).filter_by(application_id=bid.id).count() == 1


def test_close_is_refused_while_any_report_waits_for_evaluation(make):
    bid = make.application("monitoring")
    lead, liaison = make.lead_of(bid), make.liaison()
    interim = impact.submit_report(lead, bid, _report(bid, "interim"))
    final = impact.submit_report(lead, bid, _report(bid, "final"))
    impact.evaluate_report(liaison, final, impact.EvaluationInput(rating="achieved", drivers=[]))
    assert "close" not in lifecycle.available_actions(_reload(bid), liaison)
    events = _events(bid)
    with pytest.raises(ValidationFailed) as refused:
        make.act(_reload(bid), liaison, "close")
    assert refused.value.fields == {"action": ["Evaluate every impact report first: 1 report is waiting"]}
    assert _reload(bid).status == "monitoring"
    assert _events(bid) == events

    impact.evaluate_report(liaison, interim, impact.EvaluationInput(rating="partly_achieved", drivers=[]))
    assert "close" in lifecycle.available_actions(_reload(bid), liaison)
    make.act(_reload(bid), liaison, "close")
    assert _reload(bid).status == "closed"


def test_close_still_needs_an_evaluated_final_report(make):
    bid = make.application("monitoring")
    liaison = make.liaison()
    report = impact.submit_report(make.lead_of(bid), bid, _report(bid, "interim"))
    impact.evaluate_report(liaison, report, impact.EvaluationInput(rating="achieved", drivers=[]))
    with pytest.raises(ValidationFailed) as refused:
        make.act(_reload(bid), liaison, "close")
    needed = "A final impact report must be submitted and evaluated (or waived) first"
    assert refused.value.fields == {"action": [needed]}


def test_api_close_with_an_unevaluated_report_is_422_and_the_action_is_not_offered(make, client):
    bid = make.application("monitoring")
    lead, liaison = make.lead_of(bid), make.liaison()
    final = impact.submit_report(lead, bid, _report(bid, "final"))
    impact.evaluate_report(liaison, final, impact.EvaluationInput(rating="achieved", drivers=[]))
    impact.submit_report(lead, bid, _report(bid, "interim"))
    headers = _bearer(liaison)
    shown = client.get(f"{API}/applications/{bid.reference}", headers=headers).get_json()
    assert "close" not in shown["allowed_actions"]
    response = client.post(
        f"{API}/applications/{bid.reference}/actions", json={"action": "close"}, headers=headers
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["action"]
    assert _reload(bid).status == "monitoring"


# ------------------------------------------------------------------ the activities step


def test_a_daily_rate_over_the_cap_is_refused_when_the_activities_are_saved(make):
    fund = make.fund(max_daily_rate_pence=400_00)
    bid = make.application("draft", fund=fund)
    activity = applications.ActivityInput(
        description="Coaching", staff_role="Deputy head", days="2", daily_rate_pence=400_01
    )
    with pytest.raises(ValidationFailed) as refused:
        applications.update_draft(make.lead_of(bid), bid, BidDetails(activities=[activity]))
    assert refused.value.fields == {"activities.0.daily_rate_pence": ["The fund pays at most £400.00 a day"]}
    assert [a.daily_rate_pence for a in _reload(bid).activities] == [300_00]


def test_activities_page_refuses_a_rate_over_the_cap_on_the_rate_field(make, client, auth):
    fund = make.fund(max_daily_rate_pence=400_00)
    bid = make.application("draft", fund=fund)
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/activities",
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy head",
            "activities-0-days": "2",
            "activities-0-daily_rate": "450",
            **_planned(0),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The fund pays at most £400.00 a day" in page
    assert _summary_links(page) == ["activities-0-daily_rate"]
    assert [a.daily_rate_pence for a in _reload(bid).activities] == [300_00]


def test_api_refuses_a_rate_over_the_cap_with_422_on_its_field(make, client):
    fund = make.fund(max_daily_rate_pence=400_00)
    bid = make.application("draft", fund=fund)
    body = {
        "activities": [
            {"description": "Coaching", "staff_role": "Deputy", "days": 2, "daily_rate_pence": 45_000}
        ]
    }
    response = client.patch(
        f"{API}/applications/{bid.reference}", json=body, headers=_bearer(make.lead_of(bid))
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "activities.0.daily_rate_pence": ["The fund pays at most £400.00 a day"]
    }


# ------------------------------------------------------------- every error, all at once


def test_activities_page_shows_every_error_at_once_each_linked_to_its_field(make, client, auth):
    fund = make.fund(max_daily_rate_pence=400_00)
    bid = make.application("draft", fund=fund)
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/activities",
        data={
            # row 0: an unreadable rate (the form's check) and no description (the service's)
            "activities-0-description": "",
            "activities-0-staff_role": "Deputy head",
            "activities-0-days": "2",
            "activities-0-daily_rate": "lots",
            # row 1: quarter days and a rate over the fund's cap (both the service's)
            "activities-1-description": "Observation",
            "activities-1-staff_role": "English lead",
            "activities-1-days": "1.25",
            "activities-1-daily_rate": "450",
            **_planned(0),
            **_planned(1),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sorted(_summary_links(page)) == [
        "activities-0-daily_rate",
        "activities-0-description",
        "activities-1-daily_rate",
        "activities-1-days",
    ]
    for field_id in _summary_links(page):
        assert f'id="{field_id}"' in page
    assert [a.daily_rate_pence for a in _reload(bid).activities] == [300_00]


def test_measures_page_shows_every_error_at_once_each_linked_to_its_field(make, client, auth):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/measures",
        data={
            "measures-0-indicator": "",
            "measures-0-unit": "%",
            "measures-0-baseline": "ninety",
            "measures-0-target": "95",
            "measures-0-due_on": ["31", "2", "2027"],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sorted(_summary_links(page)) == [
        "measures-0-baseline",
        "measures-0-due_on",
        "measures-0-indicator",
    ]
    for field_id in _summary_links(page):
        assert f'id="{field_id}"' in page


def test_need_page_shows_a_missing_title_and_an_over_long_need_together(make, client, auth):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/need",
        data={"title": "", "need": "x" * 10_001, "priority_areas": "Reading"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sorted(_summary_links(page)) == ["need", "title"]
    assert _reload(bid).title == "Phonics partnership"


def test_start_page_shows_a_missing_fund_and_an_over_long_title_together(make, client, auth):
    make.fund()
    auth.login(make.headteacher())
    response = client.post("/headteacher/bids/new", data={"title": "T" * 201})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose a fund" in page
    assert "Use 200 characters or fewer" in page
    assert db.session.query(Application).count() == 0


def test_report_page_shows_an_over_long_narrative_and_a_missing_kind_together(make, client, auth):
    bid = make.application("monitoring")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/reports/new",
        data={"narrative": "n" * 20_001, "results-0-actual": "70"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sorted(_summary_links(page)) == ["kind", "narrative"]
    assert db.session.query(ImpactReport).count() == 0


def test_partners_page_links_every_error_to_a_field_on_the_page(make, client, auth):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/partners",
        data={
            "partners-0-identifier": "12",
            "partners-0-role": "",
            "partners-1-identifier": "999999",
            "partners-1-role": "supported",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    links = _summary_links(page)
    assert sorted(links) == ["partners-0-identifier", "partners-0-role", "partners-1-identifier"]
    for field_id in links:
        assert f'id="{field_id}"' in page


def test_report_page_links_its_errors_to_fields_on_the_page(make, client, auth):
    bid = make.application("monitoring")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/reports/new",
        data={"kind": "", "narrative": "", "results-0-actual": "lots"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    links = _summary_links(page)
    assert sorted(links) == ["kind", "narrative", "results-0-actual"]
    for field_id in links:
        assert f'id="{field_id}"' in page
