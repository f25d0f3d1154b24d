"""The auditor's rules for funds, claims and payments (issue 10, part 4) through the API:
each refusal is 422 ``validation_failed`` with a message on its field, and writes nothing."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Disbursement, Fund
from fundflow.services.clock import today
from tests.factories import as_of

from .conftest import error_of

#: The services' today for the claim tests: Monday 30 November 2026.
TODAY = date(2026, 11, 30)
APPROVED = date(2026, 11, 2)


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(model.id))).scalar_one()


def fields_of(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert error["code"] == "validation_failed"
    return error["fields"]


# ---------------------------------------------------------------------------- funds


def fund_body(**overrides):
    body = {
        "name": "Delivery fund",
        "financial_year": "2027-28",
        "budget_pence": 100_000_00,
        "opens_on": "2027-04-01",
        "closes_on": "2028-03-31",
        "max_daily_rate_pence": 500_00,
        "delivery_ends_on": "2028-08-31",
    }
    body.update(overrides)
    return body


def test_api_fund_delivery_period_ending_before_the_fund_closes_is_refused(api, make):
    response = api.post("/funds", make.user("admin"), json=fund_body(delivery_ends_on="2028-03-31"))
    assert fields_of(response) == {"delivery_ends_on": ["The delivery period must end after the fund closes"]}
    assert count(Fund) == 0


def test_api_fund_has_the_end_of_its_delivery_period(api, make):
    admin = make.user("admin")
    created = api.post("/funds", admin, json=fund_body())
    assert created.status_code == 201
    assert created.get_json()["delivery_ends_on"] == "2028-08-31"
    defaulted = api.post("/funds", admin, json=fund_body(name="Second", delivery_ends_on=None))
    assert defaulted.get_json()["delivery_ends_on"] == "2029-03-31"
    listed = api.get(f"/funds/{created.get_json()['id']}", admin).get_json()
    assert listed["delivery_ends_on"] == "2028-08-31"


# --------------------------------------------------------------------------- claims


@pytest.fixture
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = TODAY.isoformat()


@pytest.fixture
def fund(make, fixed_today):
    return make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2027, 3, 31), delivery_ends_on=date(2027, 8, 31)
    )


@pytest.fixture
def bid(make, fund):
    return make.application("approved", fund=fund, approved_on=APPROVED, days="10")


def claim_body(**overrides):
    body = {
        "period_start": "2026-11-09",
        "period_end": "2026-11-13",
        "staff_released": "Deputy headteacher",
        "staff_name": "Amina Khan",
        "days": 2,
        "amount_pence": 400_00,
    }
    body.update(overrides)
    return body


def post_claim(api, make, bid, **overrides):
    return api.post(f"/applications/{bid.reference}/claims", make.lead_of(bid), json=claim_body(**overrides))


def test_api_claim_before_the_award_was_approved_is_refused(api, make, fund):
    bid = make.application("approved", fund=fund, approved_on=date(2026, 11, 30))
    response = post_claim(api, make, bid, period_start="2025-11-02", period_end="2025-11-06", days=1)
    assert fields_of(response)["period_start"] == [
        "The award was approved on 30 November 2026: you can only claim for days from then on"
    ]
    assert count(BackfillClaim) == 0


def test_api_claim_for_days_not_yet_happened_is_refused(api, make, bid):
    response = post_claim(api, make, bid, period_end="2026-12-01")
    assert fields_of(response)["period_end"] == ["You can only claim for days that have happened"]


def test_api_claim_after_the_end_of_the_delivery_period_is_refused(api, make, fixed_today):
    fund = make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2026, 9, 30), delivery_ends_on=date(2026, 11, 10)
    )
    with as_of(date(2026, 8, 3)):  # bid for while the fund was open
        bid = make.application("approved", fund=fund, approved_on=APPROVED)
    response = post_claim(api, make, bid)
    assert fields_of(response)["period_end"] == [
        "The fund's delivery period ended on 10 November 2026: you can only claim for days up to then"
    ]
    assert count(BackfillClaim) == 0


def test_api_claimed_days_more_than_the_working_days_are_refused(api, make, bid):
    response = post_claim(api, make, bid, period_start="2026-11-13", period_end="2026-11-16", days=2.5)
    assert "2 working days" in fields_of(response)["days"][0]
    assert count(BackfillClaim) == 0


def test_api_claim_without_the_name_of_the_person_released_is_refused(api, make, bid):
    body = claim_body()
    del body["staff_name"]
    response = api.post(f"/applications/{bid.reference}/claims", make.lead_of(bid), json=body)
    assert "staff_name" in fields_of(response)
    assert fields_of(post_claim(api, make, bid, staff_name="  ")) == {
        "staff_name": ["Enter the name of the person released"]
    }
    assert count(BackfillClaim) == 0


def test_api_exact_duplicate_claim_is_refused(api, make, bid):
    first = post_claim(api, make, bid)
    assert first.status_code == 201
    response = post_claim(api, make, bid)
    assert fields_of(response)["period_start"][0].startswith(
        f"This is the same as claim {first.get_json()['id']}"
    )
    assert count(BackfillClaim) == 1


def test_api_claim_overlapping_the_same_person_on_the_same_bid_is_refused(api, make, bid):
    assert post_claim(api, make, bid).status_code == 201
    response = post_claim(
        api, make, bid, staff_name="amina khan", period_start="2026-11-13", period_end="2026-11-17", days=1
    )
    assert "Amina Khan is already claimed for" in fields_of(response)["period_start"][0]
    assert count(BackfillClaim) == 1


def test_api_claim_overlapping_the_same_person_on_another_bid_is_flagged(api, make, fund):
    lead = make.headteacher()
    first_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    second_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    first = post_claim(api, make, first_bid).get_json()
    assert first["possible_double_funding"] is False
    assert first["overlaps_claim_id"] is None and first["overlaps_application_reference"] is None
    second = post_claim(api, make, second_bid, period_start="2026-11-12")
    assert second.status_code == 201
    body = second.get_json()
    assert body["status"] == "pending" and body["staff_name"] == "Amina Khan"
    assert body["possible_double_funding"] is True
    assert body["overlaps_claim_id"] == first["id"]
    assert body["overlaps_application_reference"] == first_bid.reference
    verified = api.post(f"/claims/{body['id']}/actions", make.liaison(), json={"action": "verify"})
    assert verified.get_json()["possible_double_funding"] is True


# ------------------------------------------------------------------------- payments


@pytest.fixture
def finance(make):
    return make.user("finance")


@pytest.fixture
def verified(make):
    return make.claim(make.application("approved"), amount_pence=600_00, days="2", state="verified")


def pay(api, finance, claim, paid_on, reference="BACS-1"):
    return api.post(
        f"/claims/{claim.id}/disbursements",
        finance,
        json={"amount_pence": claim.amount_pence, "paid_on": paid_on, "reference": reference},
    )


@pytest.mark.parametrize("paid_on", ["2020-11-30", "0001-01-01"])
def test_api_payment_dated_before_the_claim_was_verified_is_refused(api, finance, verified, paid_on):
    fields = fields_of(pay(api, finance, verified, paid_on))
    assert list(fields) == ["paid_on"]
    assert fields["paid_on"][0].startswith(
        "The payment date must be on or after the day the claim was verified"
    )
    assert count(Disbursement) == 0


def test_api_payment_dated_tomorrow_is_refused(api, finance, verified):
    response = pay(api, finance, verified, (today() + timedelta(days=1)).isoformat())
    assert fields_of(response) == {"paid_on": ["The payment date cannot be in the future"]}
    assert count(Disbursement) == 0


def test_api_reversal_says_which_payment_it_reverses(api, finance, verified):
    payment = pay(api, finance, verified, today().isoformat(), reference="BACS-77").get_json()
    assert (payment["reverses_id"], payment["reverses_reference"], payment["reverses_paid_on"]) == (
        None,
        None,
        None,
    )
    reversal = api.post(
        f"/claims/{verified.id}/reversals",
        finance,
        json={"reverses_id": payment["id"], "reason": "Wrong account"},
    )
    assert reversal.status_code == 201
    body = reversal.get_json()
    assert body["amount_pence"] == -600_00 and body["claim_id"] == verified.id
    assert (body["reverses_id"], body["reverses_reference"], body["reverses_paid_on"]) == (
        payment["id"],
        "BACS-77",
        today().isoformat(),
    )


def test_api_reversal_naming_a_payment_of_another_claim_is_refused(api, make, finance, verified):
    payment = pay(api, finance, verified, today().isoformat()).get_json()
    other = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    response = api.post(
        f"/claims/{other.id}/reversals", finance, json={"reverses_id": payment["id"], "reason": "Wrong claim"}
    )
    assert fields_of(response) == {"reverses_id": [f"Payment BACS-1 is not a payment of claim {other.id}"]}
    assert count(Disbursement) == 1


def test_api_reversal_naming_no_payment_is_refused(api, finance, verified):
    response = api.post(
        f"/claims/{verified.id}/reversals", finance, json={"reverses_id": 424242, "reason": "x"}
    )
    assert "reverses_id" in fields_of(response)


def test_api_reversal_of_a_payment_already_reversed_is_refused(api, finance, verified):
    payment = pay(api, finance, verified, today().isoformat()).get_json()
    body = {"reverses_id": payment["id"], "reason": "Wrong account"}
    first = api.post(f"/claims/{verified.id}/reversals", finance, json=body)
    assert first.status_code == 201
    again = api.post(f"/claims/{verified.id}/reversals", finance, json=body)
    assert fields_of(again) == {"reverses_id": ["Payment BACS-1 has already been reversed by BACS-1-REV"]}
    undo = api.post(
        f"/claims/{verified.id}/reversals",
        finance,
        json={"reverses_id": first.get_json()["id"], "reason": "Undo"},
    )
    assert "reverses_id" in fields_of(undo)
    assert count(Disbursement) == 2


def test_a_headteacher_reversing_a_payment_is_forbidden_whatever_the_payment_id(api, make, finance):
    head = make.headteacher()
    claim = make.claim(
        make.application("approved", lead=head), amount_pence=600_00, days="2", state="verified"
    )
    payment = pay(api, finance, claim, today().isoformat()).get_json()
    assert api.get(f"/applications/{claim.application.reference}", head).status_code == 200  # sees the claim
    for reverses_id in (payment["id"], 424242):
        response = api.post(
            f"/claims/{claim.id}/reversals", head, json={"reverses_id": reverses_id, "reason": "Mine"}
        )
        assert response.status_code == 403, response.get_json()
        assert error_of(response)["code"] == "forbidden"
    assert count(Disbursement) == 1


def test_api_payment_already_reversed_is_409_by_its_address_and_422_on_reverses_id_by_its_claim(
    api, finance, verified
):
    payment = pay(api, finance, verified, today().isoformat()).get_json()
    first = api.post(f"/disbursements/{payment['id']}/reverse", finance, json={"reason": "Wrong account"})
    assert first.status_code == 201
    by_address = api.post(f"/disbursements/{payment['id']}/reverse", finance, json={"reason": "Again"})
    assert by_address.status_code == 409
    assert error_of(by_address) == {
        "code": "invalid_state",
        "message": "Payment BACS-1 has already been reversed by BACS-1-REV",
    }
    reversal_by_address = api.post(
        f"/disbursements/{first.get_json()['id']}/reverse", finance, json={"reason": "Undo"}
    )
    assert reversal_by_address.status_code == 409
    assert error_of(reversal_by_address)["code"] == "invalid_state"
    by_claim = api.post(
        f"/claims/{verified.id}/reversals", finance, json={"reverses_id": payment["id"], "reason": "Again"}
    )
    assert fields_of(by_claim) == {"reverses_id": ["Payment BACS-1 has already been reversed by BACS-1-REV"]}
    assert count(Disbursement) == 2


def test_api_transparency_file_names_the_payment_each_reversal_reverses(api, finance, verified):
    payment = pay(api, finance, verified, today().isoformat(), reference="BACS-900").get_json()
    api.post(f"/disbursements/{payment['id']}/reverse", finance, json={"reason": "Paid twice"})
    fund_id = verified.application.fund_id
    response = api.get(f"/exports/transparency.csv?fund_id={fund_id}", finance)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [
        (r["Transaction Number"], r["Reverses Transaction Number"], r["Reverses Payment Date"]) for r in rows
    ] == [
        ("BACS-900", "", ""),
        ("BACS-900-REV", "BACS-900", today().isoformat()),
    ]
