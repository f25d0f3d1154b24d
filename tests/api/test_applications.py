"""Bids: create, list, read, edit, fire actions, read the audit trail."""

from __future__ import annotations

import pytest

from .conftest import bid_body, error_of

APPLICATION_FIELDS = {
    "reference",
    "fund_id",
    "lead_school_id",
    "lead_school_nation",
    "lead_school_identifier",
    "lead_school_urn",
    "title",
    "need",
    "priority_areas",
    "status",
    "version",
    "requested_pence",
    "awarded_pence",
    "conditions",
    "claimed_pence",
    "paid_pence",
    "allowed_actions",
    "partners",
    "activities",
    "measures",
    "schedule",
}
EXTRA_FIELDS = {"approved_on", "created_at", "updated_at"}
EVENT_FIELDS = {
    "id",
    "at",
    "actor_email",
    "action",
    "from_status",
    "to_status",
    "payload",
    "hash",
    "prev_hash",
}


def test_headteacher_creates_a_draft_with_the_requested_total(api, make):
    head = make.headteacher()
    fund, partner = make.fund(), make.school()
    body = bid_body(fund, partner, days=2.5, rate=301_01)
    body["activities"].append(
        {"description": "Planning", "staff_role": "English lead", "days": 0.5, "daily_rate_pence": 251_01}
    )
    response = api.post("/applications", head, json=body)
    assert response.status_code == 201
    app = response.get_json()
    assert set(app) == APPLICATION_FIELDS | EXTRA_FIELDS
    assert app["status"] == "draft"
    assert app["reference"].startswith("LSIF-")
    assert app["lead_school_urn"] == head.school.urn
    # 2.5 × 30101 = 75252.5 → 75253; 0.5 × 25101 = 12550.5 → 12551: rounded once per activity
    assert [a["cost_pence"] for a in app["activities"]] == [75253, 12551]
    assert app["requested_pence"] == 75253 + 12551
    assert app["activities"][0]["days"] == 2.5
    assert app["awarded_pence"] is None
    assert app["claimed_pence"] == 0 and app["paid_pence"] == 0
    assert app["partners"] == [
        {
            "school_id": partner.id,
            "nation": "england",
            "identifier": partner.urn,
            "urn": partner.urn,
            "name": partner.name,
            "role": "supporting",
            "endorsed": False,
        }
    ]
    assert set(app["activities"][0]) == {
        "id",
        "description",
        "staff_role",
        "days",
        "daily_rate_pence",
        "cost_pence",
        "starts_on",
        "ends_on",
    }
    assert app["activities"][0]["starts_on"] is None  # not given: null
    assert set(app["measures"][0]) == {
        "id",
        "indicator",
        "unit",
        "baseline",
        "target",
        "due_on",
        "follow_up_reason",
    }
    assert app["measures"][0]["baseline"] == 60 and app["measures"][0]["target"] == 75
    assert app["allowed_actions"] == ["submit", "withdraw"]


def test_a_draft_may_start_with_just_fund_and_title(api, make):
    response = api.post(
        "/applications", make.headteacher(), json={"fund_id": make.fund().id, "title": "Maths"}
    )
    assert response.status_code == 201
    assert response.get_json()["requested_pence"] == 0


@pytest.mark.parametrize("role", ["liaison_officer", "finance", "auditor", "admin"])
def test_only_a_headteacher_creates_a_bid(api, make, role):
    response = api.post("/applications", make.user(role), json=bid_body(make.fund(), make.school()))
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_unknown_fund_is_422(api, make):
    response = api.post("/applications", make.headteacher(), json={"fund_id": 12345, "title": "x"})
    assert response.status_code == 422
    assert "fund_id" in error_of(response)["fields"]


def test_get_one_application_by_reference(api, make):
    app = make.application("submitted")
    response = api.get(f"/applications/{app.reference}", make.liaison())
    assert response.status_code == 200
    body = response.get_json()
    assert body["reference"] == app.reference
    assert body["status"] == "submitted"
    assert body["allowed_actions"] == ["start_review"]


def test_headteacher_of_another_school_gets_404_not_403(api, make):
    app = make.application("submitted")
    response = api.get(f"/applications/{app.reference}", make.headteacher())
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_partner_headteacher_sees_the_bid_and_may_endorse_or_decline(api, make):
    partner = make.school()
    app = make.application("draft", partner=partner)
    body = api.get(f"/applications/{app.reference}", make.headteacher(school=partner)).get_json()
    assert body["allowed_actions"] == ["endorse", "decline_endorsement"]


def test_list_shows_only_what_the_user_may_see(api, make):
    head = make.headteacher()
    mine = make.application("draft", lead=head)
    partner_of = make.application("submitted", partner=head.school)
    make.application("submitted")
    body = api.get("/applications", head).get_json()
    assert body["total"] == 2
    assert {a["reference"] for a in body["items"]} == {mine.reference, partner_of.reference}
    assert api.get("/applications", make.user("auditor")).get_json()["total"] == 3
    assert api.get("/applications", make.user("admin")).get_json()["total"] == 0


def test_list_filters_by_status_and_fund_and_paginates(api, make):
    fund = make.fund()
    for _ in range(3):
        make.application("submitted", fund=fund)
    make.application("draft", fund=fund)
    make.application("submitted")
    auditor = make.user("auditor")
    body = api.get(f"/applications?status=submitted&fund_id={fund.id}&per_page=2", auditor).get_json()
    assert body["total"] == 3 and body["per_page"] == 2 and body["page"] == 1
    assert len(body["items"]) == 2
    assert all(a["status"] == "submitted" and a["fund_id"] == fund.id for a in body["items"])
    page2 = api.get(f"/applications?status=submitted&fund_id={fund.id}&per_page=2&page=2", auditor).get_json()
    assert len(page2["items"]) == 1


