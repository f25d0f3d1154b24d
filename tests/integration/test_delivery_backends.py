"""The email backends against real local servers: an SMTP server (aiosmtpd) and a GOV.UK
Notify stand-in (http.server) that checks the client's signed token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from fundflow.extensions import db
from fundflow.models import OutboundEmail
from fundflow.services import delivery, outbox
from fundflow.services.delivery import DeliveryFailed, Email
from fundflow.services.notifications import queue_email
from fundflow.services.unit_of_work import transaction
from tests.mail_stub import NOTIFY_API_KEY, free_port, running_notify, running_smtp

NOW = datetime(datetime.now(UTC).year + 1, 3, 2, 10, 0)
TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL = Email(
    41, "head@school.example.test", "Bid LSIF-2026-0007 approved", "Your bid was approved.\n\nhttps://x/y\n"
)


@pytest.fixture
def smtp():
    with running_smtp() as server:
        yield server


@pytest.fixture
def notify():
    with running_notify() as server:
        yield server


def smtp_settings(port: int, **extra) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT_SECONDS": 5,
        "MAIL_FROM": "fund-team@council.example.gov.uk",
        **extra,
    }


def notify_settings(base_url: str) -> dict:
    return {"NOTIFY_API_KEY": NOTIFY_API_KEY, "NOTIFY_TEMPLATE_ID": TEMPLATE, "NOTIFY_BASE_URL": base_url}


# ------------------------------------------------------------------------ choosing a backend


def test_notify_wins_when_both_notify_and_smtp_are_set():
    backend = delivery.backend_for({**smtp_settings(25), **notify_settings("http://127.0.0.1:9")})
    assert isinstance(backend, delivery.NotifyBackend)


def test_smtp_is_used_when_only_smtp_host_is_set():
    assert isinstance(delivery.backend_for(smtp_settings(25)), delivery.SmtpBackend)
    half_notify = {**smtp_settings(25), "NOTIFY_API_KEY": NOTIFY_API_KEY, "NOTIFY_TEMPLATE_ID": ""}
    assert isinstance(delivery.backend_for(half_notify), delivery.SmtpBackend)


def test_the_log_backend_is_used_when_neither_is_set_and_writes_the_message_to_the_log(app, caplog):
    backend = delivery.backend_for({"SMTP_HOST": "", "NOTIFY_API_KEY": "", "NOTIFY_TEMPLATE_ID": ""})
    assert isinstance(backend, delivery.LogBackend)

    with caplog.at_level(logging.WARNING):
        reference = backend.send(EMAIL)

    assert reference == "log-41"
    assert "head@school.example.test" in caplog.text
    assert "Bid LSIF-2026-0007 approved" in caplog.text
    assert "Your bid was approved." in caplog.text


# ------------------------------------------------------------------------ SMTP


def test_smtp_sends_a_plain_text_email_from_mail_from_to_the_recipient(smtp):
    reference = delivery.backend_for(smtp_settings(smtp.port)).send(EMAIL)

    (received,) = smtp.received
    assert received.mail_from == "fund-team@council.example.gov.uk"
    assert received.rcpt_tos == ["head@school.example.test"]
    message = received.message
    assert message["From"] == "fund-team@council.example.gov.uk"
    assert message["To"] == "head@school.example.test"
    assert message["Subject"] == "Bid LSIF-2026-0007 approved"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Your bid was approved.\n\nhttps://x/y\n"
    assert message["Message-ID"].strip() == reference


def test_smtp_logs_in_when_a_username_is_set(smtp):
    settings = smtp_settings(smtp.port, SMTP_USERNAME="fundflow", SMTP_PASSWORD="right-password")
    delivery.backend_for(settings).send(EMAIL)
    assert smtp.logins == [("fundflow", "right-password")]
    assert len(smtp.received) == 1


def test_a_subject_cannot_add_header_lines(smtp):
    delivery.backend_for(smtp_settings(smtp.port)).send(
        Email(1, "a@example.test", "Hi\r\nBcc: x@evil.test", "b")
    )
    (received,) = smtp.received
    assert received.rcpt_tos == ["a@example.test"]
    assert received.message["Bcc"] is None
    assert received.message["Subject"] == "Hi Bcc: x@evil.test"


def test_smtp_recipient_refused_with_5xx_is_a_permanent_failure(smtp):
    with pytest.raises(DeliveryFailed) as refused:
        delivery.backend_for(smtp_settings(smtp.port)).send(Email(1, "refused@example.test", "s", "b"))
    assert refused.value.permanent
    assert refused.value.reason.startswith("SMTP 550")


def test_smtp_recipient_refused_with_4xx_is_temporary(smtp):
    with pytest.raises(DeliveryFailed) as later:
        delivery.backend_for(smtp_settings(smtp.port)).send(Email(1, "later@example.test", "s", "b"))
    assert not later.value.permanent
    assert later.value.reason.startswith("SMTP 451")


def test_no_smtp_server_listening_is_temporary():
    with pytest.raises(DeliveryFailed) as down:
        delivery.backend_for(smtp_settings(free_port())).send(EMAIL)
    assert not down.value.permanent
    assert "Connection refused" in down.value.reason


def test_send_due_through_smtp_marks_the_email_sent_with_its_message_id(app, smtp):
    app.config.update(NOTIFY_API_KEY="", **smtp_settings(smtp.port))
    with transaction():
        email = queue_email(to_address="a@example.test", kind="bid_approved", subject="Hello", body="Text")

    assert outbox.send_due(NOW).sent == 1

    db.session.expire_all()
    row = db.session.get(OutboundEmail, email.id)
    assert row.status == "sent"
    assert row.provider_reference == smtp.received[0].message["Message-ID"].strip()


# ------------------------------------------------------------------------ GOV.UK Notify


def test_notify_posts_the_template_with_subject_and_body_and_a_signed_token(notify):
    reference = delivery.backend_for(notify_settings(notify.base_url)).send(EMAIL)

    (request,) = notify.requests
    assert request["path"] == "/v2/notifications/email"
    assert request["valid_token"] is True
    assert request["json"] == {
        "email_address": "head@school.example.test",
        "template_id": TEMPLATE,
        "personalisation": {"subject": "Bid LSIF-2026-0007 approved", "body": EMAIL.body},
        "reference": "41",
    }
    assert len(reference) == 36  # Notify's notification id


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (403, True), (429, False), (500, False)])
def test_notify_refusals_are_permanent_except_rate_limits_and_server_errors(notify, status, permanent):
    notify.status = status
    with pytest.raises(DeliveryFailed) as failed:
        delivery.backend_for(notify_settings(notify.base_url)).send(EMAIL)
    assert failed.value.permanent is permanent
    assert failed.value.reason == f"GOV.UK Notify {status}: Answered {status}"


def test_notify_out_of_reach_is_temporary():
    with pytest.raises(DeliveryFailed) as down:
        delivery.backend_for(notify_settings(f"http://127.0.0.1:{free_port()}")).send(EMAIL)
    assert not down.value.permanent
    assert down.value.reason.startswith("GOV.UK Notify unreachable")


def test_send_due_through_notify_keeps_notifys_id_as_the_provider_reference(app, notify, smtp):
    app.config.update(**smtp_settings(smtp.port), **notify_settings(notify.base_url))
    with transaction():
        email = queue_email(to_address="a@example.test", kind="bid_approved", subject="Hello", body="Text")

    assert outbox.send_due(NOW).sent == 1

    assert smtp.received == []  # Notify won
    (request,) = notify.requests
    assert request["json"]["reference"] == str(email.id)
    db.session.expire_all()
    row = db.session.get(OutboundEmail, email.id)
    assert row.status == "sent" and len(row.provider_reference) == 36
