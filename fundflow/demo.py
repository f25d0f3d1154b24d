"""Demo data: a fund, schools, one account per role, and bids in every state.

Everything is made through the services, so the demo's audit trail is a real one.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from .extensions import db
from .models import Application, BackfillClaim, Fund, Notification, User
from .services import (
    admin,
    applications,
    claims,
    delivery,
    impact,
    inbox,
    lifecycle,
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

DEMO_PASSWORD = "demo-password-123"

SCHOOLS = [
    ("137101", "Upton Lea Primary School", "Primary", False),
    ("137102", "Chalvey Grove Primary School", "Primary", False),
    ("137103", "Cippenham Park Academy", "Secondary", False),
    ("137104", "Langley Meadows Primary School", "Primary", True),
    ("137105", "Britwell Rise School", "Special", False),
    ("137106", "Wexham Court Secondary School", "Secondary", False),
    ("137107", "Farnham Road Infant School", "Primary", False),
    ("137108", "Slough Town Nursery School", "Nursery", False),
]

ACCOUNTS = [
    # email, name, roles, school URN
    ("admin@demo.test", "Alex Admin", ["admin"], None),
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
]

ROLE_OF_ACCOUNT = {
    "admin@demo.test": "admin",
    "liaison@demo.test": "liaison officer",
    "liaison2@demo.test": "second liaison officer (also headteacher of Wexham Court)",
    "finance@demo.test": "finance",
    "auditor@demo.test": "auditor",
    "headteacher@demo.test": "headteacher of the lead school (Upton Lea)",
    "partner@demo.test": "headteacher of a partner school (Chalvey Grove)",
}


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
    for urn, name, phase, concern in SCHOOLS:
        admin.create_school(
            None,
            admin.SchoolInput(
                urn=urn, name=name, phase=phase, la_code="871", la_name="Slough", causing_concern=concern
            ),
        )
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
    schedule.run_schedule(now)
    # The lead headteacher has read their older messages, and takes claim news in the daily
    # email; the partner has read everything about the first bids.
    for message in notifications_of(head)[:-6]:
        inbox.mark_read(head, message.id)
    for message in notifications_of(users["partner@demo.test"])[:5]:
        inbox.mark_read(users["partner@demo.test"], message.id)
    digest = {"claim_verified": "digest", "claim_rejected": "digest", "claim_paid": "digest"}
    inbox.save_preferences(head, {kind: digest.get(kind, "immediate") for kind in inbox.kinds_for(head)})
    return {
        "schools": len(SCHOOLS),
        "users": len(ACCOUNTS),
        "applications": db.session.execute(select(db.func.count(Application.id))).scalar_one(),
        "funds": db.session.execute(select(db.func.count(Fund.id))).scalar_one(),
    }


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
