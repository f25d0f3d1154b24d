"""The outbox sender: lease, send, mark; retries with growing pauses; failures; the daily
digest at 07:00 UK time; two senders at once on SQLite; the commands and the admin page."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from fundflow.extensions import db
from fundflow.models import Notification, OutboundEmail, ScheduleItem, User
from fundflow.services import outbox
from fundflow.services.delivery import DeliveryFailed, Email
from fundflow.services.errors import InvalidTransition, NotFound
from fundflow.services.notifications import Message, notify, queue_email
from fundflow.services.unit_of_work import transaction
from tests.conftest import make_app
from tests.mail_stub import free_port, running_smtp

#: Next year: later than the real clock, which stamps new emails "due now".
YEAR = datetime.now(UTC).year + 1
NOW = datetime(YEAR, 3, 2, 10, 0)
WINTER_DAY = date(YEAR, 1, 15)  # UK time is UTC
SUMMER_DAY = date(YEAR, 7, 15)  # UK time is UTC + 1


class Recorder:
    """A backend that keeps what it is asked to send, or fails as told."""

    name = "recorder"

    def __init__(self, failure: Exception | None = None) -> None:
        self.sent: list[Email] = []
        self.failure = failure

    def send(self, email: Email) -> str:
        if self.failure is not None:
            raise self.failure
        self.sent.append(email)
        return f"ref-{email.id}"


@pytest.fixture(autouse=True)
def settings(app):
    app.config.update(
        SMTP_HOST="",
        NOTIFY_API_KEY="",
        NOTIFY_TEMPLATE_ID="",
        SERVICE_URL="https://fund.example.gov.uk",
        OUTBOX_MAX_ATTEMPTS=8,
        DIGEST_HOUR=7,
    )
    return app


def queue(count: int = 1, *, to: str = "person{i}@example.test", sensitive: bool = False) -> list[int]:
    with transaction():
        emails = [
            queue_email(
                to_address=to.format(i=i),
                kind="bid_approved",
                subject=f"Message {i}",
                body=f"Body {i}",
                sensitive=sensitive,
            )
            for i in range(count)
        ]
    return [email.id for email in emails]


def email(email_id: int) -> OutboundEmail:
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)


# ------------------------------------------------------------------------ lease, send, mark


def test_send_due_sends_each_queued_email_once_and_marks_it_sent():
    ids = queue(3)
    backend = Recorder()

    result = outbox.send_due(NOW, backend=backend)

    assert result == outbox.SendResult(sent=3, failed=0, retrying=0)
    assert sorted(e.id for e in backend.sent) == ids
    for email_id in ids:
        row = email(email_id)
        assert (row.status, row.sent_at, row.provider_reference) == ("sent", NOW, f"ref-{email_id}")
        assert row.lease_token is None and row.leased_until is None
        assert row.body.startswith("Body")
    assert outbox.send_due(NOW, backend=backend) == outbox.SendResult(0, 0, 0)
    assert len(backend.sent) == 3


def test_send_due_leases_batch_after_batch_until_nothing_is_left():
    queue(7)
    backend = Recorder()

    assert outbox.send_due(NOW, batch_size=2, backend=backend).sent == 7
    assert len({e.id for e in backend.sent}) == 7


def test_an_email_not_yet_due_waits():
    (email_id,) = queue(1)
    db.session.execute(update(OutboundEmail).values(next_attempt_at=NOW + timedelta(minutes=5)))
    db.session.commit()

    assert outbox.send_due(NOW, backend=Recorder()).sent == 0
    assert outbox.send_due(NOW + timedelta(minutes=5), backend=Recorder()).sent == 1
    assert email(email_id).status == "sent"


def test_an_email_leased_by_another_sender_is_sent_again_only_once_its_lease_expires():
    (email_id,) = queue(1)
    db.session.execute(
        update(OutboundEmail).values(lease_token="another-sender", leased_until=NOW + timedelta(minutes=5))
    )
    db.session.commit()
    backend = Recorder()

    assert outbox.send_due(NOW, backend=backend).sent == 0
    assert outbox.send_due(NOW + timedelta(minutes=6), backend=backend).sent == 1
    assert [e.id for e in backend.sent] == [email_id]


def test_a_sensitive_email_body_is_blanked_once_sent_and_others_are_kept():
    (secret,) = queue(1, to="new@example.test", sensitive=True)
    (plain,) = queue(1)

    outbox.send_due(NOW, backend=Recorder())

    assert email(secret).body == ""
    assert email(plain).body == "Body 0"


def test_a_temporary_failure_is_tried_again_after_a_pause_that_doubles_each_time():
    (email_id,) = queue(1)
    backend = Recorder(DeliveryFailed("SMTP 451: Mailbox busy", permanent=False))
    at = NOW
    pauses = []
    for attempt in range(1, 5):
        result = outbox.send_due(at, backend=backend)
        assert result == outbox.SendResult(sent=0, failed=0, retrying=1)
        row = email(email_id)
        assert (row.status, row.attempts, row.last_error) == ("queued", attempt, "SMTP 451: Mailbox busy")
        pause = (row.next_attempt_at - at).total_seconds()
        assert 60 * 2 ** (attempt - 1) * 0.9 <= pause <= 60 * 2 ** (attempt - 1) * 1.1
        pauses.append(pause)
        assert outbox.send_due(row.next_attempt_at - timedelta(seconds=1), backend=backend).retrying == 0
        at = row.next_attempt_at
    assert pauses == sorted(pauses)


def test_the_pause_between_tries_stops_growing_at_six_hours():
    assert outbox.retry_wait(30) <= timedelta(hours=6)
    assert outbox.retry_wait(12) >= timedelta(hours=6) * 0.9


def test_an_email_is_marked_failed_when_its_last_attempt_fails(app):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    (email_id,) = queue(1)
    backend = Recorder(DeliveryFailed("SMTP server: connection refused", permanent=False))
    at = NOW
    results = []
    for _ in range(3):
        results.append(outbox.send_due(at, backend=backend))
        at += timedelta(hours=7)

    assert [r.retrying for r in results] == [1, 1, 0]
    assert results[-1].failed == 1
    row = email(email_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert outbox.send_due(at + timedelta(days=1), backend=Recorder()).sent == 0


def test_a_permanent_failure_fails_the_email_at_once():
    (email_id,) = queue(1, to="refused@example.test")

    result = outbox.send_due(
        NOW, backend=Recorder(DeliveryFailed("SMTP 550: no such mailbox", permanent=True))
    )

    assert result == outbox.SendResult(sent=0, failed=1, retrying=0)
    row = email(email_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "SMTP 550: no such mailbox")
    assert row.next_attempt_at == NOW  # when it failed


def test_an_unexpected_error_in_a_backend_counts_as_a_temporary_failure():
    (email_id,) = queue(1)

    result = outbox.send_due(NOW, backend=Recorder(RuntimeError("boom")))

    assert result.retrying == 1
    assert email(email_id).last_error == "RuntimeError: boom"


def test_a_rolled_back_action_leaves_no_message_and_no_email(make):
    person = make.headteacher()
    with pytest.raises(RuntimeError), transaction():
        notify([person], Message("bid_approved", "Bid approved", "It was approved.", "/headteacher/"))
        queue_email(to_address="x@example.test", kind="set_password", subject="Set", body="link")
        raise RuntimeError("the action failed after writing its messages")

    assert db.session.execute(select(func.count(OutboundEmail.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(Notification.id))).scalar_one() == 0
    assert outbox.send_due(NOW, backend=Recorder()) == outbox.SendResult(0, 0, 0)


# ------------------------------------------------------------------------ the admin's retry


def test_an_administrator_puts_a_failed_email_back_in_the_queue_and_it_is_sent(make):
    admin = make.user("admin")
    (email_id,) = queue(1)
    outbox.send_due(NOW, backend=Recorder(DeliveryFailed("GOV.UK Notify 400: bad address", permanent=True)))

    outbox.retry_failed(admin, email_id)

    row = email(email_id)
    assert (row.status, row.attempts, row.last_error) == ("queued", 0, "")
    assert outbox.send_due(NOW + timedelta(minutes=1), backend=Recorder()).sent == 1
    with pytest.raises(InvalidTransition):
        outbox.retry_failed(admin, email_id)
    with pytest.raises(NotFound):
        outbox.retry_failed(admin, email_id + 100)


def test_the_admin_page_counts_the_outbox_and_lists_failed_emails_with_a_try_again_button(make, auth, client):
    admin = make.user("admin")
    failing = queue(2, to="refused{i}@example.test")
    queue(1)
    outbox.send_due(NOW, backend=Recorder(DeliveryFailed("SMTP 550: no such mailbox", permanent=True)))
    queue(1)  # waiting
    auth.login(admin)

    page = client.get("/admin/email-delivery")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Email delivery" in html
    assert re.search(r"Waiting to be sent\s*</dt>\s*<dd[^>]*>\s*1\s*<", html)
    assert re.search(r"Could not be sent\s*</dt>\s*<dd[^>]*>\s*3\s*<", html)
    assert "refused0@example.test" in html and "SMTP 550: no such mailbox" in html
    assert f"/admin/email-delivery/{failing[0]}/retry" in html
    assert 'Try again<span class="govuk-visually-hidden"> the email to refused0@example.test' in html

    answer = client.post(f"/admin/email-delivery/{failing[0]}/retry", data={})

    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/email-delivery")
    assert email(failing[0]).status == "queued"
    assert "back in the queue" in client.get("/admin/email-delivery").get_data(as_text=True)
    again = client.post(f"/admin/email-delivery/{failing[0]}/retry", data={}, follow_redirects=True)
    assert "not marked as failed" in again.get_data(as_text=True)
    assert client.post("/admin/email-delivery/999999/retry", data={}).status_code == 404


# ------------------------------------------------------------------------ the daily digest


def digest_reader(make, **preferences: str) -> User:
    person = make.headteacher()
    person.notification_preferences = preferences or {"bid_approved": "digest"}
    db.session.commit()
    return person


def tell(person: User, n: int, kind: str = "bid_approved") -> None:
    with transaction():
        notify([person], Message(kind, f"Subject {n}", f"Body {n}", f"/headteacher/bids/LSIF-{n}"))


def digests() -> list[OutboundEmail]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboundEmail).where(OutboundEmail.kind == "digest").order_by(OutboundEmail.id)
        ).scalars()
    )


def test_digest_messages_wait_for_seven_oclock_uk_time_then_go_in_one_email(make):
    person = digest_reader(make)
    tell(person, 1)
    tell(person, 2)
    tell(person, 3, kind="claim_paid")  # not in the digest: emailed at once

    assert (
        outbox.compose_digests(
            datetime.combine(WINTER_DAY, datetime.min.time()) + timedelta(hours=6, minutes=59)
        )
        == 0
    )
    assert digests() == []
    assert outbox.compose_digests(datetime.combine(WINTER_DAY, datetime.min.time()) + timedelta(hours=7)) == 1

    (digest,) = digests()
    assert digest.to_address == person.email and digest.user_id == person.id
    assert "Subject 1" in digest.body and "Body 2" in digest.body
    assert "https://fund.example.gov.uk/headteacher/bids/LSIF-1" in digest.body
    assert "Subject 3" not in digest.body
    waiting = (
        db.session.execute(select(Notification).where(Notification.user_id == person.id)).scalars().all()
    )
    assert {n.subject: n.email_id == digest.id for n in waiting} == {
        "Subject 1": True,
        "Subject 2": True,
        "Subject 3": False,
    }
    assert db.session.get(User, person.id).last_digest_on == WINTER_DAY


def test_one_digest_per_uk_day_however_often_the_sender_runs(make):
    person = digest_reader(make)
    tell(person, 1)
    morning = datetime.combine(WINTER_DAY, datetime.min.time()) + timedelta(hours=7, minutes=1)
    assert outbox.compose_digests(morning) == 1
    tell(person, 2)

    assert outbox.compose_digests(morning + timedelta(hours=3)) == 0
    assert outbox.compose_digests(morning + timedelta(hours=16, minutes=58)) == 0  # 23:59
    assert len(digests()) == 1
    assert outbox.compose_digests(morning + timedelta(days=1)) == 1
    assert "Subject 2" in digests()[1].body and "Subject 1" not in digests()[1].body


def test_the_digest_hour_is_uk_time_in_summer_too(make):
    person = digest_reader(make)
    tell(person, 1)
    midnight_utc = datetime.combine(SUMMER_DAY, datetime.min.time())

    assert outbox.compose_digests(midnight_utc + timedelta(hours=5, minutes=59)) == 0  # 06:59 BST
    assert outbox.compose_digests(midnight_utc + timedelta(hours=6)) == 1  # 07:00 BST


def test_nobody_without_waiting_messages_gets_a_digest(make):
    digest_reader(make)
    assert outbox.compose_digests(NOW) == 0
    assert digests() == []


def test_send_due_composes_and_sends_the_digest_using_fundflow_now(app, make):
    person = digest_reader(make)
    tell(person, 1)
    tell(person, 2)
    app.config["FUNDFLOW_NOW"] = (
        datetime.combine(WINTER_DAY, datetime.min.time()) + timedelta(hours=7)
    ).isoformat()
    backend = Recorder()

    assert outbox.send_due(backend=backend).sent == 1
    (sent,) = backend.sent
    assert sent.to_address == person.email
    assert "2 new messages" in sent.body
    assert outbox.send_due(backend=backend).sent == 0


def test_a_long_digest_lists_the_first_messages_and_counts_the_rest(make, monkeypatch):
    monkeypatch.setattr(outbox, "DIGEST_MAX_LISTED", 2)
    person = digest_reader(make)
    for n in range(5):
        tell(person, n)

    outbox.compose_digests(NOW)

    (digest,) = digests()
    assert "You have 5 new messages" in digest.body
    assert "Subject 1" in digest.body and "Subject 2" not in digest.body
    assert "And 3 more" in digest.body
    attached = db.session.execute(
        select(func.count(Notification.id)).where(Notification.email_id == digest.id)
    ).scalar_one()
    assert attached == 5


# ------------------------------------------------------------------------ the commands


def test_send_notifications_prints_what_it_did_and_exits_zero(app, runner):
    app.config["FUNDFLOW_NOW"] = NOW.isoformat()
    queue(2)

    result = runner.invoke(args=["fundflow", "send-notifications"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 2 emails, 0 failed, 0 waiting to retry."


def test_send_notifications_exits_zero_when_some_emails_fail(app, runner):
    app.config["FUNDFLOW_NOW"] = NOW.isoformat()
    with running_smtp() as smtp:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False)
        queue(1, to="ok{i}@example.test")
        queue(1, to="refused{i}@example.test")
        queue(1, to="later{i}@example.test")

        result = runner.invoke(args=["fundflow", "send-notifications"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 1 email, 1 failed, 1 waiting to retry."
    assert [r.rcpt_tos for r in smtp.received] == [["ok0@example.test"]]


def test_send_notifications_with_the_mail_server_down_keeps_the_emails_for_later(app, runner):
    app.config.update(
        FUNDFLOW_NOW=NOW.isoformat(), SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False
    )
    (email_id,) = queue(1)

    result = runner.invoke(args=["fundflow", "send-notifications"])

    assert result.exit_code == 0
    assert result.output.strip() == "Sent 0 emails, 0 failed, 1 waiting to retry."
    assert "Connection refused" in email(email_id).last_error


def test_run_schedule_prints_what_it_did_and_exits_zero(app, runner, make):
    result = runner.invoke(args=["fundflow", "run-schedule"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Marked 0 late; sent 0 reminders and 0 escalations."

    make.application("approved")
    first = db.session.execute(select(ScheduleItem).order_by(ScheduleItem.due_on)).scalars().first()
    app.config["FUNDFLOW_TODAY"] = (first.due_on + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["fundflow", "run-schedule"])

    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"Marked [1-9]\d* late; sent [1-9]\d* reminders? and 0 escalations\.", result.output.strip()
    )


# ------------------------------------------------------------------------ two senders on SQLite


def test_two_senders_on_one_sqlite_file_send_every_email_exactly_once(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    count = 60
    with app.app_context():
        db.create_all()
        ids = queue(count)
        db.session.remove()
    backend_lock = threading.Lock()
    sent: list[int] = []
    errors: list[BaseException] = []

    class Shared(Recorder):
        def send(self, email: Email) -> str:
            with backend_lock:
                sent.append(email.id)
            return f"ref-{email.id}"

    barrier = threading.Barrier(2)

    def sender() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outbox.send_due(NOW, batch_size=5, backend=Shared())
            except BaseException as exc:  # asserted on below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(sent) == ids
    with app.app_context():
        statuses = db.session.execute(
            select(OutboundEmail.status, func.count()).group_by(OutboundEmail.status)
        ).all()
        assert dict(statuses) == {"sent": count}
        db.session.remove()
        db.engine.dispose()
