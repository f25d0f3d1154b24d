"""Demo data: two fund years, schools in two local authorities, one account per role, and bids
in every state.

The current financial year's fund is live, dated from today; the previous year's fund is
over: its bids were decided, paid, reported on and (mostly) closed, with outcomes that
reached their targets, got part of the way or did not, so every chart has a shape.
Everything is made through the services, each step on the day it happened
(:func:`fundflow.services.clock.as_of`), so the demo's audit trail is a real one; only the
times the services stamp from the wall clock (when a bid was sent and decided, when a claim
was made) are moved back to those days afterwards, for the timeliness figures.

All of that is the first organisation's (the English council, ``slough``);
:mod:`fundflow.demo_partnership` adds a second, a partnership of three Scottish councils.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from . import demo_partnership
from .extensions import db
from .models import (
    Application,
    ApplicationVersion,
    BackfillClaim,
    Fund,
    LocalAuthority,
    Notification,
    ScheduleItem,
    School,
    User,
)
from .services import (
    admin,
    applications,
    claims,
    delivery,
    impact,
    inbox,
    lifecycle,
    organisations,
    outbox,
    payments,
    reviews,
    schedule,
)
from .services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from .services.clock import as_of, today
from .services.notifications import queue_email
from .services.queries.schedule import schedule_for
from .services.unit_of_work import transaction
from .workflow import COMMITTED_AT_AWARD

DEMO_PASSWORD = "demo-password-123"

#: URN, name, phase, causing concern, local authority (DfE code, name), pupils, % free school
#: meals (GIAS ``NumberOfPupils`` and ``PercentageFSM``; the nursery's share is not known).
SLOUGH, WINDSOR = ("871", "Slough"), ("868", "Windsor and Maidenhead")
SCHOOLS = [
    ("137101", "Upton Lea Primary School", "Primary", False, SLOUGH, 420, "24.5"),
    ("137102", "Chalvey Grove Primary School", "Primary", False, SLOUGH, 390, "31.2"),
    ("137103", "Cippenham Park Academy", "Secondary", False, SLOUGH, 1180, "18.7"),
    ("137104", "Langley Meadows Primary School", "Primary", True, SLOUGH, 310, "42.8"),
    ("137105", "Britwell Rise School", "Special", False, SLOUGH, 140, "46.1"),
    ("137106", "Wexham Court Secondary School", "Secondary", False, SLOUGH, 1050, "22.0"),
    ("137107", "Farnham Road Infant School", "Primary", False, SLOUGH, 270, "35.4"),
    ("137108", "Slough Town Nursery School", "Nursery", False, SLOUGH, 95, None),
    ("137109", "Clewer Green Primary School", "Primary", False, WINDSOR, 210, "8.2"),
    ("137110", "Dedworth Green Academy", "Secondary", False, WINDSOR, 860, "12.9"),
    ("137111", "Holyport Village Primary School", "Primary", False, WINDSOR, 180, "4.6"),
    ("137112", "Oldfield Rise Primary School", "Primary", False, WINDSOR, 330, "15.3"),
]

ACCOUNTS = [
    # email, name, roles, school URN
    ("admin@demo.test", "Alex Admin", ["admin"], None),
    ("service-admin@demo.test", "Sasha Service", ["service_admin"], None),
    ("liaison@demo.test", "Lee Liaison", ["liaison_officer"], None),
    ("liaison2@demo.test", "Sam Second", ["liaison_officer", "headteacher"], "137106"),
    ("finance@demo.test", "Fran Finance", ["finance"], None),
    ("auditor@demo.test", "Audrey Auditor", ["auditor"], None),
    ("headteacher@demo.test", "Hana Head", ["headteacher"], "137101"),
    ("partner@demo.test", "Pat Partner", ["headteacher"], "137102"),
    ("head3@demo.test", "Chris Cippenham", ["headteacher"], "137103"),
    ("head4@demo.test", "Lou Langley", ["headteacher"], "137104"),
    ("head5@demo.test", "Bea Britwell", ["headteacher"], "137105"),
    ("head7@demo.test", "Fay Farnham", ["headteacher"], "137107"),
    ("head9@demo.test", "Nia Clewer", ["headteacher"], "137109"),
    ("head10@demo.test", "Omar Dedworth", ["headteacher"], "137110"),
    ("head11@demo.test", "Hari Holyport", ["headteacher"], "137111"),
    ("head12@demo.test", "Ola Oldfield", ["headteacher"], "137112"),
]

ROLE_OF_ACCOUNT = {
    "admin@demo.test": "admin",
    "service-admin@demo.test": "service administrator (creates organisations; sees no bids)",
    "liaison@demo.test": "liaison officer",
    "liaison2@demo.test": "second liaison officer (also headteacher of Wexham Court)",
    "finance@demo.test": "finance",
    "auditor@demo.test": "auditor",
    "headteacher@demo.test": "headteacher of the lead school (Upton Lea)",
    "partner@demo.test": "headteacher of a partner school (Chalvey Grove)",
}
#: The partnership's accounts are printed beside the first organisation's.
ROLE_OF_ACCOUNT |= demo_partnership.ROLE_OF_ACCOUNT


def financial_year(day: date) -> tuple[date, date, str]:
    start_year = day.year if day.month >= 4 else day.year - 1
    return (
        date(start_year, 4, 1),
        date(start_year + 1, 3, 31),
        f"{start_year}-{(start_year + 1) % 100:02d}",
    )


def working_period(first: date, days: int) -> tuple[date, date]:
    """The first ``days`` working days (Monday to Friday) from ``first``: (first, last)."""
    while first.weekday() >= 5:
        first += timedelta(days=1)
    last, counted = first, 1
    while counted < days:
        last += timedelta(days=1)
        counted += last.weekday() < 5
    return first, last


def already_seeded() -> bool:
    return db.session.execute(select(User.id).where(User.email == "admin@demo.test")).first() is not None


def seed() -> dict[str, int]:
    """Create the demo. Returns counts for the summary."""
    now = today()
    opens, closes, year = financial_year(now)
    _the_council_takes_bids_from_windsor_and_maidenhead_too()
    for urn, name, phase, concern, (la_code, la_name), pupils, fsm in SCHOOLS:
        school = admin.create_school(
            None,
            admin.SchoolInput(
                urn=urn, name=name, phase=phase, la_code=la_code, la_name=la_name, causing_concern=concern
            ),
        )
        with transaction():  # what the GIAS import fills in
            school.pupils, school.fsm_percent = pupils, Decimal(fsm) if fsm else None
    users = {}
    for email, name, roles, urn in ACCOUNTS:
        users[email] = admin.create_user(
            None, admin.UserInput(email=email, name=name, roles=roles, password=DEMO_PASSWORD, school_urn=urn)
        )
    _an_email_the_mail_server_refused()
    fund = admin.create_fund(
        None,
        admin.FundInput(
            name=f"Slough School Improvement Fund {year}",
            financial_year=year,
            budget_pence=150_000_00,
            opens_on=opens,
            closes_on=closes,
            max_daily_rate_pence=550_00,
            max_award_pence=25_000_00,
            countersign_threshold_pence=10_000_00,
            requires_partner_endorsement=True,
            delivery_ends_on=date(closes.year + 1, 3, 31),
        ),
    )
    # Awards were approved six weeks ago, so there is time for claims since; three were
    # approved in the spring, so their summer-term reports fell due (one sent, one late, one
    # waived).
    approved_day = now - timedelta(days=45)
    spring_day = now - timedelta(days=200)
    head = users["headteacher@demo.test"]
    lee, sam = users["liaison@demo.test"], users["liaison2@demo.test"]
    fran = users["finance@demo.test"]

    def bid(author: User, title: str, partners: list[tuple[str, str]], days: str, rate: int) -> Application:
        return applications.create_draft(
            author,
            BidDetails(
                fund_id=fund.id,
                title=title,
                need=(
                    "Reading attainment at the end of Key Stage 1 is below the local average; "
                    "staff want to learn from a school that has improved phonics teaching."
                ),
                priority_areas=["Early reading", "Leadership development"],
                partners=[PartnerInput(urn=u, role=r) for u, r in partners],
                activities=[
                    ActivityInput(description, staff_role, activity_days, activity_rate, starts, ends)
                    for description, staff_role, activity_days, activity_rate, starts, ends in (
                        (
                            "Joint planning and coaching sessions",
                            "Deputy headteacher",
                            days,
                            rate,
                            opens + timedelta(days=60),
                            now + timedelta(days=120),
                        ),
                        # ended a fortnight ago: its last day to claim backfill is in 12 days
                        (
                            "Lesson observations and feedback",
                            "English lead",
                            "2.5",
                            250_00,
                            now - timedelta(days=60),
                            now - timedelta(days=16),
                        ),
                    )
                ],
                measures=[
                    MeasureInput(
                        indicator, unit, baseline, target, (now + timedelta(days=due_in)).isoformat()
                    )
                    for indicator, unit, baseline, target, due_in in (
                        ("Pupils meeting the phonics screening standard", "%", "68", "80", 180),
                        ("Teachers confident teaching phonics", "teachers", "3", "9", 120),
                    )
                ],
            ),
        )

    def act(app: Application, user: User, action: str, **kwargs) -> None:
        lifecycle.perform(app, user, lifecycle.ActionInput(action=action, **kwargs))

    def endorse_all(app: Application) -> None:
        for p in app.partners:
            endorser = db.session.execute(select(User).where(User.school_id == p.school_id)).scalars().first()
            if endorser is not None:
                act(app, endorser, "endorse")

    def submitted(app: Application) -> Application:
        endorse_all(app)
        act(app, users[_author_email(app, users)], "submit")
        return app

    def under_review(app: Application) -> Application:
        submitted(app)
        act(app, lee, "start_review")
        reviews.record_review(
            lee,
            app,
            reviews.ReviewInput(True, True, True, 3, "Clear need and a credible partner.", "approve"),
        )
        return app

    def approved(app: Application, awarded: int | None = None, on: date = approved_day) -> Application:
        under_review(app)
        with as_of(on):
            act(app, lee, "approve", awarded_pence=awarded, conditions="Report impact each term.")
        return app

    def claim(app: Application, first: date, days: int, name: str, role: str, amount: int) -> BackfillClaim:
        start, end = working_period(first, days)
        return claims.create_claim(
            head,
            app,
            claims.ClaimInput(
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                staff_released=role,
                staff_name=name,
                days=str(days),
                amount_pence=amount,
            ),
        )

    # One bid in each state. Upton Lea (headteacher@) leads; Chalvey Grove (partner@) partners.
    pair = [("137102", "supporting")]
    bid(head, "Phonics catch-up with Chalvey Grove", pair, "4", 300_00)  # draft
    submitted(
        bid(head, "Maths mastery network", [("137103", "supporting"), ("137102", "supported")], "3", 350_00)
    )
    under_review(bid(head, "SEND inclusion coaching", [("137105", "supporting")], "5", 270_00))

    changes = under_review(bid(head, "Early years transition project", pair, "6", 218_00))
    act(changes, lee, "request_changes", comment="Please explain how the deputy's time will be covered.")

    large = under_review(bid(head, "Trust-wide curriculum redesign", pair, "22", 500_00))
    act(large, lee, "approve", awarded_pence=11_000_00, conditions="Termly progress notes.")

    live = approved(bid(head, "Reading fluency partnership", pair, "8", 400_00), on=spring_day)
    c1 = claim(live, approved_day + timedelta(days=14), 3, "Priya Shah", "Deputy headteacher", 1_200_00)
    c2 = claim(live, approved_day + timedelta(days=24), 2, "Tom Reid", "English lead", 500_00)
    claims.decide_claim(lee, c1, "verify")
    claims.decide_claim(lee, c2, "verify")
    payments.record_disbursement(
        fran, c1, payments.DisbursementInput(amount_pence=1_200_00, paid_on=now, reference="SLG-PAY-0001")
    )
    # Tom Reid's days were paid to the wrong school's account and reversed: the claim waits to
    # be paid again, and the auditors and the school were told why.
    wrong = payments.record_disbursement(
        fran, c2, payments.DisbursementInput(amount_pence=500_00, paid_on=now, reference="SLG-PAY-0004")
    )
    payments.reverse_disbursement(fran, wrong, "Paid into Chalvey Grove's account by mistake.")

    rejected = under_review(bid(head, "Leadership away days", pair, "2", 300_00))
    act(rejected, lee, "reject", comment="Residential costs are not backfill; the fund cannot pay them.")

    withdrawn = bid(head, "Science practical skills", pair, "2", 300_00)
    act(withdrawn, head, "withdraw")

    monitoring = approved(bid(head, "Writing moderation cluster", pair, "4", 300_00), on=spring_day)
    moderation = claim(monitoring, approved_day + timedelta(days=3), 3, "Priya Shah", "Deputy head", 900_00)
    _verify_and_pay(lee, fran, moderation, "SLG-PAY-0002")
    act(monitoring, head, "finish_delivery")
    impact.submit_report(
        head,
        monitoring,
        impact.ReportInput(
            kind="interim",
            narrative="Moderation sessions held; early signs of more consistent judgements.",
            results=[impact.ResultInput(measure_id=m.id, actual="72") for m in monitoring.measures[:1]],
        ),
    )

    closed = approved(bid(head, "Attendance improvement peer review", pair, "3", 300_00), on=spring_day)
    summer_report = next(i for i in schedule_for(closed.id) if i.kind == "interim_report")
    schedule.waive(lee, summer_report, "The school reported on this term at the cluster meeting.")
    # Dan Brook's days on this bid overlap a later claim for him on the live bid: that one
    # is flagged to the liaison officer as possible double funding.
    peer_review = claim(closed, approved_day + timedelta(days=3), 3, "Dan Brook", "Assistant head", 900_00)
    _verify_and_pay(lee, fran, peer_review, "SLG-PAY-0003")
    act(closed, head, "finish_delivery")
    final = impact.submit_report(
        head,
        closed,
        impact.ReportInput(
            kind="final",
            narrative="Persistent absence fell; the approach is now used across both schools.",
            results=[impact.ResultInput(measure_id=m.id, actual="82") for m in closed.measures],
        ),
    )
    impact.evaluate_report(
        lee,
        final,
        impact.EvaluationInput(
            rating="achieved",
            drivers=["collaboration", "practice_change"],
            comment="Targets met, with evidence of changed practice.",
        ),
    )
    act(closed, lee, "close")

    claim(live, approved_day + timedelta(days=3), 1, "Dan Brook", "Assistant head", 400_00)

    cancelled = approved(bid(head, "Governor training exchange", pair, "2", 300_00))
    act(cancelled, lee, "cancel", comment="The partner school withdrew its support.")

    # A bid from other schools, countersigned and approved, so the liaison queue has variety.
    other = bid(
        users["head3@demo.test"], "Secondary transition mentors", [("137107", "supported")], "24", 450_00
    )
    submitted(other)
    act(other, lee, "start_review")
    act(other, lee, "approve", awarded_pence=10_800_00)
    act(other, sam, "countersign")
    # Langley Meadows is causing concern: it may be supported, shown here.
    concern = bid(
        users["head5@demo.test"],
        "Behaviour support for Langley Meadows",
        [("137104", "supported")],
        "4",
        270_00,
    )
    submitted(concern)

    # Wexham Court supports this one, so liaison2 (its headteacher) is conflicted on it.
    wexham = bid(
        users["head3@demo.test"],
        "Science leadership coaching from Wexham Court",
        [("137106", "supporting")],
        "3",
        300_00,
    )
    submitted(wexham)

    # The schedule's clock: the live bid's summer report is late (reminded, then escalated to
    # the liaison officers); reports due within 14 days are reminded. Nothing is sent yet:
    # the messages wait in the outbox for ``send-notifications``.
    stamps = _history(fund, users, now)
    partnership = demo_partnership.seed(now, financial_year(now), DEMO_PASSWORD)
    schedule.run_schedule(now)
    # The lead headteacher has read their older messages, and takes claim news in the daily
    # email; the partner has read everything about the first bids.
    for message in notifications_of(head)[:-6]:
        inbox.mark_read(head, message.id)
    for message in notifications_of(users["partner@demo.test"])[:5]:
        inbox.mark_read(users["partner@demo.test"], message.id)
    digest = {"claim_verified": "digest", "claim_rejected": "digest", "claim_paid": "digest"}
    inbox.save_preferences(head, {kind: digest.get(kind, "immediate") for kind in inbox.kinds_for(head)})
    _stamp_history(stamps, now)
    return {
        "schools": len(SCHOOLS) + partnership["schools"],
        "users": len(ACCOUNTS) + partnership["users"],
        "applications": db.session.execute(select(db.func.count(Application.id))).scalar_one(),
        "funds": db.session.execute(select(db.func.count(Fund.id))).scalar_one(),
    }


#: The demo council's neighbour, whose schools bid into its funds (GSS code, name).
WINDSOR_AND_MAIDENHEAD = ("E06000040", "Windsor and Maidenhead")


def _the_council_takes_bids_from_windsor_and_maidenhead_too() -> None:
    """The first organisation (made from the settings, naming Slough alone) gains Windsor
    and Maidenhead as a member council, so its funds take bids from the demo's Windsor
    schools too. Like the organisation itself, this is the deployment's set-up, not anyone's
    action: no audit event."""
    code, name = WINDSOR_AND_MAIDENHEAD
    with transaction():
        council = organisations.home_organisation()
        windsor = db.session.execute(
            select(LocalAuthority).where(LocalAuthority.gss_code == code)
        ).scalar_one_or_none() or LocalAuthority(gss_code=code, name=name, nation="england")
        if windsor not in council.local_authorities:
            council.local_authorities.append(windsor)


class _RefusingServer:
    """The demo's stand-in for a mail server that refuses an address for good."""

    def send(self, email: delivery.Email) -> str:
        raise delivery.DeliveryFailed("550 5.1.1 No such mailbox here", permanent=True)


