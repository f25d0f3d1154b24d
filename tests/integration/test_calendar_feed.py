"""The private calendar feed: a revocable link per person to an iCalendar feed of their due
dates and the decisions waiting for them, read back here with ``icalendar``. A person's feed
never holds another's items (nor a conflicted officer's), and it is bounded."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event, ScheduleItem, User
from fundflow.services import admin, calendar_feed, impact, inbox, schedule
from fundflow.services.clock import today
from fundflow.workflow import SCHEDULE_LIFECYCLE


def feed_address(response) -> str:
    match = re.search(r'id="calendar-link">(http[^<]+)</p>', response.get_data(as_text=True))
    assert match, "the page shows no calendar link"
    return html.unescape(match.group(1))


def path_of(address: str) -> str:
    return address.removeprefix("http://localhost")


def read_feed(client, token: str) -> Calendar:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def events(feed: Calendar) -> dict[str, dict]:
    """UID → the event's summary, start day, url and description."""
    return {
        str(e["UID"]): {
            "summary": str(e["SUMMARY"]),
            "day": e["DTSTART"].dt,
            "url": str(e["URL"]),
            "description": str(e["DESCRIPTION"]),
        }
        for e in feed.walk("VEVENT")
    }


def open_items(application) -> list[ScheduleItem]:
    return list(
        db.session.execute(
            select(ScheduleItem)
            .where(ScheduleItem.application_id == application.id)
            .order_by(ScheduleItem.id)
        ).scalars()
    )


def add_item(application, due_on: date, kind: str = "interim_report") -> ScheduleItem:
    """A schedule item due on ``due_on`` (the factory's award has a few; tests need exact dates)."""
    item = ScheduleItem(
        application_id=application.id, kind=kind, due_on=due_on, status=SCHEDULE_LIFECYCLE.initial
    )
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def approved(make):
    return make.application("approved")


# ------------------------------------------------------------------------- the link


def test_a_person_makes_a_calendar_link_shown_once_with_how_to_add_it_to_outlook(
    client, auth, make, approved
):
    lead = make.lead_of(approved)
    auth.login(lead)
    assert "You have no calendar link yet." in client.get("/account/calendar").get_data(as_text=True)
    response = client.post("/account/calendar", data={"make": "Make a calendar link"})
    assert response.status_code == 303
    page = client.get("/account/calendar")
    address = feed_address(page)
    assert re.fullmatch(r"http://localhost/calendar/[A-Za-z0-9_-]{43}\.ics", address)
    text = page.get_data(as_text=True)
    assert "Subscribe from web" in text and "From Internet" in text
    assert page.headers["Cache-Control"] == "no-store"
    token = path_of(address).removeprefix("/calendar/").removesuffix(".ics")
    db.session.expire_all()
    assert db.session.get(User, lead.id).calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
    again = client.get("/account/calendar").get_data(as_text=True)
    assert token not in again
    assert "Your calendar link is on." in again


def test_the_link_uses_the_configured_service_address(client, auth, app, make):
    app.config["SERVICE_URL"] = "https://fundflow.example.gov.uk/"
    auth.login(make.headteacher())
    client.post("/account/calendar", data={"make": "Make a calendar link"})
    assert feed_address(client.get("/account/calendar")).startswith(
        "https://fundflow.example.gov.uk/calendar/"
    )


def test_making_a_new_link_stops_the_old_one_and_turning_it_off_stops_both(client, auth, make, approved):
    lead = make.lead_of(approved)
    auth.login(lead)
    client.post("/account/calendar", data={"make": "x"})
    first = path_of(feed_address(client.get("/account/calendar")))
    client.post("/account/calendar", data={"make": "x"})
    second = path_of(feed_address(client.get("/account/calendar")))
    assert first != second
    anonymous = client.application.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    assert client.post("/account/calendar", data={"turn_off": "x"}).status_code == 303
    assert anonymous.get(second).status_code == 404
    assert "You have no calendar link yet." in client.get("/account/calendar").get_data(as_text=True)
    actions = db.session.execute(
        select(Event.action, Event.payload).where(Event.subject_type == "user", Event.subject_id == lead.id)
    ).all()
    calendar_events = [(a, p.get("replaced")) for a, p in actions if "calendar" in a]
    assert calendar_events == [
        ("make_calendar_link", False),
        ("make_calendar_link", True),
        ("turn_off_calendar_link", None),
    ]


