"""Finance pages: claims to pay, recording and reversing payments, the payments list and its
downloads. The services decide; these tests check that the pages ask them and show the answer."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Disbursement
from fundflow.services.clock import today
from tests.conftest import make_app
from tests.factories import PASSWORD, Factory


def count_disbursements() -> int:
    return db.session.execute(select(func.count(Disbursement.id))).scalar_one()


def date_fields(name: str, day) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)]}


def pay_form(amount: str = "300.00", reference: str = "BACS-0001", paid_on=None) -> dict:
    data = {"amount": amount, "reference": reference}
    data.update(date_fields("paid_on", paid_on or today()))
    return data


def error_summary(page: str) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "no error summary on the page"
    return html.unescape(match.group(0))


@pytest.fixture
def finance(make):
    return make.user("finance")


@pytest.fixture
def verified_claim(make):
    return make.claim(make.application("approved"), amount_pence=300_00, state="verified")


def test_finance_pages_are_for_finance_officers_only(client, auth, make, verified_claim):
    assert client.get("/finance/").status_code == 302
    auth.login(make.headteacher())
    for url in ("/finance/", f"/finance/claims/{verified_claim.id}/pay", "/finance/payments"):
        assert client.get(url).status_code == 403


def test_finance_officer_lands_on_claims_to_pay(client, auth, finance):
    auth.login(finance)
    response = client.get("/")
    assert response.headers["Location"].endswith("/finance/")


def test_claims_to_pay_lists_verified_claims_with_what_is_already_paid(
    client, auth, make, finance, verified_claim
):
    application = verified_claim.application
    pending = make.claim(application, amount_pence=100_00)
    partly = make.claim(application, amount_pence=200_00, state="verified")
    make.pay(partly, amount_pence=50_00)
    auth.login(finance)
    page = client.get("/finance/").text
    assert f"/finance/claims/{verified_claim.id}/pay" in page
    assert f"/finance/claims/{partly.id}/pay" in page
    assert f"/finance/claims/{pending.id}/pay" not in page
    assert application.reference in page and application.lead_school.name in page
    assert "£200.00" in page and "£50.00" in page


def test_claims_to_pay_says_so_when_there_are_none(client, auth, finance):
    auth.login(finance)
    assert "There are no verified claims waiting to be paid" in client.get("/finance/").text


def queries_for(client, count_queries, url: str) -> int:
    db.session.commit()  # ends the open transaction and expires what earlier requests loaded
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_claims_to_pay_runs_the_same_queries_for_2_or_10_claims(client, auth, make, finance, count_queries):
    application = make.application("approved", awarded_pence=None, days="10")
    for _ in range(2):
        make.claim(application, amount_pence=10_00, state="verified")
    auth.login(finance)
    few = queries_for(client, count_queries, "/finance/")
    other = make.application("approved", days="10")
    for app in (application, other):
        for _ in range(4):
            make.claim(app, amount_pence=10_00, state="verified")
    assert queries_for(client, count_queries, "/finance/") == few


def test_pay_form_starts_with_the_unpaid_amount_and_today(client, auth, make, finance, verified_claim):
    make.pay(verified_claim, amount_pence=100_00)
    auth.login(finance)
    page = client.get(f"/finance/claims/{verified_claim.id}/pay").text
    assert 'name="amount"' in page and 'value="200.00"' in page
    assert f'value="{today().year}"' in page
    assert "Left to pay" in page


def test_recording_a_payment_pays_the_claim(client, auth, finance, verified_claim):
    auth.login(finance)
    response = client.post(f"/finance/claims/{verified_claim.id}/pay", data=pay_form("300"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/finance/")
    disbursement = db.session.execute(select(Disbursement)).scalar_one()
    assert disbursement.amount_pence == 300_00 and disbursement.reference == "BACS-0001"
    assert disbursement.recorded_by_id == finance.id
    assert db.session.get(BackfillClaim, verified_claim.id).status == "paid"
    page = client.get(response.headers["Location"]).text
    assert "Payment BACS-0001 of £300.00 recorded" in page


def test_part_payment_leaves_the_claim_waiting_for_the_rest(client, auth, finance, verified_claim):
    auth.login(finance)
    client.post(f"/finance/claims/{verified_claim.id}/pay", data=pay_form("1,00.50"))
    assert db.session.execute(select(Disbursement.amount_pence)).scalar_one() == 100_50
    assert db.session.get(BackfillClaim, verified_claim.id).status == "verified"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "", "reference": "REF-1", "paid_on": ["", "", ""]}, "Enter the amount paid"),
        ({"amount": "ten pounds", "reference": "REF-1"}, "Enter an amount in pounds"),
        ({"amount": "12.345", "reference": "REF-1"}, "pounds and pence"),
        ({"amount": "-5", "reference": "REF-1"}, "more than £0"),
        ({"amount": "10", "reference": ""}, "Enter the payment reference"),
        ({"amount": "10", "reference": "REF-1", "paid_on": ["31", "2", "2026"]}, "must be a real date"),
        (
            {"amount": "10", "reference": "REF-1", "paid_on": ["", "", ""]},
            "Enter the date the payment was made",
        ),
        ({"amount": "10", "reference": "has spaces in it"}, "Enter the payment reference: letters"),
    ],
)
def test_invalid_payment_shows_the_error_summary_and_records_nothing(
    client, auth, finance, verified_claim, data, message
):
    form = pay_form()
    form.update(data)
    auth.login(finance)
    response = client.post(f"/finance/claims/{verified_claim.id}/pay", data=form)
    assert response.status_code == 422
    assert message in error_summary(response.text)
    assert response.text.count("<title>Error:") == 1
    assert count_disbursements() == 0


def test_payment_dated_in_the_future_is_refused(client, auth, finance, verified_claim):
    auth.login(finance)
    response = client.post(
        f"/finance/claims/{verified_claim.id}/pay", data=pay_form(paid_on=today() + timedelta(days=1))
    )
    assert response.status_code == 422
    assert "cannot be in the future" in error_summary(response.text)
    assert count_disbursements() == 0


def test_paying_more_than_is_left_on_the_claim_is_refused_on_the_amount(
    client, auth, finance, verified_claim
):
    auth.login(finance)
    response = client.post(f"/finance/claims/{verified_claim.id}/pay", data=pay_form("300.01"))
    assert response.status_code == 422
    assert 'href="#amount"' in error_summary(response.text)
    assert "Only £300.00 of this claim is unpaid" in response.text
    assert count_disbursements() == 0


def test_duplicate_payment_reference_is_shown_on_the_reference_field(
    client, auth, make, finance, verified_claim
):
    other = make.claim(verified_claim.application, amount_pence=100_00, state="verified")
    make.pay(other, reference="BACS-0001")
    auth.login(finance)
    response = client.post(f"/finance/claims/{verified_claim.id}/pay", data=pay_form())
    assert response.status_code == 409
    summary = error_summary(response.text)
    assert 'href="#reference"' in summary and "already used in this fund" in summary
    assert count_disbursements() == 1


def test_approver_cannot_record_payment_for_award_they_decided(client, auth, make):
    approver = make.user("liaison_officer", "finance")
    application = make.application("approved", liaison=approver)
    claim = make.claim(application, amount_pence=300_00, state="verified")
    auth.login(approver)
    response = client.post(f"/finance/claims/{claim.id}/pay", data=pay_form())
    assert response.status_code == 403
    assert "You took part in deciding this award" in error_summary(response.text)
    assert count_disbursements() == 0
    assert db.session.get(BackfillClaim, claim.id).status == "verified"


def test_paying_an_already_paid_claim_is_refused_not_an_error_page(client, auth, make, finance):
    claim = make.claim(make.application("approved"), state="paid")
    auth.login(finance)
    response = client.post(f"/finance/claims/{claim.id}/pay", data=pay_form(reference="NEW-1"))
    assert response.status_code == 409
    assert "already been paid" in error_summary(response.text)


def test_paying_an_unknown_claim_is_not_found(client, auth, finance):
    auth.login(finance)
    assert client.get("/finance/claims/999/pay").status_code == 404


def test_reverse_shows_a_confirmation_page_first(client, auth, make, finance, verified_claim):
    payment = make.pay(verified_claim, reference="BACS-9")
    auth.login(finance)
    page = client.get(f"/finance/payments/{payment.id}/reverse").text
    assert "Reverse payment BACS-9" in page and 'name="reason"' in page
    assert count_disbursements() == 1


def test_reversing_a_payment_adds_a_negative_row_with_the_reason(client, auth, make, finance, verified_claim):
    payment = make.pay(verified_claim, reference="BACS-9")
    auth.login(finance)
    response = client.post(
        f"/finance/payments/{payment.id}/reverse", data={"reason": "Paid to the wrong school"}
    )
    assert response.status_code == 302
    reversal = db.session.execute(
        select(Disbursement).where(Disbursement.reverses_id == payment.id)
    ).scalar_one()
    assert reversal.amount_pence == -300_00 and reversal.reason == "Paid to the wrong school"
    assert db.session.get(BackfillClaim, verified_claim.id).status == "verified"
    page = client.get(response.headers["Location"]).text
    assert "Payment BACS-9 of £300.00 reversed (BACS-9-REV)" in page
    assert "Reversed" in page and "Paid to the wrong school" in page


def test_reversal_needs_a_reason(client, auth, make, finance, verified_claim):
    payment = make.pay(verified_claim)
    auth.login(finance)
    response = client.post(f"/finance/payments/{payment.id}/reverse", data={"reason": "  "})
    assert response.status_code == 422
    assert "Give the reason for the reversal" in error_summary(response.text)
    assert count_disbursements() == 1


def test_a_payment_cannot_be_reversed_twice(client, auth, make, finance, verified_claim):
    payment = make.pay(verified_claim)
    auth.login(finance)
    client.post(f"/finance/payments/{payment.id}/reverse", data={"reason": "Wrong amount"})
    response = client.post(f"/finance/payments/{payment.id}/reverse", data={"reason": "Again"})
    assert response.status_code == 409
    assert "already been reversed" in error_summary(response.text)
    assert count_disbursements() == 2


def test_payments_list_shows_totals_and_filters_by_fund(client, auth, make, finance):
    first = make.application("approved")
    second = make.application("approved")
    paid = make.pay(make.claim(first, amount_pence=300_00, state="verified"), reference="FIRST-1")
    make.pay(make.claim(second, amount_pence=120_00, state="verified"), reference="SECOND-1")
    auth.login(finance)
    client.post(f"/finance/payments/{paid.id}/reverse", data={"reason": "Duplicate"})

    page = client.get("/finance/payments").text
    assert "FIRST-1" in page and "SECOND-1" in page and "FIRST-1-REV" in page
    assert "£420.00" in page and "-£300.00" in page and "£120.00" in page

    page = client.get("/finance/payments", query_string={"fund_id": second.fund_id}).text
    assert "SECOND-1" in page and "FIRST-1" not in page
    assert f"/finance/payments.csv?fund_id={second.fund_id}" in page
    assert f"/finance/transparency?fund_id={second.fund_id}" in page


def test_payments_list_runs_the_same_queries_for_2_or_10_payments(client, auth, make, finance, count_queries):
    application = make.application("approved", days="10")
    for _ in range(2):
        make.pay(make.claim(application, amount_pence=10_00, state="verified"))
    auth.login(finance)
    few = queries_for(client, count_queries, "/finance/payments")
    for _ in range(8):
        make.pay(make.claim(make.application("approved"), amount_pence=10_00, state="verified"))
    assert queries_for(client, count_queries, "/finance/payments") == few


def test_payments_list_paginates(client, auth, make, finance, app):
    app.config["PER_PAGE"] = 2
    application = make.application("approved", days="10")
    for n in range(3):
        make.pay(make.claim(application, amount_pence=10_00, state="verified"), reference=f"P-{n}")
    auth.login(finance)
    first = client.get("/finance/payments").text
    assert "Showing 1 to 2 of 3 payments" in first and "P-2" in first and "P-0" not in first
    second = client.get("/finance/payments?page=2").text
    assert "P-0" in second and "P-2" not in second


def test_payments_csv_downloads_every_payment_of_the_fund(client, auth, make, finance, verified_claim):
    make.pay(verified_claim, reference="CSV-1")
    auth.login(finance)
    response = client.get(
        "/finance/payments.csv", query_string={"fund_id": verified_claim.application.fund_id}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert any("CSV-1" in row for row in rows[1:])


def test_transparency_page_starts_with_the_funds_year(client, auth, finance, verified_claim):
    fund = verified_claim.application.fund
    auth.login(finance)
    page = client.get("/finance/transparency", query_string={"fund_id": fund.id}).text
    assert "<form" in page and 'method="get"' in page
    assert f'value="{fund.opens_on.year}"' in page and f'value="{fund.closes_on.year}"' in page


def test_transparency_csv_downloads_payments_over_the_threshold(client, auth, make, finance, verified_claim):
    big = make.claim(verified_claim.application, amount_pence=600_00, days="2", state="verified")
    make.pay(big, reference="BIG-1")
    small = make.claim(verified_claim.application, amount_pence=100_00, state="verified")
    make.pay(small, reference="SMALL-1")
    fund = verified_claim.application.fund
    auth.login(finance)
    query = {"fund_id": fund.id, **date_fields("date_from", fund.opens_on), **date_fields("date_to", today())}
    response = client.get("/finance/transparency", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "BIG-1" in response.text and "SMALL-1" not in response.text


def test_transparency_dates_in_the_wrong_order_show_the_error_summary(client, auth, finance, verified_claim):
    fund = verified_claim.application.fund
    auth.login(finance)
    query = {"fund_id": fund.id, **date_fields("date_from", today()), **date_fields("date_to", fund.opens_on)}
    response = client.get("/finance/transparency", query_string=query)
    assert response.status_code == 422
    assert "same as or after the first date" in error_summary(response.text)


@pytest.fixture
def csrf_app():
    """An app with CSRF protection on, as in production (the test config turns it off)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_payment_form_is_refused_without_its_csrf_token(csrf_app):
    make = Factory()
    finance = make.user("finance")
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    client = csrf_app.test_client()
    token = csrf_token(client.get("/sign-in").text)
    client.post("/sign-in", data={"email": finance.email, "password": PASSWORD, "csrf_token": token})

    assert client.post(f"/finance/claims/{claim.id}/pay", data=pay_form()).status_code == 400
    assert count_disbursements() == 0

    token = csrf_token(client.get(f"/finance/claims/{claim.id}/pay").text)
    response = client.post(f"/finance/claims/{claim.id}/pay", data={**pay_form(), "csrf_token": token})
    assert response.status_code == 302
    assert count_disbursements() == 1
