"""Benchmark data: many bids in every state, bulk loaded (``fundflow seed-bench``).

The demo (:mod:`fundflow.demo`) goes through the services, one transaction per action; that
takes minutes for a few thousand bids. This loader writes the same rows the services would
write — bids with partners, activities, measures, kept versions, reviews, claims, payments
and reversals, impact reports and evaluations, monitoring schedules — straight into the
tables, with COPY on PostgreSQL (executemany on SQLite), and the audit Events that tell each
record's story. Each story is a list of the workflow's own actions, so every status comes
from the lifecycle tables in :mod:`fundflow.workflow`, and the Events are hashed with
:func:`fundflow.services.audit.event_hash`, continuing the chain, so ``verify-audit`` passes.

Money stays consistent: claims counted on a bid never exceed its award, payments never
exceed a claim, and a fund's commitments stay within its budget (a bid whose award would not
fit is rejected instead). Ids are assigned here (from each table's largest id), so run it on
a database nobody else is writing to; PostgreSQL's sequences are moved past them at the end.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, func, select, text

from . import demo
from .extensions import db
from .models import (
    DRIVERS,
    PARTNER_ROLES,
    Activity,
    Application,
    ApplicationPartner,
    ApplicationVersion,
    BackfillClaim,
    Disbursement,
    Event,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    ImpactResult,
    Measure,
    Review,
    ScheduleItem,
    School,
    User,
    UserRole,
)
from .services import admin, audit, bid_figures, ledger
from .services.applications import activity_cost_pence
from .services.clock import today
from .services.schedule import ESCALATED_KINDS, REMIND_BEFORE_DAYS
from .services.terms import interim_dates
from .workflow import (
    APPLICATION_LIFECYCLE,
    AWAITING_COUNTERSIGN_STATUSES,
    CLAIM_LIFECYCLE,
    COMMITTED_AT_AWARD,
    COMMITTED_AT_PAID,
    OUTSTANDING_CLAIM_STATUSES,
    REPORT_LIFECYCLE,
    SCHEDULE_LIFECYCLE,
    SETTLED_SCHEDULE_STATUSES,
    Lifecycle,
)

#: Bids written per transaction: memory stays bounded whatever N is.
CHUNK = 5_000
#: Each new fund takes this many bids, with this much budget per bid (enough that nearly
#: every award fits).
BIDS_PER_FUND = 10_000
BUDGET_PER_BID_PENCE = 4_000_00
#: About one bulk school per this many bids (each leads about that many).
BIDS_PER_SCHOOL = 5
FIRST_BULK_URN = 200_000
#: The demo's lead school leads (with the demo partner) the first bids of a run and one in this many.
DEMO_SCHOOLS_EVERY = 500
#: One in this many bids goes into the demo fund (in a state that commits none of its budget).
DEMO_FUND_EVERY = 50

#: The claim lifecycle's action behind each claim Event's action, where they differ.
CLAIM_MOVES = {"record_disbursement": "pay", "reverse_disbursement": "reverse_payment"}
#: Stories that end before the bid is sent.
UNSENT_STORIES = ("draft",)
#: The final status of a bid's story, and how often each is told (per 1,000 bids).
STORY_WEIGHTS = {
    "draft": 80,
    "submitted": 80,
    "under_review": 70,
    "changes_requested": 50,
    "awaiting_countersign": 40,
    "approved": 250,
    "rejected": 70,
    "withdrawn": 50,
    "monitoring": 150,
    "closed": 120,
    "cancelled": 40,
}
#: Stories that commit none of a fund's money (the demo fund's bulk bids end in one of these).
UNCOMMITTED_STORIES = tuple(s for s in STORY_WEIGHTS if s not in COMMITTED_AT_AWARD + COMMITTED_AT_PAID)

TOWNS = (
    "Ashford", "Barnsley", "Carlisle", "Doncaster", "Exeter", "Falmouth", "Gateshead", "Hexham",
    "Ipswich", "Kendal", "Lancaster", "Mansfield", "Norwich", "Oldham", "Preston", "Reading",
    "Salford", "Telford", "Wakefield", "Yeovil", "Bolton", "Crewe", "Dudley", "Grimsby",
)  # fmt: skip
STREETS = (
    "Oak", "Meadow", "Church", "Mill", "Park", "Victoria", "Station", "Riverside", "Hill",
    "Orchard", "Brook", "Elm", "Castle", "Green", "Abbey", "Windmill",
)  # fmt: skip
PHASES = (
    ("Primary", "Primary School"),
    ("Secondary", "Academy"),
    ("Special", "School"),
    ("Nursery", "Nursery"),
)
AUTHORITIES = (
    ("201", "City of London"), ("330", "Birmingham"), ("380", "Bradford"), ("873", "Cambridgeshire"),
    ("908", "Cornwall"), ("878", "Devon"), ("881", "Essex"), ("886", "Kent"), ("888", "Lancashire"),
    ("926", "Norfolk"), ("335", "Walsall"), ("352", "Manchester"), ("871", "Slough"), ("392", "Leeds"),
)  # fmt: skip
#: Pupils on roll by phase (GIAS ``NumberOfPupils``): a range to draw from.
PUPILS = {"Primary": (90, 650), "Secondary": (500, 1800), "Special": (40, 260), "Nursery": (30, 140)}
FIRST_NAMES = ("Priya", "Tom", "Dan", "Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hugo", "Isla")
SURNAMES = (
    "Shah",
    "Reid",
    "Brook",
    "Khan",
    "Jones",
    "Patel",
    "Smith",
    "Owen",
    "Nowak",
    "Evans",
    "Ali",
    "Hart",
)
STAFF_ROLES = ("Deputy headteacher", "English lead", "Maths lead", "SENCo", "Assistant head", "Phase leader")
TOPICS = (
    ("Phonics catch-up", "Early reading"), ("Maths mastery network", "Mathematics"),
    ("SEND inclusion coaching", "Inclusion"), ("Writing moderation cluster", "Writing"),
    ("Attendance peer review", "Attendance"), ("Curriculum leadership exchange", "Leadership development"),
    ("Behaviour support partnership", "Behaviour"), ("Science practical skills", "Science"),
)  # fmt: skip
MEASURES = (
    ("Pupils meeting the phonics screening standard", "%", "68", "80"),
    ("Teachers confident teaching the approach", "teachers", "3", "9"),
    ("Persistent absence", "%", "14", "9"),
    ("Pupils at the expected standard in writing", "%", "61", "72"),
)
EVALUATION_COMMENTS = {
    "achieved": "Targets met, with evidence of changed practice.",
    "partly_achieved": "Good progress on most measures; the work continues next year.",
    "not_achieved": "Little change yet; staff turnover interrupted the release days.",
}
NEED = (
    "Attainment at the end of the key stage is below the local average; staff want to learn "
    "from a school that has improved its teaching in this area."
)

# Columns written, per table, in the order each row tuple gives them.
COLUMNS: dict[type, tuple[str, ...]] = {
    School: (
        "id", "urn", "identifier", "name", "phase", "la_code", "la_name", "trust", "establishment_type",
        "postcode",
        "causing_concern", "status", "pupils", "fsm_percent", "created_at", "updated_at",
    ),
    User: (
        "id", "email", "name", "password_hash", "active", "school_id", "notification_preferences",
        "created_at", "updated_at",
    ),
    UserRole: ("user_id", "role"),
    Fund: (
        "id", "organisation_id", "name", "financial_year", "budget_pence", "opens_on", "closes_on",
        "delivery_ends_on",
        "max_award_pence", "max_daily_rate_pence", "countersign_threshold_pence",
        "requires_partner_endorsement", "report_cadence", "final_report_weeks", "claim_deadline_weeks",
        "created_at", "updated_at",
    ),
    Application: (
        "id", "reference", "fund_id", "lead_school_id", "created_by_id", "title", "need", "priority_areas",
        "status", "version", "requested_pence", "awarded_pence", "conditions", "override_note",
        "decided_by_id", "countersigned_by_id", "submitted_at", "decided_at", "approved_on", "created_at",
        "updated_at",
    ),
    ApplicationPartner: (
        "id", "application_id", "school_id", "role", "endorsed_at", "endorsed_by_id", "declined_reason",
    ),
    Activity: (
        "id", "application_id", "position", "description", "staff_role", "days", "daily_rate_pence",
        "cost_pence", "starts_on", "ends_on",
    ),
    Measure: (
        "id", "application_id", "indicator", "unit", "baseline", "target", "due_on", "follow_up_reason",
    ),
    ApplicationVersion: ("id", "application_id", "version", "snapshot", "submitted_at"),
    Review: (
        "id", "application_id", "reviewer_id", "version", "eligible", "aligned_with_priorities",
        "supporting_school_has_capacity", "value_for_money", "comments", "recommendation",
        "created_at", "updated_at",
    ),
    ImpactReport: (
        "id", "application_id", "kind", "narrative", "status", "submitted_by_id", "created_at", "updated_at",
    ),
    ImpactResult: ("id", "report_id", "measure_id", "actual"),
    ImpactEvaluation: (
        "id", "report_id", "evaluator_id", "rating", "drivers", "comment", "evaluated_at",
        "created_at", "updated_at",
    ),
    BackfillClaim: (
        "id", "application_id", "status", "period_start", "period_end", "staff_released", "staff_name",
        "days", "amount_pence", "created_by_id", "verified_by_id", "verified_at", "decision_comment",
        "created_at", "updated_at",
    ),
    Disbursement: (
        "id", "claim_id", "fund_id", "amount_pence", "paid_on", "reference", "payee_school_id",
        "recorded_by_id", "reverses_id", "reason", "created_at", "updated_at",
    ),
    ScheduleItem: (
        "id", "application_id", "kind", "activity_id", "due_on", "status", "completed_on", "report_id",
        "waived_reason", "next_reminder_on", "reminders_sent", "escalated_on", "created_at", "updated_at",
    ),
    Event: (
        "id", "organisation_id", "seq", "at", "actor_id", "actor_email", "action", "subject_type",
        "subject_id", "application_id", "fund_id", "from_status", "to_status", "payload", "prev_hash", "hash",
    ),
}  # fmt: skip
#: Parents before children, so every foreign key finds its row.
ORDER = tuple(COLUMNS)


@dataclass(slots=True)
class _PendingEvent:
    """An Event's content before it has its place in the chain (``event_hash`` reads these)."""

    at: datetime
    actor_id: int | None
    actor_email: str
    action: str
    subject_type: str
    subject_id: int | None
    application_id: int | None
    fund_id: int | None
    from_status: str | None
    to_status: str | None
    payload: dict
    seq: int = 0
    prev_hash: str = ""