def test_a_form_with_neither_button_changes_nothing(client, auth, make):
    auth.login(make.headteacher())
    response = client.post("/account/calendar", data={})
    assert response.status_code == 422
    assert "Choose to make a new link or to turn it off" in response.get_data(as_text=True)


def test_a_wrong_link_or_a_deactivated_persons_link_is_not_found(client, make):
    head = make.headteacher()
    token = inbox.make_calendar_link(head)
    assert client.get("/calendar/not-a-real-link.ics").status_code == 404
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    admin.update_user(None, head, roles=head.roles, school_urn=head.school.urn, active=False)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


# ------------------------------------------------------------------------- the feed


def test_a_headteachers_feed_holds_the_due_dates_of_the_bids_their_school_leads(client, make, approved):
    lead = make.lead_of(approved)
    items = [i for i in open_items(approved) if i.due_on <= calendar_feed.months_after(today(), 18)]
    assert items, "the factory's award has items due within 18 months"
    feed = read_feed(client, inbox.make_calendar_link(lead))
    assert str(feed["X-WR-CALNAME"]) == "fundflow: due dates and decisions"
    found = events(feed)
    assert set(found) == {f"schedule-item-{i.id}@fundflow" for i in items}
    interim = next(i for i in items if i.kind == "interim_report")
    event = found[f"schedule-item-{interim.id}@fundflow"]
    assert event["summary"] == f"Interim impact report due: {approved.reference} {approved.title}"
    assert event["day"] == interim.due_on
    assert event["url"] == f"http://localhost/headteacher/bids/{approved.reference}/view"
    for e in feed.walk("VEVENT"):
        assert e["DTSTAMP"] is not None
        assert e["DTEND"].dt - e["DTSTART"].dt == timedelta(days=1)  # all day


def test_the_feed_leaves_out_items_met_or_waived_and_dates_outside_its_window(client, make, approved):
    lead = make.lead_of(approved)
    liaison = make.liaison()
    for item in open_items(approved):
        schedule.waive(liaison, item, "Not needed")
    now = today()
    kept = [
        add_item(approved, now - timedelta(days=60)),
        add_item(approved, calendar_feed.months_after(now, 18)),
    ]
    add_item(approved, now - timedelta(days=61))
    add_item(approved, calendar_feed.months_after(now, 18) + timedelta(days=1))
    found = events(read_feed(client, inbox.make_calendar_link(lead)))
    assert set(found) == {f"schedule-item-{i.id}@fundflow" for i in kept}


def test_a_late_item_says_so(client, make, approved):
    lead = make.lead_of(approved)
    for item in open_items(approved):
        schedule.waive(make.liaison(), item, "Not needed")
    late = add_item(approved, today() - timedelta(days=20), kind="final_report")
    schedule.run_schedule(today())
    db.session.expire_all()
    assert db.session.get(ScheduleItem, late.id).status == "late"
    event = events(read_feed(client, inbox.make_calendar_link(lead)))[f"schedule-item-{late.id}@fundflow"]
    assert event["summary"].startswith("Late: Final impact report due:")
    assert "It is late." in event["description"]


def test_another_schools_items_never_appear_in_a_headteachers_feed(client, make, approved):
    partner_head = make.headteacher(school=approved.partners[0].school)  # a partner, not the lead
    stranger = make.headteacher()
    for person in (partner_head, stranger):
        assert events(read_feed(client, inbox.make_calendar_link(person))) == {}


def test_a_liaison_officer_sees_due_dates_only_on_bids_they_are_not_conflicted_on(client, make, approved):
    free = make.liaison()
    at_lead_school = make.liaison(school=approved.lead_school)
    at_partner_school = make.liaison(school=approved.partners[0].school)
    uids = {
        f"schedule-item-{i.id}@fundflow"
        for i in open_items(approved)
        if i.due_on <= calendar_feed.months_after(today(), 18)
    }
    free_feed = events(read_feed(client, inbox.make_calendar_link(free)))
    assert uids <= set(free_feed)
    assert all(
        e["url"] == f"http://localhost/liaison/bids/{approved.reference}"
        for u, e in free_feed.items()
        if u in uids
    )
    assert not uids & set(events(read_feed(client, inbox.make_calendar_link(at_partner_school))))
    lead_feed = events(read_feed(client, inbox.make_calendar_link(at_lead_school)))
    # a headteacher-officer of the lead school sees them as the school's, linked to the school's page
    assert all(
        e["url"].startswith("http://localhost/headteacher/") for u, e in lead_feed.items() if u in uids
    )