def _an_email_the_mail_server_refused() -> None:
    """One email to a mistyped address, refused: the admins' email delivery page lists it
    and their messages say so (sent before any other email exists, so nothing else is)."""
    with transaction():
        queue_email(
            to_address="hana.head@upton-lea.sch.uk.invalid",
            kind="digest",
            subject="Your fundflow messages",
            body="(an email to a mistyped address)",
        )
    outbox.send_due(backend=_RefusingServer())


def notifications_of(user: User) -> list[Notification]:
    """Someone's messages, oldest first."""
    return list(
        db.session.execute(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).scalars()
    )


def _author_email(app: Application, users: dict[str, User]) -> str:
    return next(email for email, user in users.items() if user.id == app.created_by_id)


def _verify_and_pay(lee: User, fran: User, claim: BackfillClaim, reference: str) -> None:
    claims.decide_claim(lee, claim, "verify")
    payments.record_disbursement(
        fran,
        claim,
        payments.DisbursementInput(amount_pence=claim.amount_pence, paid_on=today(), reference=reference),
    )


# ----------------------------------------------------------------------------------------
# The fund's history: last year's fund, and more of this year's bids
# ----------------------------------------------------------------------------------------

#: Results for measures: (indicator, unit, baseline, target).
READING = ("Pupils reading at the expected standard", "%", "62", "74")
ABSENCE = ("Persistent absence", "%", "16", "11")
CONFIDENCE = ("Teachers confident in the approach", "teachers", "3", "10")
MATHS = ("Pupils at the expected standard in maths", "%", "58", "70")
WRITING = ("Pupils writing at greater depth", "%", "12", "20")
BEHAVIOUR = ("Fixed-term suspensions a term", "suspensions", "14", "6")

