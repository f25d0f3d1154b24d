"""DESIGN.md's four invariants, checked after every step of random actions by random people.

A hypothesis ``RuleBasedStateMachine`` sets up one small fund (so the budget bites), a few
schools and people — two liaison officers, one of them also headteacher of a school that
takes part in some bids, finance, a finance officer who is also a liaison officer (so
segregation of duties is exercised), an auditor and an admin — and fires any action by
anyone. Refusals (``DomainError``) are expected and swallowed; anything else is a bug.
After every step, plain SQL (not the ledger module) checks:

1. for every fund, Σ commitments ≤ budget (the award while approved; net paid once
   monitoring, closed or cancelled);
2. for every application, Σ disbursements ≤ Σ verified+paid claims ≤ awarded ≤ requested;
3. every status change seen has exactly one Event, and the hash chain verifies;
4. nothing is ever deleted: row counts never go down.
"""

from __future__ import annotations

import functools
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select, text

from fundflow.extensions import db
from fundflow.models import DRIVERS, Application, BackfillClaim, Disbursement, ImpactReport, School, User
from fundflow.services import admin, applications, audit, claims, impact, ledger, lifecycle, payments
from fundflow.services.applications import ActivityInput, BidDetails
from fundflow.services.clock import today
from fundflow.services.errors import DomainError
from fundflow.services.evidence import Upload
from fundflow.workflow import APPLICATION_LIFECYCLE, CLAIM_LIFECYCLE, allowed_actions
from tests.conftest import make_app
from tests.factories import Factory, as_of
from tests.invariant_checks import (
    commitments_within_budget,
    money_within_claims_award_and_request,
    running_figures_match,
)

