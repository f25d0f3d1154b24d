"""Several senders at once on a real PostgreSQL, through a real SMTP server: every email is
delivered exactly once and no sender fails. Each thread has its own app context (its own
session and connection) and waits at a barrier so all start together."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Notification, OutboundEmail
from fundflow.services import outbox
from fundflow.services.notifications import Message, notify, queue_email
from fundflow.services.unit_of_work import transaction
from tests.factories import Factory
from tests.mail_stub import running_smtp

pytestmark = pytest.mark.postgres

NOW = datetime(datetime.now(UTC).year + 1, 3, 2, 10, 0)


def senders_at_once(pg_app, count: int, at: datetime = NOW, **kwargs) -> list[object]:
    """Run ``send_due`` in ``count`` threads released together; each one's result or error."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def worker(index: int) -> None:
        with pg_app.app_context():
            try:
                barrier.wait()
                outcomes[index] = outbox.send_due(at, **kwargs)
            except Exception as exc:  # collected and asserted on by the test
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a sender is stuck"
    return outcomes


@pytest.mark.parametrize("senders", [2, 4])
def test_senders_at_once_deliver_two_hundred_emails_exactly_once(pg_app, senders):
    with transaction():
        ids = [
            queue_email(
                to_address=f"person{i}@example.test",
                kind="bid_approved",
                subject=f"Message {i}",
                body=f"Body {i}",
            ).id
            for i in range(200)
        ]
    db.session.remove()

    with running_smtp() as smtp:
        pg_app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_STARTTLS=False,
            NOTIFY_API_KEY="",
            MAIL_FROM="fund@example.gov.uk",
        )
        outcomes = senders_at_once(pg_app, senders, batch_size=10)

    assert [o for o in outcomes if not isinstance(o, outbox.SendResult)] == []
    assert sum(o.sent for o in outcomes) == 200
    assert sum(o.failed + o.retrying for o in outcomes) == 0
    subjects = sorted(r.message["Subject"] for r in smtp.received)
    assert subjects == sorted(f"Message {i}" for i in range(200))  # each once
    assert sum(o.sent > 0 for o in outcomes) > 1, "only one sender did any work"
    statuses = db.session.execute(
        select(OutboundEmail.status, func.count())
        .where(OutboundEmail.id.in_(ids))
        .group_by(OutboundEmail.status)
    ).all()
    assert dict(statuses) == {"sent": 200}
    leased = db.session.execute(
        select(func.count()).select_from(OutboundEmail).where(OutboundEmail.lease_token.is_not(None))
    ).scalar_one()
    assert leased == 0


def test_senders_at_once_compose_one_digest_per_person_and_send_it_once(pg_app):
    make = Factory()
    people = [make.headteacher() for _ in range(30)]
    for person in people:
        person.notification_preferences = {"bid_approved": "digest"}
    db.session.commit()
    for person in people:
        with transaction():
            for n in range(3):
                notify([person], Message("bid_approved", f"Subject {n}", f"Body {n}", "/headteacher/"))
    emails = {person.email for person in people}
    db.session.remove()
    seven_uk = datetime(NOW.year, 1, 15, 7, 5)  # winter: UK time is UTC

    with running_smtp() as smtp:
        pg_app.config.update(
            SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False, NOTIFY_API_KEY=""
        )
        outcomes = senders_at_once(pg_app, 4, batch_size=5, at=seven_uk)

    assert [o for o in outcomes if not isinstance(o, outbox.SendResult)] == []
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(emails)  # one digest each
    digests = db.session.execute(
        select(func.count()).select_from(OutboundEmail).where(OutboundEmail.kind == "digest")
    ).scalar_one()
    assert digests == 30
    unattached = db.session.execute(
        select(func.count()).select_from(Notification).where(Notification.email_id.is_(None))
    ).scalar_one()
    assert unattached == 0