#: A measure's latest actual for each outcome: reached the target, part of the way, or not.
OUTCOMES = {
    READING: {"achieved": "76", "part_way": "68", "not_achieved": "61"},
    ABSENCE: {"achieved": "10.5", "part_way": "13.2", "not_achieved": "16.8"},
    CONFIDENCE: {"achieved": "10", "part_way": "7", "not_achieved": "3"},
    MATHS: {"achieved": "71", "part_way": "64", "not_achieved": "57"},
    WRITING: {"achieved": "21", "part_way": "15", "not_achieved": "11"},
    BEHAVIOUR: {"achieved": "5", "part_way": "9", "not_achieved": "15"},
}

COMMENTS = {
    "achieved": "Targets met, with evidence of changed practice in both schools.",
    "partly_achieved": "Good progress on most measures; the school will keep the work going next year.",
    "not_achieved": "Little change yet; staff turnover interrupted the release days.",
}

STAFF = (
    "Amira Begum", "Josh Turner", "Kemi Adeyemi", "Liam Walsh", "Maya Green", "Noah Clarke",
    "Olivia Price", "Rafi Hussain", "Sophie Lane", "Theo Grant", "Uma Desai", "Will Foster",
    "Yasmin Noor", "Zac Morgan", "Beth Cole", "Cal Ross", "Dina Farah", "Evan Hale",
    "Ffion Rees", "Gus Webb", "Hiba Aziz", "Ivan Petrov", "Jade Moss",
)  # fmt: skip