APPLICATION_ACTIONS = sorted(APPLICATION_LIFECYCLE.actions)
CLAIM_OPERATIONS = sorted(CLAIM_LIFECYCLE.actions)  # verify, reject, pay, reverse_payment
OTHER_OPERATIONS = ["create_claim", "report", "evaluate"]
ALL_OPERATIONS = [*APPLICATION_ACTIONS, *CLAIM_OPERATIONS, *OTHER_OPERATIONS]
#: Kinds of sensible step; claim handling twice, so money moves as often as bids do.
SENSIBLE_KINDS = ["claim", "bid", "claim", "new claim", "report", "evaluation"]
#: Kinds of step, weighted: half move a record along, the rest try anything or change data.
STEP_KINDS = [
    "act_sensibly",
    "act_at_random",
    "act_sensibly",
    "create_bid",
    "act_sensibly",
    "edit_bid",
    "act_sensibly",
    "school_causing_concern",
]
COMMENTS = ["Agreed at the panel on the evidence given", ""]
REFERENCES = [f"PAY-{n}" for n in range(1, 7)]
NEVER_SHRINK = (
    "funds",
    "schools",
    "users",
    "applications",
    "application_versions",
    "reviews",
    "backfill_claims",
    "disbursements",
    "evidence_files",
    "impact_reports",
    "impact_evaluations",
    "events",
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
STATUS_TABLES = {"application": "applications", "claim": "backfill_claims", "impact_report": "impact_reports"}


@dataclass(frozen=True)
class Cast:
    """Who and what the starting database holds, by id."""

    fund_id: int
    school_ids: list[int]
    user_ids: list[int]
    lead_ids: list[int]


def build_starting_database() -> Cast:
    """One small fund (budget £2,000, so two or three awards exhaust it), five schools,
    their people, and six bids part-way along — all made through the real services."""
    make = Factory()
    fund = make.fund(
        budget_pence=2_000_00,
        max_daily_rate_pence=300_00,
        max_award_pence=1_500_00,
        countersign_threshold_pence=800_00,
    )
    schools = [make.school() for _ in range(5)]
    heads = [make.headteacher(school=s) for s in schools[:4]]
    liaison = make.liaison()
    # A seconded headteacher: liaison officer and head of a school that partners some bids.
    seconded = make.liaison(school=schools[4])
    people = [
        *heads,
        liaison,
        seconded,
        finance := make.user("finance"),
        make.user("finance", "liaison_officer"),  # may pay only what they did not decide
        make.user("auditor"),
        make.user("admin"),
    ]
    for state, lead, partner, days in (
        ("approved", heads[0], schools[4], "2"),  # £600 committed; the seconded officer's school partners it
        ("approved", heads[1], schools[2], "1"),  # £300
        ("under_review", heads[2], schools[0], "3"),  # £900 would need a countersignature
        ("submitted", heads[3], schools[4], "2.5"),
        ("draft", heads[1], schools[3], "4"),
        ("monitoring", heads[3], schools[1], "1"),  # delivered, nothing paid: £0 committed
    ):
        bid = make.application(state, fund=fund, lead=lead, partner=partner, liaison=liaison, days=days)
        if bid.status == "approved" and bid.awarded_pence == 600_00:
            part_paid = make.claim(bid, amount_pence=200_00, days="1", state="verified", liaison=liaison)
            make.pay(part_paid, finance=finance, amount_pence=50_00, reference="START-1")
            make.claim(bid, amount_pence=100_00, days="1", liaison=liaison)
    return Cast(
        fund_id=fund.id,
        school_ids=[s.id for s in schools],
        user_ids=[u.id for u in people],
        lead_ids=[u.id for u in (*heads, seconded)],
    )


@functools.cache
def starting_database() -> tuple[sqlite3.Connection, Cast]:
    """The starting database, built once per test run and kept as an in-memory copy."""
    flask_app = make_app()
    with flask_app.app_context():
        db.create_all()
        cast = build_starting_database()
        db.session.remove()
        template = sqlite3.connect(":memory:", check_same_thread=False)
        source = db.engine.raw_connection()
        try:
            source.driver_connection.backup(template)
        finally:
            source.close()
        db.engine.dispose()
    return template, cast


class FundLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # A fresh app and a fresh in-memory database for every example: a copy of the
        # starting database (building it through the services each time costs ~1 s).
        template, cast = starting_database()
        self.flask_app = make_app()
        self.context = self.flask_app.app_context()
        self.context.push()
        target = db.engine.raw_connection()
        try:
            template.backup(target.driver_connection)
        finally:
            target.close()
        self.fund_id, self.school_ids = cast.fund_id, cast.school_ids
        self.user_ids, self.lead_ids = cast.user_ids, cast.lead_ids
        self.seen_status: dict[tuple[str, int], str] = {}
        self.reached: set[tuple[str, str]] = set()
        # The set-up's own history is the baseline; every change from here on is observed.
        self.changes: Counter[tuple[str, int]] = self._status_change_events()
        self.row_counts: dict[str, int] = dict.fromkeys(NEVER_SHRINK, 0)

    def teardown(self) -> None:
        # What the example reached, for `pytest --hypothesis-show-statistics`.
        for subject_type, status in sorted(self.reached):
            event(f"reached {subject_type} {status}")
        if self.row_counts["disbursements"]:
            event("recorded a disbursement")
        if db.session.execute(
            text("SELECT COUNT(*) FROM disbursements WHERE reverses_id IS NOT NULL")
        ).scalar():
            event("reversed a disbursement")
        db.session.remove()
        db.engine.dispose()
        self.context.pop()

    # ------------------------------------------------------------------------- helpers

    def _create(self, lead: User, partner_urn: str, role: str, days: str, rate: int) -> None:
        base = BidDetails(
            fund_id=self.fund_id,
            title="Shared maths mastery",
            need="Maths attainment is low at KS2.",
            priority_areas=["Maths"],
            partners=[applications.PartnerInput(urn=partner_urn, role=role)],
            activities=[ActivityInput("Joint planning", "Maths lead", days, rate)],
            measures=[
                applications.MeasureInput(
                    "KS2 maths", "%", "55", "65", (today() + timedelta(days=60)).isoformat()
                )
            ],
        )
        applications.create_draft(lead, base)

    def _records(self, model) -> list:
        return list(db.session.execute(select(model).order_by(model.id)).scalars())

    def _people(self) -> list[User]:
        return [db.session.get(User, u) for u in self.user_ids]

    def _user(self, data) -> User:
        return db.session.get(User, data.draw(st.sampled_from(self.user_ids), label="user"))

    def _pick(self, data, model, label):
        records = self._records(model)
        return data.draw(st.sampled_from(records), label=label) if records else None

    def _try(self, operation, *args) -> None:
        try:
            operation(*args)
        except DomainError:
            db.session.rollback()

    # ---------------------------------------------------------------------------- the rule

    @rule(data=st.data(), kind=st.sampled_from(STEP_KINDS))
    def step(self, data, kind: str) -> None:
        """One step of a kind drawn from STEP_KINDS.

        A single rule, because hypothesis spends many of its few examples repeating one rule
        (and swarm-disables whole rules per example): drawing the kind inside keeps every
        example a mixture, weighted towards steps that move some record along."""
        getattr(self, kind)(data)

    def act_sensibly(self, data) -> None:
        """Something someone may do now (per allowed_actions, or their own claim, report or
        evaluation), with random input: the refusals left are the guards on that input."""
        choices = self._sensible_choices()
        if choices:
            # Kind first (bid action, claim action, new claim, report, evaluation), so the many
            # bid actions on offer do not crowd out the money.
            kinds = [kind for kind in SENSIBLE_KINDS if kind in choices]
            kind = data.draw(st.sampled_from(kinds), label="kind")
            operation, record, user = data.draw(
                st.sampled_from(choices[kind]), label="what, on what, by whom"
            )
            self._do(data, operation, record, user)

    def act_at_random(self, data) -> None:
        """Anything by anyone on anything: mostly refused, which is the point."""
        operation = data.draw(st.sampled_from(ALL_OPERATIONS), label="operation")
        model = {"evaluate": ImpactReport, **dict.fromkeys(CLAIM_OPERATIONS, BackfillClaim)}.get(
            operation, Application
        )
        record = self._pick(data, model, "record")
        if record is not None:
            self._do(data, operation, record, self._user(data))

    def create_bid(self, data) -> None:
        lead = db.session.get(User, data.draw(st.sampled_from(self.lead_ids), label="lead"))
        partner = db.session.get(School, data.draw(st.sampled_from(self.school_ids), label="partner"))
        role = data.draw(st.sampled_from(["supporting", "supported"]), label="partner role")
        days = data.draw(st.sampled_from(["0.5", "1", "2.5", "4", "5"]), label="days")
        rate = data.draw(st.sampled_from([100_00, 250_00, 300_00, 300_01]), label="daily rate")
        self._try(self._create, lead, partner.urn, role, days, rate)

    def edit_bid(self, data) -> None:
        bid = self._pick(data, Application, "bid")
        user = (
            db.session.get(User, bid.created_by_id)
            if data.draw(st.booleans(), label="lead")
            else self._user(data)
        )
        days = data.draw(st.sampled_from(["1", "2", "5"]), label="days")
        rate = data.draw(st.sampled_from([200_00, 300_00]), label="daily rate")
        partners = None
        if data.draw(st.booleans(), label="swap partner roles"):  # endorsements must be given again
            flipped = {"supporting": "supported", "supported": "supporting"}
            partners = [applications.PartnerInput(p.school.urn, flipped[p.role]) for p in bid.partners]
        details = BidDetails(
            activities=[ActivityInput("Coaching", "Deputy head", days, rate)], partners=partners
        )
        self._try(applications.update_draft, user, bid, details)

    def school_causing_concern(self, data) -> None:
        school = db.session.get(School, data.draw(st.sampled_from(self.school_ids), label="school"))
        self._try(
            admin.set_causing_concern, self._user(data), school, data.draw(st.booleans(), label="concern")
        )

    # ------------------------------------------------------------------------ dispatch

    def _sensible_choices(self) -> dict[str, list[tuple[str, object, User]]]:
        people = self._people()
        bids = self._records(Application)
        choices: dict[str, list[tuple[str, object, User]]] = {
            "bid": [
                (action, bid, user)
                for bid in bids
                for user in people
                for action in allowed_actions(bid, user)
            ],
            "claim": [
                (action, claim, user)
                for claim in self._records(BackfillClaim)
                for user in people
                for action in allowed_actions(claim, user)
            ],
            "new claim": [
                ("create_claim", bid, db.session.get(User, bid.created_by_id))
                for bid in bids
                if bid.status == "approved"
            ],
            "report": [
                ("report", bid, db.session.get(User, bid.created_by_id))
                for bid in bids
                if bid.status in ("approved", "monitoring")
            ],
            "evaluation": [
                ("evaluate", report, user)
                for report in self._records(ImpactReport)
                if report.status == "submitted"
                for user in people
                if user.has_role("liaison_officer")
            ],
        }
        return {kind: options for kind, options in choices.items() if options}

    def _do(self, data, operation: str, record, user: User) -> None:
        if operation in APPLICATION_ACTIONS:
            request = lifecycle.ActionInput(
                action=operation,
                comment=data.draw(st.sampled_from(COMMENTS), label="comment"),
                awarded_pence=data.draw(st.one_of(st.none(), st.integers(-1, 1_600_00)), label="award"),
            )
            self._try(lifecycle.perform, record, user, request)
        elif operation in ("verify", "reject"):
            self._try(claims.decide_claim, user, record, operation, data.draw(st.sampled_from(COMMENTS)))
        elif operation == "pay":
            outstanding = record.amount_pence - ledger.claim_paid_pence([record.id])[record.id]
            portion = data.draw(st.sampled_from(["all", "all", "half", "too much"]), label="portion")
            amount = {"all": outstanding, "half": max(outstanding // 2, 1), "too much": outstanding + 1}[
                portion
            ]
            reference = data.draw(st.sampled_from(REFERENCES), label="reference")
            request = payments.DisbursementInput(amount_pence=amount, paid_on=today(), reference=reference)
            self._try(payments.record_disbursement, user, record, request)
        elif operation == "reverse_payment":
            paid = [d for d in self._records(Disbursement) if d.claim_id == record.id]
            if paid:
                disbursement = data.draw(st.sampled_from(paid), label="disbursement")
                reason = data.draw(st.sampled_from(COMMENTS), label="reason")
                self._try(payments.reverse_disbursement, user, disbursement, reason)
        elif operation == "create_claim":
            days = data.draw(st.sampled_from(["0.5", "1", "2", "3"]), label="days")
            share = data.draw(st.sampled_from([1, 2, 3]), label="share of the daily cap")
            # Claims cover days after the award's approval: the week after it, claimed a week on.
            start = record.approved_on or today()
            request = claims.ClaimInput(
                period_start=start.isoformat(),
                period_end=(start + timedelta(days=6)).isoformat(),
                staff_released="Maths lead",
                staff_name=data.draw(st.sampled_from(["Ann Lee", "Bo Chan", "ann  lee"]), label="person"),
                days=days,
                amount_pence=max(int(Decimal(days) * 300_00) // share, 1),
                evidence=Upload("timesheet.pdf", PDF) if data.draw(st.booleans(), label="evidence") else None,
            )
            with as_of(start + timedelta(days=7)):
                self._try(claims.create_claim, user, record, request)
        elif operation == "report":
            kind = data.draw(st.sampled_from(["interim", "final"]), label="kind")
            results = [impact.ResultInput(measure_id=m.id, actual="61") for m in record.measures]
            request = impact.ReportInput(kind=kind, narrative="Attainment rose.", results=results)
            self._try(impact.submit_report, user, record, request)
        elif operation == "evaluate":
            request = impact.EvaluationInput(
                rating=data.draw(
                    st.sampled_from(["achieved", "partly_achieved", "not_achieved"]), label="rating"
                ),
                drivers=data.draw(st.lists(st.sampled_from(DRIVERS), max_size=3), label="drivers"),
            )
            self._try(impact.evaluate_report, user, record, request)

    # ---------------------------------------------------------------------- invariants

    @invariant()
    def design_invariants_hold(self) -> None:
        self.commitments_within_budget()
        self.money_within_claims_award_and_request()
        running_figures_match()
        self.one_event_per_status_change()
        self.nothing_deleted()

    def commitments_within_budget(self) -> None:
        commitments_within_budget()

    def money_within_claims_award_and_request(self) -> None:
        money_within_claims_award_and_request()

    def one_event_per_status_change(self) -> None:
        for subject_type, table in STATUS_TABLES.items():
            for row_id, status in db.session.execute(text(f"SELECT id, status FROM {table}")).all():
                key = (subject_type, row_id)
                before = self.seen_status.get(key)
                if before is not None and before != status:
                    self.changes[key] += 1
                self.seen_status[key] = status
                self.reached.add((subject_type, status))
        assert self._status_change_events() == +self.changes, "status changes and their events differ"
        births = Counter(
            {
                (subject_type, subject_id): count
                for subject_type, subject_id, count in db.session.execute(
                    text(
                        """
                        SELECT subject_type, subject_id, COUNT(*) FROM events
                        WHERE from_status IS NULL AND to_status IS NOT NULL
                        GROUP BY subject_type, subject_id
                        """
                    )
                ).all()
            }
        )
        assert births == Counter(dict.fromkeys(self.seen_status, 1)), "each record has one creation event"
        last_said = dict(
            ((subject_type, subject_id), to_status)
            for subject_type, subject_id, to_status in db.session.execute(
                text(
                    """
                    SELECT e.subject_type, e.subject_id, e.to_status FROM events e
                    WHERE e.seq = (SELECT MAX(l.seq) FROM events l
                                   WHERE l.subject_type = e.subject_type AND l.subject_id = e.subject_id
                                     AND l.to_status IS NOT NULL)
                      AND e.subject_type IN ('application', 'claim', 'impact_report')
                    """
                )
            ).all()
        )
        assert last_said == self.seen_status, "a record's status differs from what its last event says"
        assert audit.verify_chain().ok

    def _status_change_events(self) -> Counter[tuple[str, int]]:
        rows = db.session.execute(
            text(
                """
                SELECT subject_type, subject_id, COUNT(*) FROM events
                WHERE from_status IS NOT NULL AND from_status <> to_status
                  AND subject_type IN ('application', 'claim', 'impact_report')
                GROUP BY subject_type, subject_id
                """
            )
        ).all()
        return Counter({(subject_type, subject_id): count for subject_type, subject_id, count in rows})

    def nothing_deleted(self) -> None:
        for table in NEVER_SHRINK:
            count = db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            assert count >= self.row_counts[table], f"rows were deleted from {table}"
            self.row_counts[table] = count


FundLifecycle.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_invariants_hold_after_any_sequence_of_actions = FundLifecycle.TestCase
