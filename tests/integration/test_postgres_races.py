"""Races on a real PostgreSQL: many workers deciding and paying at the same moment must not
overcommit a fund or pay a claim twice. Each thread has its own app context (so its own
session and connection), loads its rows by id, and waits at a barrier so all start together.

Run locally with a throwaway cluster:
``source scripts/throwaway-postgres.sh && start_throwaway_postgres && pytest -m postgres …``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Disbursement, Event, User
from fundflow.services import audit, ledger, lifecycle, payments
from fundflow.services.errors import DomainError, InvalidTransition, ValidationFailed
from tests.factories import Factory

pytestmark = pytest.mark.postgres


def race(pg_app, jobs: list[Callable[[], object]]) -> list[object]:
    """Run each job in its own thread and app context, all released at once.

    Returns, per job, its result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        with pg_app.app_context():
            try:
                outcomes[index] = job(barrier)
            except Exception as exc:  # collected and asserted on by the test
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (deadlock?)"
    return outcomes


def fire(application_id: int, user_id: int, action: str, **kwargs) -> Callable:
    def job(barrier: threading.Barrier) -> str:
        application = db.session.get(Application, application_id)
        user = db.session.get(User, user_id)
        barrier.wait()
        lifecycle.perform(application, user, lifecycle.ActionInput(action=action, **kwargs))
        return action

    return job


def refusals_are_domain_errors(outcomes: list[object], *allowed: type[DomainError]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            assert isinstance(outcome, allowed), repr(outcome)


def committed_within_budget(fund_id: int) -> ledger.Ledger:
    db.session.remove()
    fund_ledger = ledger.ledger(fund_id)
    assert 0 <= fund_ledger.committed_pence <= fund_ledger.budget_pence
    assert audit.verify_chain().ok
    return fund_ledger


def test_twenty_simultaneous_approvals_commit_only_what_the_budget_holds(pg_app):
    make = Factory()
    fund = make.fund(budget_pence=10_000_00, countersign_threshold_pence=None)
    officer = make.liaison()
    bids = [make.application("under_review", fund=fund, liaison=officer) for _ in range(20)]  # £1,200 each
    assert sum(b.requested_pence for b in bids) > fund.budget_pence
    ids = [b.id for b in bids]
    fund_id, officer_id = fund.id, officer.id
    db.session.remove()

    outcomes = race(pg_app, [fire(i, officer_id, "approve") for i in ids])

    refusals_are_domain_errors(outcomes, ValidationFailed)
    fits = 10_000_00 // 1_200_00  # 8
    assert sum(outcome == "approve" for outcome in outcomes) == fits
    fund_ledger = committed_within_budget(fund_id)
    assert fund_ledger.committed_pence == fits * 1_200_00
    approved = db.session.execute(
        select(func.count(Application.id)).where(Application.id.in_(ids), Application.status == "approved")
    ).scalar_one()
    assert approved == fits
    approvals = db.session.execute(select(func.count(Event.id)).where(Event.action == "approve")).scalar_one()
    assert approvals == fits


def test_ten_simultaneous_payments_of_one_claim_pay_it_once(pg_app):
    make = Factory()
    bid = make.application("approved")
    claim = make.claim(bid, state="verified")
    finance = make.user("finance")
    claim_id, finance_id, fund_id = claim.id, finance.id, bid.fund_id
    db.session.remove()

    def pay(reference: str) -> Callable:
        def job(barrier: threading.Barrier) -> int:
            claim = db.session.get(BackfillClaim, claim_id)
            user = db.session.get(User, finance_id)
            barrier.wait()
            request = payments.DisbursementInput(
                amount_pence=300_00, paid_on=date.today(), reference=reference
            )
            return payments.record_disbursement(user, claim, request).id

        return job

    outcomes = race(pg_app, [pay(f"BACS-{n:03d}") for n in range(10)])

    refusals_are_domain_errors(outcomes, InvalidTransition, ValidationFailed)
    assert sum(isinstance(outcome, int) for outcome in outcomes) == 1
    db.session.remove()
    assert db.session.execute(select(func.count(Disbursement.id))).scalar_one() == 1
    assert db.session.get(BackfillClaim, claim_id).status == "paid"
    assert ledger.ledger(fund_id).paid_pence == 300_00
    assert audit.verify_chain().ok


def test_countersigning_and_approving_at_once_does_not_overcommit(pg_app):
    make = Factory()
    # £2,000: a £1,200 award waiting for a countersignature and a £900 bid under review;
    # either fits alone, both do not.
    fund = make.fund(budget_pence=2_000_00, countersign_threshold_pence=1_000_00)
    first, second = make.liaison(), make.liaison()
    large = make.application("awaiting_countersign", fund=fund, liaison=first)
    small = make.application("under_review", fund=fund, liaison=first, days="3")
    large_id, small_id, fund_id = large.id, small.id, fund.id
    first_id, second_id = first.id, second.id
    db.session.remove()

    outcomes = race(pg_app, [fire(large_id, second_id, "countersign"), fire(small_id, first_id, "approve")])

    refusals_are_domain_errors(outcomes, ValidationFailed)
    assert sum(isinstance(outcome, str) for outcome in outcomes) == 1
    fund_ledger = committed_within_budget(fund_id)
    assert fund_ledger.committed_pence in (1_200_00, 900_00)


def test_two_countersignatures_at_once_do_not_overcommit(pg_app):
    make = Factory()
    fund = make.fund(budget_pence=2_000_00, countersign_threshold_pence=1_000_00)
    approver, countersigner_a, countersigner_b = make.liaison(), make.liaison(), make.liaison()
    one = make.application("awaiting_countersign", fund=fund, liaison=approver)
    two = make.application("awaiting_countersign", fund=fund, liaison=approver)
    ids = (one.id, two.id, countersigner_a.id, countersigner_b.id, fund.id)
    db.session.remove()

    outcomes = race(pg_app, [fire(ids[0], ids[2], "countersign"), fire(ids[1], ids[3], "countersign")])

    refusals_are_domain_errors(outcomes, ValidationFailed)
    assert sum(isinstance(outcome, str) for outcome in outcomes) == 1
    assert committed_within_budget(ids[4]).committed_pence == 1_200_00


def test_two_officers_countersigning_the_same_award_sign_it_once(pg_app):
    make = Factory()
    fund = make.fund(countersign_threshold_pence=1_000_00)
    approver, a, b = make.liaison(), make.liaison(), make.liaison()
    bid = make.application("awaiting_countersign", fund=fund, liaison=approver)
    bid_id, a_id, b_id, fund_id = bid.id, a.id, b.id, fund.id
    db.session.remove()

    outcomes = race(pg_app, [fire(bid_id, a_id, "countersign"), fire(bid_id, b_id, "countersign")])

    refusals_are_domain_errors(outcomes, InvalidTransition)
    assert sum(isinstance(outcome, str) for outcome in outcomes) == 1
    countersignatures = db.session.execute(
        select(func.count(Event.id)).where(Event.action == "countersign", Event.application_id == bid_id)
    ).scalar_one()
    assert countersignatures == 1
    assert committed_within_budget(fund_id).committed_pence == 1_200_00
