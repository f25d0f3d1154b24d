"""Every audit entry reads in words: a heading from the lifecycle that declares its action,
for the kind of record it is about, and its payload as sentences with amounts in pounds."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from fundflow import formatting
from fundflow.formatting import event_label, payload_sentence, trail_label
from fundflow.workflow import (
    APPLICATION_LIFECYCLE,
    APPLICATION_OPERATIONS_LIFECYCLE,
    CLAIM_LIFECYCLE,
    CLAIM_OPERATIONS_LIFECYCLE,
    REPORT_LIFECYCLE,
    SCHEDULE_LIFECYCLE,
)

SERVICES = Path(formatting.__file__).parent / "services"

#: The record each lifecycle's actions are recorded about (an operation on the bid that
#: makes a record files its Event under that record).
RECORDED_ABOUT = {
    "create_claim": "claim",
    "submit_impact_report": "impact_report",
    "review": "review",
}


def declared_pairs() -> list[tuple[str, str]]:
    pairs = []
    for lifecycle, subject in (
        (APPLICATION_LIFECYCLE, "application"),
        (CLAIM_LIFECYCLE, "claim"),
        (REPORT_LIFECYCLE, "impact_report"),
        (SCHEDULE_LIFECYCLE, "schedule_item"),
        (APPLICATION_OPERATIONS_LIFECYCLE, "application"),
        (CLAIM_OPERATIONS_LIFECYCLE, "claim"),
    ):
        pairs += [(RECORDED_ABOUT.get(name, subject), name) for name in lifecycle.actions]
    return pairs


def recorded_actions() -> set[str]:
    """Every action the services record by name (``audit.record(actor, "name", ...)`` or
    ``record_event(..., action="name")``): read from the source, so a new one is caught."""
    found: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r"audit\.record\(\s*\w+,\s*\"(\w+)\"", text))
        found |= set(re.findall(r"record_event\([^)]*?action=\"(\w+)\"", text, re.S))
    return found


def fallback(action: str) -> str:
    return action.replace("_", " ").capitalize()


@pytest.mark.parametrize(("subject_type", "action"), declared_pairs())
def test_every_declared_action_has_a_past_tense_label_for_its_record(subject_type, action):
    label = trail_label(subject_type, action, {"kind": "final_report"})
    assert "_" not in label and label[:1].isupper()
    assert label != fallback(action), (subject_type, action, label)


def test_services_record_only_actions_that_have_a_label():
    actions = recorded_actions()
    assert {"create_claim", "record_disbursement", "reverse_disbursement", "import_schools"} <= actions
    for action in actions:
        labelled = [
            trail_label(st, action) for st in (*formatting.TRAIL_LIFECYCLES, "fund", "user", "school")
        ]
        assert any(label != fallback(action) for label in labelled), action
        assert all("_" not in label for label in labelled), action


@pytest.mark.parametrize(
    ("subject_type", "action", "to_status", "label"),
    [
        ("claim", "reject", "rejected", "Claim rejected"),
        ("application", "reject", "rejected", "Bid rejected"),
        ("application", "approve", "approved", "Award approved"),
        ("application", "approve", "awaiting_countersign", "Award approved: awaiting countersignature"),
        ("application", "request_changes", "changes_requested", "Changes requested"),
        ("application", "withdraw", "withdrawn", "Bid withdrawn"),
        ("claim", "record_disbursement", "paid", "Payment recorded"),
        ("claim", "reverse_disbursement", "verified", "Payment reversed"),
        ("claim", "create_claim", "pending", "Backfill claimed"),
        ("impact_report", "evaluate_impact_report", "evaluated", "Impact report evaluated"),
        ("fund", "update_fund", None, "Fund rules changed"),
    ],
)
def test_labels_say_what_happened_to_which_record(subject_type, action, to_status, label):
    event = SimpleNamespace(subject_type=subject_type, action=action, payload={}, to_status=to_status)
    assert event_label(event) == label


def test_schedule_items_are_named_by_their_kind():
    waive = SimpleNamespace(subject_type="schedule_item", action="waive", payload={"kind": "final_report"})
    assert event_label(waive) == "Final impact report waived"
    deadline = {"kind": "claim_deadline"}
    assert trail_label("schedule_item", "waive", deadline) == "Claim deadline waived"


#: A payload of every event the services record, as they write it.
PAYLOADS = [
    ("application", {"reference": "LSIF-2026-0001", "title": "Phonics"}),
    ("application", {"version": 2, "requested_pence": 1_234_567}),
    (
        "application",
        {
            "awarded_pence": 800_000,
            "conditions": "Report each term.",
            "available_pence": 9_000_000,
            "report_dates": ["2027-01-15"],
            "schedule": [
                {"kind": "final_report", "due_on": "2027-06-30"},
                {"kind": "claim_deadline", "due_on": "2027-03-31"},
            ],
            "comment": "The school has a strong new head.",
        },
    ),
    ("application", {"proposed_award_pence": 500_000, "comment": "Not eligible."}),
    ("application", {"awarded_pence": 800_000, "paid_pence": 600_000, "released_pence": 200_000}),
    ("application", {"school_urn": "100001"}),
    (
        "claim",
        {
            "amount_pence": 30_000,
            "days": "1.5",
            "period_start": "2026-11-02",
            "period_end": "2026-11-06",
            "staff_name": "Dan Brook",
            "evidence_sha256": "ab" * 32,
            "overlaps_claim_id": 7,
        },
    ),
    (
        "claim",
        {
            "disbursement_id": 3,
            "amount_pence": 30_000,
            "paid_on": "2026-11-09",
            "reference": "PAY-1",
            "payee_urn": "100001",
        },
    ),
    (
        "claim",
        {
            "disbursement_id": 3,
            "reverses_reference": "PAY-1",
            "reverses_paid_on": "2026-11-09",
            "reversal_id": 4,
            "amount_pence": -30_000,
            "reason": "Wrong account",
        },
    ),
    ("impact_report", {"kind": "final", "results": [{"measure_id": 1, "actual": "70"}]}),
    ("impact_report", {"rating": "partly_achieved", "drivers": ["practice_change"], "comment": "Good."}),
    (
        "review",
        {
            "version": 1,
            "eligible": True,
            "aligned_with_priorities": False,
            "supporting_school_has_capacity": True,
            "value_for_money": 3,
            "recommendation": "request_changes",
        },
    ),
    (
        "schedule_item",
        {"kind": "final_report", "due_on": "2027-06-30", "reason": "Reported at the cluster meeting."},
    ),
    (
        "schedule_item",
        {"kind": "interim_report", "from_due_on": "2027-01-15", "due_on": "2027-02-15", "reason": "Ill."},
    ),
    (
        "fund",
        {
            "name": "Fund",
            "financial_year": "2026-27",
            "budget_pence": 10_000_000,
            "opens_on": "2026-04-01",
            "closes_on": "2027-03-31",
            "max_daily_rate_pence": 50_000,
            "max_award_pence": None,
            "countersign_threshold_pence": 5_000_000,
            "requires_partner_endorsement": False,
            "delivery_ends_on": "2027-08-31",
            "report_cadence": "termly",
            "final_report_weeks": 6,
        },
    ),
    ("school", {"urn": "100001", "name": "Hill School", "causing_concern": True}),
    ("school", {"created": 3, "updated": 1, "unchanged": 0, "closed": 0, "newly_closed": 0, "errors": 0}),
    ("user", {"email": "a@example.test", "roles": ["liaison_officer"], "school_urn": None}),
    (
        "user",
        {
            "email": "a@example.test",
            "before": {"roles": ["headteacher"], "active": True, "school_id": 3},
            "after": {"roles": ["auditor"], "active": False, "school_id": None},
            "sessions_ended": 2,
            "tokens_revoked": 1,
        },
    ),
    ("user", {"email": "a@example.test", "expires_at": "2026-12-01T10:00:00"}),
    ("api_token", {"email": "a@example.test", "name": "Reporting"}),
]


@pytest.mark.parametrize(("subject_type", "payload"), PAYLOADS)
def test_payloads_read_as_sentences_with_pounds(subject_type, payload):
    text = payload_sentence(payload, subject_type)
    assert text and text.endswith((".", "”"))
    assert "{" not in text and "[" not in text and "_" not in text
    for key, value in payload.items():
        if key.endswith("_pence") and value is not None:
            assert f"£{abs(value) / 100:,.2f}" in text
            assert not re.search(rf"(?<![\d,.]){abs(value)}(?![\d,])", text), (key, text)


def test_a_payload_sentence_names_money_dates_and_records_in_words():
    text = payload_sentence(PAYLOADS[2][1], "application")
    assert "Award: £8,000.00." in text and "The fund had £90,000.00 left to award." in text
    assert (
        "Final impact report due on 30 June 2027" in text and "Impact reports due on 15 January 2027." in text
    )
    assert payload_sentence({"reason": "x" * 400}).endswith("…”")
    assert payload_sentence({"comment": "Good."}) == "Comment: “Good.”"
    assert payload_sentence({"overlaps_claim_id": None, "conditions": ""}) == ""
