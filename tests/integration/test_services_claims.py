"""Backfill claims: made while approved, within the award and the daily cap; verified or
rejected by a liaison officer with no link to the schools."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Disbursement, Event
from fundflow.services import claims, payments
from fundflow.services.clock import today
from fundflow.services.errors import InvalidTransition, NotPermitted, ValidationFailed
from fundflow.services.evidence import Upload

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def claim_input(**overrides) -> claims.ClaimInput:
    end = today() - timedelta(days=1)
    data = {
        "period_start": (end - timedelta(days=4)).isoformat(),
        "period_end": end.isoformat(),
        "staff_released": "Deputy head",
        "staff_name": "Sam Patel",
        "days": "2",
        "amount_pence": 400_00,
        "evidence": None,
    }
    data.update(overrides)
    return claims.ClaimInput(**data)


def events_count() -> int:
    return db.session.execute(select(func.count(Event.id))).scalar_one()


def test_lead_headteacher_claims_backfill_on_an_approved_award(make):
    bid = make.application("approved")
    claim = claims.create_claim(make.lead_of(bid), bid, claim_input(evidence=Upload("cover.pdf", PDF)))
    assert claim.status == "pending"
    assert claim.evidence.content_type == "application/pdf"
    event = db.session.execute(select(Event).where(Event.subject_type == "claim")).scalar_one()
    assert (event.action, event.from_status, event.to_status) == ("create_claim", None, "pending")
    assert event.payload["amount_pence"] == 400_00


@pytest.mark.parametrize(
    "state",
    [
        "draft",
        "submitted",
        "under_review",
        "awaiting_countersign",
        "monitoring",
        "cancelled",
        "closed",
        "rejected",
    ],
)
def test_claims_only_while_approved(make, state):
    bid = make.application(state)
    with pytest.raises(InvalidTransition):
        claims.create_claim(make.lead_of(bid), bid, claim_input())
    assert db.session.execute(select(func.count(BackfillClaim.id))).scalar_one() == 0


def test_partner_headteacher_cannot_claim_for_the_lead_school(make):
    partner_school = make.school()
    bid = make.application("approved", partner=partner_school)
    with pytest.raises(NotPermitted):
        claims.create_claim(make.headteacher(school=partner_school), bid, claim_input())


def test_claim_over_what_is_left_of_the_award_refused(make):
    bid = make.application("approved", awarded_pence=1_000_00)
    make.claim(bid, amount_pence=400_00, days="1")
    make.claim(bid, amount_pence=400_00, days="1", state="verified")
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(make.lead_of(bid), bid, claim_input(amount_pence=200_01, days="1"))
    assert "amount_pence" in failed.value.fields
    claims.create_claim(make.lead_of(bid), bid, claim_input(amount_pence=200_00, days="1"))


def test_rejected_claim_frees_its_share_of_the_award(make):
    bid = make.application("approved", awarded_pence=500_00)
    make.claim(bid, amount_pence=500_00, days="1", state="rejected")
    claims.create_claim(make.lead_of(bid), bid, claim_input(amount_pence=500_00, days="1"))


def test_claim_over_the_daily_cap_for_its_days_refused(make):
    fund = make.fund(max_daily_rate_pence=300_00)
    bid = make.application("approved", fund=fund, rate=300_00)
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(make.lead_of(bid), bid, claim_input(days="1.5", amount_pence=450_01))
    assert "amount_pence" in failed.value.fields
    claims.create_claim(make.lead_of(bid), bid, claim_input(days="1.5", amount_pence=450_00))


@pytest.mark.parametrize("days", ["0", "0.3", "1.25", "-1", "lots"])
def test_claimed_days_are_whole_or_half_days(make, days):
    bid = make.application("approved")
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(make.lead_of(bid), bid, claim_input(days=days))
    assert "days" in failed.value.fields


def test_claimed_days_cannot_exceed_the_days_in_the_period(make):
    bid = make.application("approved")
    end = today() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(
            make.lead_of(bid),
            bid,
            claim_input(period_start=end.isoformat(), period_end=end.isoformat(), days="1.5"),
        )
    assert "days" in failed.value.fields


def test_claim_period_must_be_in_order_and_in_the_past(make):
    bid = make.application("approved")
    lead = make.lead_of(bid)
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(
            lead,
            bid,
            claim_input(
                period_start=today().isoformat(), period_end=(today() - timedelta(days=2)).isoformat()
            ),
        )
    assert "period_end" in failed.value.fields
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(lead, bid, claim_input(period_end=(today() + timedelta(days=1)).isoformat()))
    assert "period_end" in failed.value.fields
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(
            lead, bid, claim_input(period_start="last week", staff_released=" ", amount_pence=0)
        )
    assert {"period_start", "staff_released", "amount_pence"} <= set(failed.value.fields)


def test_claim_with_evidence_that_is_not_a_pdf_or_image_refused(make):
    bid = make.application("approved")
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(
            make.lead_of(bid), bid, claim_input(evidence=Upload("timesheet.pdf", b"just text"))
        )
    assert "evidence" in failed.value.fields
    assert db.session.execute(select(func.count(BackfillClaim.id))).scalar_one() == 0


# ----------------------------------------------------------------------------- deciding


def test_liaison_officer_verifies_a_claim(make):
    bid = make.application("approved")
    claim = make.claim(bid)
    officer = make.liaison()
    claims.decide_claim(officer, claim, "verify")
    assert claim.status == "verified"
    assert claim.verified_by_id == officer.id
    event = db.session.execute(select(Event).where(Event.action == "verify")).scalar_one()
    assert (event.from_status, event.to_status) == ("pending", "verified")


def test_liaison_officer_cannot_verify_a_claim_from_own_school(make):
    partner_school = make.school()
    bid = make.application("approved", partner=partner_school)
    claim = make.claim(bid)
    with pytest.raises(NotPermitted):
        claims.decide_claim(make.liaison(school=partner_school), claim, "verify")
    assert claim.status == "pending"


@pytest.mark.parametrize("role", ["headteacher", "finance", "auditor", "admin"])
def test_only_a_liaison_officer_decides_claims(make, role):
    claim = make.claim(make.application("approved"))
    with pytest.raises(NotPermitted):
        claims.decide_claim(make.user(role), claim, "verify")


def test_rejecting_a_claim_needs_a_reason(make):
    claim = make.claim(make.application("approved"))
    with pytest.raises(ValidationFailed) as failed:
        claims.decide_claim(make.liaison(), claim, "reject", " ")
    assert "comment" in failed.value.fields
    claims.decide_claim(make.liaison(), claim, "reject", "Dates do not match the timesheet")
    assert claim.status == "rejected"
    assert claim.decision_comment == "Dates do not match the timesheet"


def test_verified_claim_can_still_be_rejected_before_payment(make):
    claim = make.claim(make.application("approved"), state="verified")
    claims.decide_claim(make.liaison(), claim, "reject", "Duplicate of an earlier claim")
    assert claim.status == "rejected"


@pytest.mark.parametrize("state", ["verified", "paid", "rejected"])
def test_claim_is_verified_once(make, state):
    claim = make.claim(make.application("approved"), state=state)
    with pytest.raises(InvalidTransition):
        claims.decide_claim(make.liaison(), claim, "verify")


def test_paid_claim_cannot_be_rejected(make):
    claim = make.claim(make.application("approved"), state="paid")
    with pytest.raises(InvalidTransition):
        claims.decide_claim(make.liaison(), claim, "reject", "Too late")


def test_part_paid_claim_cannot_be_rejected(make):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    make.pay(claim, amount_pence=100_00)
    officer = make.liaison()
    before = events_count()
    with pytest.raises(InvalidTransition):
        claims.decide_claim(officer, claim, "reject", "Wrong")
    db.session.expire_all()
    assert db.session.get(BackfillClaim, claim.id).status == "verified"
    assert events_count() == before


def test_claim_whose_payment_was_reversed_in_full_can_be_rejected(make):
    claim = make.claim(make.application("approved"), state="paid")
    disbursement = db.session.execute(select(Disbursement)).scalar_one()
    payments.reverse_disbursement(make.user("finance"), disbursement, "Paid to the wrong school")
    claims.decide_claim(make.liaison(), claim, "reject", "Claimed in error")
    assert claim.status == "rejected"


def test_verified_claims_never_exceed_award(make):
    bid = make.application("approved", awarded_pence=600_00)
    first = make.claim(bid, amount_pence=300_00, state="verified")
    second = make.claim(bid, amount_pence=300_00, state="verified")
    # The award is fully claimed: a further claim is refused when it is made …
    with pytest.raises(ValidationFailed):
        claims.create_claim(make.lead_of(bid), bid, claim_input(amount_pence=1, days="1"))
    # … and verification checks again, should a claim ever get past creation (an old row).
    stray = BackfillClaim(
        application_id=bid.id,
        status="pending",
        period_start=first.period_start,
        period_end=first.period_end,
        staff_released="Teacher",
        staff_name="Stray Claimant",
        days=1,
        amount_pence=1,
        created_by_id=bid.created_by_id,
    )
    db.session.add(stray)
    db.session.commit()
    with pytest.raises(ValidationFailed) as failed:
        claims.decide_claim(make.liaison(), stray, "verify")
    assert "amount_pence" in failed.value.fields
    assert {first.status, second.status, stray.status} == {"verified", "pending"}


def test_claims_are_verified_only_while_the_award_is_approved(make):
    bid = make.application("approved")
    claim = make.claim(bid)
    claims.decide_claim(make.liaison(), claim, "reject", "x")  # settle it so delivery can finish
    stray = make.claim(bid)
    # the award is cancelled: its outstanding claims are rejected with it
    make.act(bid, make.liaison(), "cancel", comment="Stopped")
    db.session.expire_all()
    assert db.session.get(BackfillClaim, stray.id).status == "rejected"
    with pytest.raises(InvalidTransition):
        claims.decide_claim(make.liaison(), stray, "verify")


def test_unknown_claim_decision_refused(make):
    claim = make.claim(make.application("approved"))
    with pytest.raises(ValidationFailed) as failed:
        claims.decide_claim(make.liaison(), claim, "pay")
    assert "action" in failed.value.fields
