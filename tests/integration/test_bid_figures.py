"""Each bid's running figures (fundflow/services/bid_figures.py) are kept with every change to
the bid, equal a fresh working-out from its records after each one (on SQLite, on PostgreSQL
and under concurrent changes to one bid), are checked by verify-audit and mended by
rebuild-figures, and the migration that added them works them out as the service does."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select, text, update

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, BidFigures, Disbursement, User
from fundflow.services import bid_figures, claims, impact
from tests.factories import Factory
from tests.invariant_checks import running_figures_match

from .test_postgres_mixed_load import Acknowledged, run_all_at_once

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "a10b0c0d0012_bid_figures.py"


def kept(application_id: int) -> dict[str, Any]:
    row = db.session.execute(
        select(BidFigures).where(BidFigures.application_id == application_id)
    ).scalar_one()
    db.session.refresh(row)
    return {name: getattr(row, name) for name in bid_figures.FIGURES}


def check_a_bids_kept_figures_follow_each_change_to_it() -> None:
    make = Factory()
    liaison = make.liaison()
    supported = make.school()
    fund = make.fund()
    app = make.application("under_review", fund=fund, partner=supported, liaison=liaison)
    seen = kept(app.id)
    assert seen["planned_days"] == Decimal("4")
    assert (seen["measures"], seen["no_result_yet"], seen["value_for_money_score"]) == (1, 1, None)
    running_figures_match()

    make.review(liaison, app)
    assert kept(app.id)["value_for_money_score"] == 3
    make.act(app, liaison, "approve")
    first = make.claim(app, amount_pence=300_00, days="1")
    assert kept(app.id)["claimed_pence"] == 0  # a pending claim is not counted
    claims.decide_claim(liaison, first, "verify")
    assert (kept(app.id)["claimed_pence"], kept(app.id)["claimed_days"]) == (300_00, Decimal("1"))
    make.pay(first)
    assert kept(app.id)["paid_pence"] == 300_00
    second = make.claim(app, amount_pence=200_00, days="1", state="verified")
    make.paid_with_reversal(second)  # paid wrongly, reversed, paid again: net 200_00
    assert kept(app.id)["paid_pence"] == 500_00
    running_figures_match()

    lead = make.lead_of(app)
    make.act(app, lead, "finish_delivery")
    report = make.final_report(app, "Pass rates rose.")
    seen = kept(app.id)
    assert (seen["part_way"], seen["no_result_yet"], seen["impact_rating"]) == (1, 0, None)
    impact.evaluate_report(
        liaison, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
    )
    assert kept(app.id)["impact_rating"] == "achieved"
    running_figures_match()


def test_a_bids_kept_figures_follow_each_change_to_it(app):
    check_a_bids_kept_figures_follow_each_change_to_it()


@pytest.mark.postgres
def test_a_bids_kept_figures_follow_each_change_to_it_on_postgresql(pg_app):
    check_a_bids_kept_figures_follow_each_change_to_it()


def test_a_new_draft_has_its_figures_from_the_start(app):
    draft = Factory().application("draft")
    seen = kept(draft.id)
    assert (seen["claimed_pence"], seen["paid_pence"], seen["measures"]) == (0, 0, 1)


def _verify_audit() -> Any:
    return current_app.test_cli_runner().invoke(args=["fundflow", "verify-audit"])


def test_verify_audit_names_a_bid_whose_figures_differ_and_rebuild_figures_mends_them(app):
    make = Factory()
    paid = make.application("approved")
    make.claim(paid, state="paid")
    untouched = make.application("submitted")
    assert _verify_audit().exit_code == 0
    assert "OK: every bid's running figures match" in _verify_audit().output

    # A payment changed behind the services' back: the kept figure no longer matches.
    db.session.execute(update(Disbursement).values(amount_pence=1_00))
    db.session.commit()
    result = _verify_audit()
    assert result.exit_code == 1
    assert f"the running figures of 1 bid(s) differ from their records: {paid.reference}." in result.output
    assert untouched.reference not in result.output
    assert "rebuild-figures" in result.output

    rebuilt = current_app.test_cli_runner().invoke(args=["fundflow", "rebuild-figures"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Worked out the running figures of 2 bid(s)" in rebuilt.output
    assert kept(paid.id)["paid_pence"] == 1_00
    assert _verify_audit().exit_code == 0


def test_a_missing_figures_row_is_drift_and_every_drifted_bid_is_counted(app):
    make = Factory()
    first, second = make.application("submitted"), make.application("draft")
    db.session.execute(text("DELETE FROM bid_figures"))
    db.session.commit()
    assert bid_figures.drifted() == (2, [first.reference, second.reference])
    assert bid_figures.drifted(limit=1) == (2, [first.reference])


def check_the_migrations_backfill_works_out_what_the_service_does() -> None:
    make = Factory()
    liaison = make.liaison()
    for state in ("draft", "under_review", "rejected", "approved", "monitoring", "closed"):
        bid = make.application(state, liaison=liaison, partner=make.school())
        if state == "under_review":
            make.review(liaison, bid)
        if state == "approved":
            make.claim(bid, state="verified")
            make.paid_with_reversal(make.claim(bid, state="verified"))
    worked = {row.application_id: dict(row._mapping) for row in db.session.execute(bid_figures.worked_out())}
    spec = importlib.util.spec_from_file_location("bid_figures_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(text("DELETE FROM bid_figures"))
    db.session.execute(text(migration.BACKFILL))
    db.session.commit()
    running_figures_match()
    assert len(worked) == 6
    # the bids gave the backfill something to work out: money, a score, a rating, results
    for figure in ("paid_pence", "value_for_money_score", "impact_rating", "part_way"):
        assert any(figures[figure] for figures in worked.values()), figure


def test_the_migrations_backfill_works_out_what_the_service_does(app):
    check_the_migrations_backfill_works_out_what_the_service_does()


@pytest.mark.postgres
def test_the_migrations_backfill_works_out_what_the_service_does_on_postgresql(pg_app):
    check_the_migrations_backfill_works_out_what_the_service_does()


@pytest.mark.postgres
def test_concurrent_claims_verifications_and_payments_on_one_bid_keep_its_figures_right(pg_app):
    """Payments, verifications and new claims on one bid at once: each refreshes the bid's
    figures under the bid's row lock, so the last to commit read what the others wrote."""
    make = Factory()
    liaison, finance = make.liaison(), make.user("finance")
    bid = make.application("approved", days="20", awarded_pence=6_000_00)
    to_pay = [make.claim(bid, amount_pence=100_00, state="verified").id for _ in range(4)]
    to_verify = [make.claim(bid, amount_pence=100_00).id for _ in range(4)]
    lead_id, bid_id, liaison_id, finance_id = make.lead_of(bid).id, bid.id, liaison.id, finance.id

    def pay(claim_id: int, user: User) -> None:
        make.pay(db.session.get(BackfillClaim, claim_id), user, reference=f"PAY-ONE-BID-{claim_id}")

    def verify(claim_id: int, user: User) -> None:
        claims.decide_claim(user, db.session.get(BackfillClaim, claim_id), "verify")

    def claim(n: int, user: User) -> None:
        make.claim(db.session.get(Application, bid_id), user, amount_pence=50_00, staff_name=f"Claimant {n}")

    def at_once(user_id: int, act: Callable[[int, User], None], subject: int) -> Any:
        def job(barrier: threading.Barrier) -> Acknowledged:
            user = db.session.get(User, user_id)
            barrier.wait()
            act(subject, user)
            return Acknowledged(act.__name__, bid_id, subject)

        return job

    jobs = (
        [at_once(finance_id, pay, c) for c in to_pay]
        + [at_once(liaison_id, verify, c) for c in to_verify]
        + [at_once(lead_id, claim, n) for n in range(4)]
    )
    db.session.remove()
    outcomes = run_all_at_once(pg_app, jobs)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    db.session.remove()
    running_figures_match()
    seen = kept(bid_id)
    assert (seen["paid_pence"], seen["claimed_pence"]) == (400_00, 800_00)
