"""Activities' planned start and end dates (issue 12): asked for on the bid's activities page
(both required there, GOV.UK date boxes), checked by the service (real dates, the start on
or before the end, within the fund's opening and delivery period), optional in the JSON API,
kept in each version's snapshot, shown as "When", and followed by the claim deadline on the
award's monitoring schedule."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from fundflow.extensions import db
from fundflow.models import Activity, Application, ScheduleItem
from fundflow.services import applications
from fundflow.services import auth as auth_service
from fundflow.services.applications import ActivityInput, BidDetails, snapshot, version_changes
from fundflow.services.clock import today
from fundflow.services.errors import ValidationFailed


def _reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _boxes(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _row(starts_on: date | None = None, ends_on: date | None = None, *, row: int = 0) -> dict:
    data = {
        f"activities-{row}-description": "Coaching",
        f"activities-{row}-staff_role": "Deputy head",
        f"activities-{row}-days": "2",
        f"activities-{row}-daily_rate": "250",
    }
    if starts_on is not None:
        data[f"activities-{row}-starts_on"] = _boxes(starts_on)
    if ends_on is not None:
        data[f"activities-{row}-ends_on"] = _boxes(ends_on)
    return data


def _summary_links(page: str) -> list[str]:
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error on {field}"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()))


def _activity(starts_on=None, ends_on=None) -> ActivityInput:
    return ActivityInput(
        description="Coaching",
        staff_role="Deputy head",
        days="2",
        daily_rate_pence=250_00,
        starts_on=starts_on,
        ends_on=ends_on,
    )


@pytest.fixture
def bid(make) -> Application:
    return make.application("draft")


# ------------------------------------------------------------------------- the web form


def test_activities_page_asks_when_each_activity_starts_and_ends_in_date_boxes(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    page = client.get(f"/headteacher/bids/{bid.reference}/activities").get_data(as_text=True)
    for field in ("starts_on", "ends_on"):
        assert f'id="activities-0-{field}" name="activities-0-{field}"' in page
        assert f'id="activities-0-{field}-month"' in page
        assert f'id="activities-0-{field}-year"' in page
    assert "When the activity starts" in page and "When the activity ends" in page
    assert f"ends by {bid.fund.delivery_ends_on.day} " in page  # the limits are said up front


def test_the_form_needs_both_dates_of_every_activity_with_govuk_error_messages(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    response = client.post(f"/headteacher/bids/{bid.reference}/activities", data=_row())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _summary_links(page) == ["activities-0-starts_on", "activities-0-ends_on"]
    assert _field_error(page, "activities-0-starts_on") == "Error: Enter the date the activity starts"
    assert _field_error(page, "activities-0-ends_on") == "Error: Enter the date the activity ends"
    assert [a.starts_on for a in _reload(bid).activities] == [None]  # nothing saved


def test_the_form_refuses_a_date_that_does_not_exist(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    data = _row(ends_on=today() + timedelta(days=40))
    data["activities-0-starts_on"] = ["31", "2", str(today().year + 1)]
    response = client.post(f"/headteacher/bids/{bid.reference}/activities", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "activities-0-starts_on") == "Error: Enter a real start date, like 7 9 2026"
    assert _summary_links(page) == ["activities-0-starts_on"]


def test_the_form_refuses_an_activity_that_ends_before_it_starts_on_the_end_date(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    start = today() + timedelta(days=40)
    response = client.post(
        f"/headteacher/bids/{bid.reference}/activities", data=_row(start, start - timedelta(days=1))
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _summary_links(page) == ["activities-0-ends_on"]
    assert (
        _field_error(page, "activities-0-ends_on")
        == "Error: The activity must end on or after the day it starts"
    )


def test_dates_are_saved_shown_again_in_the_boxes_and_as_when_on_the_bid(client, auth, make, bid):
    lead = make.lead_of(bid)
    auth.login(lead)
    start, end = date(today().year + 1, 1, 5), date(today().year + 1, 3, 20)
    url = f"/headteacher/bids/{bid.reference}/activities"
    assert client.post(url, data=_row(start, end)).status_code == 302
    assert [(a.starts_on, a.ends_on) for a in _reload(bid).activities] == [(start, end)]

    page = client.get(url).get_data(as_text=True)
    assert 'id="activities-0-starts_on" name="activities-0-starts_on" type="text" value="5"' in page
    assert 'id="activities-0-ends_on-month" name="activities-0-ends_on" type="text" value="3"' in page
    when = f"5 January {start.year} to 20 March {end.year}"
    assert when in page  # the costs table's "When"
    assert when in client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert when in client.get(f"/headteacher/bids/{bid.reference}/check").get_data(as_text=True)


def test_council_staff_see_when_each_activity_happens_or_not_given(client, auth, make):
    officer = make.liaison()
    bid = make.application("submitted", liaison=officer)
    auth.login(officer)
    page = client.get(f"/liaison/bids/{bid.reference}").get_data(as_text=True)
    assert '<th scope="col" class="govuk-table__header">When</th>' in page
    assert "Not given" in page  # a bid whose activities were planned before dates were asked for


# ---------------------------------------------------------------------------- the service


def test_the_service_keeps_dates_given_as_text_or_dates(make, bid):
    start = today() + timedelta(days=10)
    applications.update_draft(
        make.lead_of(bid),
        bid,
        BidDetails(activities=[_activity(start.isoformat(), start + timedelta(days=5))]),
    )
    assert [(a.starts_on, a.ends_on) for a in _reload(bid).activities] == [(start, start + timedelta(days=5))]


@pytest.mark.parametrize(
    ("starts", "ends", "field", "message"),
    [
        ("2026-02-30", None, "starts_on", "Enter the start date as YYYY-MM-DD"),
        (None, "soon", "ends_on", "Enter the end date as YYYY-MM-DD"),
        ("+40", None, "ends_on", "Enter the date the activity ends as well as the date it starts"),
        (None, "+40", "starts_on", "Enter the date the activity starts as well as the date it ends"),
        ("+40", "+39", "ends_on", "The activity must end on or after the day it starts"),
        ("-31", "+10", "starts_on", "The activity cannot start before the fund opens"),
        ("+10", "end+1", "ends_on", "The activity must end by the end of the fund's delivery period"),
    ],
)
def test_the_service_refuses_dates_that_do_not_fit(make, bid, starts, ends, field, message):
    def resolve(value):
        if isinstance(value, str) and value.startswith(("+", "-")):
            return today() + timedelta(days=int(value))
        if value == "end+1":
            return bid.fund.delivery_ends_on + timedelta(days=1)
        return value

    with pytest.raises(ValidationFailed) as refused:
        applications.update_draft(
            make.lead_of(bid), bid, BidDetails(activities=[_activity(resolve(starts), resolve(ends))])
        )
    assert list(refused.value.fields) == [f"activities.0.{field}"]
    assert refused.value.fields[f"activities.0.{field}"][0].startswith(message)
    assert [a.starts_on for a in _reload(bid).activities] == [None]


def test_an_activity_may_run_from_the_day_the_fund_opens_to_the_last_day_of_delivery(make, bid):
    fund = bid.fund
    applications.update_draft(
        make.lead_of(bid), bid, BidDetails(activities=[_activity(fund.opens_on, fund.delivery_ends_on)])
    )
    assert [(a.starts_on, a.ends_on) for a in _reload(bid).activities] == [
        (fund.opens_on, fund.delivery_ends_on)
    ]


# --------------------------------------------------------------------- versions (snapshot)


def test_the_snapshot_keeps_the_dates_and_a_change_of_dates_shows_between_versions(make, bid):
    start = today() + timedelta(days=10)
    applications.update_draft(make.lead_of(bid), bid, BidDetails(activities=[_activity(start, start)]))
    before = snapshot(_reload(bid))
    assert before["activities"][0]["starts_on"] == start.isoformat()
    later = start + timedelta(days=7)
    applications.update_draft(make.lead_of(bid), bid, BidDetails(activities=[_activity(start, later)]))
    changes = version_changes(before, snapshot(_reload(bid)))
    assert [part for part, _, _ in changes] == ["activities"]


def test_a_version_kept_before_dates_were_asked_for_compares_unchanged(make, bid):
    """Snapshots of activities without dates carry no date keys, so a version kept before
    issue 12 and the same bid now compare equal."""
    old = snapshot(bid)
    assert "starts_on" not in old["activities"][0] and "ends_on" not in old["activities"][0]
    assert version_changes(old, snapshot(_reload(bid))) == []


def test_the_versions_page_shows_changed_dates(client, auth, make):
    bid = make.application("changes_requested")
    auth.login(make.lead_of(bid))
    start = today() + timedelta(days=30)
    client.post(f"/headteacher/bids/{bid.reference}/activities", data=_row(start, start))
    page = client.get(f"/headteacher/bids/{bid.reference}/versions").get_data(as_text=True)
    assert "Changes not sent yet" in page
    assert f"from {start.isoformat()} to {start.isoformat()}" in page


# ------------------------------------------------------------------------------- the API


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_service.issue_token(user, 'test')}"}


def _api_activity(**extra) -> dict:
    return {
        "description": "Coaching",
        "staff_role": "Deputy head",
        "days": 2,
        "daily_rate_pence": 250_00,
        **extra,
    }


def test_the_api_still_takes_activities_without_dates_and_answers_null(client, make, bid):
    response = client.patch(
        f"/api/v1/applications/{bid.reference}",
        headers=_bearer(make.lead_of(bid)),
        json={"activities": [_api_activity()]},
    )
    assert response.status_code == 200, response.get_json()
    activity = response.get_json()["activities"][0]
    assert activity["starts_on"] is None and activity["ends_on"] is None


def test_the_api_stores_and_answers_dates_given(client, make, bid):
    start, end = today() + timedelta(days=20), today() + timedelta(days=50)
    response = client.patch(
        f"/api/v1/applications/{bid.reference}",
        headers=_bearer(make.lead_of(bid)),
        json={"activities": [_api_activity(starts_on=start.isoformat(), ends_on=end.isoformat())]},
    )
    assert response.status_code == 200, response.get_json()
    activity = response.get_json()["activities"][0]
    assert (activity["starts_on"], activity["ends_on"]) == (start.isoformat(), end.isoformat())
    assert [
        (a.starts_on, a.ends_on) for a in db.session.query(Activity).filter_by(application_id=bid.id)
    ] == [(start, end)]


def test_the_api_refuses_an_end_before_the_start_with_422_on_the_end_date(client, make, bid):
    start = today() + timedelta(days=20)
    response = client.patch(
        f"/api/v1/applications/{bid.reference}",
        headers=_bearer(make.lead_of(bid)),
        json={
            "activities": [
                _api_activity(starts_on=start.isoformat(), ends_on=(start - timedelta(days=1)).isoformat())
            ]
        },
    )
    assert response.status_code == 422
    assert "activities.0.ends_on" in response.get_data(as_text=True)


def test_the_api_refuses_a_date_not_written_yyyy_mm_dd(client, make, bid):
    response = client.patch(
        f"/api/v1/applications/{bid.reference}",
        headers=_bearer(make.lead_of(bid)),
        json={"activities": [_api_activity(starts_on="5/1/2027", ends_on="2027-01-06")]},
    )
    assert response.status_code == 422


# ------------------------------------------------------------------- the monitoring schedule


def test_the_last_day_to_claim_follows_the_activitys_planned_end(make):
    fund = make.fund()
    bid = make.application("draft", fund=fund)
    end = today() + timedelta(days=60)
    applications.update_draft(make.lead_of(bid), bid, BidDetails(activities=[_activity(today(), end)]))
    liaison = make.liaison()
    for action in ("submit", "start_review", "approve"):
        make.act(bid, make.lead_of(bid) if action == "submit" else liaison, action)
    deadlines = [
        i.due_on
        for i in db.session.query(ScheduleItem).filter_by(application_id=bid.id, kind="claim_deadline")
    ]
    assert deadlines == [end + timedelta(weeks=fund.claim_deadline_weeks)]
