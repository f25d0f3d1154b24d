"""``lifecycle.perform``: every application action, its controls and guards, its Event."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Event
from fundflow.services import access, impact, ledger
from fundflow.services.applications import BidDetails, PartnerInput, update_draft
from fundflow.services.errors import InvalidTransition, NotPermitted, ValidationFailed


def events_for(app: Application) -> list[Event]:
    return list(
        db.session.execute(select(Event).where(Event.application_id == app.id).order_by(Event.seq)).scalars()
    )


def events_count() -> int:
    return db.session.execute(select(func.count(Event.id))).scalar_one()


def fresh(app: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, app.id)


def committed(fund_id: int) -> int:
    return ledger.ledger(fund_id).committed_pence


# --------------------------------------------------------------------- conflict of interest


def test_liaison_officer_cannot_approve_bid_from_own_school(make):
    partner_school = make.school()
    bid = make.application("under_review", partner=partner_school)
    seconded = make.liaison(school=partner_school)
    with pytest.raises(NotPermitted):
        make.act(bid, seconded, "approve")
    assert fresh(bid).status == "under_review"


@pytest.mark.parametrize(
    ("state", "action", "kwargs"),
    [
        ("submitted", "start_review", {}),
        ("under_review", "request_changes", {"comment": "More detail"}),
        ("under_review", "reject", {"comment": "No"}),
        ("awaiting_countersign", "countersign", {}),
        ("approved", "cancel", {"comment": "Stop"}),
    ],
)
def test_liaison_officer_cannot_review_or_decide_bid_from_own_school(make, state, action, kwargs):
    lead_school = make.school()
    bid = make.application(state, lead=make.headteacher(school=lead_school))
    seconded = make.liaison(school=lead_school)  # headteacher of the lead school
    with pytest.raises(NotPermitted):
        make.act(bid, seconded, action, **kwargs)
    assert fresh(bid).status == state


def test_liaison_officer_cannot_close_bid_from_own_school(make):
    partner_school = make.school()
    bid = make.application("monitoring", partner=partner_school)
    with pytest.raises(NotPermitted):
        make.act(bid, make.liaison(school=partner_school), "close")


# -------------------------------------------------------------------------- four eyes


def test_award_at_threshold_needs_a_second_officer_to_countersign(make):
    fund = make.fund(countersign_threshold_pence=1_200_00)
    bid = make.application("under_review", fund=fund)  # asks for 1,200.00
    first, second = make.liaison(), make.liaison()
    make.act(bid, first, "approve", awarded_pence=1_200_00)
    assert bid.status == "awaiting_countersign"
    assert bid.decided_by_id == first.id
    assert bid.approved_on is None
    assert committed(fund.id) == 0  # not a commitment until countersigned
    make.act(bid, second, "countersign")
    assert bid.status == "approved"
    assert bid.countersigned_by_id == second.id
    assert bid.approved_on is not None
    assert committed(fund.id) == 1_200_00


def test_award_below_threshold_is_approved_by_one_officer(make):
    fund = make.fund(countersign_threshold_pence=1_200_00)
    bid = make.application("under_review", fund=fund)
    make.act(bid, make.liaison(), "approve", awarded_pence=1_199_99)
    assert bid.status == "approved"
    assert committed(fund.id) == 1_199_99


def test_fund_without_threshold_never_needs_countersigning(make):
    fund = make.fund(countersign_threshold_pence=None)
    bid = make.application("approved", fund=fund)
    assert bid.countersigned_by_id is None


def test_approver_cannot_countersign_own_award(make):
    approver = make.liaison()
    bid = make.application("under_review", fund=make.fund(countersign_threshold_pence=1_00), liaison=approver)
    make.act(bid, approver, "approve")
    with pytest.raises(NotPermitted):
        make.act(bid, approver, "countersign")
    assert fresh(bid).status == "awaiting_countersign"


def test_countersign_refused_when_the_money_went_meanwhile(make):
    fund = make.fund(budget_pence=2_000_00, countersign_threshold_pence=1_200_00)
    large = make.application("awaiting_countersign", fund=fund)  # 1,200.00 waiting
    make.application("approved", fund=fund, days="3")  # 900.00 approved meanwhile
    with pytest.raises(ValidationFailed) as failed:
        make.act(large, make.liaison(), "countersign")
    assert "awarded_pence" in failed.value.fields
    assert fresh(large).status == "awaiting_countersign"
    assert committed(fund.id) == 900_00


def test_second_officer_can_reject_an_award_waiting_for_countersignature(make):
    bid = make.application("awaiting_countersign")
    make.act(bid, make.liaison(), "reject", comment="Too much for the need")
    assert bid.status == "rejected"
    assert bid.awarded_pence is None
    event = events_for(bid)[-1]
    assert event.payload["proposed_award_pence"] == 1_200_00


# ---------------------------------------------------------------------------- approving


def test_approval_over_available_budget_refused(make):
    fund = make.fund(budget_pence=2_000_00, countersign_threshold_pence=None)
    make.application("approved", fund=fund)  # 1,200.00 committed
    bid = make.application("under_review", fund=fund)
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "approve", awarded_pence=800_01)
    assert "awarded_pence" in failed.value.fields
    make.act(bid, make.liaison(), "approve", awarded_pence=800_00)
    assert committed(fund.id) == fund.budget_pence


def test_award_defaults_to_the_amount_asked_for(make):
    bid = make.application("approved")
    assert bid.awarded_pence == bid.requested_pence == 1_200_00


@pytest.mark.parametrize("awarded", [0, -1, 1_200_01])
def test_award_must_be_above_nothing_and_within_the_request(make, awarded):
    bid = make.application("under_review")
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "approve", awarded_pence=awarded)
    assert "awarded_pence" in failed.value.fields


@pytest.mark.parametrize("awarded", ["100", 12.5, True])
def test_award_must_be_whole_pence(make, awarded):
    bid = make.application("under_review")
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "approve", awarded_pence=awarded)
    assert "awarded_pence" in failed.value.fields


def test_approval_records_award_conditions_and_decider_in_its_event(make):
    officer = make.liaison()
    bid = make.application("under_review", liaison=officer)
    make.act(bid, officer, "approve", awarded_pence=1_000_00, conditions="Report termly")
    assert (bid.awarded_pence, bid.conditions, bid.decided_by_id) == (1_000_00, "Report termly", officer.id)
    event = events_for(bid)[-1]
    assert (event.action, event.from_status, event.to_status) == ("approve", "under_review", "approved")
    assert event.actor_id == officer.id
    assert event.payload["awarded_pence"] == 1_000_00


def test_supporting_school_causing_concern_needs_override_note(make):
    supporting = make.school(causing_concern=True)
    bid = make.application("under_review", partner=supporting)
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "approve")
    assert "comment" in failed.value.fields
    make.act(bid, make.liaison(), "approve", comment="Their maths lead is strong; agreed with the LA")
    assert bid.status == "approved"
    assert bid.override_note.startswith("Their maths lead")


def under_review_with_supported_partner(make, partner_school, lead=None):
    """A bid whose only partner is *supported*, so the lead school is the supporting one."""
    bid = make.application("draft", partner=partner_school, lead=lead)
    update_draft(make.lead_of(bid), bid, BidDetails(partners=[PartnerInput(partner_school.urn, "supported")]))
    make.act(bid, make.lead_of(bid), "submit")
    make.act(bid, make.liaison(), "start_review")
    return bid


def test_lead_school_supporting_while_causing_concern_needs_override_note(make):
    lead_school = make.school(causing_concern=True)
    bid = under_review_with_supported_partner(make, make.school(), lead=make.headteacher(school=lead_school))
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "approve")
    assert "comment" in failed.value.fields


def test_supported_school_causing_concern_needs_no_override_note(make):
    bid = under_review_with_supported_partner(make, make.school(causing_concern=True))
    make.act(bid, make.liaison(), "approve")
    assert bid.status == "approved"


# ------------------------------------------------------------------ comments and reasons


@pytest.mark.parametrize("action", ["request_changes", "reject"])
def test_sending_back_or_rejecting_needs_a_comment(make, action):
    bid = make.application("under_review")
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), action, comment="   ")
    assert "comment" in failed.value.fields


def test_request_changes_sends_bid_back_to_the_lead(make):
    bid = make.application("under_review")
    make.act(bid, make.liaison(), "request_changes", comment="Add a measure for writing")
    assert bid.status == "changes_requested"
    assert events_for(bid)[-1].payload["comment"] == "Add a measure for writing"


# ---------------------------------------------------------------------------- withdrawing


@pytest.mark.parametrize("state", ["draft", "submitted", "changes_requested"])
def test_lead_headteacher_withdraws_before_a_decision_and_the_bid_stays_readable(make, state):
    bid = make.application(state)
    make.act(bid, make.lead_of(bid), "withdraw")
    assert fresh(bid).status == "withdrawn"
    assert access.get_application(make.lead_of(bid), bid.reference).status == "withdrawn"


@pytest.mark.parametrize("state", ["under_review", "approved", "rejected"])
def test_bid_cannot_be_withdrawn_once_under_review(make, state):
    bid = make.application(state)
    with pytest.raises(InvalidTransition):
        make.act(bid, make.lead_of(bid), "withdraw")


def test_partner_headteacher_cannot_withdraw_the_bid(make):
    partner_school = make.school()
    bid = make.application("submitted", partner=partner_school)
    with pytest.raises(NotPermitted):
        make.act(bid, make.headteacher(school=partner_school), "withdraw")


@pytest.mark.parametrize("role", ["finance", "auditor", "admin"])
def test_roles_outside_the_lifecycle_cannot_fire_application_actions(make, role):
    bid = make.application("submitted")
    with pytest.raises(NotPermitted):
        make.act(bid, make.user(role), "start_review")


def test_unknown_action_refused_as_validation(make):
    bid = make.application("draft")
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "delete")
    assert "action" in failed.value.fields


def test_action_from_the_wrong_state_is_an_invalid_transition(make):
    bid = make.application("submitted")
    with pytest.raises(InvalidTransition):
        make.act(bid, make.liaison(), "approve")


# ------------------------------------------------------------------- finishing and cancelling


def test_finish_delivery_releases_unspent_award(make):
    fund = make.fund(budget_pence=5_000_00)
    bid = make.application("approved", fund=fund)
    make.claim(bid, amount_pence=300_00, state="paid")
    assert committed(fund.id) == 1_200_00
    make.act(bid, make.lead_of(bid), "finish_delivery")
    assert bid.status == "monitoring"
    assert committed(fund.id) == 300_00
    assert ledger.ledger(fund.id).available_pence == 4_700_00
    event = events_for(bid)[-1]
    assert (event.payload["paid_pence"], event.payload["released_pence"]) == (300_00, 900_00)


def test_liaison_officer_may_also_finish_delivery(make):
    bid = make.application("approved")
    make.act(bid, make.liaison(), "finish_delivery")
    assert bid.status == "monitoring"


@pytest.mark.parametrize("claim_state", ["pending", "verified"])
def test_finish_delivery_refused_while_a_claim_is_unsettled(make, claim_state):
    bid = make.application("approved")
    make.claim(bid, state=claim_state)
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "finish_delivery")
    assert "action" in failed.value.fields
    assert fresh(bid).status == "approved"


def test_cancel_releases_unpaid_award_and_rejects_outstanding_claims(make):
    fund = make.fund(budget_pence=5_000_00)
    officer = make.liaison()
    bid = make.application("approved", fund=fund, liaison=officer)
    paid = make.claim(bid, amount_pence=300_00, state="paid")
    verified = make.claim(bid, amount_pence=200_00, state="verified")
    pending = make.claim(bid, amount_pence=100_00, state="pending")
    make.act(bid, officer, "cancel", comment="The partner school has closed")
    assert bid.status == "cancelled"
    db.session.expire_all()
    assert [c.status for c in (paid, verified, pending)] == ["paid", "rejected", "rejected"]
    assert verified.decision_comment == "Award cancelled: The partner school has closed"
    assert committed(fund.id) == 300_00
    claim_events = db.session.execute(
        select(Event.subject_id, Event.from_status, Event.to_status).where(
            Event.subject_type == "claim", Event.action == "reject"
        )
    ).all()
    assert sorted(claim_events) == sorted(
        [(verified.id, "verified", "rejected"), (pending.id, "pending", "rejected")]
    )
    cancel = db.session.execute(select(Event).where(Event.action == "cancel")).scalar_one()
    assert (cancel.payload["paid_pence"], cancel.payload["released_pence"]) == (300_00, 900_00)


def test_cancel_needs_a_reason(make):
    bid = make.application("approved")
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.liaison(), "cancel")
    assert "comment" in failed.value.fields


def test_cancel_keeps_a_part_paid_claim_and_counts_what_was_paid(make):
    bid = make.application("approved")
    claim = make.claim(bid, amount_pence=300_00, state="verified")
    make.pay(claim, amount_pence=100_00)
    untouched = make.claim(bid, amount_pence=50_00, state="pending")
    make.act(bid, make.liaison(), "cancel", comment="Stop")
    db.session.expire_all()
    assert db.session.get(Application, bid.id).status == "cancelled"
    assert db.session.get(BackfillClaim, claim.id).status == "verified"
    assert db.session.get(BackfillClaim, untouched.id).status == "rejected"
    assert ledger.ledger(bid.fund_id).committed_pence == 100_00


def test_headteacher_cannot_cancel(make):
    bid = make.application("approved")
    with pytest.raises(NotPermitted):
        make.act(bid, make.lead_of(bid), "cancel", comment="Changed my mind")


# ---------------------------------------------------------------------------------- closing


def final_report(make, bid, lead=None):
    return impact.submit_report(
        lead or make.lead_of(bid),
        bid,
        impact.ReportInput(
            kind="final",
            narrative="Pass rate rose.",
            results=[impact.ResultInput(measure_id=m.id, actual="72") for m in bid.measures],
        ),
    )


def test_close_needs_evaluated_final_report(make):
    bid = make.application("monitoring")
    officer = make.liaison()
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, officer, "close")
    assert "action" in failed.value.fields

    interim = impact.submit_report(
        make.lead_of(bid),
        bid,
        impact.ReportInput(
            kind="interim", narrative="Going well.", results=[impact.ResultInput(bid.measures[0].id, "65")]
        ),
    )
    impact.evaluate_report(officer, interim, impact.EvaluationInput(rating="partly_achieved", drivers=[]))
    with pytest.raises(ValidationFailed):
        make.act(bid, officer, "close")

    report = final_report(make, bid)
    with pytest.raises(ValidationFailed):
        make.act(bid, officer, "close")

    impact.evaluate_report(
        officer, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
    )
    make.act(bid, officer, "close")
    assert bid.status == "closed"


def test_closed_record_stays_readable_with_its_whole_trail(make):
    bid = make.application("closed")
    actions = [e.action for e in events_for(bid)]
    assert actions[0] == "create"
    assert actions[-1] == "close"
    assert {"submit", "start_review", "approve", "finish_delivery"} <= set(actions)


# ---------------------------------------------------------------------- nothing on refusal


REFUSALS = [
    # (state, who, action, kwargs, error)
    ("under_review", "conflicted", "approve", {}, NotPermitted),
    ("under_review", "liaison", "approve", {"awarded_pence": 9_999_999_00}, ValidationFailed),
    ("under_review", "liaison", "reject", {}, ValidationFailed),
    ("submitted", "liaison", "approve", {}, InvalidTransition),
    ("draft", "partner", "submit", {}, NotPermitted),
    ("approved", "lead", "cancel", {"comment": "x"}, NotPermitted),
    ("monitoring", "liaison", "close", {}, ValidationFailed),
    ("awaiting_countersign", "approver", "countersign", {}, NotPermitted),
    ("withdrawn", "lead", "submit", {}, InvalidTransition),
]


@pytest.mark.parametrize(("state", "who", "action", "kwargs", "error"), REFUSALS)
def test_failed_action_writes_nothing(make, state, who, action, kwargs, error):
    partner_school = make.school()
    approver = make.liaison()
    bid = make.application(state, partner=partner_school, liaison=approver)
    users = {
        "conflicted": make.liaison(school=partner_school),
        "liaison": make.liaison(),
        "partner": make.headteacher(school=partner_school),
        "lead": make.lead_of(bid),
        "approver": approver,
    }
    fund_committed = committed(bid.fund_id)
    before = (events_count(), bid.status, bid.awarded_pence, bid.version, bid.decided_by_id)
    with pytest.raises(error):
        make.act(bid, users[who], action, **kwargs)
    bid = fresh(bid)
    assert (events_count(), bid.status, bid.awarded_pence, bid.version, bid.decided_by_id) == before
    assert committed(bid.fund_id) == fund_committed
