"""The demo's second organisation (issue 15): a partnership of three Scottish councils
around Glasgow, its schools named by SEED code, its own staff and an open fund with bids in
several states, one of them with partner schools in two councils other than the lead's.

Everything is made through the services, acting as the partnership's own staff, so its
events go into its own audit chain; :func:`fundflow.demo.seed` calls :func:`seed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .models import Application, Fund, Organisation, School, User
from .services import admin, applications, claims, impact, lifecycle, organisations, payments, reviews
from .services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from .services.clock import as_of
from .services.unit_of_work import transaction

SLUG = "partnership"
NAME = "West of Scotland Schools Partnership"
#: Glasgow City Council's 360Giving identifier: the lead council's, as partnerships often use.
FUNDER_ID = "GB-LAS-GLG"
REFERENCE_PREFIX = "WSP"
GLASGOW = ("S12000049", "Glasgow City")
EAST_RENFREWSHIRE = ("S12000011", "East Renfrewshire")
RENFREWSHIRE = ("S12000038", "Renfrewshire")
COUNCILS = (GLASGOW, EAST_RENFREWSHIRE, RENFREWSHIRE)

#: SEED code, name, phase, council, pupils, % free school meals.
SCHOOLS = (
    ("8431021", "Hillhead Park Primary School", "Primary", GLASGOW, 412, "21.4"),
    ("8431048", "Govanhill Cross Primary School", "Primary", GLASGOW, 455, "38.9"),
    ("8432036", "Dennistoun Academy", "Secondary", GLASGOW, 1120, "27.5"),
    ("8621013", "Giffnock Glen Primary School", "Primary", EAST_RENFREWSHIRE, 380, "4.8"),
    ("8622028", "Barrhead Braes High School", "Secondary", EAST_RENFREWSHIRE, 940, "14.2"),
    ("8621064", "Neilston Burn Primary School", "Primary", EAST_RENFREWSHIRE, 240, "11.9"),
    ("8631017", "Paisley Abbey Primary School", "Primary", RENFREWSHIRE, 350, "33.1"),
    ("8632025", "Johnstone Castle High School", "Secondary", RENFREWSHIRE, 1010, "24.6"),
)
LEAD_SCHOOL = "8431021"

#: email, name, roles, SEED code of the headteacher's school. Staff first: the admin makes
#: the others.
ACCOUNTS = (
    ("admin@partnership.demo.test", "Ailsa Admin", ["admin"], None),
    ("liaison@partnership.demo.test", "Lachlan Liaison", ["liaison_officer"], None),
    ("finance@partnership.demo.test", "Fiona Finance", ["finance"], None),
    ("auditor@partnership.demo.test", "Angus Auditor", ["auditor"], None),
    ("headteacher@partnership.demo.test", "Kirsty Head", ["headteacher"], LEAD_SCHOOL),
    ("head2@partnership.demo.test", "Ross Govanhill", ["headteacher"], "8431048"),
    ("head3@partnership.demo.test", "Eilidh Dennistoun", ["headteacher"], "8432036"),
    ("head4@partnership.demo.test", "Callum Giffnock", ["headteacher"], "8621013"),
    ("head5@partnership.demo.test", "Mhairi Barrhead", ["headteacher"], "8622028"),
    ("head6@partnership.demo.test", "Euan Neilston", ["headteacher"], "8621064"),
    ("head7@partnership.demo.test", "Isla Paisley", ["headteacher"], "8631017"),
    ("head8@partnership.demo.test", "Fraser Johnstone", ["headteacher"], "8632025"),
)

ROLE_OF_ACCOUNT = {
    "admin@partnership.demo.test": "admin of the West of Scotland Schools Partnership",
    "liaison@partnership.demo.test": "the partnership's liaison officer",
    "finance@partnership.demo.test": "the partnership's finance",
    "auditor@partnership.demo.test": "the partnership's auditor",
    "headteacher@partnership.demo.test": "headteacher of the lead school (Hillhead Park, Glasgow)",
}

#: The bid whose partner schools are in East Renfrewshire and Renfrewshire, led from Glasgow.
CROSS_COUNCIL_BID = "Closing the attainment gap in writing across three councils"


@dataclass(frozen=True)
class _Bid:
    lead: str
    title: str
    partners: tuple[tuple[str, str], ...]  # (SEED code, role)
    area: str
    days: str
    rate: int


@dataclass
class _Partnership:
    """The partnership's records as the seed makes them, and the steps it takes on them."""

    fund: Fund
    users: dict[str, User]
    schools: dict[str, School]
    now: date
    paid: int = 0

    @property
    def liaison(self) -> User:
        return self.users["liaison@partnership.demo.test"]

    def head_of(self, seed_code: str) -> User:
        return next(u for u in self.users.values() if u.school_id == self.schools[seed_code].id)

    def act(self, app: Application, user: User, action: str, **kwargs: object) -> None:
        lifecycle.perform(app, user, lifecycle.ActionInput(action=action, **kwargs))

    def draft(self, bid: _Bid) -> Application:
        opens, ends = self.fund.opens_on, self.fund.delivery_ends_on
        return applications.create_draft(
            self.users[bid.lead],
            BidDetails(
                fund_id=self.fund.id,
                title=bid.title,
                need=(
                    "The poverty-related attainment gap in literacy has widened since 2022; "
                    "staff want to learn from schools that have narrowed it."
                ),
                priority_areas=[bid.area],
                partners=[PartnerInput(school_id=self.schools[c].id, role=r) for c, r in bid.partners],
                activities=[
                    ActivityInput(
                        "Collaborative enquiry, coaching and shared moderation",
                        "Principal teacher",
                        bid.days,
                        bid.rate,
                        max(opens, self.now - timedelta(days=120)),
                        min(self.now + timedelta(days=150), ends),
                    )
                ],
                measures=[
                    MeasureInput(
                        "Learners achieving expected CfE levels in writing",
                        "%",
                        "61",
                        "72",
                        min(self.now + timedelta(days=200), ends).isoformat(),
                    )
                ],
            ),
        )

    def submitted(self, bid: _Bid) -> Application:
        app = self.draft(bid)
        for seed_code, _ in bid.partners:
            self.act(app, self.head_of(seed_code), "endorse")
        self.act(app, self.users[bid.lead], "submit")
        return app

    def under_review(self, bid: _Bid, recommendation: str = "approve") -> Application:
        app = self.submitted(bid)
        self.act(app, self.liaison, "start_review")
        reviews.record_review(
            self.liaison,
            app,
            reviews.ReviewInput(
                True,
                recommendation != "reject",
                True,
                3,
                "A clear need and a credible partner school.",
                recommendation,
            ),
        )
        return app

    def approved(self, bid: _Bid, on: date) -> Application:
        app = self.under_review(bid)
        with as_of(on):
            self.act(app, self.liaison, "approve", conditions="Report impact at the end of each term.")
        return app

    def paid_claim(self, app: Application, first: date, staff_name: str, amount: int) -> None:
        """A three-day claim by the lead school, verified by the liaison officer and paid."""
        while first.weekday() != 0:  # from a Monday: three working days
            first += timedelta(days=1)
        claim = claims.create_claim(
            self.users["headteacher@partnership.demo.test"],
            app,
            claims.ClaimInput(
                period_start=first.isoformat(),
                period_end=(first + timedelta(days=2)).isoformat(),
                staff_released="Principal teacher",
                staff_name=staff_name,
                days="3",
                amount_pence=amount,
            ),
        )
        claims.decide_claim(self.liaison, claim, "verify")
        self.paid += 1
        payments.record_disbursement(
            self.users["finance@partnership.demo.test"],
            claim,
            payments.DisbursementInput(
                amount_pence=amount, paid_on=self.now, reference=f"{REFERENCE_PREFIX}-PAY-{self.paid:04d}"
            ),
        )


