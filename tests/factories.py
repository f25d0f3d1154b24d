"""Builders for tests. Everything goes through the services, so a record "in state X" got
there the way a real one would, with its events. ``Factory.application(state=...)`` takes
a bid to any lifecycle state in one line."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Fund, ImpactReport, Organisation, Review, School, User
from fundflow.services import admin, applications, claims, impact, lifecycle, organisations, payments, reviews
from fundflow.services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from fundflow.services.clock import as_of, today

PASSWORD = "correct-horse-battery"
#: Factory awards are approved this many days before today, so that backfill claims (which
#: fall between the approval and today) have working days to cover.
APPROVED_DAYS_AGO = 28


def last_working_day() -> date:
    """The latest Monday-to-Friday before today: a one-day claim that fits, any day the tests run."""
    day = today() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


#: The actions that take a fresh draft to each state, and who fires them.
PATH_TO = {
    "draft": [],
    "submitted": ["submit"],
    "under_review": ["submit", "start_review"],
    "changes_requested": ["submit", "start_review", "request_changes"],
    "awaiting_countersign": ["submit", "start_review", "approve_large"],
    "approved": ["submit", "start_review", "approve"],
    "rejected": ["submit", "start_review", "reject"],
    "withdrawn": ["withdraw"],
    "monitoring": ["submit", "start_review", "approve", "finish_delivery"],
    "closed": ["submit", "start_review", "approve", "finish_delivery", "final_report", "close"],
    "cancelled": ["submit", "start_review", "approve", "cancel"],
}


class Factory:
    def __init__(self) -> None:
        self._seq = itertools.count(1)

    def n(self) -> int:
        return next(self._seq)

    # ------------------------------------------------------------------ people and places
    def school(self, **overrides) -> School:
        n = self.n()
        data = {"urn": f"{100000 + n:06d}", "name": f"School {n}", "phase": "Primary", "la_code": "871"}
        data.update(overrides)
        return admin.create_school(None, admin.SchoolInput(**data))

    def organisation(self, slug: str | None = None, **overrides) -> Organisation:
        """A second (or third…) organisation; the first is ``organisations.home_organisation()``."""
        n = self.n()
        data = {
            "slug": slug or f"org-{n}",
            "name": f"Organisation {n}",
            "funder_id": "GB-LAS-XYZ",
            "reference_prefix": f"ORG{n}",
            "local_authorities": ["S12000049"],
        }
        data.update(overrides)
        return organisations.create_organisation(None, **data)

    def user(
        self,
        *roles: str,
        school: School | None = None,
        email: str | None = None,
        organisation: Organisation | None = None,
    ) -> User:
        roles = roles or ("headteacher",)
        if "headteacher" in roles and school is None:
            school = self.school()
        n = self.n()
        return admin.create_user(
            None,
            admin.UserInput(
                email=email or f"user{n}@example.test",
                name=f"User {n}",
                roles=list(roles),
                password=PASSWORD,
                school_id=school.id if school else None,
                organisation_slug=organisation.slug if organisation else None,
            ),
        )

    def headteacher(self, school: School | None = None) -> User:
        return self.user("headteacher", school=school)

    def liaison(self, school: School | None = None) -> User:
        if school is not None:
            return self.user("liaison_officer", "headteacher", school=school)
        return self.user("liaison_officer")

    def fund(self, organisation: Organisation | None = None, **overrides) -> Fund:
        now = today()
        data = {
            "name": f"Fund {self.n()}",
            "financial_year": "2026-27",
            "budget_pence": 100_000_00,
            "opens_on": now - timedelta(days=30),
            "closes_on": now + timedelta(days=180),
            "max_daily_rate_pence": 500_00,
            "max_award_pence": None,
            "countersign_threshold_pence": 50_000_00,
            "requires_partner_endorsement": False,
            "delivery_ends_on": now + timedelta(days=545),
        }
        data.update(overrides)
        return admin.create_fund(None, admin.FundInput(**data), organisation)

    # ----------------------------------------------------------------------------- bids
    def details(
        self,
        fund: Fund,
        partner: School,
        *,
        days: str = "4",
        rate: int = 300_00,
        partner_role: str = "supporting",
    ) -> BidDetails:
        return BidDetails(
            fund_id=fund.id,
            title="Phonics partnership",
            need="Reading is below the local average.",
            priority_areas=["Early reading"],
            partners=[PartnerInput(urn=partner.urn, role=partner_role)],
            activities=[
                ActivityInput(
                    description="Coaching", staff_role="Deputy head", days=days, daily_rate_pence=rate
                )
            ],
            measures=[
                MeasureInput(
                    indicator="Phonics pass rate",
                    unit="%",
                    baseline="60",
                    target="75",
                    due_on=(today() + timedelta(days=90)).isoformat(),
                )
            ],
        )

    def application(
        self,
        state: str = "draft",
        *,
        fund: Fund | None = None,
        lead: User | None = None,
        partner: School | None = None,
        liaison: User | None = None,
        second_liaison: User | None = None,
        days: str = "4",
        rate: int = 300_00,
        awarded_pence: int | None = None,
        approved_on: date | None = None,
    ) -> Application:
        """A bid taken through the real services to ``state``. Its award is approved on
        ``approved_on`` (default: :data:`APPROVED_DAYS_AGO` days ago); the rest happens today."""
        approval_day = approved_on or today() - timedelta(days=APPROVED_DAYS_AGO)
        if fund is None:
            threshold = 1_000_00 if state == "awaiting_countersign" else 50_000_00
            fund = self.fund(countersign_threshold_pence=threshold)
        lead = lead or self.headteacher()
        partner = partner or self.school()
        liaison = liaison or self.liaison()
        app = applications.create_draft(lead, self.details(fund, partner, days=days, rate=rate))
        for step in PATH_TO[state]:
            if step == "submit":
                if fund.requires_partner_endorsement:
                    self.endorse(app)
                self.act(app, lead, "submit")
            elif step == "start_review":
                self.act(app, liaison, "start_review")
            elif step == "request_changes":
                self.act(app, liaison, "request_changes", comment="Say more about the need.")
            elif step == "approve":
                with as_of(approval_day):
                    self.act(app, liaison, "approve", awarded_pence=awarded_pence)
                    if app.status == "awaiting_countersign":
                        self.act(app, second_liaison or self.liaison(), "countersign")
            elif step == "approve_large":
                self.act(app, liaison, "approve", awarded_pence=awarded_pence)
            elif step == "reject":
                self.act(app, liaison, "reject", comment="Not eligible.")
            elif step == "withdraw":
                self.act(app, lead, "withdraw")
            elif step == "finish_delivery":
                self.act(app, lead, "finish_delivery")
            elif step == "final_report":
                report = self.final_report(app, "It worked.")
                impact.evaluate_report(
                    liaison, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
                )
            elif step == "close":
                self.act(app, liaison, "close")
            elif step == "cancel":
                self.act(app, liaison, "cancel", comment="No longer needed.")
        assert app.status == state, (app.status, state)
        return app

    def act(self, app: Application, user: User, action: str, **kwargs) -> Application:
        return lifecycle.perform(app, user, lifecycle.ActionInput(action=action, **kwargs))

    def final_report(self, app: Application, narrative: str, actual: str = "70") -> ImpactReport:
        """The lead headteacher's final impact report, each measure's actual ``actual``."""
        return impact.submit_report(
            self.lead_of(app),
            app,
            impact.ReportInput(
                kind="final",
                narrative=narrative,
                results=[impact.ResultInput(measure_id=m.id, actual=actual) for m in app.measures],
            ),
        )

    def endorse(self, app: Application) -> None:
        for p in app.partners:
            if p.endorsed_at is None:
                self.act(app, self.headteacher(school=p.school), "endorse")

    def claim(
        self,
        app: Application,
        lead: User | None = None,
        *,
        amount_pence: int = 300_00,
        days: str = "1",
        state: str = "pending",
        liaison: User | None = None,
        staff_name: str | None = None,
    ) -> BackfillClaim:
        """A claim for the last week (within the award: after its approval, up to today),
        for a person of its own, so that claims made this way never overlap."""
        lead = lead or self.lead_of(app)
        end = today() - timedelta(days=1)
        start = end - timedelta(days=6)
        if app.approved_on and start < app.approved_on:  # approved this week: claim from then
            start, end = app.approved_on, max(app.approved_on, end)
        claim = claims.create_claim(
            lead,
            app,
            claims.ClaimInput(
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                staff_released="Deputy head",
                staff_name=staff_name or f"Staff Member {self.n()}",
                days=days,
                amount_pence=amount_pence,
            ),
        )
        if state in ("verified", "paid"):
            claims.decide_claim(liaison or self.liaison(), claim, "verify")
        if state == "paid":
            self.pay(claim)
        if state == "rejected":
            claims.decide_claim(liaison or self.liaison(), claim, "reject", "Wrong dates")
        return claim

    def pay(
        self,
        claim: BackfillClaim,
        finance: User | None = None,
        amount_pence: int | None = None,
        reference: str | None = None,
    ):
        return payments.record_disbursement(
            finance or self.user("finance"),
            claim,
            payments.DisbursementInput(
                amount_pence=amount_pence or claim.amount_pence,
                paid_on=today().isoformat(),
                reference=reference or f"PAY-{self.n():05d}",
            ),
        )

    def review(self, liaison: User, app: Application) -> Review:
        """The liaison officer's favourable review of a bid under review ("Clear plan, fair rates.")."""
        return reviews.record_review(
            liaison,
            app,
            reviews.ReviewInput(
                eligible=True,
                aligned_with_priorities=True,
                supporting_school_has_capacity=True,
                value_for_money=3,
                comments="Clear plan, fair rates.",
                recommendation="approve",
            ),
        )

    def paid_with_reversal(self, claim: BackfillClaim) -> None:
        """Pays a verified claim to the wrong account (PAY-WRONG), reverses that payment and pays
        it again (PAY-RIGHT): a claim whose record holds a reversal."""
        finance = self.user("finance")
        wrong = self.pay(claim, finance=finance, reference="PAY-WRONG")
        payments.reverse_disbursement(finance, wrong, "Paid to the wrong account")
        self.pay(claim, finance=finance, reference="PAY-RIGHT")

    def lead_of(self, app: Application) -> User:
        return db.session.get(User, app.created_by_id)
