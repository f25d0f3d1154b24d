"""A person's own messages and account settings: marking messages read, choosing which
kinds of message come by email at once and which in the daily email, and the private
link to their calendar feed.

Each person changes only their own: another person's message is "not found". Making or
turning off a calendar link is recorded in the audit trail against the account, like the
other account changes (a new password, signing out everywhere); only the SHA-256 of the
link's secret is kept, so the link is shown once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from sqlalchemy import update

from ..extensions import db
from ..models import DELIVERY_CHOICES, Notification, User, utcnow
from . import audit
from .errors import ValidationFailed
from .notifications import MESSAGE_KINDS
from .queries import inbox as queries
from .sessions import hash_token
from .unit_of_work import retrying, transaction

#: The kinds of message each role can be sent (see :mod:`fundflow.services.messages`).
#: Other roles are sent none; everyone's messages are listed on the site.
KINDS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    "liaison_officer": ("bid_submitted", "countersign_needed", "overdue_escalated"),
    "finance": ("claim_to_pay",),
    "auditor": ("payment_reversed",),
    "headteacher": (
        "endorsement_requested",
        "endorsement_declined",
        "changes_requested",
        "bid_approved",
        "bid_rejected",
        "award_cancelled",
        "claim_verified",
        "claim_rejected",
        "claim_paid",
        "payment_reversed",
        "due_soon",
        "due_today",
        "overdue",
    ),
}

#: What each delivery choice is called on the settings page.
DELIVERY_LABELS = {
    "immediate": "Email me at once",
    "digest": "Put it in my daily email at 7am",
}


def kinds_for(user: User) -> list[str]:
    """The kinds of message that can reach ``user``'s roles, in :data:`MESSAGE_KINDS` order."""
    offered = {kind for role in user.roles for kind in KINDS_FOR_ROLE.get(role, ())}
    return [kind for kind in MESSAGE_KINDS if kind in offered]


def delivery_of(user: User, kind: str) -> str:
    """How ``user`` takes ``kind`` now: ``"digest"``, or ``"immediate"`` (the default)."""
    return "digest" if (user.notification_preferences or {}).get(kind) == "digest" else "immediate"


# ----------------------------------------------------------------------------- messages


@retrying
def mark_read(user: User, message_id: int) -> Notification:
    """Mark ``user``'s message read (again is harmless); another's is "not found"."""
    message = queries.get_message(user, message_id)
    with transaction():
        if message.read_at is None:
            message.read_at = utcnow()
    return message


@retrying
def mark_all_read(user: User) -> int:
    """Mark every unread message of ``user`` read; how many there were."""
    with transaction():
        result = db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return result.rowcount or 0


# ------------------------------------------------------------------------- email choices


def check_preferences(user: User, choices: Mapping[str, str | None]) -> None:
    """Refuse (422, per kind) a choice that is not one of :data:`DELIVERY_CHOICES` for a
    kind offered to ``user``, and any kind not offered to them."""
    offered = kinds_for(user)
    problems: dict[str, list[str]] = {}
    for kind in offered:
        if choices.get(kind) not in DELIVERY_CHOICES:
            problems[kind] = [f"Choose how to be told: {MESSAGE_KINDS[kind].lower()}"]
    for kind in choices:
        if kind not in offered:
            problems[kind] = ["You are not sent messages of this kind"]
    if problems:
        raise ValidationFailed(problems, message="Choose how to be told about each kind of message")


@retrying
def save_preferences(user: User, choices: Mapping[str, str | None]) -> dict[str, str]:
    """Keep ``user``'s choice for each kind offered to them: ``{kind: "digest"}`` for those
    in the daily email (a kind not named is emailed at once). The saved preferences."""
    check_preferences(user, choices)
    preferences = {kind: "digest" for kind in kinds_for(user) if choices[kind] == "digest"}
    with transaction():
        user.notification_preferences = preferences
    return preferences


# ------------------------------------------------------------------------- calendar link


@retrying
def make_calendar_link(user: User) -> str:
    """A new secret for ``user``'s calendar feed; a link made before stops working. Only
    its hash is kept, so the caller shows it once."""
    token = secrets.token_urlsafe(32)
    with transaction():
        replaced = user.calendar_token_hash is not None
        user.calendar_token_hash = hash_token(token)
        audit.record(user, "make_calendar_link", user, payload={"email": user.email, "replaced": replaced})
    return token


@retrying
def turn_off_calendar_link(user: User) -> bool:
    """Stop ``user``'s calendar link working; False when they had none."""
    if user.calendar_token_hash is None:
        return False
    with transaction():
        user.calendar_token_hash = None
        audit.record(user, "turn_off_calendar_link", user, payload={"email": user.email})
    return True
