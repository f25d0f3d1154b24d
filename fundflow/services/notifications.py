"""Telling people: each message is one :class:`Notification` row for the in-service list,
and (when the person wants it at once) one :class:`OutboundEmail` in the outbox.

Both are written in the caller's transaction, so a rolled-back action sends nothing; the
outbox is delivered later by ``send-notifications`` (:mod:`fundflow.services.outbox`).
Who hears what is in :mod:`fundflow.services.messages`; this module only writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Notification, OutboundEmail, User, UserRole
from . import clock

#: Every kind of message, with how it is described on the account page.
MESSAGE_KINDS: dict[str, str] = {
    "bid_submitted": "A bid was submitted or resubmitted for review",
    "endorsement_requested": "Your school is named as a partner on a bid",
    "endorsement_declined": "A partner school declined to endorse your bid",
    "changes_requested": "Changes were requested to a bid",
    "bid_approved": "A bid was approved",
    "bid_rejected": "A bid was turned down",
    "award_cancelled": "An award was cancelled",
    "countersign_needed": "A large award waits for a countersignature",
    "claim_verified": "A backfill claim was verified",
    "claim_rejected": "A backfill claim was rejected",
    "claim_paid": "A backfill claim was paid",
    "claim_to_pay": "A verified backfill claim is waiting to be paid",
    "payment_reversed": "A payment was reversed",
    "due_soon": "A report or claim deadline is due within 14 days",
    "due_today": "A report or claim deadline is due today",
    "overdue": "A report or claim deadline is overdue (weekly)",
    "overdue_escalated": "A report is more than 14 days late (liaison officers)",
    "email_failed": "An email could not be sent (shown on the site only)",
}

#: Messages shown only in the service, never emailed: an email about email that failed
#: would itself fail.
SITE_ONLY_KINDS = ("email_failed",)

#: Emails that are not in-service messages: always sent at once, never in a digest.
ACCOUNT_EMAIL_KINDS = ("set_password", "reset_password", "digest")


@dataclass(frozen=True)
class Message:
    """What to say: a subject line, plain-English body and the path of the page to act on."""

    kind: str
    subject: str
    body: str
    link: str
    application_id: int | None = None


def service_url() -> str:
    """The service's address for links in emails: ``FUNDFLOW_SERVICE_URL``, or the address
    the current request came to."""
    configured = current_app.config.get("SERVICE_URL") or ""
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return "http://localhost:5000"


def page_path(endpoint: str, **values: object) -> str:
    """A page's path, built in or out of a request (``run-schedule`` has none)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def email_body(body: str, link: str) -> str:
    """The email text of a message: its body and the full address of the page."""
    return f"{body}\n\n{service_url()}{link}\n"


def wants_digest(user: User, kind: str) -> bool:
    return (user.notification_preferences or {}).get(kind) == "digest"


def notify(recipients: Iterable[User], message: Message) -> list[Notification]:
    """Write ``message`` to each recipient (once each, active accounts only): an in-service
    message, and an email in the outbox unless they take this kind in their digest."""
    written: list[Notification] = []
    seen: set[int] = set()
    for user in recipients:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        digest = wants_digest(user, message.kind)
        email = None
        if not digest and message.kind not in SITE_ONLY_KINDS:
            email = queue_email(
                to_address=user.email,
                kind=message.kind,
                subject=message.subject,
                body=email_body(message.body, message.link),
                user_id=user.id,
            )
        row = Notification(
            user_id=user.id,
            kind=message.kind,
            subject=message.subject[:300],  # as its email's: a long title never fails the action
            body=message.body,
            link=message.link,
            application_id=message.application_id,
            delivery="digest" if digest else "immediate",
            email_id=email.id if email is not None else None,
        )
        db.session.add(row)
        written.append(row)
    db.session.flush()
    return written


def queue_email(
    *,
    to_address: str,
    kind: str,
    subject: str,
    body: str,
    user_id: int | None = None,
    sensitive: bool = False,
) -> OutboundEmail:
    """Put one email in the outbox, in the caller's transaction. ``sensitive``: the body
    holds a one-time link, blanked once sent."""
    email = OutboundEmail(
        user_id=user_id,
        to_address=to_address,
        kind=kind,
        subject=subject[:300],
        body=body,
        sensitive=sensitive,
        status="queued",
        next_attempt_at=clock.now(),
    )
    db.session.add(email)
    db.session.flush()
    return email


def users_with_role(
    role: str, *, school_ids: Iterable[int] | None = None, organisation_id: int | None = None
) -> list[User]:
    """Active users holding ``role`` (at the given schools, when named; of the organisation,
    when named: council staff hear only of their own organisation's records), in id order."""
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active.is_(True))
        .order_by(User.id)
    )
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if school_ids is not None:
        ids = list(school_ids)
        if not ids:
            return []
        query = query.where(User.school_id.in_(ids))
    return list(db.session.execute(query).scalars().unique())
