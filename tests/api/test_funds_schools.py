"""Funds with their ledgers, and schools."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.services.clock import today

from .conftest import error_of

FUND_FIELDS = {
    "id",
    "name",
    "financial_year",
    "budget_pence",
    "committed_pence",
    "paid_pence",
    "available_pence",
    "opens_on",
    "closes_on",
    "max_award_pence",
    "max_daily_rate_pence",
    "countersign_threshold_pence",
    "requires_partner_endorsement",
    "delivery_ends_on",
    "report_cadence",
    "final_report_weeks",
    "claim_deadline_weeks",
    "local_authorities",
}


def fund_body(**overrides):
    body = {
        "name": "Slough school improvement fund",
        "financial_year": "2026-27",
        "budget_pence": 250_000_00,
        "opens_on": today().isoformat(),
        "closes_on": (today() + timedelta(days=120)).isoformat(),
        "max_daily_rate_pence": 450_00,
        "max_award_pence": 20_000_00,
        "countersign_threshold_pence": 10_000_00,
        "requires_partner_endorsement": True,
    }
    body.update(overrides)
    return body


def test_funds_are_listed_with_their_ledgers(api, make):
    fund = make.fund(budget_pence=50_000_00)
    app = make.application("approved", fund=fund, awarded_pence=1_000_00)
    make.claim(app, amount_pence=400_00, state="paid")
    response = api.get("/funds", make.headteacher())
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    item = body["items"][0]
    assert set(item) == FUND_FIELDS
    assert item["budget_pence"] == 50_000_00
    assert item["committed_pence"] == 1_000_00
    assert item["paid_pence"] == 400_00
    assert item["available_pence"] == 49_000_00


def test_one_fund_by_id(api, make):
    fund = make.fund()
    response = api.get(f"/funds/{fund.id}", make.user("auditor"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == fund.id
    assert body["opens_on"] == fund.opens_on.isoformat()


def test_missing_fund_is_404(api, make):
    response = api.get("/funds/999", make.user("auditor"))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_admin_creates_a_fund(api, make):
    response = api.post("/funds", make.user("admin"), json=fund_body())
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == FUND_FIELDS
    assert body["available_pence"] == 250_000_00
    assert body["requires_partner_endorsement"] is True


@pytest.mark.parametrize("role", ["headteacher", "liaison_officer", "finance", "auditor"])
def test_only_an_admin_creates_a_fund(api, make, role):
    response = api.post("/funds", make.user(role), json=fund_body())
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_fund_rules_are_checked_by_the_service(api, make):
    response = api.post("/funds", make.user("admin"), json=fund_body(financial_year="2026"))
    assert response.status_code == 422
    assert "financial_year" in error_of(response)["fields"]


def test_fund_flags_must_be_booleans(api, make):
    response = api.post("/funds", make.user("admin"), json=fund_body(requires_partner_endorsement="yes"))
    assert response.status_code == 422
    assert "requires_partner_endorsement" in error_of(response)["fields"]


def test_funds_paginate(api, make):
    for _ in range(3):
        make.fund()
    body = api.get("/funds?per_page=2&page=2", make.user("auditor")).get_json()
    assert body["total"] == 3
    assert body["page"] == 2 and body["per_page"] == 2
    assert len(body["items"]) == 1


@pytest.mark.parametrize("query", ["per_page=101", "per_page=0", "page=0", "page=x"])
def test_bad_paging_is_422(api, make, query):
    response = api.get(f"/funds?{query}", make.user("auditor"))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) <= {"page", "per_page"}


def test_schools_are_listed_by_urn(api, make):
    make.school(urn="200002", name="Beta")
    make.school(urn="200001", name="Alpha", causing_concern=True)
    body = api.get("/schools", make.headteacher()).get_json()
    urns = [s["urn"] for s in body["items"]]
    assert urns == sorted(urns)
    alpha = next(s for s in body["items"] if s["urn"] == "200001")
    assert alpha["name"] == "Alpha" and alpha["causing_concern"] is True
    assert {"urn", "name", "phase", "la_code", "causing_concern"} <= set(alpha)


def test_admin_adds_a_school(api, make):
    body = {"urn": "300001", "name": "Cippenham Primary", "phase": "Primary", "la_code": "871"}
    response = api.post("/schools", make.user("admin"), json={**body, "causing_concern": False})
    assert response.status_code == 201
    assert response.get_json()["urn"] == "300001"
    assert response.get_json()["la_code"] == "871"


def test_duplicate_urn_is_409(api, make):
    make.school(urn="300002")
    response = api.post("/schools", make.user("admin"), json={"urn": "300002", "name": "Again"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_urn"


def test_only_an_admin_adds_a_school(api, make):
    response = api.post("/schools", make.user("finance"), json={"urn": "300003", "name": "X"})
    assert response.status_code == 403


def test_bad_urn_is_422(api, make):
    response = api.post("/schools", make.user("admin"), json={"urn": "12", "name": "X"})
    assert response.status_code == 422
    assert "urn" in error_of(response)["fields"]
