"""Mixed work in one fund on a real PostgreSQL: headteachers creating and submitting bids,
liaison officers starting reviews, approving and countersigning, headteachers claiming,
officers verifying and finance paying, all at the same moment and all in the same fund.

Every action is one the rules allow, so every one must succeed: a deadlock or a
serialization failure is retried by the service layer, never shown to the person. After
each round every acknowledged action has its Event, the money invariants hold and the
audit chain verifies.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Disbursement, Event, Fund, School, User
from fundflow.services import applications, audit, claims, lifecycle
from tests.factories import Factory
from tests.invariant_checks import (
    commitments_within_budget,
    money_within_claims_award_and_request,
    running_figures_match,
)

pytestmark = pytest.mark.postgres

PER_KIND = int(os.environ.get("FUNDFLOW_MIXED_LOAD_PER_KIND", "5"))
ROUNDS = int(os.environ.get("FUNDFLOW_MIXED_LOAD_ROUNDS", "3"))
CLAIM_ACTIONS = ("create_claim", "verify", "record_disbursement")
KINDS = ("create_and_submit", "start_review", "approve", "countersign", "claim", "verify", "pay")


@dataclass(frozen=True)
class Acknowledged:
    """What one job reports back once its service call returned."""

    action: str
    application_id: int
    subject_id: int


def run_all_at_once(pg_app, jobs: list[Callable[[threading.Barrier], Acknowledged]]) -> list[object]:
    """Each job in its own thread, app context and connection, released together."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def worker(index: int) -> None:
        with pg_app.app_context():
            try:
                outcomes[index] = jobs[index](barrier)
            except Exception as exc:  # asserted on below: there must be none
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    return outcomes


class Round:
    """The records one round of mixed work starts from, made through the real services."""

    def __init__(self, make: Factory, fund_id: int, officer: User, second: User, finance: User):
        self.make = make
        self.fund_id = fund_id
        self.officer_id, self.second_id, self.finance_id = officer.id, second.id, finance.id
        fund = db.session.get(Fund, fund_id)
        bid = make.application
        self.new_bids = [(make.headteacher().id, make.school().urn) for _ in range(PER_KIND)]
        self.submitted = [bid("submitted", fund=fund, liaison=officer).id for _ in range(PER_KIND)]
        # half the approvals fall under the countersignature threshold, half wait for it
        self.to_approve = [
            bid("under_review", fund=fund, liaison=officer, days="3" if n % 2 else "4").id
            for n in range(PER_KIND)
        ]
        self.to_countersign = [
            bid("awaiting_countersign", fund=fund, liaison=officer).id for _ in range(PER_KIND)
        ]
        approved = [
            bid("approved", fund=fund, liaison=officer, second_liaison=second) for _ in range(3 * PER_KIND)
        ]
        self.to_claim = [(a.id, a.created_by_id) for a in approved[:PER_KIND]]
        self.to_verify = [make.claim(a).id for a in approved[PER_KIND : 2 * PER_KIND]]
        self.to_pay = [make.claim(a, state="verified", liaison=officer).id for a in approved[2 * PER_KIND :]]

    def jobs(self) -> list[Callable[[threading.Barrier], Acknowledged]]:
        jobs: list[Callable[[threading.Barrier], Acknowledged]] = []
        jobs += [self.create_and_submit(lead, urn) for lead, urn in self.new_bids]
        jobs += [self.act(i, self.officer_id, "start_review") for i in self.submitted]
        jobs += [self.act(i, self.officer_id, "approve") for i in self.to_approve]
        jobs += [self.act(i, self.second_id, "countersign") for i in self.to_countersign]
        jobs += [self.claim(app_id, lead) for app_id, lead in self.to_claim]
        jobs += [self.verify(i) for i in self.to_verify]
        jobs += [self.pay(i, n) for n, i in enumerate(self.to_pay)]
        return jobs

    def create_and_submit(self, lead_id: int, partner_urn: str):
        def job(barrier: threading.Barrier) -> Acknowledged:
            lead = db.session.get(User, lead_id)
            partner = db.session.execute(select(School).where(School.urn == partner_urn)).scalar_one()
            fund = db.session.get(Fund, self.fund_id)
            details = self.make.details(fund, partner)
            barrier.wait()
            bid = applications.create_draft(lead, details)
            lifecycle.perform(bid, lead, lifecycle.ActionInput(action="submit"))
            return Acknowledged("submit", bid.id, bid.id)

        return job

    def act(self, application_id: int, user_id: int, action: str):
        def job(barrier: threading.Barrier) -> Acknowledged:
            bid = db.session.get(Application, application_id)
            user = db.session.get(User, user_id)
            barrier.wait()
            lifecycle.perform(bid, user, lifecycle.ActionInput(action=action))
            return Acknowledged(action, application_id, application_id)

        return job

    def claim(self, application_id: int, lead_id: int):
        def job(barrier: threading.Barrier) -> Acknowledged:
            bid = db.session.get(Application, application_id)
            lead = db.session.get(User, lead_id)
            barrier.wait()
            made = self.make.claim(bid, lead)
            return Acknowledged("create_claim", application_id, made.id)

        return job

    def verify(self, claim_id: int):
        def job(barrier: threading.Barrier) -> Acknowledged:
            claim = db.session.get(BackfillClaim, claim_id)
            officer = db.session.get(User, self.officer_id)
            barrier.wait()
            claims.decide_claim(officer, claim, "verify")
            return Acknowledged("verify", claim.application_id, claim_id)

        return job

    def pay(self, claim_id: int, n: int):
        reference = f"MIXED-{claim_id}-{n}"

        def job(barrier: threading.Barrier) -> Acknowledged:
            claim = db.session.get(BackfillClaim, claim_id)
            finance = db.session.get(User, self.finance_id)
            barrier.wait()
            self.make.pay(claim, finance, reference=reference)
            return Acknowledged("record_disbursement", claim.application_id, claim_id)

        return job


