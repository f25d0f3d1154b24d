"""Auditor pages: read everything, change nothing. Lists, the whole record of a bid with its
audit trail, fund ledgers with value for money, chain verification and the export files."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select, update

from fundflow import reports
from fundflow.extensions import db
from fundflow.models import Event
from fundflow.services.clock import today


@pytest.fixture
def auditor(make):
    return make.user("auditor")


@pytest.fixture
def paid_bid(make):
    """An approved bid with a review, a paid claim whose payment was reversed, and a second
    payment: every kind of record the auditor's page shows."""
    liaison = make.liaison()
    application = make.application("under_review", liaison=liaison)
    make.review(liaison, application)
    make.act(application, liaison, "approve", awarded_pence=1_000_00, conditions="Report each term.")
    claim = make.claim(application, amount_pence=300_00, state="verified")
    make.paid_with_reversal(claim)
    return application


def page_of(client, url: str, **params) -> str:
    response = client.get(url, query_string=params or None)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_read_only_audit_pages_are_for_auditors_liaison_and_finance_but_the_chain_check_for_auditors(
    client, auth, make
):
    application = make.application("submitted")
    assert client.get("/auditor/").status_code == 302
    auth.login(make.headteacher())
    for url in ("/auditor/", f"/auditor/bids/{application.reference}", "/auditor/verify", "/auditor/funds"):
        assert client.get(url).status_code == 403
    auth.logout()
    auth.login(make.user("finance"))
    for url in ("/auditor/", f"/auditor/bids/{application.reference}", "/auditor/funds"):
        assert client.get(url).status_code == 200
    page = client.get("/auditor/funds").get_data(as_text=True)
    assert "/auditor/verify" not in page
    assert client.get("/auditor/verify").status_code == 403


def test_auditor_lands_on_the_list_of_applications(client, auth, auditor):
    auth.login(auditor)
    assert client.get("/").headers["Location"].endswith("/auditor/")


def test_applications_list_shows_every_bid_and_filters_by_status_and_fund(client, auth, make, auditor):
    draft = make.application("draft")
    withdrawn = make.application("withdrawn")
    approved = make.application("approved")
    auth.login(auditor)
    page = page_of(client, "/auditor/")
    for application in (draft, withdrawn, approved):
        assert f"/auditor/bids/{application.reference}" in page

    page = page_of(client, "/auditor/", status="withdrawn")
    assert withdrawn.reference in page and approved.reference not in page

    page = page_of(client, "/auditor/", fund_id=approved.fund_id)
    assert approved.reference in page and draft.reference not in page

    page = page_of(client, "/auditor/", status="nonsense", fund_id="x")
    assert draft.reference in page


def test_applications_list_paginates_keeping_the_filters(client, auth, make, auditor, app):
    app.config["PER_PAGE"] = 2
    fund = make.fund()
    bids = [make.application("draft", fund=fund) for _ in range(3)]
    auth.login(auditor)
    page = page_of(client, "/auditor/", fund_id=fund.id)
    assert "Showing 1 to 2 of 3 applications" in page
    assert f"fund_id={fund.id}" in page and "page=2" in page
    assert bids[0].reference in page_of(client, "/auditor/", fund_id=fund.id, page=2)


def queries_for(client, count_queries, url: str) -> int:
    db.session.commit()  # ends the open transaction and expires what earlier requests loaded
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_applications_list_runs_the_same_queries_for_2_or_10_bids(client, auth, make, auditor, count_queries):
    fund = make.fund()
    for _ in range(2):
        make.pay(make.claim(make.application("approved", fund=fund), state="verified"))
    auth.login(auditor)
    few = queries_for(client, count_queries, "/auditor/")
    for _ in range(8):
        make.application("submitted", fund=fund)
    assert queries_for(client, count_queries, "/auditor/") == few


def test_application_page_shows_the_whole_record(client, auth, auditor, paid_bid):
    auth.login(auditor)
    page = page_of(client, f"/auditor/bids/{paid_bid.reference}")
    assert paid_bid.title in page and paid_bid.lead_school.name in page
    assert "Version 1, submitted" in page
    assert "Clear plan, fair rates." in page and "3 out of 4" in page
    assert "£1,000.00" in page and "Report each term." in page
    assert "PAY-WRONG" in page and "PAY-WRONG-REV" in page and "PAY-RIGHT" in page
    assert "Reversal: Paid to the wrong account" in page
    assert "-£300.00" in page


def test_application_page_shows_the_audit_trail_as_a_timeline(client, auth, auditor, paid_bid):
    events = list(
        db.session.execute(
            select(Event).where(Event.application_id == paid_bid.id).order_by(Event.seq)
        ).scalars()
    )
    auth.login(auditor)
    page = page_of(client, f"/auditor/bids/{paid_bid.reference}")
    assert page.count('class="app-timeline__item"') == len(events)
    for event in events:
        assert f">{event.hash[:12]}…<" in page
        assert f'title="{event.hash}"' in page
    assert 'Submitted <span aria-hidden="true">→</span>' in page  # submitted → under review
    assert "Payment recorded" in page and "Payment reversed" in page
    assert "Reason given: “Paid to the wrong account”." in page
    assert "Amount: £300.00." in page and "Amount: -£300.00." in page
    assert "_pence" not in page and "{&#34;" not in page and '{"' not in page


def test_application_page_shows_impact_reports_and_their_evaluation(client, auth, make, auditor):
    application = make.application("closed")
    auth.login(auditor)
    page = page_of(client, f"/auditor/bids/{application.reference}")
    assert "Final report" in page and "It worked." in page
    assert "Achieved" in page and "Collaboration" in page
    assert "Phonics pass rate" in page


