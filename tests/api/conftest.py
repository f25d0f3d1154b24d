"""Helpers for the API tests: a client that sends a user's bearer token."""

from __future__ import annotations

from typing import Any

import pytest

from fundflow.extensions import db
from fundflow.services import auth

PREFIX = "/api/v1"


class Api:
    """Calls ``/api/v1`` as a user, with a bearer token issued for them once."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[int, str] = {}

    def token(self, user) -> str:
        if user.id not in self.tokens:
            self.tokens[user.id] = auth.issue_token(user, "test")
        return self.tokens[user.id]

    def headers(self, user) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"} if user is not None else {}

    def call(self, method: str, path: str, user=None, json: Any = None, **kwargs: Any):
        headers = {**self.headers(user), **kwargs.pop("headers", {})}
        return self.client.open(PREFIX + path, method=method, headers=headers, json=json, **kwargs)

    def get(self, path: str, user=None, **kwargs: Any):
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user=None, json: Any = None, **kwargs: Any):
        return self.call("POST", path, user, json, **kwargs)

    def patch(self, path: str, user=None, json: Any = None, **kwargs: Any):
        return self.call("PATCH", path, user, json, **kwargs)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_app(request):
    """The app on SQLite, and on PostgreSQL when the PostgreSQL tests run."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def seed_world() -> dict[str, Any]:
    """Bids in many states, claims, payments and reports, and one user holding every role,
    so that most operations can succeed as well as fail. Returns the token and known ids."""
    from fundflow.models import Disbursement, ImpactReport, UserRole
    from fundflow.services import impact
    from fundflow.services.queries.schedule import schedule_for
    from tests.factories import Factory

    make = Factory()
    school = make.school()
    everyone = make.user("headteacher", "liaison_officer", "finance", "auditor", school=school)
    # Test-only: the service refuses admin alongside liaison/finance (an administrator takes
    # no part in decisions or payments); one token holding every role lets every operation run.
    everyone.role_rows.append(UserRole(role="admin"))
    db.session.commit()
    fund = make.fund(countersign_threshold_pence=None)
    mine = [
        make.application(state, fund=fund, lead=everyone)
        for state in ("draft", "approved", "changes_requested")
    ]
    others = [
        make.application(state, fund=fund)
        for state in ("submitted", "under_review", "approved", "monitoring")
    ]
    approved = others[2]
    verified = make.claim(approved, state="verified")
    make.claim(approved, amount_pence=200_00, state="paid")
    make.claim(mine[1], amount_pence=100_00)
    report = impact.submit_report(
        make.lead_of(approved),
        approved,
        impact.ReportInput(
            kind="interim",
            narrative="Going well",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in approved.measures],
        ),
    )
    return {
        "user": everyone,
        "token": auth.issue_token(everyone, "world"),
        "reference": [a.reference for a in mine + others],
        "draft": mine[0].reference,
        "my_approved": mine[1].reference,
        "approved": approved.reference,
        "measure_ids": [m.id for m in mine[1].measures],
        "fund_id": [fund.id],
        "claim_id": [verified.id],
        "disbursement_id": [d.id for d in Disbursement.query.all()],
        "report_id": [report.id] + [r.id for r in ImpactReport.query.all() if r.id != report.id],
        "schedule_item_id": [i.id for i in schedule_for(approved.id)],
    }


def error_of(response) -> dict[str, Any]:
    """The error object, after checking the body has exactly API.md's shape."""
    body = response.get_json()
    assert response.mimetype == "application/json", response.data[:200]
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "fields"}
    return body["error"]


def bid_body(
    fund, partner, *, days: float = 4, rate: int = 300_00, role: str = "supporting"
) -> dict[str, Any]:
    """A complete bid, as a headteacher's program would send it."""
    from datetime import timedelta

    from fundflow.services.clock import today

    return {
        "fund_id": fund.id,
        "title": "Phonics partnership",
        "need": "Reading is below the local average.",
        "priority_areas": ["Early reading"],
        "partners": [{"urn": partner.urn, "role": role}],
        "activities": [
            {"description": "Coaching", "staff_role": "Deputy head", "days": days, "daily_rate_pence": rate}
        ],
        "measures": [
            {
                "indicator": "Phonics pass rate",
                "unit": "%",
                "baseline": 60,
                "target": 75,
                "due_on": (today() + timedelta(days=90)).isoformat(),
            }
        ],
    }


#: Cases run by the schemathesis test: {database: {operation: cases}}, reported at the end.
SCHEMATHESIS_CASES: dict[str, dict[str, int]] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    for database, cases in SCHEMATHESIS_CASES.items():
        terminalreporter.write_line(
            f"schemathesis ({database}): {sum(cases.values())} cases over {len(cases)} API operations"
        )
