"""The operations declared beside the lifecycles (editing a draft, recording a review,
claiming backfill, reporting and evaluating impact, recording a payment), checked as the
pure declarations they are, on the stand-in records of ``test_workflow``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fundflow.workflow import (
    APPLICATION_OPERATIONS_LIFECYCLE,
    CLAIM_OPERATIONS_LIFECYCLE,
    EDITABLE_STATUSES,
    REPORT_LIFECYCLE,
    GuardContext,
    Refused,
    is_actor,
    is_lead_headteacher,
)

from .test_workflow import ACTORS, APPROVER_ID, TODAY, make_application, make_claim


def refusal(lifecycle, action: str, record, user, **facts) -> tuple[str, list[str]]:
    with pytest.raises(Refused) as refused:
        lifecycle.fire(action, GuardContext(record=record, user=user, today=TODAY, **facts))
    return refused.value.kind, [message for _, message in refused.value.problems]


def make_report(status: str = "submitted", evaluation=None) -> SimpleNamespace:
    return SimpleNamespace(status=status, evaluation=evaluation, application=make_application("approved"))


def test_the_lead_headteacher_is_the_headteacher_of_the_lead_school_and_no_one_else():
    application = make_application("draft")
    assert is_lead_headteacher(application, ACTORS["lead"])
    assert is_actor("lead_headteacher", application, ACTORS["lead"])
    for name in ("partner", "other_head", "liaison", "conflicted_liaison", "finance"):
        assert not is_lead_headteacher(application, ACTORS[name]), name
    no_school = SimpleNamespace(id=1, school_id=None, has_role=lambda role: role == "headteacher")
    assert not is_lead_headteacher(make_application("draft", lead_school_id=None), no_school)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("edit", "Only the lead school's headteacher can edit this bid"),
        ("create_claim", "Only the lead school's headteacher can claim backfill"),
        ("submit_impact_report", "Only the lead school's headteacher can report impact"),
    ],
)
def test_only_the_lead_headteacher_edits_claims_and_reports_and_is_told_so_before_the_state(action, message):
    # a bid in no state these operations allow: who may act is still what the person hears
    application = make_application("withdrawn")
    for name in ("partner", "liaison", "finance"):
        assert refusal(APPLICATION_OPERATIONS_LIFECYCLE, action, application, ACTORS[name]) == (
            "forbidden",
            [message],
        )


def test_a_bid_is_edited_only_while_a_draft_or_sent_back_for_changes():
    for status in ("draft", "changes_requested", "submitted", "approved"):
        application = make_application(status)
        ctx = GuardContext(record=application, user=ACTORS["lead"], today=TODAY)
        if status in EDITABLE_STATUSES:
            assert APPLICATION_OPERATIONS_LIFECYCLE.fire("edit", ctx) == (status, status)
        else:
            assert refusal(APPLICATION_OPERATIONS_LIFECYCLE, "edit", application, ACTORS["lead"]) == (
                "invalid_state",
                ["The bid can only be edited while a draft or when changes are requested"],
            )


def test_claims_are_made_while_approved_and_impact_reported_while_approved_or_monitoring():
    lead = ACTORS["lead"]
    allowed = {
        status: APPLICATION_OPERATIONS_LIFECYCLE.allowed_actions(make_application(status), lead, TODAY)
        for status in ("approved", "monitoring", "closed")
    }
    assert allowed == {
        "approved": ["create_claim", "submit_impact_report"],
        "monitoring": ["submit_impact_report"],
        "closed": [],
    }


def test_a_conflicted_liaison_officer_may_not_record_a_review_whatever_the_state():
    application = make_application("approved")
    assert refusal(APPLICATION_OPERATIONS_LIFECYCLE, "review", application, ACTORS["conflicted_liaison"]) == (
        "forbidden",
        ["You cannot act on a bid in which your own school takes part"],
    )
    assert refusal(APPLICATION_OPERATIONS_LIFECYCLE, "review", application, ACTORS["liaison"]) == (
        "invalid_state",
        ["A bid is reviewed while it is under review"],
    )


def test_evaluating_a_report_moves_it_from_submitted_to_evaluated():
    report = make_report()
    ctx = GuardContext(record=report, user=ACTORS["liaison"], today=TODAY)
    assert REPORT_LIFECYCLE.fire("evaluate", ctx) == ("submitted", "evaluated")
    assert report.status == "evaluated"
    assert REPORT_LIFECYCLE.initial == "submitted"


@pytest.mark.parametrize("report", [make_report("evaluated"), make_report("submitted", evaluation=object())])
def test_a_report_is_evaluated_once(report):
    assert refusal(REPORT_LIFECYCLE, "evaluate", report, ACTORS["liaison"]) == (
        "invalid_state",
        ["This report has already been evaluated"],
    )


def test_a_conflicted_officer_may_not_evaluate_a_report_and_hears_that_first():
    assert refusal(REPORT_LIFECYCLE, "evaluate", make_report("evaluated"), ACTORS["conflicted_liaison"]) == (
        "forbidden",
        ["You cannot act on a bid in which your own school takes part"],
    )
    assert refusal(REPORT_LIFECYCLE, "evaluate", make_report(), ACTORS["lead"]) == (
        "forbidden",
        ["Only a liaison officer can evaluate impact"],
    )


def test_a_payment_is_recorded_against_a_verified_claim_up_to_what_is_unpaid():
    finance = ACTORS["finance"]
    claim = make_claim("verified")
    ctx = GuardContext(record=claim, user=finance, today=TODAY, amount_pence=100_00, claim_paid_pence=200_00)
    assert CLAIM_OPERATIONS_LIFECYCLE.fire("record_payment", ctx) == ("verified", "verified")
    assert refusal(
        CLAIM_OPERATIONS_LIFECYCLE,
        "record_payment",
        claim,
        finance,
        amount_pence=100_01,
        claim_paid_pence=200_00,
    ) == ("guard_failed", ["Only £100.00 of this claim is unpaid"])


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("paid", "This claim has already been paid"),
        ("pending", "Only a verified claim can be paid"),
        ("rejected", "Only a verified claim can be paid"),
    ],
)
def test_a_payment_is_refused_on_a_claim_that_is_not_verified(status, message):
    assert refusal(CLAIM_OPERATIONS_LIFECYCLE, "record_payment", make_claim(status), ACTORS["finance"]) == (
        "invalid_state",
        [message],
    )


def test_payments_are_only_made_while_the_award_is_approved():
    claim = make_claim("verified", application_status="monitoring")
    assert refusal(CLAIM_OPERATIONS_LIFECYCLE, "record_payment", claim, ACTORS["finance"]) == (
        "invalid_state",
        ["Payments are only made while the award is approved"],
    )


def test_the_finance_officer_who_decided_the_award_may_not_record_its_payment():
    decider = SimpleNamespace(id=APPROVER_ID, school_id=None, has_role=lambda role: role == "finance")
    assert refusal(CLAIM_OPERATIONS_LIFECYCLE, "record_payment", make_claim("verified"), decider) == (
        "forbidden",
        ["You took part in deciding this award, so you cannot record its payments"],
    )


def test_may_asks_the_machine_whether_an_action_could_fire_with_these_facts():
    from fundflow.workflow import APPLICATION_LIFECYCLE

    application = make_application("under_review")
    liaison = ACTORS["liaison"]
    within = GuardContext(
        record=application, user=liaison, today=TODAY, awarded_pence=1_000_00, available_pence=5_000_00
    )
    over = GuardContext(
        record=application, user=liaison, today=TODAY, awarded_pence=1_000_00, available_pence=0
    )
    assert APPLICATION_LIFECYCLE.may("approve", within)
    assert not APPLICATION_LIFECYCLE.may("approve", over)
    assert not APPLICATION_LIFECYCLE.may(
        "approve", GuardContext(record=application, user=ACTORS["lead"], today=TODAY)
    )
    assert "approve" in APPLICATION_LIFECYCLE.allowed_actions(application, liaison, TODAY)
    assert application.status == "under_review"  # asking moves nothing


def test_every_transition_carries_its_actions_condition():
    from fundflow.workflow import APPLICATION_LIFECYCLE

    for lifecycle in (APPLICATION_LIFECYCLE, REPORT_LIFECYCLE, APPLICATION_OPERATIONS_LIFECYCLE):
        for name, event in lifecycle.machine.events.items():
            for transitions in event.transitions.values():
                for transition in transitions:
                    assert f"may_{name}" in [c.func.__name__ for c in transition.conditions], (
                        lifecycle.name,
                        name,
                    )


def test_records_fired_from_many_threads_at_once_each_move_once():
    from concurrent.futures import ThreadPoolExecutor

    reports = [make_report() for _ in range(200)]

    def evaluate(report) -> tuple[str, str]:
        return REPORT_LIFECYCLE.fire(
            "evaluate", GuardContext(record=report, user=ACTORS["liaison"], today=TODAY)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        moves = list(pool.map(evaluate, reports))
    assert moves == [("submitted", "evaluated")] * 200
    subjects = REPORT_LIFECYCLE.machine.models
    assert all(subject.ctx is None for subject in subjects)  # none is left pointing at a record
    assert len(subjects) <= 8 + 1  # one a request at a time at most: the pool's and this thread
