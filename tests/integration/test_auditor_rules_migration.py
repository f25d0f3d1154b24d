"""Migration a10b0c0d0001 on a database that already holds funds and claims: existing funds
get a delivery period ending a year after they close, existing claims name their role as
the person released (the best the old rows hold) and carry no double-funding flag."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import text

from fundflow.extensions import db
from tests.conftest import make_app

NOW = "2026-01-01 00:00:00"


def test_existing_funds_and_claims_are_filled_in_by_the_auditor_rules_migration(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade(revision="9c898da0c4d2")
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO funds (id, name, financial_year, budget_pence, opens_on, closes_on, "
                    "max_daily_rate_pence, requires_partner_endorsement, created_at, updated_at) VALUES "
                    "(1, 'Old fund', '2025-26', 100, '2025-04-01', '2026-03-31', 10, 0, :now, :now), "
                    "(2, 'Leap fund', '2023-24', 100, '2023-04-01', '2024-02-29', 10, 0, :now, :now)"
                ),
                {"now": NOW},
            )
            run(
                text(
                    "INSERT INTO schools (id, urn, name, phase, la_code, la_name, trust, establishment_type, "
                    "postcode, causing_concern, created_at, updated_at) "
                    "VALUES (1, '100001', 'A school', '', '', '', '', '', '', 0, :now, :now)"
                ),
                {"now": NOW},
            )
            run(
                text(
                    "INSERT INTO users (id, email, name, password_hash, active, session_version, created_at, "
                    "updated_at) VALUES (1, 'a@example.test', 'A', 'x', 1, 1, :now, :now)"
                ),
                {"now": NOW},
            )
            run(
                text(
                    "INSERT INTO applications (id, reference, fund_id, lead_school_id, created_by_id, title, "
                    "need, priority_areas, status, version, requested_pence, conditions, override_note, "
                    "created_at, updated_at) VALUES (1, 'LSIF-2025-0001', 1, 1, 1, 'T', 'N', '[]', "
                    "'approved', 1, 100, '', '', :now, :now)"
                ),
                {"now": NOW},
            )
            run(
                text(
                    "INSERT INTO backfill_claims (id, application_id, status, period_start, period_end, "
                    "staff_released, days, amount_pence, created_by_id, decision_comment, created_at, "
                    "updated_at) VALUES (1, 1, 'pending', '2025-05-05', '2025-05-06', 'Deputy head', 2, 100, "
                    "1, '', :now, :now)"
                ),
                {"now": NOW},
            )
        flask_migrate.upgrade(revision="a10b0c0d0001")
        with db.engine.connect() as connection:
            funds = connection.execute(text("SELECT id, delivery_ends_on FROM funds ORDER BY id")).all()
            claim = connection.execute(
                text("SELECT staff_name, overlaps_claim_id FROM backfill_claims")
            ).one()
        assert [(i, str(d)) for i, d in funds] == [(1, "2027-03-31"), (2, "2025-02-28")]
        assert tuple(claim) == ("Deputy head", None)
        flask_migrate.downgrade(revision="9c898da0c4d2")
        db.engine.dispose()
