"""Backfill claims, their verification, payments and reversals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.services.clock import today

from .conftest import error_of

CLAIM_FIELDS = {
    "id",
    "application_reference",
    "status",
    "period_start",
    "period_end",
    "staff_released",
    "staff_name",
    "days",
    "amount_pence",
    "paid_pence",
    "possible_double_funding",
    "overlaps_claim_id",
    "overlaps_application_reference",
}


def claim_body(**overrides):
    end = today() - timedelta(days=1)
    body = {
        "period_start": (end - timedelta(days=6)).isoformat(),
        "period_end": end.isoformat(),
        "staff_released": "Deputy head",
        "staff_name": "Amina Khan",
        "days": 1.5,
        "amount_pence": 450_00,
    }
    body.update(overrides)
    return body


def payment_body(amount_pence: int, reference: str = "PAY-0001"):
    return {"amount_pence": amount_pence, "paid_on": today().isoformat(), "reference": reference}


@pytest.fixture
def approved(make):
    head = make.headteacher()
    liaison = make.liaison()
    app = make.application("approved", lead=head, liaison=liaison)
    return app, head, liaison


def test_lead_headteacher_claims_backfill(api, approved):
    app, head, _ = approved
    response = api.post(f"/applications/{app.reference}/claims", head, json=claim_body())
    assert response.status_code == 201
    claim = response.get_json()
    assert set(claim) >= CLAIM_FIELDS
    assert claim["status"] == "pending"
    assert claim["application_reference"] == app.reference
    assert claim["days"] == 1.5
    assert claim["amount_pence"] == 450_00 and claim["paid_pence"] == 0


def test_partner_headteacher_cannot_claim(api, make):
    partner = make.school()
    app = make.application("approved", partner=partner)
    response = api.post(
        f"/applications/{app.reference}/claims", make.headteacher(school=partner), json=claim_body()
    )
    assert response.status_code == 403


def test_claim_before_approval_is_409(api, make):
    head = make.headteacher()
    app = make.application("submitted", lead=head)
    response = api.post(f"/applications/{app.reference}/claims", head, json=claim_body())
    assert response.status_code == 409


def test_claim_for_days_not_yet_happened_is_422(api, approved):
    app, head, _ = approved
    body = claim_body(period_end=(today() + timedelta(days=3)).isoformat())
    response = api.post(f"/applications/{app.reference}/claims", head, json=body)
    assert response.status_code == 422
    assert "period_end" in error_of(response)["fields"]


def test_claim_with_bad_date_is_422(api, approved):
    app, head, _ = approved
    response = api.post(
        f"/applications/{app.reference}/claims", head, json=claim_body(period_start="2026-13-01")
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"period_start": ["Not a valid date."]}


def test_liaison_officer_verifies_a_claim(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app)
    response = api.post(f"/claims/{claim.id}/actions", make.liaison(), json={"action": "verify"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= CLAIM_FIELDS
    assert body["status"] == "verified"
    assert body["id"] == claim.id


def test_liaison_officer_rejects_a_claim_with_a_reason(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app)
    liaison = make.liaison()
    assert api.post(f"/claims/{claim.id}/actions", liaison, json={"action": "reject"}).status_code == 422
    response = api.post(
        f"/claims/{claim.id}/actions", liaison, json={"action": "reject", "comment": "Wrong dates"}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"


def test_headteacher_cannot_verify_own_claim(api, approved, make):
    app, head, _ = approved
    claim = make.claim(app)
    assert api.post(f"/claims/{claim.id}/actions", head, json={"action": "verify"}).status_code == 403


def test_verifying_a_verified_claim_is_409(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="verified")
    assert (
        api.post(f"/claims/{claim.id}/actions", make.liaison(), json={"action": "verify"}).status_code == 409
    )


def test_claim_of_another_school_is_404(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app)
    assert (
        api.post(f"/claims/{claim.id}/actions", make.headteacher(), json={"action": "verify"}).status_code
        == 404
    )


def test_finance_records_a_payment(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, amount_pence=300_00, state="verified")
    response = api.post(f"/claims/{claim.id}/disbursements", make.user("finance"), json=payment_body(300_00))
    assert response.status_code == 201
    body = response.get_json()
    assert body["amount_pence"] == 300_00
    assert body["reference"] == "PAY-0001"
    assert body["claim_id"] == claim.id
    assert body["application_reference"] == app.reference
    assert body["payee_school_urn"] == app.lead_school.urn
    assert body["reverses_id"] is None
    got = api.get(f"/applications/{app.reference}", make.user("auditor")).get_json()
    assert got["paid_pence"] == 300_00 and got["claimed_pence"] == 300_00


@pytest.mark.parametrize("role", ["liaison_officer", "auditor"])
def test_only_finance_records_payments(api, make, approved, role):
    app, _, _ = approved
    claim = make.claim(app, state="verified")
    response = api.post(f"/claims/{claim.id}/disbursements", make.user(role), json=payment_body(300_00))
    assert response.status_code == 403


def test_admin_cannot_even_see_a_claim_to_pay_it(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="verified")
    response = api.post(f"/claims/{claim.id}/disbursements", make.user("admin"), json=payment_body(300_00))
    assert response.status_code == 404


def test_finance_officer_who_decided_the_award_cannot_pay_it(api, make):
    decider = make.user("liaison_officer", "finance")
    app = make.application("approved", liaison=decider)
    claim = make.claim(app, state="verified")
    response = api.post(f"/claims/{claim.id}/disbursements", decider, json=payment_body(300_00))
    assert response.status_code == 403
    assert "deciding" in error_of(response)["message"]


def test_duplicate_payment_reference_is_409(api, make):
    fund = make.fund()
    app1 = make.application("approved", fund=fund)
    app2 = make.application("approved", fund=fund)
    finance = make.user("finance")
    first = make.claim(app1, state="verified")
    second = make.claim(app2, state="verified")
    assert (
        api.post(f"/claims/{first.id}/disbursements", finance, json=payment_body(300_00, "DUP-1")).status_code
        == 201
    )
    response = api.post(f"/claims/{second.id}/disbursements", finance, json=payment_body(300_00, "DUP-1"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_reference"


def test_paying_an_unverified_claim_is_409(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app)
    response = api.post(f"/claims/{claim.id}/disbursements", make.user("finance"), json=payment_body(300_00))
    assert response.status_code == 409


def test_paying_more_than_the_claim_is_422(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, amount_pence=300_00, state="verified")
    response = api.post(f"/claims/{claim.id}/disbursements", make.user("finance"), json=payment_body(300_01))
    assert response.status_code == 422
    assert "amount_pence" in error_of(response)["fields"]


def test_finance_reverses_a_payment_with_a_reason(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, amount_pence=300_00, state="verified")
    finance = make.user("finance")
    paid = api.post(f"/claims/{claim.id}/disbursements", finance, json=payment_body(300_00)).get_json()
    response = api.post(
        f"/disbursements/{paid['id']}/reverse", finance, json={"reason": "Paid the wrong school"}
    )
    assert response.status_code == 201
    reversal = response.get_json()
    assert reversal["amount_pence"] == -300_00
    assert reversal["reverses_id"] == paid["id"]
    assert reversal["reason"] == "Paid the wrong school"
    assert api.get(f"/applications/{app.reference}", finance).get_json()["paid_pence"] == 0


def test_reversal_needs_a_reason(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="paid")
    from fundflow.models import Disbursement

    disbursement = Disbursement.query.filter_by(claim_id=claim.id).one()
    response = api.post(
        f"/disbursements/{disbursement.id}/reverse", make.user("finance"), json={"reason": " "}
    )
    assert response.status_code == 422
    assert "reason" in error_of(response)["fields"]


def test_reversing_twice_is_409(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="paid")
    from fundflow.models import Disbursement

    disbursement = Disbursement.query.filter_by(claim_id=claim.id).one()
    finance = make.user("finance")
    first = api.post(f"/disbursements/{disbursement.id}/reverse", finance, json={"reason": "x"})
    assert first.status_code == 201
    again = api.post(f"/disbursements/{disbursement.id}/reverse", finance, json={"reason": "x"})
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_state"
    assert "already been reversed" in error_of(again)["message"]


def test_reversing_a_reversal_by_its_own_address_is_409(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="paid")
    from fundflow.models import Disbursement

    disbursement = Disbursement.query.filter_by(claim_id=claim.id).one()
    finance = make.user("finance")
    reversal = api.post(f"/disbursements/{disbursement.id}/reverse", finance, json={"reason": "x"}).get_json()
    undo = api.post(f"/disbursements/{reversal['id']}/reverse", finance, json={"reason": "Undo"})
    assert undo.status_code == 409
    assert error_of(undo)["code"] == "invalid_state"
    assert "reverses_id" not in error_of(undo).get("fields", {})  # this body has no reverses_id
    assert Disbursement.query.count() == 2


def test_only_finance_reverses(api, make, approved):
    app, _, _ = approved
    claim = make.claim(app, state="paid")
    from fundflow.models import Disbursement

    disbursement = Disbursement.query.filter_by(claim_id=claim.id).one()
    response = api.post(
        f"/disbursements/{disbursement.id}/reverse", make.user("auditor"), json={"reason": "x"}
    )
    assert response.status_code == 403


def test_missing_disbursement_is_404(api, make):
    assert (
        api.post("/disbursements/424242/reverse", make.user("finance"), json={"reason": "x"}).status_code
        == 404
    )