def test_a_liaison_officers_decisions_waiting_are_on_todays_date(client, make):
    submitted = make.application("submitted")
    approver = make.liaison()
    awaiting = make.application("awaiting_countersign", liaison=approver)
    approved = make.application("approved")
    claim = make.claim(approved)
    report = impact.submit_report(
        make.lead_of(approved),
        approved,
        impact.ReportInput(
            kind="interim",
            narrative="Going well",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in approved.measures],
        ),
    )
    officer = make.liaison()
    found = events(read_feed(client, inbox.make_calendar_link(officer)))
    review = found[f"review-{submitted.id}@fundflow"]
    assert review["summary"] == f"Review bid: {submitted.reference} {submitted.title}"
    assert review["day"] == today()
    assert "Waiting since" in review["description"]
    assert review["url"] == f"http://localhost/liaison/bids/{submitted.reference}"
    assert found[f"countersign-{awaiting.id}@fundflow"]["url"].endswith(
        f"/liaison/bids/{awaiting.reference}/countersign"
    )
    assert found[f"verify-claim-{claim.id}@fundflow"]["url"].endswith(f"/liaison/claims/{claim.id}")
    assert found[f"evaluate-report-{report.id}@fundflow"]["url"].endswith(f"/liaison/reports/{report.id}")
    # the officer who approved the large award may not countersign it: not in their feed
    assert f"countersign-{awaiting.id}@fundflow" not in events(
        read_feed(client, inbox.make_calendar_link(approver))
    )


def test_finance_sees_verified_claims_waiting_to_be_paid(client, make):
    application = make.application("approved")
    verified = make.claim(application, state="verified")
    make.claim(application, state="paid")
    make.claim(application)  # pending: not finance's yet
    finance = make.user("finance")
    found = events(read_feed(client, inbox.make_calendar_link(finance)))
    assert set(found) == {f"pay-claim-{verified.id}@fundflow"}
    assert found[f"pay-claim-{verified.id}@fundflow"]["url"].endswith(f"/finance/claims/{verified.id}/pay")
    assert found[f"pay-claim-{verified.id}@fundflow"]["summary"].startswith("Pay backfill claim:")


def test_auditors_and_admins_get_an_empty_but_valid_calendar(client, make):
    for role in ("auditor", "admin"):
        feed = read_feed(client, inbox.make_calendar_link(make.user(role)))
        assert feed.walk("VEVENT") == []


def test_the_feed_holds_at_most_its_limit_of_events_nearest_first(client, make, approved, monkeypatch):
    lead = make.lead_of(approved)
    monkeypatch.setattr(calendar_feed, "MAX_EVENTS", 3)
    for n in range(6):
        add_item(approved, today() + timedelta(days=1 + n))
    found = events(read_feed(client, inbox.make_calendar_link(lead)))
    assert len(found) == 3
    assert sorted(e["day"] for e in found.values()) == [today() + timedelta(days=n) for n in (1, 2, 3)]


def feed_queries(client, count_queries, token: str) -> int:
    db.session.commit()
    with count_queries() as statements:
        assert client.get(f"/calendar/{token}.ics").status_code == 200
    return len(statements)


def test_the_feed_runs_the_same_queries_for_2_or_10_bids(client, make, count_queries):
    officer = make.liaison()
    token = inbox.make_calendar_link(officer)
    fund = make.fund()
    for _ in range(2):
        make.claim(make.application("approved", fund=fund))
        make.application("submitted", fund=fund)
    few = feed_queries(client, count_queries, token)
    for _ in range(8):
        make.claim(make.application("approved", fund=fund))
        make.application("submitted", fund=fund)
    many = feed_queries(client, count_queries, token)
    assert many == few
    assert len(events(read_feed(client, token))) > 20