HEAD = "headteacher@partnership.demo.test"
BIDS: dict[str, _Bid] = {
    "draft": _Bid(HEAD, "Numeracy through play in P1", (("8431048", "supported"),), "Numeracy", "3", 240_00),
    "submitted": _Bid(HEAD, "Reading schools network", (("8431048", "supporting"),), "Literacy", "4", 250_00),
    "under_review": _Bid(
        "head3@partnership.demo.test",
        "Senior phase pathways",
        (("8622028", "supporting"),),
        "Senior phase",
        "5",
        280_00,
    ),
    "approved": _Bid(
        HEAD,
        CROSS_COUNCIL_BID,
        (("8621013", "supporting"), ("8631017", "supported")),
        "Literacy",
        "8",
        260_00,
    ),
    "monitoring": _Bid(
        HEAD, "Nurture approaches in the early years", (("8621064", "supporting"),), "Wellbeing", "4", 250_00
    ),
    "rejected": _Bid(
        "head8@partnership.demo.test",
        "Residential leadership retreat",
        (("8432036", "supporting"),),
        "Leadership",
        "2",
        300_00,
    ),
    "changes_requested": _Bid(
        HEAD, "Gaelic medium transitions", (("8631017", "supporting"),), "Transitions", "3", 240_00
    ),
}