def assert_acknowledged_actions_recorded(acknowledged: list[Acknowledged]) -> None:
    for ack in acknowledged:
        subject_type = "claim" if ack.action in CLAIM_ACTIONS else "application"
        found = db.session.execute(
            select(func.count(Event.id)).where(
                Event.action == ack.action,
                Event.subject_type == subject_type,
                Event.subject_id == ack.subject_id,
            )
        ).scalar_one()
        assert found == 1, f"{ack} has {found} events"


def test_thirty_threads_of_mixed_actions_in_one_fund_all_succeed(pg_app):
    make = Factory()
    fund = make.fund(budget_pence=10_000_000_00, countersign_threshold_pence=1_000_00)
    people = [make.liaison().id, make.liaison().id, make.user("finance").id]
    fund_id = fund.id
    total_jobs = 0
    errors: list[object] = []
    for _ in range(ROUNDS):
        officer, second, finance = (db.session.get(User, user_id) for user_id in people)
        round_ = Round(make, fund_id, officer, second, finance)
        jobs = round_.jobs()
        assert len(jobs) >= 30
        db.session.remove()
        outcomes = run_all_at_once(pg_app, jobs)
        total_jobs += len(jobs)
        errors += [o for o in outcomes if isinstance(o, Exception)]
        assert errors == [], f"{len(errors)} of {len(jobs)} actions failed: {errors[:3]!r}"
        db.session.remove()
        assert_acknowledged_actions_recorded([o for o in outcomes if isinstance(o, Acknowledged)])
        commitments_within_budget()
        money_within_claims_award_and_request()
        running_figures_match()
        assert audit.verify_chain().ok
    assert total_jobs == ROUNDS * len(KINDS) * PER_KIND
    paid = db.session.execute(select(func.count(Disbursement.id))).scalar_one()
    assert paid == ROUNDS * PER_KIND