def test_unknown_bid_is_not_found(client, auth, auditor):
    auth.login(auditor)
    assert client.get("/auditor/bids/LSIF-2099-9999").status_code == 404


def test_auditor_pages_offer_no_forms_that_change_data(client, auth, make, auditor, paid_bid):
    closed = make.application("closed")
    fund_id = paid_bid.fund_id
    auth.login(auditor)
    urls = [
        "/auditor/",
        f"/auditor/?fund_id={fund_id}&status=approved",
        f"/auditor/bids/{paid_bid.reference}",
        f"/auditor/bids/{closed.reference}",
        "/auditor/funds",
        f"/auditor/funds/{fund_id}",
        "/auditor/verify",
        "/auditor/transparency",
    ]
    for url in urls:
        page = page_of(client, url)
        forms = re.findall(r"<form\b[^>]*>", page)
        posting = [f for f in forms if 'method="post"' in f.lower()]
        assert posting == ['<form method="post" action="/sign-out" class="govuk-!-margin-bottom-2">'], url
        for form in forms:
            assert 'method="post"' in form.lower() or 'method="get"' in form.lower(), (url, form)


def test_auditor_can_only_read(client, auth, auditor, paid_bid):
    auth.login(auditor)
    for url in (f"/auditor/bids/{paid_bid.reference}", "/auditor/verify", "/auditor/"):
        assert client.post(url).status_code == 405


def test_fund_ledger_shows_the_money_and_value_for_money(client, auth, make, auditor, paid_bid):
    fund = paid_bid.fund
    make.application("submitted", fund=fund)
    auth.login(auditor)
    page = page_of(client, f"/auditor/funds/{fund.id}")
    # budget £100,000; committed the £1,000 award; paid £300 net of the reversal
    assert "£100,000.00" in page and "£1,000.00" in page and "£99,000.00" in page
    assert "£300.00" in page
    assert "Value for money of each submitted bid" in page
    assert f"/auditor/bids/{paid_bid.reference}" in page
    for endpoint in ("360giving.json", "360giving.csv", "audit-trail.csv"):
        assert f"/auditor/funds/{fund.id}/{endpoint}" in page


def test_funds_page_lists_every_fund_with_its_ledger(client, auth, make, auditor, paid_bid):
    other = make.fund(name="Second fund")
    auth.login(auditor)
    page = page_of(client, "/auditor/funds")
    assert paid_bid.fund.name in page and "Second fund" in page
    assert f"/auditor/funds/{other.id}" in page


def test_unknown_fund_is_not_found(client, auth, auditor):
    auth.login(auditor)
    for url in (
        "/auditor/funds/999",
        "/auditor/funds/999/360giving.json",
        "/auditor/funds/999/audit-trail.csv",
    ):
        assert client.get(url).status_code == 404


def test_verify_page_reports_an_intact_chain(client, auth, auditor, paid_bid):
    count = len(
        db.session.execute(select(Event.id).where(Event.organisation_id == auditor.organisation_id)).all()
    )
    auth.login(auditor)
    page = page_of(client, "/auditor/verify")
    assert "The audit trail is intact" in page and f"{count} events checked" in page


def test_verify_page_reports_a_changed_event(client, auth, auditor, paid_bid):
    auth.login(auditor)
    victim = db.session.execute(select(Event).where(Event.action == "record_disbursement")).scalars().first()
    db.session.execute(update(Event).where(Event.id == victim.id).values(payload={"amount_pence": 1}))
    db.session.commit()
    page = page_of(client, "/auditor/verify")
    assert "The audit trail has been changed" in page
    assert f"stopped at event {victim.id}" in page and "its content was changed" in page


def test_360giving_json_download_is_the_exported_package(client, auth, auditor, paid_bid):
    auth.login(auditor)
    response = client.get(f"/auditor/funds/{paid_bid.fund_id}/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    package = json.loads(response.text)
    assert package == json.loads(json.dumps(reports.grants_360_package(paid_bid.fund_id)))
    assert any(paid_bid.reference in grant["id"] for grant in package["grants"])


def test_360giving_csv_and_audit_trail_downloads_are_the_exports(client, auth, auditor, paid_bid):
    auth.login(auditor)
    fund_id = paid_bid.fund_id
    response = client.get(f"/auditor/funds/{fund_id}/360giving.csv")
    assert response.mimetype == "text/csv" and response.text == reports.grants_360_csv(fund_id)
    response = client.get(f"/auditor/funds/{fund_id}/audit-trail.csv")
    assert response.mimetype == "text/csv" and response.text == reports.audit_trail_csv(fund_id)
    rows = list(csv.reader(io.StringIO(response.text)))
    assert any("Payment reversed" in row for row in rows)
    assert not any("reverse_disbursement" in cell or "{" in cell for row in rows for cell in row)


def test_auditor_downloads_the_transparency_csv(client, auth, auditor, paid_bid):
    fund = paid_bid.fund
    auth.login(auditor)
    page = page_of(client, "/auditor/transparency", fund_id=fund.id)
    assert 'method="get"' in page
    query = {
        "fund_id": fund.id,
        "date_from": [str(fund.opens_on.day), str(fund.opens_on.month), str(fund.opens_on.year)],
        "date_to": [str(today().day), str(today().month), str(today().year)],
    }
    response = client.get("/auditor/transparency", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.text == reports.transparency_csv(fund.id, fund.opens_on, today())


def test_transparency_form_with_missing_dates_shows_the_error_summary(client, auth, auditor, paid_bid):
    auth.login(auditor)
    query = {"fund_id": paid_bid.fund_id, "date_from": ["", "", ""], "date_to": ["1", "13", "2026"]}
    response = client.get("/auditor/transparency", query_string=query)
    assert response.status_code == 422
    assert "Enter the first date to include" in response.text
    assert "Up to and including must be a real date" in response.text