@dataclass(frozen=True)
class Story:
    """One bid of the demo's history, told by dates: ``sent`` days after the fund opened."""

    lead: str
    title: str
    partners: tuple[tuple[str, str], ...]
    area: str
    need: str
    role: str
    days: str
    rate: int
    measures: tuple[tuple[tuple[str, str, str, str], str], ...]  # (measure, outcome)
    sent: int
    ends: str = "closed"  # closed, approved, rejected, withdrawn, cancelled, submitted, ...
    decided_after: int = 14
    award_percent: int = 100
    claims: int = 2
    pay_after: int = 9
    interims: str = "on_time"  # on_time, late, waived, missed
    final: str = "on_time"  # on_time, late, waived
    rating: str = "achieved"
    drivers: tuple[str, ...] = ("collaboration",)
    override: str = ""
    #: Whether the bid's claims were settled (verified and paid) or wait for verification.
    settled: bool = True


LAST_YEAR = (
    Story("head3@demo.test", "Numeracy across the curriculum", (("137107", "supported"),), "Mathematics",
          "Year 7 pupils arrive with gaps in number fluency that hold back science and geography.",
          "Maths lead", "8", 380_00, ((MATHS, "achieved"), (CONFIDENCE, "achieved")), 30,
          drivers=("collaboration", "practitioner_knowledge")),
    Story("head5@demo.test", "Autism-friendly classrooms network",
          (("137102", "supported"), ("137107", "supported")), "Inclusion",
          "Mainstream colleagues ask for help adapting classrooms for autistic pupils.",
          "SENCo", "10", 320_00, ((CONFIDENCE, "achieved"), (BEHAVIOUR, "part_way")), 45,
          interims="late", rating="partly_achieved", drivers=("practitioner_knowledge", "practice_change")),
    Story("head7@demo.test", "Early language and communication", (("137105", "supporting"),),
          "Early reading", "Children start Reception with speech and language well below their age.",
          "Early years lead", "6", 300_00, ((READING, "achieved"),), 60, final="late",
          drivers=("practice_change",)),
    Story("head9@demo.test", "Reading for pleasure cluster", (("137111", "supported"),), "Early reading",
          "Fewer pupils read at home each year; the cluster wants a shared reading culture.",
          "English lead", "5", 280_00, ((READING, "achieved"), (CONFIDENCE, "part_way")), 75,
          drivers=("collaboration", "practice_change")),
    Story("head10@demo.test", "Key Stage 3 reading recovery", (("137112", "supported"),), "Early reading",
          "A third of Year 7 read below their age and cannot access the secondary curriculum.",
          "English lead", "9", 400_00, ((READING, "not_achieved"), (CONFIDENCE, "part_way")), 90,
          rating="not_achieved", drivers=("practitioner_knowledge",)),
    Story("head3@demo.test", "Middle leaders coaching programme", (("137104", "supported"),),
          "Leadership development", "Middle leaders at Langley Meadows are new to post and need coaching.",
          "Assistant head", "20", 500_00, ((CONFIDENCE, "achieved"), (ABSENCE, "part_way")), 40,
          claims=4, rating="partly_achieved", drivers=("collaboration", "practitioner_knowledge")),
    Story("head4@demo.test", "Behaviour and attendance recovery", (("137103", "supporting"),), "Attendance",
          "Persistent absence and suspensions rose sharply after the school's last inspection.",
          "Deputy headteacher", "8", 350_00, ((ABSENCE, "part_way"), (BEHAVIOUR, "achieved")), 100,
          rating="partly_achieved", drivers=("collaboration", "practice_change")),
    Story("head7@demo.test", "Phonics for older readers", (("137109", "supporting"),), "Early reading",
          "Pupils in Years 3 and 4 who did not pass the phonics check need a catch-up programme.",
          "Phase leader", "6", 300_00, ((READING, "achieved"),), 120, interims="waived"),
    Story("head9@demo.test", "Maths reasoning in Year 6", (("137110", "supporting"),), "Mathematics",
          "Reasoning papers are the weakest part of the school's Key Stage 2 results.",
          "Maths lead", "8", 320_00, ((MATHS, "achieved"),), 135, award_percent=80,
          drivers=("practitioner_knowledge", "practice_change")),
    Story("head10@demo.test", "Transition mentoring from Year 6 to Year 7",
          (("137109", "supported"), ("137111", "supported")), "Attendance",
          "Pupils from small village primaries struggle in their first term at secondary school.",
          "Pastoral lead", "7", 300_00, ((ABSENCE, "part_way"),), 150, final="waived",
          rating="partly_achieved"),
    Story("head5@demo.test", "Sensory circuits training", (("137104", "supported"),), "Inclusion",
          "Staff want to use sensory circuits to help pupils settle and regulate.",
          "SENCo", "4", 300_00, ((BEHAVIOUR, "achieved"),), 165, claims=1, drivers=("practice_change",)),
    Story("head3@demo.test", "Science practical confidence", (("137112", "supported"),), "Science",
          "Primary colleagues rarely teach practical science and want to see it modelled.",
          "Science lead", "6", 360_00, ((CONFIDENCE, "not_achieved"), (WRITING, "not_achieved")), 180,
          rating="not_achieved", drivers=("collaboration",), interims="late"),
    Story("head5@demo.test", "Speech and language skills for teaching assistants",
          (("137102", "supported"),), "Inclusion",
          "Teaching assistants lack training to support pupils with speech and language needs.",
          "Speech and language lead", "5", 290_00, ((CONFIDENCE, "part_way"),), 200,
          rating="partly_achieved", drivers=("practitioner_knowledge",)),
    Story("head4@demo.test", "Writing at greater depth", (("137107", "supporting"),), "Writing",
          "Almost no pupils write at greater depth by the end of Key Stage 2.",
          "English lead", "6", 300_00, ((WRITING, "part_way"),), 70, ends="cancelled", claims=1,
          interims="missed"),
    Story("head7@demo.test", "Outdoor learning exchange", (("137110", "supporting"),), "Curriculum",
          "The school wants to learn how to use its new outdoor space across the curriculum.",
          "Early years lead", "3", 250_00, ((CONFIDENCE, "achieved"),), 85, ends="rejected"),
    Story("head10@demo.test", "Sixth form study skills", (("137103", "supporting"),), "Curriculum",
          "Sixth form students struggle with independent study.",
          "Head of sixth form", "4", 400_00, ((CONFIDENCE, "achieved"),), 110, ends="rejected"),
    Story("head9@demo.test", "Governor skills audit", (("137111", "supported"),), "Leadership development",
          "Governors asked for help auditing their own skills.",
          "Business manager", "2", 250_00, ((CONFIDENCE, "achieved"),), 140, ends="withdrawn"),
)  # fmt: skip