def test_unknown_status_filter_is_422(api, make):
    response = api.get("/applications?status=lost", make.user("auditor"))
    assert response.status_code == 422
    assert "status" in error_of(response)["fields"]


def test_list_runs_the_same_number_of_queries_for_2_or_10_bids(api, make, count_queries):
    liaison = make.liaison()
    fund = make.fund()
    api.token(liaison)

    def statements_for(n: int) -> int:
        while api.get("/applications?per_page=100", liaison).get_json()["total"] < n:
            app = make.application("approved", fund=fund)
            make.claim(app, state="paid")
        with count_queries() as statements:
            response = api.get("/applications?per_page=100", liaison)
        assert response.get_json()["total"] == n
        return len(statements)

    assert statements_for(2) == statements_for(10)


def test_lead_headteacher_edits_a_draft(api, make):
    head = make.headteacher()
    app = make.application("draft", lead=head)
    body = {
        "title": "Phonics and fluency",
        "activities": [
            {"description": "Coaching", "staff_role": "Deputy head", "days": 3, "daily_rate_pence": 250_00}
        ],
    }
    response = api.patch(f"/applications/{app.reference}", head, json=body)
    assert response.status_code == 200
    result = response.get_json()
    assert result["title"] == "Phonics and fluency"
    assert result["requested_pence"] == 750_00
    assert result["need"] == "Reading is below the local average."  # left out: unchanged


def test_partner_headteacher_cannot_edit_bid(api, make):
    partner = make.school()
    app = make.application("draft", partner=partner)
    response = api.patch(
        f"/applications/{app.reference}", make.headteacher(school=partner), json={"title": "x"}
    )
    assert response.status_code == 403


def test_bid_cannot_be_edited_once_submitted(api, make):
    head = make.headteacher()
    app = make.application("submitted", lead=head)
    response = api.patch(f"/applications/{app.reference}", head, json={"title": "x"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_state"


def test_fund_cannot_be_changed_by_patch(api, make):
    head = make.headteacher()
    app = make.application("draft", lead=head)
    response = api.patch(f"/applications/{app.reference}", head, json={"fund_id": 2})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"fund_id": ["Unknown field."]}


def test_action_answers_with_the_application_in_its_new_state(api, make):
    head = make.headteacher()
    app = make.application("draft", lead=head)
    response = api.post(f"/applications/{app.reference}/actions", head, json={"action": "submit"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == APPLICATION_FIELDS | EXTRA_FIELDS
    assert body["status"] == "submitted"


def test_action_by_a_role_that_may_not_is_403(api, make):
    app = make.application("submitted")
    response = api.post(
        f"/applications/{app.reference}/actions", make.user("finance"), json={"action": "start_review"}
    )
    assert response.status_code == 403


def test_liaison_officer_cannot_review_bid_from_own_school(api, make):
    school = make.school()
    app = make.application("submitted", partner=school)
    conflicted = make.liaison(school=school)
    response = api.post(f"/applications/{app.reference}/actions", conflicted, json={"action": "start_review"})
    assert response.status_code == 403
    assert "own school" in error_of(response)["message"]


def test_action_from_the_wrong_state_is_409(api, make):
    app = make.application("draft")
    response = api.post(
        f"/applications/{app.reference}/actions", make.liaison(), json={"action": "start_review"}
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_state"


def test_failed_guard_is_422_with_fields(api, make):
    liaison = make.liaison()
    app = make.application("under_review", liaison=liaison)
    response = api.post(f"/applications/{app.reference}/actions", liaison, json={"action": "request_changes"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "guard_failed"
    assert "comment" in error["fields"]


def test_award_over_the_fund_available_is_422(api, make):
    fund = make.fund(budget_pence=1_000_00, countersign_threshold_pence=None)
    liaison = make.liaison()
    app = make.application("under_review", fund=fund, liaison=liaison)
    response = api.post(
        f"/applications/{app.reference}/actions",
        liaison,
        json={"action": "approve", "awarded_pence": 1_200_00},
    )
    assert response.status_code == 422
    assert "awarded_pence" in error_of(response)["fields"]


def test_unknown_action_is_422(api, make):
    app = make.application("draft")
    response = api.post(f"/applications/{app.reference}/actions", make.liaison(), json={"action": "teleport"})
    assert response.status_code == 422
    assert "action" in error_of(response)["fields"]


def test_action_on_an_invisible_bid_is_404(api, make):
    app = make.application("draft")
    response = api.post(
        f"/applications/{app.reference}/actions", make.headteacher(), json={"action": "withdraw"}
    )
    assert response.status_code == 404


def test_events_are_the_audit_trail_oldest_first(api, make):
    app = make.application("under_review")
    response = api.get(f"/applications/{app.reference}/events", make.user("auditor"))
    assert response.status_code == 200
    events = response.get_json()
    assert [e["action"] for e in events] == ["create", "submit", "start_review"]
    assert all(set(e) == EVENT_FIELDS for e in events)
    assert events[1]["from_status"] == "draft" and events[1]["to_status"] == "submitted"
    assert events[0]["at"].endswith("+00:00")
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[2]["prev_hash"] == events[1]["hash"]


def test_events_of_an_invisible_bid_are_404(api, make):
    app = make.application("draft")
    assert api.get(f"/applications/{app.reference}/events", make.headteacher()).status_code == 404
