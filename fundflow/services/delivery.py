"""Email backends: how one email from the outbox leaves the building.

:func:`backend_for` picks, from the settings: GOV.UK Notify when ``NOTIFY_API_KEY`` and
``NOTIFY_TEMPLATE_ID`` are both set (Notify wins), else SMTP when ``SMTP_HOST`` is set, else
the log (development: the message is written to the app's log and goes nowhere).

Each backend's :meth:`send` returns what the provider calls the message (Notify's
notification id, the SMTP Message-ID) or raises :class:`DeliveryFailed`, saying whether
trying again could help. Permanent: the recipient or the message itself was refused (SMTP
5xx for the recipient or the message, Notify 4xx other than 429 rate-limiting, such as a
malformed address). Temporary: everything else (no connection, a timeout, SMTP 4xx,
Notify 429 and 5xx, and our own configuration being refused: a wrong SMTP password or
sender address is fixed once for every email, so those are retried, not failed).
The outbox (:mod:`fundflow.services.outbox`) decides what to do with each.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from flask import current_app, has_app_context
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

#: The longest error text kept on an email (the column holds 500).
MAX_ERROR = 300


@dataclass(frozen=True)
class Email:
    """One email as a backend sees it: plain values, no database row."""

    id: int
    to_address: str
    subject: str
    body: str


class DeliveryFailed(Exception):
    """The email was not accepted. ``permanent``: trying again would fail the same way."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = short(reason)
        self.permanent = permanent


def short(text: object) -> str:
    """One line, at most :data:`MAX_ERROR` characters: what the admin page shows."""
    return " ".join(str(text).split())[:MAX_ERROR]


class Backend(Protocol):
    name: str

    def send(self, email: Email) -> str: ...


def _one_line(value: str) -> str:
    """A header value on one line (a subject built from a bid's title must not add headers)."""
    return " ".join(value.split())


class LogBackend:
    """Development: write each email to the app's log (as a warning) instead of sending it."""

    name = "log"

    def send(self, email: Email) -> str:
        logger = current_app.logger if has_app_context() else logging.getLogger("fundflow.delivery")
        # a warning, so it shows with the default log level (and in production, where an
        # unset mail configuration is a mistake)
        logger.warning(
            "Email %s not sent (no SMTP_HOST or NOTIFY_API_KEY set). It says:\nTo: %s\nSubject: %s\n\n%s",
            email.id,
            email.to_address,
            _one_line(email.subject),
            email.body,
        )
        return f"log-{email.id}"


class SmtpBackend:
    """Plain-text mail through an SMTP relay: STARTTLS when ``SMTP_STARTTLS``, a login when
    ``SMTP_USERNAME`` is set, one connection per email."""

    name = "smtp"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["SMTP_HOST"]
        self.port = int(config.get("SMTP_PORT") or 587)
        self.username = config.get("SMTP_USERNAME") or ""
        self.password = config.get("SMTP_PASSWORD") or ""
        self.starttls = bool(config.get("SMTP_STARTTLS", True))
        self.timeout = float(config.get("SMTP_TIMEOUT_SECONDS") or 30)
        self.mail_from = config.get("MAIL_FROM") or "fundflow@localhost"

    def message(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = _one_line(email.to_address)
        message["Subject"] = _one_line(email.subject)
        domain = self.mail_from.rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(idstring=f"outbox{email.id}", domain=domain)
        message.set_content(email.body)
        return message

    def send(self, email: Email) -> str:
        try:
            message = self.message(email)
        except ValueError as exc:  # an address or header the email library refuses
            raise DeliveryFailed(f"Not a sendable message: {exc}", permanent=True) from exc
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise DeliveryFailed(
                f"SMTP {code}: recipient refused: {_text(text)}", permanent=500 <= code < 600
            ) from exc
        except smtplib.SMTPDataError as exc:
            raise DeliveryFailed(
                f"SMTP {exc.smtp_code}: message refused: {_text(exc.smtp_error)}",
                permanent=500 <= exc.smtp_code < 600,
            ) from exc
        except smtplib.SMTPResponseException as exc:  # sender, login, greeting: our configuration
            raise DeliveryFailed(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", permanent=False) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, TLS, dropped line
            raise DeliveryFailed(
                f"SMTP server {self.host}:{self.port}: {_describe(exc)}", permanent=False
            ) from exc
        return str(message["Message-ID"])[:100]


class NotifyBackend:
    """GOV.UK Notify, through its official client and one email template whose subject is
    ``((subject))`` and whose body is ``((body))``. The outbox id is the Notify reference."""

    name = "notify"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.template_id = config["NOTIFY_TEMPLATE_ID"]
        self.client = NotificationsAPIClient(
            config["NOTIFY_API_KEY"],
            base_url=config.get("NOTIFY_BASE_URL") or "https://api.notifications.service.gov.uk",
            timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 30),
        )

    def send(self, email: Email) -> str:
        try:
            response = self.client.send_email_notification(
                email_address=email.to_address,
                template_id=self.template_id,
                personalisation={"subject": _one_line(email.subject), "body": email.body},
                reference=str(email.id),
            )
        except APIError as exc:
            if exc.response is None:  # no answer at all: refused connection, timeout
                raise DeliveryFailed(
                    f"GOV.UK Notify unreachable: {_describe(exc.__cause__ or exc)}", permanent=False
                ) from exc
            status = exc.status_code
            permanent = 400 <= status < 500 and status != 429
            raise DeliveryFailed(
                f"GOV.UK Notify {status}: {_notify_message(exc)}", permanent=permanent
            ) from exc
        except Exception as exc:  # a transport error the client did not wrap
            raise DeliveryFailed(f"GOV.UK Notify: {_describe(exc)}", permanent=False) from exc
        reference = response.get("id") if isinstance(response, dict) else None
        if not reference:
            raise DeliveryFailed("GOV.UK Notify answered without a notification id", permanent=False)
        return str(reference)[:100]


def backend_for(config: Mapping[str, Any]) -> Backend:
    """The backend the settings ask for: Notify, else SMTP, else the log."""
    if config.get("NOTIFY_API_KEY") and config.get("NOTIFY_TEMPLATE_ID"):
        return NotifyBackend(config)
    if config.get("SMTP_HOST"):
        return SmtpBackend(config)
    return LogBackend()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _notify_message(exc: Exception) -> str:
    """Notify's error text: ``[{"error": …, "message": …}]`` or a plain message."""
    message = getattr(exc, "message", "")
    if isinstance(message, list):
        return "; ".join(
            str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in message
        )
    return str(message)