@dataclass
class _Actor:
    id: int | None
    email: str


@dataclass
class _FundPlan:
    id: int
    opens_on: date
    delivery_ends_on: date
    threshold: int
    available: int
    uncommitted_only: bool
    cadence: str = "termly"
    final_report_weeks: int = 6
    claim_deadline_weeks: int = 4


@dataclass
class SeedResult:
    applications: int
    events: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _fsm_percent(rng: random.Random) -> Decimal | None:
    """A school's share of pupils eligible for free school meals (GIAS ``PercentageFSM``),
    spread over every band the value-for-money view shows; one school in 25 has none."""
    if rng.random() < 0.04:
        return None
    return Decimal(min(rng.triangular(1, 65, 18), 75)).quantize(Decimal("0.1"))


def _move(lifecycle: Lifecycle, action: str, status: str | None, route: str | None = None) -> str:
    """Where ``action`` takes a record in ``status``, by the workflow's own table (``route``
    picks one of an action's routed destinations)."""
    declared = lifecycle.action(action)
    if status is not None and status not in declared.sources:
        raise ValueError(f"{lifecycle.name}: {action} cannot start from {status}")
    if route is not None:
        if route not in declared.destinations:
            raise ValueError(f"{lifecycle.name}: {action} never leads to {route}")
        return route
    return declared.dest or status


