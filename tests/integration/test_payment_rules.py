"""The auditor's rules for payments and funds (issue 10, part 4), on the service and the site:
a payment is dated on or after the claim's verification and not in the future; a reversal
names the payment it reverses (a payment of the same claim, not already reversed) and its
row in the transparency file carries that payment's transaction number and date; a fund's
delivery period ends after it closes."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from fundflow.dates import long_date
from fundflow.extensions import db
from fundflow.models import Disbursement, Fund
from fundflow.reports import exports
from fundflow.services import admin, payments
from fundflow.services.clock import today
from fundflow.services.errors import InvalidTransition, NotPermitted, ValidationFailed


def payment_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(Disbursement.id))).scalar_one()


def pay(finance, claim, paid_on, reference: str = "BACS-1", amount_pence: int | None = None) -> Disbursement:
    return payments.record_disbursement(
        finance,
        claim,
        payments.DisbursementInput(
            amount_pence=amount_pence or claim.amount_pence, paid_on=paid_on, reference=reference
        ),
    )


@pytest.fixture
def finance(make):
    return make.user("finance")


@pytest.fixture
def verified(make):
    return make.claim(make.application("approved"), amount_pence=600_00, days="2", state="verified")


def verified_days_ago(claim, days: int) -> date:
    """Say the claim was verified ``days`` ago (a test shortcut: the service stamps now)."""
    moment = datetime.combine(today() - timedelta(days=days), datetime.min.time()) + timedelta(hours=10)
    claim.verified_at = moment
    db.session.commit()
    return moment.date()


# ---------------------------------------------------------------------- payment dates


@pytest.mark.parametrize("paid_on", ["2020-11-30", "0001-01-01"])
def test_payment_dated_before_the_claim_was_verified_is_refused(finance, verified, paid_on):
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, verified, paid_on)
    verified_on = verified.verified_at.date()
    assert failed.value.fields == {
        "paid_on": [
            "The payment date must be on or after the day the claim was verified, "
            f"{verified_on.day} {verified_on:%B %Y}"
        ]
    }
    assert payment_count() == 0 and verified.status == "verified"


def test_payment_dated_the_day_before_verification_is_refused_and_on_the_day_accepted(finance, verified):
    verified_on = verified_days_ago(verified, 5)
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, verified, (verified_on - timedelta(days=1)).isoformat())
    assert "paid_on" in failed.value.fields
    assert pay(finance, verified, verified_on.isoformat()).paid_on == verified_on


def test_payment_dated_before_verification_is_refused_with_the_other_errors_at_once(finance, verified):
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, verified, "2020-11-30", reference="not a reference!")
    assert set(failed.value.fields) == {"paid_on", "reference"}


def test_payment_date_is_checked_against_the_verification_of_the_locked_claim(finance, verified):
    stale = SimpleNamespace(id=verified.id, application_id=verified.application_id, amount_pence=600_00)
    stale.verified_at = None  # a copy read before the claim was verified
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, stale, "2020-11-30")
    assert "paid_on" in failed.value.fields
    assert payment_count() == 0


def test_payment_dated_tomorrow_is_refused(finance, verified):
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, verified, (today() + timedelta(days=1)).isoformat())
    assert failed.value.fields == {"paid_on": ["The payment date cannot be in the future"]}
    assert payment_count() == 0


def test_payment_dated_today_after_verification_today_is_accepted(finance, verified):
    assert pay(finance, verified, today().isoformat()).paid_on == today()


# ------------------------------------------------------------------------- reversals


def test_reversal_names_the_payment_it_reverses(finance, verified):
    original = pay(finance, verified, today(), reference="BACS-77")
    reversal = payments.reverse_disbursement(finance, original, "Paid to the wrong account")
    assert reversal.reverses_id == original.id
    assert (reversal.reverses_reference, reversal.reverses_paid_on) == ("BACS-77", original.paid_on)
    assert (original.reverses_reference, original.reverses_paid_on) == (None, None)


def test_reversal_naming_a_payment_of_another_claim_is_refused(make, finance, verified):
    original = pay(finance, verified, today(), reference="BACS-1")
    other = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_payment_of_claim(finance, other, original.id, "Wrong claim")
    assert failed.value.fields == {"reverses_id": [f"Payment BACS-1 is not a payment of claim {other.id}"]}
    assert payment_count() == 1


def test_reversal_naming_no_payment_is_refused(finance, verified):
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_payment_of_claim(finance, verified, 999_999, "Nothing")
    assert failed.value.fields == {"reverses_id": [f"Choose a payment of claim {verified.id} to reverse"]}


def test_a_headteacher_reversing_a_payment_is_forbidden_whatever_the_payment_id(make, finance):
    head = make.headteacher()
    claim = make.claim(
        make.application("approved", lead=head), amount_pence=600_00, days="2", state="verified"
    )
    original = pay(finance, claim, today(), reference="BACS-1")
    for reverses_id in (original.id, 999_999, "not a number"):
        with pytest.raises(NotPermitted):
            payments.reverse_payment_of_claim(head, claim, reverses_id, "")
    assert payment_count() == 1


def test_reversal_naming_no_payment_without_a_reason_shows_both_errors(finance, verified):
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_payment_of_claim(finance, verified, 999_999, "  ")
    assert failed.value.fields == {
        "reverses_id": [f"Choose a payment of claim {verified.id} to reverse"],
        "reason": ["Give the reason for the reversal"],
    }


def test_reversal_by_the_payment_alone_of_a_reversal_or_a_payment_already_reversed_is_invalid_state(
    finance, verified
):
    original = pay(finance, verified, today(), reference="BACS-1")
    first = payments.reverse_disbursement(finance, original, "Wrong account")
    with pytest.raises(InvalidTransition, match="Payment BACS-1 has already been reversed by BACS-1-REV"):
        payments.reverse_disbursement(finance, original, "Again")
    with pytest.raises(InvalidTransition, match="BACS-1-REV is a reversal: a reversal cannot be reversed"):
        payments.reverse_disbursement(finance, first, "Undo the undo")
    assert payment_count() == 2


def test_reversal_of_a_payment_already_reversed_is_refused(finance, verified):
    original = pay(finance, verified, today(), reference="BACS-1")
    first = payments.reverse_payment_of_claim(finance, verified, original.id, "Wrong account")
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_payment_of_claim(finance, verified, original.id, "Again")
    assert failed.value.fields == {
        "reverses_id": [f"Payment BACS-1 has already been reversed by {first.reference}"]
    }
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_payment_of_claim(finance, verified, first.id, "Undo the undo")
    assert failed.value.fields == {
        "reverses_id": [f"{first.reference} is a reversal: a reversal cannot be reversed"]
    }
    assert payment_count() == 2


def test_reversal_row_in_the_transparency_file_carries_the_reversed_payments_number_and_date(
    finance, verified
):
    verified_on = verified_days_ago(verified, 3)
    original = pay(finance, verified, verified_on.isoformat(), reference="BACS-900")
    payments.reverse_disbursement(finance, original, "Paid twice")
    rows = list(csv.DictReader(io.StringIO(exports.transparency_csv(original.fund_id, None, None))))
    assert [(r["Transaction Number"], r["Amount"]) for r in rows] == [
        ("BACS-900", "600.00"),
        ("BACS-900-REV", "-600.00"),
    ]
    assert (rows[0]["Reverses Transaction Number"], rows[0]["Reverses Payment Date"]) == ("", "")
    assert rows[1]["Reverses Transaction Number"] == "BACS-900"
    assert rows[1]["Reverses Payment Date"] == verified_on.isoformat()
    assert rows[1]["Date"] == today().isoformat()


def test_payments_file_names_the_payment_a_reversal_reverses(finance, verified):
    original = pay(finance, verified, today(), reference="BACS-5")
    payments.reverse_disbursement(finance, original, "Paid twice")
    rows = list(csv.DictReader(io.StringIO(exports.payments_csv(original.fund_id))))
    assert rows[1]["reverses_id"] == str(original.id)
    assert (rows[1]["reverses_reference"], rows[1]["reverses_paid_on"]) == ("BACS-5", today().isoformat())


# ------------------------------------------------------------------------ fund rules


def fund_input(**overrides) -> admin.FundInput:
    data = {
        "name": "Delivery fund",
        "financial_year": "2027-28",
        "budget_pence": 100_000_00,
        "opens_on": "2027-04-01",
        "closes_on": "2028-03-31",
        "max_daily_rate_pence": 500_00,
        "delivery_ends_on": "2028-08-31",
    }
    data.update(overrides)
    return admin.FundInput(**data)


@pytest.mark.parametrize("delivery_ends_on", ["2028-03-31", "2027-12-01"])
def test_fund_delivery_period_ending_on_or_before_the_closing_date_is_refused(app, delivery_ends_on):
    with pytest.raises(ValidationFailed) as failed:
        admin.create_fund(None, fund_input(delivery_ends_on=delivery_ends_on))
    assert failed.value.fields == {"delivery_ends_on": ["The delivery period must end after the fund closes"]}
    assert db.session.execute(select(func.count(Fund.id))).scalar_one() == 0


def test_fund_delivery_period_that_is_not_a_date_is_refused(app):
    with pytest.raises(ValidationFailed) as failed:
        admin.create_fund(None, fund_input(delivery_ends_on="next summer"))
    assert "delivery_ends_on" in failed.value.fields


def test_fund_keeps_the_end_of_its_delivery_period_or_a_year_after_closing_by_default(app):
    assert admin.create_fund(None, fund_input()).delivery_ends_on == date(2028, 8, 31)
    assert admin.create_fund(None, fund_input(delivery_ends_on=None)).delivery_ends_on == date(2029, 3, 31)


def test_fund_closing_on_the_last_representable_day_needs_an_explicit_delivery_end(app):
    with pytest.raises(ValidationFailed) as failed:
        admin.create_fund(None, fund_input(closes_on="9999-12-31", delivery_ends_on=None))
    assert "delivery_ends_on" in failed.value.fields


def test_fund_delivery_period_is_checked_when_the_rules_are_edited(make):
    fund = make.fund()
    with pytest.raises(ValidationFailed) as failed:
        admin.update_fund(None, fund, fund_input(delivery_ends_on="2028-01-01"))
    assert "delivery_ends_on" in failed.value.fields


# ------------------------------------------------------------------------- the site


def date_fields(name: str, day: date) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)]}


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error on {field}"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


@pytest.mark.parametrize("paid_on", [date(2020, 11, 30), "tomorrow"])
def test_site_payment_dated_before_verification_or_in_the_future_is_refused_on_its_field(
    client, auth, finance, verified, paid_on
):
    day = today() + timedelta(days=1) if paid_on == "tomorrow" else paid_on
    auth.login(finance)
    response = client.post(
        f"/finance/claims/{verified.id}/pay",
        data={"amount": "600.00", "reference": "BACS-1", **date_fields("paid_on", day)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#paid_on' in page
    message = field_error(page, "paid_on")
    assert (
        "cannot be in the future" if paid_on == "tomorrow" else "on or after the day the claim was verified"
    ) in (message)
    assert payment_count() == 0


def test_site_payments_list_says_which_payment_a_reversal_reverses(client, auth, finance, verified):
    original = pay(finance, verified, today(), reference="BACS-42")
    auth.login(finance)
    response = client.post(f"/finance/payments/{original.id}/reverse", data={"reason": "Paid twice"})
    assert response.status_code == 302
    page = client.get("/finance/payments").get_data(as_text=True)
    assert f"Reverses BACS-42 paid {long_date(today())}" in page


def test_site_reversal_of_a_payment_already_reversed_is_refused(client, auth, finance, verified):
    original = pay(finance, verified, today(), reference="BACS-1")
    auth.login(finance)
    client.post(f"/finance/payments/{original.id}/reverse", data={"reason": "Wrong"})
    response = client.post(f"/finance/payments/{original.id}/reverse", data={"reason": "Again"})
    assert response.status_code == 409
    assert "Payment BACS-1 has already been reversed by BACS-1-REV" in response.get_data(as_text=True)
    assert payment_count() == 2


@pytest.mark.parametrize("area", ["finance", "auditor"])
def test_site_transparency_file_names_the_payment_each_reversal_reverses(
    client, auth, make, finance, verified, area
):
    original = pay(finance, verified, today(), reference="BACS-900")
    payments.reverse_disbursement(finance, original, "Paid twice")
    fund = verified.application.fund
    auth.login(finance if area == "finance" else make.user("auditor"))
    query = {"fund_id": fund.id, **date_fields("date_from", fund.opens_on), **date_fields("date_to", today())}
    response = client.get(f"/{area}/transparency", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    reversal = next(r for r in rows if r["Transaction Number"] == "BACS-900-REV")
    assert (reversal["Reverses Transaction Number"], reversal["Reverses Payment Date"]) == (
        "BACS-900",
        today().isoformat(),
    )


FUND_FORM = {
    "name": "Delivery fund",
    "financial_year": "2027-28",
    "budget": "100000",
    "max_daily_rate": "500",
    "max_award": "",
    "countersign_threshold": "",
    "requires_partner_endorsement": "no",
    **date_fields("opens_on", date(2027, 4, 1)),
    **date_fields("closes_on", date(2028, 3, 31)),
    **date_fields("delivery_ends_on", date(2028, 8, 31)),
}


def test_site_fund_delivery_period_ending_before_the_fund_closes_is_refused_on_its_field(client, auth, make):
    auth.login(make.user("admin"))
    response = client.post(
        "/admin/funds/new", data={**FUND_FORM, **date_fields("delivery_ends_on", date(2028, 3, 1))}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#delivery_ends_on' in page
    assert (
        field_error(page, "delivery_ends_on") == "Error: The delivery period must end after the fund closes"
    )
    assert db.session.execute(select(func.count(Fund.id))).scalar_one() == 0


def test_site_fund_form_saves_and_shows_the_end_of_delivery(client, auth, make):
    auth.login(make.user("admin"))
    assert client.post("/admin/funds/new", data=FUND_FORM).status_code == 302
    fund = db.session.execute(select(Fund)).scalar_one()
    assert fund.delivery_ends_on == date(2028, 8, 31)
    page = client.get(f"/admin/funds/{fund.id}/edit").get_data(as_text=True)
    for part, value in (("day", "31"), ("month", "08"), ("year", "2028")):
        assert re.search(
            rf'id="delivery_ends_on-{part}" name="delivery_ends_on" type="text" value="{value}"', page
        )
