"""Drafting a bid: the start page, the task list and each task, check your answers with the
declaration, the confirmation page, change requests and versions."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from fundflow.extensions import db
from fundflow.models import Application, Event
from fundflow.services.clock import today


@pytest.fixture
def head(make):
    return make.headteacher()


def _reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _events(application: Application) -> int:
    return db.session.query(Event).filter(Event.application_id == application.id).count()


def _planned(row: int) -> dict[str, list[str]]:
    """The planned start and end dates of activity row ``row``, as typed in the date boxes."""
    start, end = today() + timedelta(days=30), today() + timedelta(days=60)
    return {
        f"activities-{row}-starts_on": [str(start.day), str(start.month), str(start.year)],
        f"activities-{row}-ends_on": [str(end.day), str(end.month), str(end.year)],
    }


def _draft(make, head, **kwargs) -> Application:
    """A bare draft: only a fund and a title, as the start page leaves it."""
    from fundflow.services import applications

    fund = kwargs.pop("fund", None) or make.fund()
    return applications.create_draft(head, applications.BidDetails(fund_id=fund.id, title="Reading together"))


# ------------------------------------------------------------------------- starting


def test_start_page_lists_funds_still_taking_bids(client, auth, make, head):
    open_fund = make.fund(name="Spring fund")
    make.fund(name="Old fund", opens_on=today() - timedelta(days=400), closes_on=today() - timedelta(days=1))
    auth.login(head)
    page = client.get("/headteacher/bids/new").get_data(as_text=True)
    assert "Spring fund" in page
    assert "Old fund" not in page
    assert f'value="{open_fund.id}"' in page


def test_start_creates_draft_and_opens_task_list(client, auth, make, head):
    fund = make.fund()
    auth.login(head)
    response = client.post("/headteacher/bids/new", data={"fund": str(fund.id), "title": "Maths mastery"})
    assert response.status_code == 302
    application = db.session.query(Application).one()
    assert application.title == "Maths mastery"
    assert application.status == "draft"
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Need and priority areas" in page
    assert "Cannot start yet" in page


def test_start_without_fund_or_title_shows_errors_and_creates_nothing(client, auth, make, head):
    make.fund()
    auth.login(head)
    response = client.post("/headteacher/bids/new", data={"title": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Choose a fund" in page
    assert db.session.query(Application).count() == 0


def test_start_with_unknown_fund_is_refused(client, auth, make, head):
    make.fund()
    auth.login(head)
    response = client.post("/headteacher/bids/new", data={"fund": "999999", "title": "X"})
    assert response.status_code == 422
    assert "Choose a fund" in response.get_data(as_text=True)
    assert db.session.query(Application).count() == 0


# ------------------------------------------------------------------------ task list


def test_task_list_shows_status_of_each_task(client, auth, make, head):
    application = _draft(make, head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}").get_data(as_text=True)
    assert page.count("Incomplete") == 4
    assert "Cannot start yet" in page
    assert "govuk-task-list" in page


def test_task_list_of_complete_bid_links_to_check_answers(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}").get_data(as_text=True)
    assert len(re.findall(r"govuk-task-list__status\"[^>]*>\s*Completed", page)) == 4
    assert "Incomplete" in page  # the check-answers task itself
    assert f"/headteacher/bids/{application.reference}/check" in page
    assert "Cannot start yet" not in page


def test_task_list_of_submitted_bid_goes_to_bid_page(client, auth, make, head):
    application = make.application("submitted", lead=head)
    auth.login(head)
    response = client.get(f"/headteacher/bids/{application.reference}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}/view")


@pytest.mark.parametrize(
    "suffix",
    ["", "/view", "/need", "/partners", "/activities", "/measures", "/check", "/versions", "/claims"],
)
def test_another_schools_bid_is_not_found(client, auth, make, head, suffix):
    application = make.application("approved")
    auth.login(head)
    assert client.get(f"/headteacher/bids/{application.reference}{suffix}").status_code == 404


def test_another_schools_bid_cannot_be_changed_by_post(client, auth, make, head):
    application = make.application("draft")
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/need", data={"title": "Mine now"})
    assert response.status_code == 404
    assert _reload(application).title == "Phonics partnership"


# ---------------------------------------------------------------------- need task


def test_need_task_saves_title_need_and_priority_areas(client, auth, make, head):
    application = _draft(make, head)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/need"
    assert "What need will the support meet?" in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "title": "Reading",
            "need": "Reading is weak.",
            "priority_areas": "Early reading\n\nWriting \n",
        },
    )
    assert response.status_code == 302
    application = _reload(application)
    assert application.need == "Reading is weak."
    assert application.priority_areas == ["Early reading", "Writing"]


def test_need_task_without_title_shows_error_and_changes_nothing(client, auth, make, head):
    application = _draft(make, head)
    before = _events(application)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/need",
        data={"title": "  ", "need": "Changed", "priority_areas": "X"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter title" in page
    assert 'href="#title"' in page
    application = _reload(application)
    assert application.title == "Reading together"
    assert application.need == ""
    assert _events(application) == before


# ------------------------------------------------------------------ partners task


def test_partners_task_saves_partner_schools(client, auth, make, head):
    application = _draft(make, head)
    one, two = make.school(), make.school()
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/partners"
    assert "Partner school 1" in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "partners-0-identifier": one.urn,
            "partners-0-role": "supporting",
            "partners-1-identifier": f" {two.urn} ",
            "partners-1-role": "supported",
            "partners-2-identifier": "",
        },
    )
    assert response.status_code == 302
    application = _reload(application)
    assert [(p.school.urn, p.role) for p in application.partners] == [
        (one.urn, "supporting"),
        (two.urn, "supported"),
    ]


def test_partners_add_another_adds_a_blank_row_without_saving(client, auth, make, head):
    application = _draft(make, head)
    school = make.school()
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/partners",
        data={"partners-0-identifier": school.urn, "partners-0-role": "supporting", "add_another": "y"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Partner school 2" in page
    assert f'value="{school.urn}"' in page
    assert _reload(application).partners == []


def test_partners_remove_box_takes_a_school_off_the_bid(client, auth, make, head):
    application = make.application("draft", lead=head)
    keep = make.school()
    old = application.partners[0].school
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/partners",
        data={
            "partners-0-identifier": old.urn,
            "partners-0-role": "supporting",
            "partners-0-remove": "y",
            "partners-1-identifier": keep.urn,
            "partners-1-role": "supported",
        },
    )
    assert response.status_code == 302
    assert [p.school.urn for p in _reload(application).partners] == [keep.urn]


def test_partners_with_unknown_urn_shows_error_on_that_row_and_changes_nothing(client, auth, make, head):
    application = make.application("draft", lead=head)
    before = [(p.school_id, p.role) for p in application.partners]
    good = make.school()
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/partners",
        data={
            "partners-0-identifier": "",
            "partners-0-role": "",
            "partners-1-identifier": good.urn,
            "partners-1-role": "supporting",
            "partners-2-identifier": "999999",
            "partners-2-role": "supported",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No school with URN 999999" in page
    assert 'href="#partners-2-identifier"' in page
    assert [(p.school_id, p.role) for p in _reload(application).partners] == before


# ---------------------------------------------------------------- activities task


def test_activities_task_converts_pounds_to_pence_and_works_out_costs(client, auth, make, head):
    application = _draft(make, head, fund=make.fund(max_daily_rate_pence=1_000_00))
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/activities"
    response = client.post(
        url,
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy head",
            "activities-0-days": "2.5",
            "activities-0-daily_rate": "250.50",
            "activities-1-description": "Observation",
            "activities-1-staff_role": "English lead",
            "activities-1-days": "1",
            "activities-1-daily_rate": "£1,000",
            **_planned(0),
            **_planned(1),
            "recalculate": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    application = _reload(application)
    assert [(a.days, a.daily_rate_pence, a.cost_pence) for a in application.activities] == [
        (Decimal("2.5"), 25050, 62625),
        (Decimal("1"), 100000, 100000),
    ]
    assert application.requested_pence == 162625
    page = client.get(url).get_data(as_text=True)
    assert "£626.25" in page
    assert "£1,626.25" in page
    assert 'value="250.50"' in page


@pytest.mark.parametrize("rate", ["abc", "12.345", "-5", ""])
def test_activities_with_unreadable_rate_shows_error_and_changes_nothing(client, auth, make, head, rate):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/activities",
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy",
            "activities-0-days": "2",
            "activities-0-daily_rate": rate,
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#activities-0-daily_rate"' in page
    assert _reload(application).requested_pence == 4 * 300_00


def test_activities_in_quarter_days_are_refused_by_the_service(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/activities",
        data={
            "activities-0-description": "",
            "activities-0-staff_role": "",
            "activities-0-days": "",
            "activities-0-daily_rate": "",
            "activities-1-description": "Coaching",
            "activities-1-staff_role": "Deputy",
            "activities-1-days": "2.25",
            "activities-1-daily_rate": "300",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Days must be whole or half days" in page
    assert 'href="#activities-1-days"' in page
    assert _reload(application).activities[0].description == "Coaching"
    assert _reload(application).activities[0].days == Decimal("4")


# ------------------------------------------------------------------ measures task


def test_measures_task_saves_measures_with_due_dates(client, auth, make, head):
    application = _draft(make, head)
    due = today() + timedelta(days=100)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/measures"
    assert "Measure 1" in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "measures-0-indicator": "Phonics pass rate",
            "measures-0-unit": "%",
            "measures-0-baseline": "60",
            "measures-0-target": "75.5",
            "measures-0-due_on": [str(due.day), str(due.month), str(due.year)],
        },
    )
    assert response.status_code == 302
    (measure,) = _reload(application).measures
    assert (measure.indicator, measure.target, measure.due_on) == ("Phonics pass rate", Decimal("75.5"), due)


def test_measures_with_impossible_date_show_error_and_change_nothing(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/measures",
        data={
            "measures-0-indicator": "Attendance",
            "measures-0-unit": "%",
            "measures-0-baseline": "90",
            "measures-0-target": "95",
            "measures-0-due_on": ["31", "2", "2027"],
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a real due date" in page
    assert [m.indicator for m in _reload(application).measures] == ["Phonics pass rate"]


def test_measures_with_text_target_are_refused_by_the_service(client, auth, make, head):
    application = make.application("draft", lead=head)
    due = today() + timedelta(days=30)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/measures",
        data={
            "measures-0-indicator": "Attendance",
            "measures-0-unit": "%",
            "measures-0-baseline": "90",
            "measures-0-target": "lots",
            "measures-0-due_on": [str(due.day), str(due.month), str(due.year)],
        },
    )
    assert response.status_code == 422
    assert "Enter the target as a number" in response.get_data(as_text=True)
    assert [m.indicator for m in _reload(application).measures] == ["Phonics pass rate"]


# ---------------------------------------------------- check answers and submitting


def test_check_answers_shows_summary_with_change_links(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/check").get_data(as_text=True)
    assert "govuk-summary-list" in page
    assert f"/headteacher/bids/{application.reference}/activities" in page
    assert "Change" in page
    assert "£1,200.00" in page
    assert "I confirm" in page
    assert "Submit bid" in page


def test_submitting_without_the_declaration_is_refused(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={})
    assert response.status_code == 422
    assert "Confirm the declaration" in response.get_data(as_text=True)
    assert _reload(application).status == "draft"


def test_submitting_with_the_declaration_sends_bid_and_shows_confirmation(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}/submitted")
    assert _reload(application).status == "submitted"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "govuk-panel--confirmation" in page
    assert f"Your reference<br><strong>{application.reference}</strong>" in page
    assert application.reference in page
    assert "What happens next" in page
    assert "sent to the liaison officer" in page


def test_incomplete_bid_cannot_be_submitted(client, auth, make, head):
    application = _draft(make, head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/check").get_data(as_text=True)
    assert "The bid is not complete" in page
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={"confirm": "y"})
    assert response.status_code == 422
    assert "The bid is not complete" in response.get_data(as_text=True)
    assert _reload(application).status == "draft"


def test_bid_waiting_for_endorsement_is_refused_with_the_reason(client, auth, make, head):
    application = make.application("draft", lead=head, fund=make.fund(requires_partner_endorsement=True))
    auth.login(head)
    tasks = client.get(f"/headteacher/bids/{application.reference}").get_data(as_text=True)
    assert "0 of 1 partner school endorsed" in tasks
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={"confirm": "y"})
    assert response.status_code == 422
    assert "Partner schools must endorse the bid first" in response.get_data(as_text=True)
    assert _reload(application).status == "draft"


# ---------------------------------------------------- partner headteachers can't edit


def test_partner_headteacher_cannot_edit_bid(client, auth, make, head):
    application = make.application("draft", partner=head.school)
    before = _events(application)
    auth.login(head)
    response = client.get(f"/headteacher/bids/{application.reference}/need")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}/view")
    response = client.post(
        f"/headteacher/bids/{application.reference}/need",
        data={"title": "Taken over", "need": "x", "priority_areas": "y"},
    )
    assert response.status_code == 403
    assert "Only the lead school" in response.get_data(as_text=True)
    assert _reload(application).title == "Phonics partnership"
    assert _events(application) == before
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={"confirm": "y"})
    assert response.status_code == 403
    assert _reload(application).status == "draft"


# ------------------------------------------------- change requests and versions


def test_changes_requested_shows_reviewer_comment_and_resubmits_new_version(client, auth, make, head):
    application = make.application("changes_requested", lead=head)
    auth.login(head)
    tasks = client.get(f"/headteacher/bids/{application.reference}").get_data(as_text=True)
    assert "Say more about the need." in tasks
    assert "Check your answers and resubmit" in tasks
    client.post(
        f"/headteacher/bids/{application.reference}/need",
        data={"title": "Phonics partnership", "need": "Much more detail.", "priority_areas": "Early reading"},
    )
    check = client.get(f"/headteacher/bids/{application.reference}/check").get_data(as_text=True)
    assert "Resubmit bid" in check
    response = client.post(f"/headteacher/bids/{application.reference}/check", data={"confirm": "y"})
    assert response.status_code == 302
    application = _reload(application)
    assert (application.status, application.version) == ("submitted", 2)
    assert "Bid resubmitted" in client.get(response.headers["Location"]).get_data(as_text=True)
    versions = client.get(f"/headteacher/bids/{application.reference}/versions").get_data(as_text=True)
    assert "Version 1 to version 2" in versions
    assert "Much more detail." in versions
    assert "Reading is below the local average." in versions


def test_versions_page_shows_changes_not_sent_yet(client, auth, make, head):
    application = make.application("changes_requested", lead=head)
    auth.login(head)
    client.post(
        f"/headteacher/bids/{application.reference}/activities",
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy head",
            "activities-0-days": "5",
            "activities-0-daily_rate": "300",
            **_planned(0),
        },
    )
    page = client.get(f"/headteacher/bids/{application.reference}/versions").get_data(as_text=True)
    assert "Changes not sent yet" in page
    assert "£1,200.00" in page and "£1,500.00" in page


def test_measures_page_shows_saved_due_date_in_three_boxes(client, auth, make, head):
    application = make.application("draft", lead=head)
    due = application.measures[0].due_on
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/measures").get_data(as_text=True)
    assert f'id="measures-0-due_on" name="measures-0-due_on" type="text" value="{due.day}"' in page
    assert f'id="measures-0-due_on-month" name="measures-0-due_on" type="text" value="{due.month}"' in page
    assert f'id="measures-0-due_on-year" name="measures-0-due_on" type="text" value="{due.year}"' in page


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("250", 25000), ("250.50", 25050), ("250.5", 25050), ("£1,250", 125000), (" 0.99 ", 99), ("abc", None)],
)
def test_pounds_typed_by_a_person_are_read_as_pence(typed, pence):
    from fundflow.fields import pence_to_pounds, pounds_to_pence

    assert pounds_to_pence(typed) == pence
    if pence:
        assert pounds_to_pence(pence_to_pounds(pence)) == pence