#: This year's further bids: ``sent`` counts back from today (days ago), not from the opening.
THIS_YEAR = (
    Story("head3@demo.test", "Reasoning in Key Stage 3 maths", (("137110", "supporting"),), "Mathematics",
          "Year 8 pupils cannot explain their reasoning in problem solving.",
          "Maths lead", "8", 400_00, ((MATHS, "part_way"), (CONFIDENCE, "achieved")), 205,
          ends="approved", claims=4),
    Story("head5@demo.test", "Inclusive physical education", (("137107", "supported"),), "Inclusion",
          "Pupils with physical disabilities sit out of too many PE lessons.",
          "PE lead", "6", 300_00, ((CONFIDENCE, "part_way"),), 175, ends="approved", claims=2),
    Story("head7@demo.test", "Speech, language and communication coaching", (("137104", "supporting"),),
          "Early reading", "Langley Meadows' speech and language lead is the most experienced in the town.",
          "Speech and language lead", "6", 550_00, ((READING, "part_way"),), 135, ends="approved", claims=3,
          override="Langley Meadows is causing concern, but its speech and language lead is rated "
          "outstanding by the local authority's adviser and the work will not draw on its leaders."),
    Story("head9@demo.test", "Phonics leadership across two authorities", (("137102", "supporting"),),
          "Early reading", "Clewer Green's phonics results fell after its phonics lead left.",
          "Phonics lead", "7", 320_00, ((READING, "part_way"),), 225, ends="approved", claims=3,
          interims="late"),
    Story("head10@demo.test", "Attendance champions", (("137112", "supported"),), "Attendance",
          "Persistent absence in Years 9 and 10 is twice the national rate.",
          "Attendance lead", "6", 300_00, ((ABSENCE, "part_way"),), 190, ends="approved", claims=1,
          interims="missed"),
    Story("head9@demo.test", "Early years outdoor provision", (("137112", "supported"),), "Curriculum",
          "Oldfield Rise's new Reception class has no outdoor learning yet.",
          "Early years lead", "10", 300_00, ((CONFIDENCE, "part_way"),), 95, ends="approved",
          award_percent=75, claims=1, settled=False),
    Story("head4@demo.test", "Reading comprehension recovery", (("137103", "supporting"),), "Early reading",
          "Reading comprehension in Key Stage 2 fell two years running.",
          "English lead", "5", 300_00, ((READING, "achieved"),), 12, ends="under_review"),
    Story("head9@demo.test", "Curriculum mapping in foundation subjects", (("137111", "supported"),),
          "Curriculum", "Foundation subjects are taught without a shared progression map.",
          "Curriculum lead", "4", 280_00, ((CONFIDENCE, "achieved"),), 20, ends="changes_requested"),
    Story("head10@demo.test", "Careers guidance network", (("137112", "supported"),), "Curriculum",
          "The school wants help meeting the Gatsby benchmarks.",
          "Careers lead", "3", 300_00, ((CONFIDENCE, "achieved"),), 30, ends="rejected"),
    Story("head7@demo.test", "Forest school training", (("137109", "supported"),), "Curriculum",
          "Staff want forest school training.", "Early years lead", "3", 250_00,
          ((CONFIDENCE, "achieved"),), 0, ends="draft"),
    Story("head5@demo.test", "Makaton signing for staff", (("137104", "supported"),), "Inclusion",
          "Few staff can sign with pupils who use Makaton.", "SENCo", "2", 250_00,
          ((CONFIDENCE, "achieved"),), 25, ends="withdrawn"),
    Story("head3@demo.test", "Assessment moderation in Key Stage 3", (("137107", "supported"),),
          "Assessment", "Teacher assessment in Key Stage 3 varies from class to class.",
          "Assessment lead", "4", 330_00, ((CONFIDENCE, "achieved"),), 6, ends="submitted"),
)  # fmt: skip