class _Ids:
    """The next id of each table, from its largest id now."""

    def __init__(self) -> None:
        self.next: dict[type, int] = {}
        for model in ORDER:
            if model is UserRole:
                continue
            largest = db.session.execute(select(func.max(model.id))).scalar()
            self.next[model] = (largest or 0) + 1

    def take(self, model: type) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class _Writer:
    """Rows per table, written in bulk: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.rows: dict[type, list[tuple]] = {model: [] for model in ORDER}
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.written: dict[str, int] = {}

    def add(self, model: type, row: tuple) -> None:
        self.rows[model].append(row)

    def flush(self) -> None:
        for model in ORDER:
            rows = self.rows[model]
            if not rows:
                continue
            columns = COLUMNS[model]
            if self.postgres:
                self._copy(model, columns, rows)
            else:
                db.session.execute(
                    model.__table__.insert(), [dict(zip(columns, r, strict=True)) for r in rows]
                )
            self.written[model.__tablename__] = self.written.get(model.__tablename__, 0) + len(rows)
            rows.clear()

    def _copy(self, model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
        table = model.__table__
        json_at = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        cursor = db.session.connection().connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = json.dumps(row[i], separators=(",", ":"))
                copy.write_row(row)


class _Loader:
    """Makes one run's rows and events, chunk by chunk."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self.count = count
        self.rng = rng
        self.today = today()
        self.now = datetime.combine(self.today, datetime.min.time()) + timedelta(hours=9)
        self.ids = _Ids()
        self.writer = _Writer()
        self.events: list[_PendingEvent] = []
        self.events_written = 0
        self.password_hash = admin.hash_password(demo.DEMO_PASSWORD)
        self.users = {
            email: _Actor(uid, email)
            for uid, email in db.session.execute(
                select(User.id, User.email).where(User.email.like("%@demo.test"))
            ).all()
        }
        self.lee, self.sam = self.users["liaison@demo.test"], self.users["liaison2@demo.test"]
        self.fran, self.head = self.users["finance@demo.test"], self.users["headteacher@demo.test"]
        demo_schools = {
            urn: (sid, name)
            for urn, sid, name in db.session.execute(
                select(School.urn, School.id, School.name).where(School.urn.like("1371%"))
            )
        }
        self.upton, self.chalvey = demo_schools["137101"][0], demo_schools["137102"][0]
        self.partner_head = self.users["partner@demo.test"]
        self.urn_of = {sid: urn for urn, (sid, _) in demo_schools.items()}
        self.name_of = {sid: name for sid, name in demo_schools.values()}
        self.head_of: dict[int, _Actor] = {self.upton: self.head, self.chalvey: self.partner_head}
        largest_urn = db.session.execute(
            select(func.max(School.urn)).where(School.urn >= str(FIRST_BULK_URN))
        ).scalar()
        self.next_urn = int(largest_urn) + 1 if largest_urn else FIRST_BULK_URN
        demo_fund = db.session.execute(select(Fund).order_by(Fund.id).limit(1)).scalar_one()
        self.demo_fund = self._plan_of(demo_fund, ledger.ledger(demo_fund.id).available_pence, True)
        #: The bench's funds are the demo council's (its first organisation's).
        self.organisation_id = demo_fund.organisation_id
        self.opens, self.closes, self.year = demo.financial_year(self.today)
        self.reference_prefix = f"{demo_fund.organisation.reference_prefix}-{self.today.year}"
        self.next_reference = _next_reference_number(self.reference_prefix)
        self.next_payment = 1
        self.fund: _FundPlan | None = None
        self.fund_bids = 0
        self.school_ids: list[int] = []

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _plan_of(fund: Fund, available: int, uncommitted_only: bool) -> _FundPlan:
        return _FundPlan(
            id=fund.id,
            opens_on=fund.opens_on,
            delivery_ends_on=fund.delivery_ends_on,
            threshold=fund.countersign_threshold_pence or 10**15,
            available=available,
            uncommitted_only=uncommitted_only,
            cadence=fund.report_cadence,
            final_report_weeks=fund.final_report_weeks,
            claim_deadline_weeks=fund.claim_deadline_weeks,
        )

    def at(self, day: date) -> datetime:
        """A working-hours moment on ``day``."""
        return datetime.combine(day, datetime.min.time()) + timedelta(
            seconds=self.rng.randint(8 * 3600, 18 * 3600), microseconds=self.rng.randint(0, 999_999)
        )

    def later(self, day: date, low: int, high: int) -> date:
        return min(day + timedelta(days=self.rng.randint(low, high)), self.today)

    def event(
        self,
        when: datetime,
        actor: _Actor | None,
        action: str,
        subject_type: str,
        subject_id: int | None,
        application_id: int | None,
        fund_id: int | None,
        moved: tuple[str | None, str | None] = (None, None),
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            _PendingEvent(
                at=when,
                actor_id=actor.id if actor else None,
                actor_email=actor.email if actor else "system",
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                application_id=application_id,
                fund_id=fund_id,
                from_status=moved[0],
                to_status=moved[1],
                payload=audit._canonical(payload or {}),
            )
        )

    # ------------------------------------------------------------------ schools, funds

    def add_schools(self, how_many: int) -> None:
        rng, created = self.rng, self.at(self.today - timedelta(days=400))
        for _ in range(how_many):
            sid, uid, urn = self.ids.take(School), self.ids.take(User), str(self.next_urn)
            self.next_urn += 1
            town, street = rng.choice(TOWNS), rng.choice(STREETS)
            phase, suffix = rng.choice(PHASES)
            code, authority = rng.choice(AUTHORITIES)
            name = f"{town} {street} {suffix}"
            self.writer.add(
                School,
                (
                    sid,
                    urn,
                    urn,  # an English school's identifier is its URN
                    name,
                    phase,
                    code,
                    authority,
                    "",
                    "",
                    "",
                    rng.random() < 0.05,
                    "open",
                    rng.randint(*PUPILS[phase]),
                    _fsm_percent(rng),
                    created,
                    created,
                ),
            )
            email = f"head{urn}@bench.test"
            head_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            self.writer.add(
                User, (uid, email, head_name, self.password_hash, True, sid, {}, created, created)
            )
            self.writer.add(UserRole, (uid, "headteacher"))
            self.event(
                created,
                None,
                "create_school",
                "school",
                sid,
                None,
                None,
                payload={"urn": urn, "name": name, "causing_concern": False},
            )
            self.event(
                created,
                None,
                "create_user",
                "user",
                uid,
                None,
                None,
                payload={"email": email, "roles": ["headteacher"], "school_urn": urn},
            )
            self.school_ids.append(sid)
            self.urn_of[sid] = urn
            self.name_of[sid] = name
            self.head_of[sid] = _Actor(uid, email)

    def new_fund(self, bids: int) -> _FundPlan:
        fid = self.ids.take(Fund)
        opens = self.today - timedelta(days=330)
        delivery_ends = date(self.closes.year + 1, 3, 31)
        budget = bids * BUDGET_PER_BID_PENCE
        row = {
            "name": f"National School Partnership Fund {self.year}, round {fid}",
            "financial_year": self.year,
            "budget_pence": budget,
            "opens_on": opens,
            "closes_on": self.closes,
            "max_daily_rate_pence": 550_00,
            "max_award_pence": 25_000_00,
            "countersign_threshold_pence": 10_000_00,
            "requires_partner_endorsement": True,
            "delivery_ends_on": delivery_ends,
            "report_cadence": "termly",
            "final_report_weeks": 6,
            "claim_deadline_weeks": 4,
        }
        created = self.at(opens - timedelta(days=30))
        self.writer.add(
            Fund, (fid, self.organisation_id, *(row[c] for c in COLUMNS[Fund][2:-2]), created, created)
        )
        self.event(created, self.users["admin@demo.test"], "create_fund", "fund", fid, None, fid, payload=row)
        return _FundPlan(fid, opens, delivery_ends, 10_000_00, budget, False)

    def fund_for(self, index: int) -> _FundPlan:
        if index % DEMO_FUND_EVERY == DEMO_FUND_EVERY - 1:
            return self.demo_fund
        if self.fund is None or self.fund_bids >= BIDS_PER_FUND:
            self.fund = self.new_fund(min(BIDS_PER_FUND, self.count - index))
            self.fund_bids = 0
        self.fund_bids += 1
        return self.fund

    # ------------------------------------------------------------------ one bid

    def bid(self, index: int) -> None:  # noqa: C901, PLR0912, PLR0915 - one bid's whole story, in order
        rng, fund = self.rng, self.fund_for(index)
        story = rng.choices(list(STORY_WEIGHTS), weights=list(STORY_WEIGHTS.values()))[0]
        if fund.uncommitted_only and story not in UNCOMMITTED_STORIES:
            story = rng.choice(UNCOMMITTED_STORIES)
        demo_pair = index < 3 or index % DEMO_SCHOOLS_EVERY == 0
        if demo_pair:
            lead, partner_ids = self.upton, [self.chalvey]
        else:
            lead = rng.choice(self.school_ids)
            partner_ids = list({rng.choice(self.school_ids) for _ in range(rng.choice((1, 1, 2)))} - {lead})
            partner_ids = partner_ids or [self.chalvey if lead != self.chalvey else self.upton]
        author = self.head_of[lead]
        aid, fid = self.ids.take(Application), fund.id
        topic, area = rng.choice(TOPICS)
        title = f"{topic} {index % 97 + 1}"
        reference = f"{self.reference_prefix}-{self.next_reference:04d}"
        self.next_reference += 1

        span = max((self.today - fund.opens_on).days - 10, 1)
        created = min(fund.opens_on + timedelta(days=rng.randint(0, span)), self.today)
        created_at = self.at(created)

        # activities, measures: what the bid asks for
        activities, requested = [], 0
        for position in range(2):
            act_id = self.ids.take(Activity)
            days = Decimal(rng.randint(4, 24)) / 2
            rate = rng.randrange(200_00, 550_01, 25_00)
            cost = activity_cost_pence(days, rate)
            starts = created + timedelta(days=rng.randint(20, 60))
            ends = min(starts + timedelta(days=rng.randint(20, 150)), fund.delivery_ends_on)
            role = rng.choice(STAFF_ROLES)
            description = ("Joint planning and coaching sessions", "Lesson observations and feedback")[
                position
            ]
            activities.append((act_id, aid, position, description, role, days, rate, cost, starts, ends))
            requested += cost
        measures = []
        for indicator, unit, baseline, target in rng.sample(MEASURES, 2):
            due = min(created + timedelta(days=rng.randint(150, 420)), fund.delivery_ends_on)
            measures.append(
                (self.ids.take(Measure), aid, indicator, unit, Decimal(baseline), Decimal(target), due, "")
            )

        award = requested if rng.random() < 0.7 else requested * rng.randint(80, 99) // 100
        countersigned = award >= fund.threshold
        committing = story in COMMITTED_AT_AWARD + COMMITTED_AT_PAID
        if committing and award > fund.available:
            story = "rejected"  # the fund has no room left for it
            committing = False

        status = APPLICATION_LIFECYCLE.initial
        version, submitted_at, approved_on, decided_at = 1, None, None, None
        awarded = decided_by = countersigned_by = None
        endorsed: dict[int, tuple[datetime, int]] = {}
        versions, reviews = [], []

        def app_event(
            when: datetime, actor: _Actor, action: str, route: str | None = None, **payload: Any
        ) -> None:
            nonlocal status
            before = status
            status = _move(APPLICATION_LIFECYCLE, action, status, route)
            self.event(when, actor, action, "application", aid, aid, fid, (before, status), payload)

        self.event(
            created_at,
            author,
            "create",
            "application",
            aid,
            aid,
            fid,
            (None, status),
            {"reference": reference, "title": title},
        )
        day = created
        snapshot = {
            "title": title,
            "need": NEED,
            "priority_areas": [area],
            "partners": [
                {"urn": self.urn_of[s], "name": self.name_of[s], "role": PARTNER_ROLES[n > 0]}
                for n, s in enumerate(partner_ids)
            ],
            "activities": [
                {
                    "description": a[3],
                    "staff_role": a[4],
                    "days": str(a[5]),
                    "daily_rate_pence": a[6],
                    "cost_pence": a[7],
                    "starts_on": a[8].isoformat(),
                    "ends_on": a[9].isoformat(),
                }
                for a in activities
            ],
            "measures": [
                {
                    "indicator": m[2],
                    "unit": m[3],
                    "baseline": str(m[4]),
                    "target": str(m[5]),
                    "due_on": m[6].isoformat(),
                }
                for m in measures
            ],
            "requested_pence": requested,
        }

        def submit(action: str) -> None:
            nonlocal day, submitted_at, version
            day = self.later(day, 1, 14)
            submitted_at = self.at(day)
            if action == "resubmit":
                version += 1
            versions.append((self.ids.take(ApplicationVersion), aid, version, snapshot, submitted_at))
            app_event(submitted_at, author, action, version=version, requested_pence=requested)

        def review(recommendation: str) -> None:
            nonlocal day
            rid = self.ids.take(Review)
            when = self.at(day)
            value = rng.randint(2, 5)
            comments = "Clear need and a credible partner."
            reviews.append(
                (
                    rid,
                    aid,
                    self.lee.id,
                    version,
                    True,
                    True,
                    True,
                    value,
                    comments,
                    recommendation,
                    when,
                    when,
                )
            )
            self.event(
                when,
                self.lee,
                "review",
                "review",
                rid,
                aid,
                fid,
                payload={
                    "version": version,
                    "eligible": True,
                    "aligned_with_priorities": True,
                    "supporting_school_has_capacity": True,
                    "value_for_money": value,
                    "recommendation": recommendation,
                },
            )

        if story == "withdrawn" and rng.random() < 0.5:
            day = self.later(day, 1, 20)
            app_event(self.at(day), author, "withdraw", version=version)
        elif story != "draft" or rng.random() < 0.4:
            for s in partner_ids:
                day = self.later(day, 0, 5)
                when = self.at(day)
                endorsed[s] = (when, self.head_of[s].id)
                app_event(when, self.head_of[s], "endorse", version=version, school_urn=self.urn_of[s])
        # Only stories past the draft are sent; a withdrawn bid that was endorsed is sent then withdrawn.
        if story not in UNSENT_STORIES and status == APPLICATION_LIFECYCLE.initial:
            submit("submit")
            if story == "withdrawn":
                day = self.later(day, 1, 20)
                app_event(self.at(day), author, "withdraw", version=version)
        reviewed = story not in UNSENT_STORIES + ("submitted", "withdrawn")
        if reviewed and rng.random() < 0.2 and story != "changes_requested":
            day = self.later(day, 1, 10)
            app_event(self.at(day), self.lee, "start_review", version=version)
            review("request_changes")
            app_event(
                self.at(day),
                self.lee,
                "request_changes",
                version=version,
                comment="Please explain how the released staff will be covered.",
            )
            submit("resubmit")
        if reviewed:
            day = self.later(day, 1, 10)
            app_event(self.at(day), self.lee, "start_review", version=version)
            decision = {"changes_requested": "request_changes", "rejected": "reject"}.get(story, "approve")
            review(decision)
            if story == "changes_requested":
                app_event(
                    self.at(day),
                    self.lee,
                    "request_changes",
                    version=version,
                    comment="Please explain how the released staff will be covered.",
                )
            elif story == "rejected":
                decided_at = self.at(day)
                app_event(
                    decided_at,
                    self.lee,
                    "reject",
                    version=version,
                    comment="The activities are not backfill the fund can pay for.",
                )
        awarded_story = story not in UNSENT_STORIES + (
            "submitted",
            "withdrawn",
            "under_review",
            "changes_requested",
            "rejected",
        )
        schedule_rows: list[list] = []
        if awarded_story:
            day = self.later(day, 1, 14)
            awarded, decided_by = award, self.lee.id
            countersign = countersigned or story == "awaiting_countersign"
            route = AWAITING_COUNTERSIGN_STATUSES[0] if countersign else None
            decided_at = self.at(day)  # the liaison officer's approval, countersigned or not
            approve_payload = {
                "version": version,
                "awarded_pence": award,
                "conditions": "Report impact each term.",
                "available_pence": fund.available,
            }
            if countersign:
                app_event(decided_at, self.lee, "approve", route, **approve_payload)
            if story != "awaiting_countersign":
                if countersign:
                    day = self.later(day, 1, 5)
                    countersigned_by = self.sam.id
                approved_on = day
                schedule_rows = self.schedule(aid, fund, day, activities, measures)
                plan = [{"kind": r[2], "due_on": r[4]} for r in schedule_rows]
                if countersign:
                    app_event(
                        self.at(day),
                        self.sam,
                        "countersign",
                        version=version,
                        awarded_pence=award,
                        available_pence=fund.available,
                        schedule=plan,
                    )
                else:
                    app_event(decided_at, self.lee, "approve", **approve_payload, schedule=plan)
        if awarded_story and story != "awaiting_countersign":
            self.deliver(
                story,
                aid,
                fund,
                lead,
                author,
                award,
                version,
                day,
                activities,
                measures,
                schedule_rows,
                app_event,
            )
        if committing:
            fund.available -= self.committed

        self.writer.add(
            Application,
            (
                aid,
                reference,
                fid,
                lead,
                author.id,
                title,
                NEED,
                [area],
                status,
                version,
                requested,
                awarded,
                "Report impact each term." if awarded else "",
                "",
                decided_by,
                countersigned_by,
                submitted_at,
                decided_at,
                approved_on,
                created_at,
                self.at(day),
            ),
        )
        for n, s in enumerate(partner_ids):
            when, by = endorsed.get(s, (None, None))
            partner_row = (self.ids.take(ApplicationPartner), aid, s, PARTNER_ROLES[n > 0], when, by, "")
            self.writer.add(ApplicationPartner, partner_row)
        for row in activities:
            self.writer.add(Activity, row)
        for row in measures:
            self.writer.add(Measure, row)
        for row in versions:
            self.writer.add(ApplicationVersion, row)
        for row in reviews:
            self.writer.add(Review, row)
        for row in schedule_rows:
            self.writer.add(ScheduleItem, tuple(row))

    def schedule(self, aid: int, fund: _FundPlan, day: date, activities: list, measures: list) -> list[list]:
        """The award's schedule rows (status "due"), as ``schedule.planned_items`` makes them."""
        final_due = max(m[6] for m in measures) + timedelta(weeks=fund.final_report_weeks)
        items = [("interim_report", d, None) for d in interim_dates(fund.cadence, day, final_due)]
        items.append(("final_report", final_due, None))
        deadlines: dict[date, int] = {}
        for a in activities:
            deadlines.setdefault(a[9] + timedelta(weeks=fund.claim_deadline_weeks), a[0])
        items.extend(("claim_deadline", d, act) for d, act in deadlines.items())
        items.sort(key=lambda item: (item[1], item[0]))
        created = self.at(day)
        return [
            [
                self.ids.take(ScheduleItem),
                aid,
                kind,
                act,
                due,
                SCHEDULE_LIFECYCLE.initial,
                None,
                None,
                "",
                max(due - timedelta(days=REMIND_BEFORE_DAYS), day),
                0,
                None,
                created,
                created,
            ]
            for kind, due, act in items
        ]

    def deliver(  # noqa: C901, PLR0912, PLR0913, PLR0915 - the award's delivery, in order
        self, story, aid, fund, lead, author, award, version, day, activities, measures, items, app_event
    ) -> None:
        """Claims, payments, reports and schedule moves of an award, up to its story's end."""
        rng, fid = self.rng, fund.id
        self.committed = award
        claimed = paid_total = 0
        claims: list[list] = []

        def item_event(item: list, when: datetime, actor: _Actor | None, action: str, **extra: Any) -> None:
            before = item[5]
            item[5] = _move(SCHEDULE_LIFECYCLE, action, before)
            self.event(
                when,
                actor,
                action,
                "schedule_item",
                item[0],
                aid,
                fid,
                (before, item[5]),
                {"kind": item[2], "due_on": item[4], **extra},
            )

        def claim_event(claim: list, when: datetime, actor: _Actor, action: str, **payload: Any) -> None:
            before = claim[2]
            claim[2] = _move(CLAIM_LIFECYCLE, CLAIM_MOVES.get(action, action), before)
            self.event(when, actor, action, "claim", claim[0], aid, fid, (before, claim[2]), payload)

        def pay(claim: list, when_day: date) -> None:
            nonlocal paid_total
            did = self.ids.take(Disbursement)
            ref = f"PAY-{fid}-{self.next_payment:07d}"
            self.next_payment += 1
            when = self.at(when_day)
            self.writer.add(
                Disbursement,
                (did, claim[0], fid, claim[8], when_day, ref, lead, self.fran.id, None, "", when, when),
            )
            claim_event(
                claim,
                when,
                self.fran,
                "record_disbursement",
                disbursement_id=did,
                amount_pence=claim[8],
                paid_on=when_day,
                reference=ref,
                payee_urn=self.urn_of[lead],
            )
            paid_total += claim[8]
            return did, ref

        # claims against the award, each within what is left of it
        last_day = self.today - timedelta(days=3)
        settled_only = story in ("monitoring", "closed")
        for n in range(rng.choice((0, 1, 2, 2, 3))):
            activity = activities[n % len(activities)]
            start = max(activity[8], day + timedelta(days=1))
            if start > last_day:
                continue
            days = rng.randint(1, 3)
            amount = min(activity[6] * days, award - claimed)
            if amount <= 0:
                break
            end = start + timedelta(days=days - 1)
            cid = self.ids.take(BackfillClaim)
            made = self.at(min(end + timedelta(days=2), self.today))
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            claim = [
                cid,
                aid,
                CLAIM_LIFECYCLE.initial,
                start,
                end,
                activity[4],
                name,
                Decimal(days),
                amount,
                author.id,
                None,
                None,
                "",
                made,
                made,
            ]
            claims.append(claim)
            claimed += amount
            self.event(
                made,
                author,
                "create_claim",
                "claim",
                cid,
                aid,
                fid,
                (None, claim[2]),
                {
                    "amount_pence": amount,
                    "days": str(days),
                    "period_start": start,
                    "period_end": end,
                    "staff_name": name,
                    "evidence_sha256": None,
                    "overlaps_claim_id": None,
                },
            )
            fate = rng.random()
            if settled_only:
                fate = 0.9 if fate < 0.85 else 0.2
            if fate < 0.15 and not settled_only:
                continue  # pending
            decided = self.later(made.date(), 1, 10)
            if fate < 0.25:
                claim[12] = "Dates outside the activity's planned release."
                claim_event(
                    claim, self.at(decided), self.lee, "reject", amount_pence=amount, comment=claim[12]
                )
                claimed -= amount
                continue
            claim_event(claim, self.at(decided), self.lee, "verify", amount_pence=amount)
            claim[10], claim[11] = self.lee.id, self.at(decided)
            if fate < 0.4:
                continue  # verified, waiting to be paid
            paid_day = self.later(decided, 1, 10)
            did, ref = pay(claim, paid_day)
            if rng.random() < 0.08:  # paid to the wrong account: reversed, and (mostly) paid again
                rid = self.ids.take(Disbursement)
                reason = "Paid into the wrong school's account."
                when = self.at(paid_day)
                self.writer.add(
                    Disbursement,
                    (
                        rid,
                        claim[0],
                        fid,
                        -amount,
                        paid_day,
                        f"{ref}-R",
                        lead,
                        self.fran.id,
                        did,
                        reason,
                        when,
                        when,
                    ),
                )
                claim_event(
                    claim,
                    when,
                    self.fran,
                    "reverse_disbursement",
                    disbursement_id=did,
                    reverses_reference=ref,
                    reverses_paid_on=paid_day,
                    reversal_id=rid,
                    amount_pence=-amount,
                    reason=reason,
                )
                paid_total -= amount
                if settled_only or rng.random() < 0.6:
                    pay(claim, self.later(paid_day, 1, 5))

        # interim reports owed so far: the first few sent (or waived), the rest late
        past = [i for i in items if i[2] == "interim_report" and i[4] < self.today]
        reports: list[tuple[list, str, date]] = []
        sent = len(past) if story == "closed" else rng.randint(0, len(past))
        for item in past[:sent]:
            if rng.random() < 0.15:
                item_event(
                    item,
                    self.at(self.later(item[4], 0, 3)),
                    self.lee,
                    "waive",
                    reason="The school reported on this term at the cluster meeting.",
                )
                item[6], item[8], item[9] = (
                    item[4],
                    "The school reported on this term at the cluster meeting.",
                    None,
                )
                continue
            report_day = self.later(item[4], -10, 0 if rng.random() < 0.75 else 25)
            if report_day > item[4]:  # sent late: ``run-schedule`` marked it late the day after
                item_event(item, self.at(item[4] + timedelta(days=1)), None, "mark_late")
            report_id = self.report(
                aid,
                fid,
                author,
                "interim",
                report_day,
                measures[:1],
                evaluated=story == "closed" or rng.random() < 0.6,
                before=(item, item_event),
            )
            reports.append((item, "interim", report_day))
            item[6], item[7], item[9] = report_day, report_id, None
        for item in items:
            if (
                item[5] == SCHEDULE_LIFECYCLE.initial
                and item[4] < self.today
                and (story in ("approved", "cancelled") or item[2] != "claim_deadline")
            ):
                overdue = (self.today - item[4]).days
                item_event(item, self.at(item[4] + timedelta(days=1)), None, "mark_late")
                item[9] = self.today + timedelta(days=rng.randint(1, 7))
                item[10] = 2 + overdue // 7
                if item[2] in ESCALATED_KINDS and overdue > 14:
                    item[11] = item[4] + timedelta(days=15)

        if story == "cancelled":
            end_day = self.later(day, 20, 120)
            reason = "The partner school withdrew its support."
            for item in items:
                if item[5] not in SETTLED_SCHEDULE_STATUSES:
                    item_event(item, self.at(end_day), self.lee, "waive", reason=f"Award cancelled: {reason}")
                    item[6], item[8], item[9] = end_day, f"Award cancelled: {reason}", None
            app_event(
                self.at(end_day),
                self.lee,
                "cancel",
                version=version,
                awarded_pence=award,
                paid_pence=paid_total,
                released_pence=award - paid_total,
                comment=reason,
            )
            for claim in claims:
                if claim[2] in OUTSTANDING_CLAIM_STATUSES:
                    claim[12] = f"Award cancelled: {reason}"
                    claim_event(
                        claim, self.at(end_day), self.lee, "reject", amount_pence=claim[8], comment=claim[12]
                    )
            self.committed = paid_total
        elif story in ("monitoring", "closed"):
            end_day = self.later(max([day] + [c[14].date() for c in claims]), 1, 30)
            for item in items:
                if item[2] == "claim_deadline" and item[5] not in SETTLED_SCHEDULE_STATUSES:
                    item_event(item, self.at(end_day), author, "mark_submitted")
                    item[6], item[9] = end_day, None
            app_event(
                self.at(end_day),
                author,
                "finish_delivery",
                version=version,
                awarded_pence=award,
                paid_pence=paid_total,
                released_pence=award - paid_total,
            )
            self.committed = paid_total
            final = next(i for i in items if i[2] == "final_report")
            if story == "closed" or rng.random() < 0.3:
                report_day = self.later(end_day, 1, 30)
                report_id = self.report(
                    aid,
                    fid,
                    author,
                    "final",
                    report_day,
                    measures,
                    evaluated=story == "closed",
                    before=(final, item_event),
                )
                final[6], final[7], final[9] = report_day, report_id, None
            if story == "closed":
                close_day = self.later(report_day, 1, 10)
                for item in items:
                    if item[5] not in SETTLED_SCHEDULE_STATUSES:
                        item_event(
                            item,
                            self.at(close_day),
                            self.lee,
                            "waive",
                            reason="Not needed: the bid was closed",
                        )
                        item[6], item[8], item[9] = close_day, "Not needed: the bid was closed", None
                app_event(self.at(close_day), self.lee, "close", version=version)
        for claim in claims:
            self.writer.add(BackfillClaim, tuple(claim))

    def report(self, aid, fid, author, kind, day, measures, evaluated, before) -> int:  # noqa: PLR0913
        """An impact report (meeting its schedule item first, as the service does), evaluated or not."""
        item, item_event = before
        when = self.at(day)
        item_event(item, when, author, "mark_submitted")
        rid = self.ids.take(ImpactReport)
        results = []
        for m in measures:
            actual = self.actual(m[4], m[5])
            results.append({"measure_id": m[0], "actual": str(actual)})
            self.writer.add(ImpactResult, (self.ids.take(ImpactResult), rid, m[0], actual))
        status = REPORT_LIFECYCLE.initial
        self.event(
            when,
            author,
            "submit_impact_report",
            "impact_report",
            rid,
            aid,
            fid,
            (None, status),
            {"kind": kind, "results": results},
        )
        if evaluated:
            eval_day = self.later(day, 1, 20)
            at = self.at(eval_day)
            rating = self.rng.choice(("achieved", "achieved", "partly_achieved", "not_achieved"))
            drivers = [d for d in DRIVERS if self.rng.random() < 0.5] or [self.rng.choice(DRIVERS)]
            comment = EVALUATION_COMMENTS[rating]
            before_status, status = status, _move(REPORT_LIFECYCLE, "evaluate", status)
            self.writer.add(
                ImpactEvaluation,
                (self.ids.take(ImpactEvaluation), rid, self.lee.id, rating, drivers, comment, at, at, at),
            )
            self.event(
                at,
                self.lee,
                "evaluate_impact_report",
                "impact_report",
                rid,
                aid,
                fid,
                (before_status, status),
                {"rating": rating, "drivers": drivers, "comment": comment},
            )
        narrative = "Sessions held; early signs of changed practice across both schools."
        self.writer.add(ImpactReport, (rid, aid, kind, narrative, status, author.id, when, when))
        return rid

    def actual(self, baseline: Decimal, target: Decimal) -> Decimal:
        """A measure's result: reached the target (half), part of the way (three in ten), or
        no nearer (the rest), in the direction from baseline to target."""
        draw, step = self.rng.random(), target - baseline
        if draw < 0.5:
            return target + step * Decimal(self.rng.randint(0, 20)) / 100
        if draw < 0.8:
            return baseline + step * Decimal(self.rng.randint(20, 90)) / 100
        return baseline - step * Decimal(self.rng.randint(0, 15)) / 100

    # ------------------------------------------------------------------ writing

    def write_chunk(self) -> None:
        """Write the chunk's rows, then its Events at the end of the chain, and commit."""
        self.writer.flush()
        # every bench event is about the demo council's funds, bids and staff: its chain
        audit._lock_chain(self.organisation_id)
        seq, prev = audit.chain_end(self.organisation_id)
        for pending in self.events:
            seq += 1
            pending.seq, pending.prev_hash = seq, prev
            prev = audit.event_hash(pending)
            self.writer.add(
                Event,
                (
                    self.ids.take(Event),
                    self.organisation_id,
                    seq,
                    pending.at,
                    pending.actor_id,
                    pending.actor_email,
                    pending.action,
                    pending.subject_type,
                    pending.subject_id,
                    pending.application_id,
                    pending.fund_id,
                    pending.from_status,
                    pending.to_status,
                    pending.payload,
                    pending.prev_hash,
                    prev,
                ),
            )
        self.events_written += len(self.events)
        self.events.clear()
        self.writer.flush()
        db.session.commit()

    def run(self) -> SeedResult:
        started = time.perf_counter()
        for first in range(0, self.count, CHUNK):
            size = min(CHUNK, self.count - first)
            self.add_schools(max(size // BIDS_PER_SCHOOL, 2 if not self.school_ids else 0))
            for index in range(first, first + size):
                self.bid(index)
            self.write_chunk()
        _fund_councils()
        _finish()
        elapsed = time.perf_counter() - started
        return SeedResult(self.count, self.events_written, elapsed, dict(self.writer.written))


def _next_reference_number(prefix: str) -> int:
    """One past the largest number of a reference with this prefix (longest first, as the app orders them)."""
    last = db.session.execute(
        select(Application.reference)
        .where(Application.reference.like(f"{prefix}-%"))
        .order_by(func.length(Application.reference).desc(), Application.reference.desc())
        .limit(1)
    ).scalar()
    return int(last.rsplit("-", 1)[1]) + 1 if last else 1


def _fund_councils() -> None:
    """Every fund written takes bids from its organisation's member councils."""
    db.session.execute(
        text(
            "INSERT INTO fund_local_authorities (fund_id, local_authority_id)"
            " SELECT funds.id, ola.local_authority_id FROM funds"
            " JOIN organisation_local_authorities ola ON ola.organisation_id = funds.organisation_id"
            " WHERE NOT EXISTS (SELECT 1 FROM fund_local_authorities fla WHERE fla.fund_id = funds.id)"
        )
    )


def _finish() -> None:
    """Work out every bid's running figures (the rows were written directly, not through the
    services that keep them), move PostgreSQL's id sequences past the ids written, and
    refresh the planner's statistics."""
    bid_figures.refresh_all()
    db.session.commit()
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in ORDER:
        if model is UserRole:
            continue
        table = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def seed_bench(applications: int, rng_seed: int | None = None) -> SeedResult:
    """Add ``applications`` bids (loading the demo first if it is not there)."""
    if not demo.already_seeded():
        demo.seed()
        db.session.commit()
    largest = db.session.execute(select(func.max(Application.id))).scalar() or 0
    loader = _Loader(applications, random.Random(largest if rng_seed is None else rng_seed))
    return loader.run()
