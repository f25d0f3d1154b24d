"""Oversized and extreme values are refused with a 4xx, never a crash — on SQLite and on
PostgreSQL, which enforces column sizes and numeric ranges that SQLite ignores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from fundflow.extensions import db
from fundflow.models import BackfillClaim
from fundflow.services import auth
from fundflow.services.clock import today
from tests.factories import Factory

from .conftest import PREFIX, seed_world

LONG_TEXT = "x" * 5000


def extremes(value: Any) -> list[Any]:
    """Values of the same JSON type as ``value`` that stretch a column or a number."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [2**62, -(2**62), 2**31]
    if isinstance(value, float):
        return [1e300, -1e300, 1e-300]
    if isinstance(value, str):
        return [LONG_TEXT, "0001-01-01", "9999-12-31", "é" * 300]
    return []


def variants(body: Any) -> Iterator[tuple[str, Any]]:
    """``body`` with one leaf at a time replaced by an extreme value."""
    if isinstance(body, dict):
        for key, value in body.items():
            for name, changed in variants(value):
                yield f"{key}.{name}".rstrip("."), {**body, key: changed}
    elif isinstance(body, list):
        for i, value in enumerate(body[:1]):
            for name, changed in variants(value):
                yield f"{i}.{name}".rstrip("."), [changed, *body[1:]]
    else:
        for extreme in extremes(body):
            yield "", extreme


def requests_for(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    day = today()
    past = (day - timedelta(days=1)).isoformat()
    return [
        ("POST", "/tokens", {"email": "someone@example.test", "password": "a-password-here"}),
        (
            "POST",
            "/funds",
            {
                "name": "Fund",
                "financial_year": "2026-27",
                "budget_pence": 100_000,
                "opens_on": day.isoformat(),
                "closes_on": (day + timedelta(days=30)).isoformat(),
                "max_daily_rate_pence": 500_00,
                "max_award_pence": 5_000_00,
                "countersign_threshold_pence": 1_000_00,
            },
        ),
        (
            "POST",
            "/schools",
            {
                "urn": "999999",
                "name": "School",
                "phase": "Primary",
                "la_code": "871",
                "la_name": "Slough",
                "trust": "Trust",
                "establishment_type": "Academy",
                "postcode": "SL1 1AA",
            },
        ),
        (
            "POST",
            "/applications",
            {
                "fund_id": world["fund_id"][0],
                "title": "Title",
                "need": "Need",
                "priority_areas": ["Reading"],
                "activities": [
                    {"description": "Coaching", "staff_role": "Deputy", "days": 1.5, "daily_rate_pence": 100}
                ],
                "measures": [
                    {"indicator": "Rate", "unit": "%", "baseline": 1.5, "target": 2.5, "due_on": past}
                ],
            },
        ),
        ("PATCH", f"/applications/{world['draft']}", {"title": "Title", "need": "Need"}),
        (
            "POST",
            f"/applications/{world['draft']}/actions",
            {"action": "withdraw", "comment": "c", "conditions": "c"},
        ),
        (
            "POST",
            f"/applications/{world['my_approved']}/claims",
            {
                "period_start": past,
                "period_end": past,
                "staff_released": "Deputy",
                "days": 0.5,
                "amount_pence": 1,
            },
        ),
        ("POST", f"/claims/{world['claim_id'][0]}/actions", {"action": "reject", "comment": "Reason"}),
        (
            "POST",
            f"/claims/{world['claim_id'][0]}/disbursements",
            {"amount_pence": 1, "paid_on": past, "reference": "REF-1"},
        ),
        ("POST", f"/disbursements/{world['disbursement_id'][0]}/reverse", {"reason": "Reason"}),
        (
            "POST",
            f"/applications/{world['my_approved']}/impact-reports",
            {
                "kind": "interim",
                "narrative": "Text",
                "results": [{"measure_id": world["measure_ids"][0], "actual": 1.5}],
            },
        ),
        (
            "POST",
            f"/impact-reports/{world['report_id'][0]}/evaluation",
            {"rating": "achieved", "drivers": ["collaboration"], "comment": "Comment"},
        ),
        (
            "POST",
            f"/schedule-items/{world['schedule_item_id'][0]}/actions",
            {"action": "reschedule", "comment": "Reason", "due_on": (day + timedelta(days=30)).isoformat()},
        ),
    ]


def test_extreme_values_are_refused_not_crashed(live_app):
    world = seed_world()
    client = live_app.test_client()
    headers = {"Authorization": f"Bearer {world['token']}"}
    crashes = []
    for method, path, body in requests_for(world):
        for field, changed in variants(body):
            response = client.open(PREFIX + path, method=method, json=changed, headers=headers)
            if response.status_code >= 500:
                crashes.append(f"{method} {path} {field}: {response.status_code}")
            assert response.mimetype == "application/json"
    for query in ("page=100000&per_page=100", "fund_id=2147483647", "status=draft&fund_id=1&page=99999"):
        response = client.get(f"{PREFIX}/applications?{query}", headers=headers)
        if response.status_code >= 500:
            crashes.append(f"GET /applications?{query}: {response.status_code}")
    for path in (
        "/funds/2147483647",
        "/exports/360giving.json?fund_id=2147483647",
        "/reports/value-for-money?fund_id=2147483647",
    ):
        if client.get(PREFIX + path, headers=headers).status_code >= 500:
            crashes.append(path)
    assert crashes == []


def test_claim_of_more_than_a_years_days_is_422(live_app):
    """Pins a service fix: a claim over a long period could ask for more days than the
    column holds (PostgreSQL refused the insert with a 500)."""
    world = seed_world()
    client = live_app.test_client()
    end = today() - timedelta(days=1)
    response = client.post(
        f"{PREFIX}/applications/{world['my_approved']}/claims",
        headers={"Authorization": f"Bearer {world['token']}"},
        json={
            "period_start": "2001-01-01",
            "period_end": end.isoformat(),
            "staff_released": "Deputy head",
            "days": 200_000,
            "amount_pence": 100,
        },
    )
    assert response.status_code == 422
    assert "days" in response.get_json()["error"]["fields"]


def test_token_request_with_a_very_long_email_is_401(live_app):
    """Pins a service fix: a failed attempt with an email longer than the column crashed
    on PostgreSQL instead of counting towards the throttle."""
    client = live_app.test_client()
    response = client.post(
        f"{PREFIX}/tokens", json={"email": "a" * 300 + "@example.test", "password": "x" * 12}
    )
    assert response.status_code == 401


def test_cancelling_an_award_rejects_its_outstanding_claims(live_app):
    """Pins a service fix: the row locks (``SELECT … FOR UPDATE``) joined eager-loaded
    tables, which PostgreSQL refuses; every bid action and this cancel failed there."""
    make, client = Factory(), live_app.test_client()
    officer = make.liaison()
    bid = make.application("approved", liaison=officer)
    claim = make.claim(bid)
    headers = {"Authorization": f"Bearer {auth.issue_token(officer)}"}
    response = client.post(
        f"{PREFIX}/applications/{bid.reference}/actions",
        headers=headers,
        json={"action": "cancel", "comment": "The partnership ended"},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    db.session.expire_all()
    assert db.session.get(BackfillClaim, claim.id).status == "rejected"