#: When each bid was sent and decided: the services stamp those times from the wall clock,
#: so the demo moves them to the days of its history (see :func:`_stamp_history`).
Stamps = dict[int, tuple[date | None, date | None]]


@dataclass
class _Teller:
    """Tells the stories of one fund through the services, each step on its own day."""

    fund: Fund
    users: dict[str, User]
    stamps: Stamps
    names: list[str]
    now: date
    paid: int = 0

    @property
    def lee(self) -> User:
        return self.users["liaison@demo.test"]

    def act(self, app: Application, user: User, action: str, **kwargs: object) -> None:
        lifecycle.perform(app, user, lifecycle.ActionInput(action=action, **kwargs))

    def tell(self, story: Story, sent: date) -> Application:
        """The bid's whole story; ``sent`` is the day it was (or would be) sent."""
        # decisions take two to five weeks, varied by the title so the median has a spread
        decided = min(sent + timedelta(days=story.decided_after + len(story.title) % 19), self.now)
        starts = decided + timedelta(days=21)
        ends = min(starts + timedelta(days=120), self.fund.delivery_ends_on - timedelta(days=30))
        due = ends + timedelta(days=14)
        author = self.users[story.lead]
        with as_of(sent - timedelta(days=6)):
            app = applications.create_draft(
                author,
                BidDetails(
                    fund_id=self.fund.id,
                    title=story.title,
                    need=story.need,
                    priority_areas=[story.area],
                    partners=[PartnerInput(urn=u, role=r) for u, r in story.partners],
                    activities=[
                        ActivityInput(
                            "Joint planning, coaching and observation",
                            story.role,
                            story.days,
                            story.rate,
                            starts,
                            ends,
                        )
                    ],
                    measures=[
                        MeasureInput(measure[0], measure[1], measure[2], measure[3], due.isoformat())
                        for measure, _ in story.measures
                    ],
                ),
            )
        if story.ends == "draft":
            return app
        with as_of(sent):
            if story.ends == "withdrawn":
                self.act(app, author, "withdraw")
                return app
            for urn, _ in story.partners:
                self.act(app, _head_of(urn), "endorse")
            self.act(app, author, "submit")
        self.stamps[app.id] = (sent, None)
        if story.ends == "submitted":
            return app
        with as_of(decided):
            self.act(app, self.lee, "start_review")
            recommendation = {"rejected": "reject", "changes_requested": "request_changes"}.get(
                story.ends, "approve"
            )
            reviews.record_review(
                self.lee,
                app,
                reviews.ReviewInput(True, story.ends != "rejected", True, 4, "A clear need.", recommendation),
            )
            if story.ends == "under_review":
                return app
            self.stamps[app.id] = (sent, decided)
            if story.ends == "changes_requested":
                self.act(app, self.lee, "request_changes", comment="Say how the released staff are covered.")
                return app
            if story.ends == "rejected":
                self.act(app, self.lee, "reject", comment="These are not release costs the fund can pay.")
                return app
            award = app.requested_pence * story.award_percent // 100
            self.act(
                app,
                self.lee,
                "approve",
                awarded_pence=award,
                conditions="Report impact each term.",
                comment=story.override,
            )
        if app.status not in COMMITTED_AT_AWARD:  # over the threshold: a second officer countersigns
            with as_of(decided + timedelta(days=2)):
                self.act(app, self.users["liaison2@demo.test"], "countersign")
        self.deliver(app, story, starts, ends)
        return app

    def deliver(self, app: Application, story: Story, starts: date, ends: date) -> None:
        """Claims and payments, reports and evaluations, then the bid's end, in date order."""
        steps: list[tuple[date, int, Callable[[], None]]] = []
        author, lee = self.users[story.lead], self.lee
        name = self.names.pop(0)
        left = app.awarded_pence or 0
        last_paid = starts
        for n in range(story.claims):
            start, end = working_period(starts + timedelta(days=28 * n), 3)
            amount = min(story.rate * 3, left)
            made = end + timedelta(days=3)
            if amount <= 0 or end > ends or made > self.now:
                break
            left -= amount
            paid = made + timedelta(days=2 + story.pay_after + (len(name) + n * 5) % 12)
            steps.append((made, 0, self._claim_step(app, author, start, end, name, story, amount, paid)))
            last_paid = max(last_paid, paid)
        finished = max(last_paid, ends) + timedelta(days=3)
        items = schedule_for(app.id)
        for item in (i for i in items if i.kind == "interim_report" and i.due_on < self.now):
            if story.interims == "waived":
                waived = self._waive_step(item, "The school reported on this term at the cluster meeting.")
                steps.append((item.due_on - timedelta(days=1), 1, waived))
            elif story.interims != "missed":
                late = story.interims == "late"
                day = item.due_on + timedelta(days=11 if late else -4)
                steps.append((day, 1, self._report_step(app, author, story, "interim", day)))
        if story.ends == "closed":
            final_item = next(i for i in items if i.kind == "final_report")
            steps.append((finished, 2, lambda: self.act(app, author, "finish_delivery")))
            if story.final == "waived":
                day = final_item.due_on + timedelta(days=3)
                reason = "The headteacher left; the officer reviewed the outcomes with the new head."
                steps.append((day, 3, self._waive_step(final_item, reason)))
            else:
                due = max(final_item.due_on, finished + timedelta(days=8))
                day = due + timedelta(days=12) if story.final == "late" else due - timedelta(days=7)
                steps.append((day, 3, self._report_step(app, author, story, "final", day)))
            closed = max(d for d, _, _ in steps) + timedelta(days=10)
            steps.append((closed, 9, lambda: self.act(app, lee, "close")))
        elif story.ends == "cancelled":
            reason = "The lead school's English lead left and the partner could not continue."
            cancelled = last_paid + timedelta(days=20)
            steps.append((cancelled, 9, lambda: self.act(app, lee, "cancel", comment=reason)))
        for day, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            with as_of(day):
                step()

    def _claim_step(self, app, author, start, end, name, story, amount, paid) -> Callable[[], None]:  # noqa: PLR0913
        def step() -> None:
            claim = claims.create_claim(
                author,
                app,
                claims.ClaimInput(
                    period_start=start.isoformat(),
                    period_end=end.isoformat(),
                    staff_released=story.role,
                    staff_name=name,
                    days="3",
                    amount_pence=amount,
                ),
            )
            if not story.settled:
                return  # waits for a liaison officer to verify it
            verified = min(end + timedelta(days=5), self.now)
            with as_of(verified):
                claims.decide_claim(self.lee, claim, "verify")
            with transaction():  # stamped from the wall clock: the day of the story instead
                claim.verified_at = _moment(verified, 11)
            if paid <= self.now:
                with as_of(paid):
                    self.paid += 1
                    reference = f"SLG-PAY-{self.fund.financial_year[2:4]}{self.paid:02d}"
                    payments.record_disbursement(
                        self.users["finance@demo.test"],
                        claim,
                        payments.DisbursementInput(amount_pence=amount, paid_on=paid, reference=reference),
                    )

        return step

    def _waive_step(self, item: ScheduleItem, reason: str) -> Callable[[], None]:
        def step() -> None:
            schedule.waive(self.lee, item, reason)

        return step

    def _report_step(self, app, author, story, kind, day) -> Callable[[], None]:  # noqa: PLR0913
        def step() -> None:
            results = []
            for m, (measure, outcome) in zip(app.measures, story.measures, strict=True):
                latest = Decimal(OUTCOMES[measure][outcome])
                actual = latest if kind == "final" else (Decimal(measure[2]) + latest) / 2
                results.append(impact.ResultInput(measure_id=m.id, actual=str(actual)))
            narrative = (
                "Release days went ahead as planned; staff report growing confidence."
                if kind == "interim"
                else "The partnership finished its release days; the results below are the latest."
            )
            report = impact.submit_report(author, app, impact.ReportInput(kind, narrative, results))
            evaluated = min(day + timedelta(days=6), self.now)
            rating = story.rating if kind == "final" else "partly_achieved"
            with as_of(evaluated):
                impact.evaluate_report(
                    self.lee,
                    report,
                    impact.EvaluationInput(rating, list(story.drivers), COMMENTS[rating]),
                )

        return step


