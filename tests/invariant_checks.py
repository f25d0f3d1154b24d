"""DESIGN.md's money invariants as plain SQL over the whole database, shared by the
hypothesis state machine and the PostgreSQL mixed-load test:

1. for every fund, the sum of commitments is within its budget (and the ledger agrees);
2. for every application, paid <= verified+paid claims <= awarded <= requested, and every
   claim is paid at most its amount;
3. every bid's kept running figures equal a fresh working-out from its records.
"""

from __future__ import annotations

from sqlalchemy import text

from fundflow.extensions import db
from fundflow.services import bid_figures, ledger


def commitments_within_budget() -> None:
    rows = db.session.execute(
        text(
            """
            SELECT f.id, f.budget_pence,
              COALESCE((SELECT SUM(a.awarded_pence) FROM applications a
                        WHERE a.fund_id = f.id AND a.status = 'approved'), 0)
              + COALESCE((SELECT SUM(d.amount_pence) FROM disbursements d
                          JOIN backfill_claims c ON c.id = d.claim_id
                          JOIN applications a ON a.id = c.application_id
                          WHERE a.fund_id = f.id
                            AND a.status IN ('monitoring', 'closed', 'cancelled')), 0)
            FROM funds f
            """
        )
    ).all()
    for fund_id, budget, committed in rows:
        assert committed <= budget, f"fund {fund_id}: committed {committed} > budget {budget}"
        assert ledger.ledger(fund_id).committed_pence == committed


def money_within_claims_award_and_request() -> None:
    rows = db.session.execute(
        text(
            """
            SELECT a.id, a.status, a.requested_pence, a.awarded_pence,
              COALESCE((SELECT SUM(c.amount_pence) FROM backfill_claims c
                        WHERE c.application_id = a.id AND c.status IN ('verified', 'paid')), 0),
              COALESCE((SELECT SUM(d.amount_pence) FROM disbursements d
                        JOIN backfill_claims c ON c.id = d.claim_id WHERE c.application_id = a.id), 0)
            FROM applications a
            """
        )
    ).all()
    for app_id, status, requested, awarded, verified, paid in rows:
        where = f"application {app_id} ({status})"
        assert 0 <= paid <= verified, f"{where}: paid {paid} > verified claims {verified}"
        assert verified <= (awarded or 0), f"{where}: verified claims {verified} > award {awarded}"
        if awarded is not None:
            assert awarded <= requested, f"{where}: award {awarded} > request {requested}"
        if status in ("approved", "awaiting_countersign"):
            assert awarded is not None and awarded > 0, where
    claims_rows = db.session.execute(
        text(
            """
            SELECT c.id, c.status, c.amount_pence, COALESCE(SUM(d.amount_pence), 0)
            FROM backfill_claims c LEFT JOIN disbursements d ON d.claim_id = c.id
            GROUP BY c.id, c.status, c.amount_pence
            """
        )
    ).all()
    for claim_id, status, amount, paid in claims_rows:
        assert 0 <= paid <= amount, f"claim {claim_id}: paid {paid} of {amount}"
        if status == "paid":
            assert paid == amount, f"paid claim {claim_id} has {paid} of {amount}"
        if status in ("pending", "rejected"):
            assert paid == 0, f"{status} claim {claim_id} has {paid} paid against it"


def running_figures_match() -> None:
    count, references = bid_figures.drifted()
    assert count == 0, f"the running figures of {count} bid(s) differ from their records: {references}"
