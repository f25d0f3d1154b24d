"""Input found from outside to answer 500 (issue 10): numbers larger or finer than their
column, NaN and Infinity, NUL and other control characters. Each is refused where it
enters — a field error on the form, 422 on the API, 400 for control characters — and
nothing is written."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Activity, Disbursement, Event, Fund, Measure
from fundflow.services.clock import today

HUGE = ["1e30", "99999999999999999999999999999", "NaN", "Infinity", "-Infinity", "1e-999999999"]


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def date_boxes(day) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def assert_form_error(response, field: str) -> None:
    assert response.status_code == 422, response.status_code
    assert "govuk-error-summary" in response.text
    assert f'href="#{field}' in response.text


# ----------------------------------------------------------------------- numbers on forms


@pytest.mark.parametrize("typed", HUGE)
def test_a_fund_budget_too_large_for_its_column_is_a_field_error(client, auth, make, typed):
    auth.login(make.user("admin"))
    events = count(Event)
    response = client.post(
        "/admin/funds/new",
        data={
            "name": "Huge fund",
            "financial_year": "2027-28",
            "budget": typed,
            "opens_on": ["1", "4", "2027"],
            "closes_on": ["31", "3", "2028"],
            "max_daily_rate": "550",
            "requires_partner_endorsement": "no",
        },
    )
    assert_form_error(response, "budget")
    assert count(Fund) == 0 and count(Event) == events


@pytest.mark.parametrize("typed", HUGE)
def test_a_payment_amount_too_large_for_its_column_is_a_field_error(client, auth, make, typed):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    auth.login(make.user("finance"))
    events = count(Event)
    response = client.post(
        f"/finance/claims/{claim.id}/pay",
        data={"amount": typed, "reference": "BACS-1", "paid_on": date_boxes(today())},
    )
    assert_form_error(response, "amount")
    assert count(Disbursement) == 0 and count(Event) == events


@pytest.mark.parametrize("typed", HUGE)
def test_an_award_too_large_for_its_column_is_a_field_error(client, auth, make, typed):
    application = make.application("under_review")
    auth.login(make.liaison())
    events = count(Event)
    response = client.post(
        f"/liaison/bids/{application.reference}/decide/approve",
        data={"awarded": typed, "conditions": "", "comment": ""},
    )
    assert_form_error(response, "awarded")
    assert count(Event) == events


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("9999999999.99999", "decimal places"),  # NUMERIC(14, 4) would round it up to 10^10
        ("1e-999999999", "decimal places"),
        ("1e30", "number"),
        ("NaN", "number"),
    ],
)
def test_a_measure_baseline_the_column_cannot_hold_exactly_is_a_field_error(
    client, auth, make, baseline, message
):
    head = make.headteacher()
    application = make.application("draft", lead=head)
    before = [(m.baseline, m.target) for m in application.measures]
    auth.login(head)
    due = today() + timedelta(days=90)
    response = client.post(
        f"/headteacher/bids/{application.reference}/measures",
        data={
            "measures-0-indicator": "Phonics pass rate",
            "measures-0-unit": "%",
            "measures-0-baseline": baseline,
            "measures-0-target": "75",
            "measures-0-due_on": date_boxes(due),
        },
    )
    assert_form_error(response, "measures-0-baseline")
    db.session.expire_all()
    assert [(m.baseline, m.target) for m in db.session.scalars(select(Measure))] == before


@pytest.mark.parametrize("days", ["1e-999999999", "1e30", "Infinity", "2.25", "9" * 29])
def test_activity_days_the_column_cannot_hold_are_a_field_error(client, auth, make, days):
    head = make.headteacher()
    application = make.application("draft", lead=head)
    before = [(a.days, a.cost_pence) for a in application.activities]
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/activities",
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy head",
            "activities-0-days": days,
            "activities-0-daily_rate": "250",
        },
    )
    assert_form_error(response, "activities-0-days")
    db.session.expire_all()
    assert [(a.days, a.cost_pence) for a in db.session.scalars(select(Activity))] == before


# ----------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("liaison_officer", "/liaison/?q=a%00b"),
        ("auditor", "/auditor/bids/a%00b"),
        ("admin", "/admin/schools/12%0034"),
        ("admin", "/admin/schools?q=%07bell"),
        ("liaison_officer", "/liaison/?q=a%1bb"),
    ],
)
def test_control_characters_in_a_page_address_are_a_400_page(client, auth, make, role, url):
    auth.login(make.user(role))
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "There is a problem" in response.text


def test_a_sign_in_email_with_nul_is_refused_and_records_nothing(client, make):
    user = make.headteacher()
    events = count(Event)
    response = client.post("/sign-in", data={"email": user.email + "\x00", "password": "x"})
    assert response.status_code == 400
    assert count(Event) == events


def test_tab_line_feed_and_carriage_return_are_ordinary_text(client, auth, make):
    application = make.application("under_review")
    auth.login(make.liaison())
    response = client.post(
        f"/liaison/bids/{application.reference}/decide/approve",
        data={"awarded": "1000", "conditions": "Line one\r\n\tLine two", "comment": ""},
    )
    assert response.status_code == 302


def test_an_upload_whose_bytes_hold_nul_is_not_refused_by_the_guard(client, make):
    from fundflow.request_guard import refused_part

    with client.application.test_request_context(
        "/headteacher/x",
        method="POST",
        data={"evidence": (io.BytesIO(b"%PDF-1.4\x00\x01\x02"), "timesheet.pdf")},
        content_type="multipart/form-data",
    ):
        assert refused_part() is None


# ----------------------------------------------------------------------- ids no row can have


@pytest.mark.parametrize("fund", ["99999999999999999999", "²", "-1", "1e400"])
def test_a_filter_naming_no_possible_fund_shows_every_fund(client, auth, make, fund):
    application = make.application("submitted")
    auth.login(make.liaison())
    response = client.get(f"/liaison/?section=new&fund={fund}")
    assert response.status_code == 200
    assert application.reference in response.text


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("finance", "/finance/claims/99999999999999999999/pay"),
        ("admin", "/admin/users/2147483648"),
        ("admin", "/admin/funds/99999999999999999999/edit"),
        ("auditor", "/auditor/funds/99999999999999999999"),
    ],
)
def test_an_id_in_the_address_no_row_can_have_is_not_found(client, auth, make, role, url):
    auth.login(make.user(role))
    assert client.get(url).status_code == 404


def test_a_value_the_database_refuses_is_a_400_page_not_a_500(client, auth, make, monkeypatch):
    from sqlalchemy import exc as sa_exc

    from fundflow.services.queries import liaison as liaison_queries

    def refuses(*_args, **_kwargs):
        raise sa_exc.DataError("SELECT", {}, Exception("integer out of range"))

    monkeypatch.setattr(liaison_queries, "queue_statement", refuses)
    auth.login(make.liaison())
    response = client.get("/liaison/")
    assert response.status_code == 400
    assert "too large or too long to be kept" in response.text
