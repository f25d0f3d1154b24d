"""A whole bid walked through the API alone, from draft to closed, as other systems would."""

from __future__ import annotations

from datetime import timedelta

from fundflow.services.clock import today
from tests.factories import Factory

from .conftest import Api, bid_body, error_of


def test_a_bid_goes_from_draft_to_closed_through_the_api(live_app):
    """On SQLite and on PostgreSQL (where every step takes real row locks)."""
    api, make = Api(live_app.test_client()), Factory()
    fund = make.fund(
        requires_partner_endorsement=True,
        countersign_threshold_pence=1_000_00,
        budget_pence=10_000_00,
    )
    lead = make.headteacher()
    partner_school = make.school()
    partner = make.headteacher(school=partner_school)
    officer, second_officer = make.liaison(), make.liaison()
    finance, auditor = make.user("finance"), make.user("auditor")
    for user in (lead, partner, officer, second_officer, finance, auditor):
        api.token(user)  # tokens first, so the bid's events are consecutive in the chain

    def act(user, action, expected=200, **extra):
        response = api.post(f"/applications/{reference}/actions", user, json={"action": action, **extra})
        assert response.status_code == expected, response.get_json()
        return response.get_json()

    # draft → endorsed by the partner school → submitted
    created = api.post("/applications", lead, json=bid_body(fund, partner_school, days=4, rate=300_00))
    assert created.status_code == 201
    reference = created.get_json()["reference"]
    assert created.get_json()["requested_pence"] == 1_200_00
    refused = act(lead, "submit", expected=422)
    assert "partners" in refused["error"]["fields"]
    assert act(partner, "endorse")["partners"][0]["endorsed"] is True
    assert act(lead, "submit")["status"] == "submitted"

    # review, changes requested, edited, resubmitted as version 2
    assert act(officer, "start_review")["status"] == "under_review"
    changes = act(officer, "request_changes", comment="Add a second coaching day.")
    assert changes["status"] == "changes_requested"
    assert "resubmit" in api.get(f"/applications/{reference}", lead).get_json()["allowed_actions"]
    edited = api.patch(
        f"/applications/{reference}",
        lead,
        json={
            "activities": [
                {
                    "description": "Coaching",
                    "staff_role": "Deputy head",
                    "days": 5,
                    "daily_rate_pence": 300_00,
                }
            ]
        },
    )
    assert edited.status_code == 200
    assert edited.get_json()["requested_pence"] == 1_500_00
    resubmitted = act(lead, "resubmit")
    assert (resubmitted["status"], resubmitted["version"]) == ("submitted", 2)

    # a large award needs a second officer's countersignature (four eyes)
    assert act(officer, "start_review")["status"] == "under_review"
    pending = act(officer, "approve", awarded_pence=1_500_00, conditions="Report termly")
    assert pending["status"] == "awaiting_countersign"
    assert (
        error_of(api.post(f"/applications/{reference}/actions", officer, json={"action": "countersign"}))[
            "code"
        ]
        == "forbidden"
    )
    approved = act(second_officer, "countersign")
    assert approved["status"] == "approved"
    assert approved["awarded_pence"] == 1_500_00
    assert approved["conditions"] == "Report termly"
    assert approved["approved_on"] == today().isoformat()

    # backfill, a week later: claim, verify, pay; a wrong payment is reversed and paid again
    approved_on = today()
    live_app.config["FUNDFLOW_TODAY"] = (approved_on + timedelta(days=7)).isoformat()
    claim = api.post(
        f"/applications/{reference}/claims",
        lead,
        json={
            "period_start": approved_on.isoformat(),
            "period_end": (approved_on + timedelta(days=6)).isoformat(),
            "staff_released": "Deputy head",
            "staff_name": "Amina Khan",
            "days": 2,
            "amount_pence": 600_00,
        },
    )
    assert claim.status_code == 201
    claim_id = claim.get_json()["id"]
    verified = api.post(f"/claims/{claim_id}/actions", officer, json={"action": "verify"})
    assert verified.get_json()["status"] == "verified"
    paid_on = today().isoformat()
    payment = api.post(
        f"/claims/{claim_id}/disbursements",
        finance,
        json={"amount_pence": 600_00, "paid_on": paid_on, "reference": "SLG-0001"},
    )
    assert payment.status_code == 201
    reversal = api.post(
        f"/disbursements/{payment.get_json()['id']}/reverse", finance, json={"reason": "Wrong bank account"}
    )
    assert reversal.status_code == 201
    assert reversal.get_json()["amount_pence"] == -600_00
    duplicate = api.post(
        f"/claims/{claim_id}/disbursements",
        finance,
        json={"amount_pence": 600_00, "paid_on": paid_on, "reference": "SLG-0001"},
    )
    assert duplicate.status_code == 409
    again = api.post(
        f"/claims/{claim_id}/disbursements",
        finance,
        json={"amount_pence": 600_00, "paid_on": paid_on, "reference": "SLG-0002"},
    )
    assert again.status_code == 201
    money = api.get(f"/applications/{reference}", auditor).get_json()
    assert (money["claimed_pence"], money["paid_pence"]) == (600_00, 600_00)

    # delivery finished, final impact report evaluated, closed
    assert act(lead, "finish_delivery")["status"] == "monitoring"
    assert act(officer, "close", expected=422)["error"]["code"] == "guard_failed"
    measures = money["measures"]
    report = api.post(
        f"/applications/{reference}/impact-reports",
        lead,
        json={
            "kind": "final",
            "narrative": "Phonics scores rose across both schools.",
            "results": [{"measure_id": m["id"], "actual": 78} for m in measures],
        },
    )
    assert report.status_code == 201
    evaluation = api.post(
        f"/impact-reports/{report.get_json()['id']}/evaluation",
        officer,
        json={
            "rating": "achieved",
            "drivers": ["collaboration", "practice_change"],
            "comment": "Clear gains",
        },
    )
    assert evaluation.status_code == 201
    closed = act(officer, "close")
    assert closed["status"] == "closed"
    assert closed["allowed_actions"] == []

    # the audit trail tells the whole story, in order, chained
    events = api.get(f"/applications/{reference}/events", auditor).get_json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("create", None, "draft"),
        ("endorse", "draft", "draft"),
        ("submit", "draft", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("request_changes", "under_review", "changes_requested"),
        ("edit", "changes_requested", "changes_requested"),
        ("resubmit", "changes_requested", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("approve", "under_review", "awaiting_countersign"),
        ("countersign", "awaiting_countersign", "approved"),
        ("create_claim", None, "pending"),
        ("verify", "pending", "verified"),
        ("record_disbursement", "verified", "paid"),
        ("reverse_disbursement", "paid", "verified"),
        ("record_disbursement", "verified", "paid"),
        ("mark_submitted", "due", "submitted"),  # the schedule's claim deadline, met
        ("finish_delivery", "approved", "monitoring"),
        ("mark_submitted", "due", "submitted"),  # the schedule's final report, sent
        ("submit_impact_report", None, "submitted"),
        ("evaluate_impact_report", "submitted", "evaluated"),
        ("close", "monitoring", "closed"),
    ]
    assert [e["actor_email"] for e in events][:3] == [lead.email, partner.email, lead.email]
    assert events[8]["payload"]["awarded_pence"] == 1_500_00
    assert events[4]["payload"]["comment"] == "Add a second coaching day."
    for before, after in zip(events, events[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
        assert after["id"] > before["id"]
    chain = api.get("/audit/verify", auditor).get_json()
    assert chain["ok"] is True and chain["first_bad_event_id"] is None

    # and the award is published
    package = api.get(f"/exports/360giving.json?fund_id={fund.id}", auditor).get_json()
    assert [(g["amountAwarded"], g["amountDisbursed"]) for g in package["grants"]] == [(1500.0, 600.0)]
    report_rows = api.get(f"/reports/value-for-money?fund_id={fund.id}", auditor).get_json()["rows"]
    assert report_rows[0]["committed_pence"] == 600_00  # unspent award released at finish_delivery
    assert report_rows[0]["impact_rating"] == "achieved"
