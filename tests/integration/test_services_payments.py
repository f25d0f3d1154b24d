"""Disbursements: finance pays verified claims, never its own decisions; reversals undo a
payment with a new row and a reason."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Disbursement, Event
from fundflow.services import ledger, payments
from fundflow.services.clock import today
from fundflow.services.errors import Conflict, InvalidTransition, NotPermitted, ValidationFailed


def pay(user, claim, amount=None, reference="PAY-1", paid_on=None):
    return payments.record_disbursement(
        user,
        claim,
        payments.DisbursementInput(
            amount_pence=claim.amount_pence if amount is None else amount,
            paid_on=paid_on or today().isoformat(),
            reference=reference,
        ),
    )


def disbursements_count() -> int:
    return db.session.execute(select(func.count(Disbursement.id))).scalar_one()


def test_finance_pays_a_verified_claim_in_full(make):
    bid = make.application("approved")
    claim = make.claim(bid, state="verified")
    finance = make.user("finance")
    disbursement = pay(finance, claim, reference="BACS-0001")
    assert claim.status == "paid"
    assert (disbursement.amount_pence, disbursement.reference) == (300_00, "BACS-0001")
    assert disbursement.payee_school_id == bid.lead_school_id
    assert disbursement.fund_id == bid.fund_id
    assert ledger.ledger(bid.fund_id).paid_pence == 300_00
    event = db.session.execute(select(Event).where(Event.action == "record_disbursement")).scalar_one()
    assert (event.from_status, event.to_status) == ("verified", "paid")


def test_part_payments_settle_the_claim_when_complete(make):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    finance = make.user("finance")
    pay(finance, claim, 100_00, "PART-1")
    assert claim.status == "verified"
    pay(finance, claim, 200_00, "PART-2")
    assert claim.status == "paid"


def test_payment_over_what_is_unpaid_on_the_claim_refused(make):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    finance = make.user("finance")
    pay(finance, claim, 100_00, "PART-1")
    with pytest.raises(ValidationFailed) as failed:
        pay(finance, claim, 200_01, "PART-2")
    assert "amount_pence" in failed.value.fields
    assert disbursements_count() == 1


def test_finance_officer_who_decided_award_cannot_pay_it(make):
    decider = make.user("liaison_officer", "finance")
    bid = make.application("approved", liaison=decider)
    claim = make.claim(bid, state="verified")
    with pytest.raises(NotPermitted):
        pay(decider, claim)
    assert claim.status == "verified"
    assert disbursements_count() == 0


def test_finance_officer_who_countersigned_award_cannot_pay_it(make):
    countersigner = make.user("liaison_officer", "finance")
    bid = make.application(
        "approved", fund=make.fund(countersign_threshold_pence=1_00), second_liaison=countersigner
    )
    assert bid.countersigned_by_id == countersigner.id
    claim = make.claim(bid, state="verified")
    with pytest.raises(NotPermitted):
        pay(countersigner, claim)


@pytest.mark.parametrize("role", ["liaison_officer", "headteacher", "auditor", "admin"])
def test_only_finance_records_payments(make, role):
    claim = make.claim(make.application("approved"), state="verified")
    with pytest.raises(NotPermitted):
        pay(make.user(role), claim)


@pytest.mark.parametrize("state", ["pending", "rejected", "paid"])
def test_only_a_verified_claim_is_paid(make, state):
    claim = make.claim(make.application("approved"), state=state)
    before = disbursements_count()
    with pytest.raises(InvalidTransition):
        pay(make.user("finance"), claim, reference="PAY-X")
    assert disbursements_count() == before


def test_duplicate_payment_reference_in_fund_refused(make):
    fund = make.fund()
    finance = make.user("finance")
    first = make.claim(make.application("approved", fund=fund), state="verified")
    second = make.claim(make.application("approved", fund=fund), state="verified")
    pay(finance, first, reference="BACS-42")
    with pytest.raises(Conflict) as conflict:
        pay(finance, second, reference="BACS-42")
    assert conflict.value.code == "duplicate_reference"
    assert second.status == "verified"
    # another fund's ledger has its own references
    elsewhere = make.claim(make.application("approved"), state="verified")
    pay(finance, elsewhere, reference="BACS-42")
    assert elsewhere.status == "paid"


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("amount_pence", {"amount": 0}),
        ("amount_pence", {"amount": -5}),
        ("paid_on", {"paid_on": (date.today() + timedelta(days=400)).isoformat()}),
        ("paid_on", {"paid_on": "yesterday"}),
        ("reference", {"reference": ""}),
        ("reference", {"reference": "has spaces"}),
        ("reference", {"reference": "x" * 61}),
    ],
)
def test_payment_details_are_checked(make, field, overrides):
    claim = make.claim(make.application("approved"), state="verified")
    with pytest.raises(ValidationFailed) as failed:
        pay(make.user("finance"), claim, **overrides)
    assert field in failed.value.fields


def test_payments_only_while_the_award_is_approved(make):
    bid = make.application("approved")
    claim = make.claim(bid, state="paid")
    make.act(bid, make.lead_of(bid), "finish_delivery")
    finance = make.user("finance")
    original = db.session.execute(select(Disbursement)).scalar_one()
    payments.reverse_disbursement(finance, original, "Paid twice by the bank")
    assert claim.status == "verified"
    with pytest.raises(InvalidTransition):
        pay(finance, claim, reference="PAY-AGAIN")


# ----------------------------------------------------------------------------- reversals


def test_reversal_restores_claim_to_verified_and_frees_money(make):
    fund = make.fund()
    bid = make.application("approved", fund=fund)
    claim = make.claim(bid, state="paid")
    original = db.session.execute(select(Disbursement)).scalar_one()
    finance = make.user("finance")
    reversal = payments.reverse_disbursement(finance, original, "Paid to the wrong account")
    assert claim.status == "verified"
    assert (reversal.amount_pence, reversal.reverses_id, reversal.reason) == (
        -300_00,
        original.id,
        "Paid to the wrong account",
    )
    assert original.amount_pence == 300_00  # the original is never changed
    assert ledger.ledger(fund.id).paid_pence == 0
    assert ledger.application_money([bid.id])[bid.id] == (300_00, 0)
    assert ledger.claim_paid_pence([claim.id])[claim.id] == 0
    pay(finance, claim, reference="PAY-RIGHT")  # it can be paid properly now
    assert claim.status == "paid"
    assert ledger.ledger(fund.id).paid_pence == 300_00
    event = db.session.execute(select(Event).where(Event.action == "reverse_disbursement")).scalar_one()
    assert (event.from_status, event.to_status) == ("paid", "verified")


def test_reversal_after_delivery_finished_lowers_the_commitment(make):
    fund = make.fund()
    bid = make.application("approved", fund=fund)
    make.claim(bid, state="paid")
    make.act(bid, make.lead_of(bid), "finish_delivery")
    assert ledger.ledger(fund.id).committed_pence == 300_00
    original = db.session.execute(select(Disbursement)).scalar_one()
    payments.reverse_disbursement(make.user("finance"), original, "Refunded by the school")
    assert ledger.ledger(fund.id).committed_pence == 0


def test_reversal_needs_a_reason(make):
    make.claim(make.application("approved"), state="paid")
    original = db.session.execute(select(Disbursement)).scalar_one()
    with pytest.raises(ValidationFailed) as failed:
        payments.reverse_disbursement(make.user("finance"), original, "  ")
    assert "reason" in failed.value.fields


def test_payment_is_reversed_once_and_a_reversal_never(make):
    make.claim(make.application("approved"), state="paid")
    original = db.session.execute(select(Disbursement)).scalar_one()
    finance = make.user("finance")
    reversal = payments.reverse_disbursement(finance, original, "Wrong account")
    with pytest.raises(InvalidTransition) as failed:
        payments.reverse_disbursement(finance, original, "Again")
    assert (
        failed.value.message
        == f"Payment {original.reference} has already been reversed by {reversal.reference}"
    )
    with pytest.raises(InvalidTransition) as failed:
        payments.reverse_disbursement(finance, reversal, "Undo the undo")
    assert failed.value.message == f"{reversal.reference} is a reversal: a reversal cannot be reversed"
    assert disbursements_count() == 2


def test_finance_officer_who_decided_award_cannot_reverse_its_payments(make):
    decider = make.user("liaison_officer", "finance")
    bid = make.application("approved", liaison=decider)
    make.claim(bid, state="paid")
    original = db.session.execute(select(Disbursement)).scalar_one()
    with pytest.raises(NotPermitted):
        payments.reverse_disbursement(decider, original, "Mine")


def test_only_finance_reverses_payments(make):
    make.claim(make.application("approved"), state="paid")
    original = db.session.execute(select(Disbursement)).scalar_one()
    with pytest.raises(NotPermitted):
        payments.reverse_disbursement(make.liaison(), original, "Wrong")


def test_reversing_a_part_payment_keeps_the_claim_verified(make):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    finance = make.user("finance")
    part = pay(finance, claim, 100_00, "PART-1")
    payments.reverse_disbursement(finance, part, "Wrong amount")
    db.session.expire_all()
    assert db.session.get(BackfillClaim, claim.id).status == "verified"
    assert ledger.claim_paid_pence([claim.id])[claim.id] == 0


def test_payment_with_a_sixty_character_reference_can_be_reversed(make):
    claim = make.claim(make.application("approved"), state="verified")
    finance = make.user("finance")
    original = pay(finance, claim, reference="A" * 60)
    reversal = payments.reverse_disbursement(finance, original, "Wrong account")
    assert reversal.reference == "A" * 56 + "-REV"
    assert claim.status == "verified"


def test_reversal_reference_already_typed_for_a_payment_does_not_block_the_reversal(make):
    bid = make.application("approved")
    finance = make.user("finance")
    pay(finance, make.claim(bid, state="verified"), reference="PAY-1-REV")
    original = pay(finance, make.claim(bid, state="verified"), reference="PAY-1")
    reversal = payments.reverse_disbursement(finance, original, "Wrong account")
    assert reversal.reference == "PAY-1-REV2"
