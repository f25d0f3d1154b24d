"""Issue 12's "done when", end to end: a bid taken from submission to close produces exactly
the expected emails at a real (local) SMTP server, once each, with two senders running at
once; and a report passing its due date produces the reminder and then the escalation, with
time moved by the service's clock, never by sleeping. On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Notification, OutboundEmail, ScheduleItem, User
from fundflow.services import applications, claims, impact, lifecycle, outbox, payments, schedule
from fundflow.services.clock import as_of
from tests.conftest import make_app, postgres_url
from tests.factories import Factory
from tests.mail_stub import running_smtp


@pytest.fixture(params=["sqlite_file", "postgres"])
def shared_app(request, tmp_path):
    """An app whose database several threads share for real: a SQLite file, or PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}" if request.param == "sqlite_file" else postgres_url()
    app = make_app(url, SMTP_STARTTLS=False, SERVICE_URL="https://fund.example.gov.uk")
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def send_with_two_senders(app) -> list[BaseException]:
    """Two ``send-notifications`` runs at the same moment, each with its own connection."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outbox.send_due(batch_size=3)
            except BaseException as exc:  # asserted on below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a sender is stuck"
    return errors


def expected_emails() -> Counter:
    """(address, subject) of every message written, each to be emailed once."""
    rows = db.session.execute(
        select(User.email, Notification.subject).join(User, User.id == Notification.user_id)
    ).all()
    return Counter((email, subject) for email, subject in rows)


def received(smtp) -> Counter:
    return Counter((m.rcpt_tos[0], str(m.message["Subject"])) for m in smtp.received)


def act(bid, user, action: str, **kwargs):
    return lifecycle.perform(bid, user, lifecycle.ActionInput(action=action, **kwargs))


def test_a_bid_from_submission_to_close_emails_each_message_once_with_two_senders(shared_app):
    make = Factory()
    start = date.today()
    fund = make.fund(delivery_ends_on=start + timedelta(days=300))
    lead, partner_school = make.headteacher(), make.school()
    partner = make.headteacher(school=partner_school)
    officer, finance = make.liaison(), make.user("finance")
    make.liaison()  # a second officer, who hears of every submission too

    bid = applications.create_draft(lead, make.details(fund, partner_school))
    act(bid, partner, "endorse")
    act(bid, lead, "submit")
    act(bid, officer, "start_review")
    act(bid, officer, "approve", awarded_pence=bid.requested_pence)
    claim = claims.create_claim(
        lead,
        bid,
        claims.ClaimInput(
            period_start=start.isoformat(),
            period_end=start.isoformat(),
            staff_released="Deputy headteacher",
            staff_name="Priya Shah",
            days="1",
            amount_pence=100_00,
        ),
    )
    claims.decide_claim(officer, claim, "verify")
    payments.record_disbursement(
        finance, claim, payments.DisbursementInput(amount_pence=100_00, paid_on=start, reference="PAY-1")
    )
    act(bid, lead, "finish_delivery")
    results = [impact.ResultInput(measure_id=m.id, actual="80") for m in bid.measures]
    report = impact.submit_report(lead, bid, impact.ReportInput("final", "All targets met.", results))
    impact.evaluate_report(officer, report, impact.EvaluationInput("achieved", ["collaboration"], "Met."))
    act(bid, officer, "close")

    kinds = Counter(db.session.execute(select(Notification.kind)).scalars())
    assert kinds == Counter(
        {
            "endorsement_requested": 1,  # the partner
            "bid_submitted": 2,  # both liaison officers
            "bid_approved": 2,  # lead and partner
            "claim_verified": 1,
            "claim_to_pay": 1,  # finance
            "claim_paid": 1,
        }
    )
    expected = expected_emails()
    reference = bid.reference
    db.session.remove()

    with running_smtp() as smtp:
        shared_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
        assert send_with_two_senders(shared_app) == []
        assert received(smtp) == expected  # every message, each exactly once
        assert send_with_two_senders(shared_app) == []  # nothing left: nothing sent twice
        assert received(smtp) == expected
        approved = next(m.message for m in smtp.received if "approved" in str(m.message["Subject"]))
        assert reference in str(approved["Subject"])
        assert f"https://fund.example.gov.uk/headteacher/bids/{reference}/view" in approved.get_content()
    statuses = db.session.execute(select(OutboundEmail.status)).scalars().all()
    assert set(statuses) == {"sent"}


def test_a_report_past_its_due_date_is_reminded_then_escalated(shared_app):
    make = Factory()
    start = date.today()
    fund = make.fund(delivery_ends_on=start + timedelta(days=300))
    lead, partner_school = make.headteacher(), make.school()
    officer = make.liaison()
    bid = applications.create_draft(lead, make.details(fund, partner_school))
    act(bid, lead, "submit")
    act(bid, officer, "start_review")
    act(bid, officer, "approve", awarded_pence=bid.requested_pence)
    final = db.session.execute(
        select(ScheduleItem).where(ScheduleItem.application_id == bid.id, ScheduleItem.kind == "final_report")
    ).scalar_one()
    due = final.due_on
    lead_email, officer_email = lead.email, officer.email
    db.session.remove()

    with running_smtp() as smtp:
        shared_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
        outbox.send_due()
        db.session.remove()
        smtp.received.clear()

        def day(offset: int) -> Counter:
            """Run the schedule and the senders on ``due + offset``; what arrived that day."""
            before = len(smtp.received)
            with as_of(due + timedelta(days=offset)):
                schedule.run_schedule()
                schedule.run_schedule()  # run twice: nothing is sent twice
                db.session.remove()  # as a cron run's process ends: no transaction left open
                assert send_with_two_senders(shared_app) == []
            return Counter(
                (m.rcpt_tos[0], str(m.message["Subject"]).split(" for ")[0]) for m in smtp.received[before:]
            )

        assert day(-14) == Counter({(lead_email, "Final impact report due on " + _long(due)): 1})
        assert day(-13) == Counter()
        assert day(0) == Counter({(lead_email, "Final impact report due today"): 1})
        assert day(1) == Counter({(lead_email, "Final impact report overdue"): 1})
        assert day(2) == Counter()
        assert day(8) == Counter({(lead_email, "Final impact report overdue"): 1})
        assert day(14) == Counter({(officer_email, "Final impact report 14 days late"): 1})
        assert day(15) == Counter({(lead_email, "Final impact report overdue"): 1})
    item = db.session.get(ScheduleItem, final.id)
    assert (item.status, item.escalated_on) == ("late", due + timedelta(days=14))


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