def _head_of(urn: str) -> User:
    """The demo headteacher of the school with ``urn`` (who endorses for it)."""
    return (
        db.session.execute(
            select(User).join(School, School.id == User.school_id).where(School.urn == urn).order_by(User.id)
        )
        .scalars()
        .first()
    )


def _last_years_fund(now: date) -> Fund:
    """The previous financial year's fund: bids taken from April to January, delivery to March."""
    opens, closes, year = financial_year(financial_year(now)[0] - timedelta(days=1))
    with as_of(opens - timedelta(days=20)):
        return admin.create_fund(
            None,
            admin.FundInput(
                name=f"Slough School Improvement Fund {year}",
                financial_year=year,
                budget_pence=60_000_00,
                opens_on=opens,
                closes_on=date(closes.year, 1, 31),
                max_daily_rate_pence=550_00,
                max_award_pence=25_000_00,
                countersign_threshold_pence=10_000_00,
                requires_partner_endorsement=True,
                delivery_ends_on=closes,
            ),
        )


def _history(fund: Fund, users: dict[str, User], now: date) -> Stamps:
    """Last year's fund and its bids, then this year's further bids."""
    stamps: Stamps = {}
    names = list(STAFF)
    previous = _last_years_fund(now)
    last_year = _Teller(previous, users, stamps, names, now)
    for story in LAST_YEAR:
        last_year.tell(story, previous.opens_on + timedelta(days=story.sent))
    this_year = _Teller(fund, users, stamps, names, now)
    this_year.paid = 4  # SLG-PAY-0001 to 0004 are the first bids'
    for story in THIS_YEAR:
        this_year.tell(story, now - timedelta(days=story.sent))
    return stamps


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0))


def _stamp_history(stamps: Stamps, now: date) -> None:
    """Move the wall-clock times the services stamped (a bid sent, decided; a claim made) to
    the days of the demo's history. Bids told by the first part of :func:`seed` were sent 12
    days before they were decided (or, undecided, 12 days ago)."""
    with transaction():
        sent_at: dict[int, datetime] = {}
        rows = db.session.execute(select(Application).where(Application.submitted_at.is_not(None))).scalars()
        for app in rows:
            sent, decided = stamps.get(app.id, (None, None))
            if app.id not in stamps:
                decided = app.approved_on or (now - timedelta(days=2) if app.decided_at else None)
                sent = (decided or now) - timedelta(days=12)
            app.submitted_at = sent_at[app.id] = _moment(sent or now, 10)
            if app.decided_at is not None:
                app.decided_at = _moment(decided or now, 15)
        for version in db.session.execute(select(ApplicationVersion)).scalars():
            version.submitted_at = sent_at.get(version.application_id, version.submitted_at)
        for claim in db.session.execute(select(BackfillClaim)).scalars():
            claim.created_at = _moment(min(claim.period_end + timedelta(days=3), now), 9)