def seed(now: date, year: tuple[date, date, str], password: str) -> dict[str, int]:
    """Make the partnership, its staff and schools, its fund for the financial ``year``
    (first day, last day, name) and its bids, as of ``now``. Returns counts."""
    partnership = organisations.create_organisation(
        None,
        slug=SLUG,
        name=NAME,
        funder_id=FUNDER_ID,
        reference_prefix=REFERENCE_PREFIX,
        local_authorities=[code for code, _ in COUNCILS],
    )
    ailsa = _account(None, partnership, ACCOUNTS[0], password)
    users = {ailsa.email: ailsa}
    schools = {}
    for seed_code, name, phase, (gss_code, council), pupils, fsm in SCHOOLS:
        school = admin.create_school(
            ailsa,
            admin.SchoolInput(
                nation="scotland",
                identifier=seed_code,
                gss_code=gss_code,
                la_name=council,
                name=name,
                phase=phase,
                establishment_type="Local authority school",
            ),
        )
        with transaction():  # what the Scottish Government's list leaves out
            school.pupils, school.fsm_percent = pupils, Decimal(fsm)
        schools[seed_code] = school
    for account in ACCOUNTS[1:]:
        school = schools[account[3]] if account[3] else None
        users[account[0]] = _account(ailsa, partnership, account, password, school)
    opens, closes, name = year
    fund = admin.create_fund(
        ailsa,
        admin.FundInput(
            name=f"West Partnership Collaborative Improvement Fund {name}",
            financial_year=name,
            budget_pence=90_000_00,
            opens_on=opens,
            closes_on=closes,
            max_daily_rate_pence=450_00,
            max_award_pence=20_000_00,
            countersign_threshold_pence=15_000_00,
            requires_partner_endorsement=True,
            delivery_ends_on=date(closes.year + 1, 3, 31),
            local_authorities=tuple(code for code, _ in COUNCILS),
        ),
    )
    _bids(_Partnership(fund, users, schools, now))
    return {"schools": len(SCHOOLS), "users": len(ACCOUNTS)}


def _account(
    actor: User | None,
    partnership: Organisation,
    account: tuple[str, str, list[str], str | None],
    password: str,
    school: School | None = None,
) -> User:
    """A demo account: council staff of the partnership, or a headteacher of ``school``."""
    email, name, roles, _ = account
    return admin.create_user(
        actor,
        admin.UserInput(
            email=email,
            name=name,
            roles=roles,
            password=password,
            school_id=school.id if school else None,
            organisation_slug=None if school else partnership.slug,
        ),
    )


def _bids(p: _Partnership) -> None:
    """One bid in each of several states; the approved one's partners are in East
    Renfrewshire and Renfrewshire, its lead in Glasgow."""
    approved_day, spring_day = p.now - timedelta(days=45), p.now - timedelta(days=200)
    p.draft(BIDS["draft"])
    p.submitted(BIDS["submitted"])
    p.under_review(BIDS["under_review"])

    changes = p.under_review(BIDS["changes_requested"], recommendation="request_changes")
    p.act(changes, p.liaison, "request_changes", comment="Say how the Gaelic medium class will be covered.")

    approved = p.approved(BIDS["approved"], approved_day)
    p.paid_claim(approved, approved_day + timedelta(days=7), "Catriona Reid", 780_00)

    monitoring = p.approved(BIDS["monitoring"], spring_day)
    p.paid_claim(monitoring, approved_day + timedelta(days=3), "Duncan Shaw", 750_00)
    head = p.users[HEAD]
    p.act(monitoring, head, "finish_delivery")
    impact.submit_report(
        head,
        monitoring,
        impact.ReportInput(
            kind="interim",
            narrative="Nurture groups run in both schools; fewer P1 learners are withdrawn from class.",
            results=[impact.ResultInput(measure_id=m.id, actual="66") for m in monitoring.measures],
        ),
    )

    rejected = p.under_review(BIDS["rejected"], recommendation="reject")
    p.act(
        rejected, p.liaison, "reject", comment="A residential retreat is not release time the fund can pay."
    )
