"""The sender: delivers the outbox (``flask --app wsgi fundflow send-notifications``).

Safe to run on several machines at once, on SQLite and PostgreSQL:

1. **Lease** a batch in one short transaction: pick due emails (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, so two senders pass each other by), then ``UPDATE … SET lease_token,
   leased_until WHERE id IN (…) AND status = queued AND next_attempt_at <= now AND the
   lease is free``. The ``WHERE`` checks again what the pick saw, so two senders never
   hold the same email; each then reads back only the rows carrying its own token.
2. **Send** each leased email with no transaction open (a slow mail server holds no lock).
3. **Mark** it, ``WHERE id = … AND lease_token = <ours>``: sent (with the provider's
   reference; a ``sensitive`` body, which holds a one-time link, is blanked), or a failed
   attempt: ``attempts`` + 1, a growing pause before the next try (1 minute × 2^(attempts−1),
   at most 6 hours, ±10 %), the error in ``last_error``, and ``failed`` once attempts reach
   ``OUTBOX_MAX_ATTEMPTS`` or the failure is permanent. A failed email's ``next_attempt_at``
   is when it failed (no attempt follows); an administrator may put it back in the queue.

At least once: a sender that dies after sending and before marking leaves its lease to
expire (``OUTBOX_LEASE_SECONDS``); the email is then leased and sent again. A sender that
would outlive its lease (a slow server) hands back the rest of its batch unsent first.

The daily digest (:func:`compose_digests`) runs at the start of each send: from
``DIGEST_HOUR`` UK time, each person with messages waiting for their digest gets one email
listing them, once per UK day (claimed by a compare-and-set on ``users.last_digest_on``).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select, update

from ..dates import long_date
from ..extensions import db
from ..models import Notification, OutboundEmail, User
from ..models.notification import EMAIL_STATUSES
from . import access, clock, delivery, messages
from .errors import InvalidTransition, NotFound
from .notifications import email_body, queue_email, service_url
from .unit_of_work import retrying, transaction

log = logging.getLogger(__name__)

#: An email's states (not a lifecycle: the sender alone moves them).
QUEUED, SENT, FAILED = EMAIL_STATUSES
UK = ZoneInfo("Europe/London")
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
#: People whose digest is composed per read, and messages listed in one digest (the rest
#: are counted and go with it: the person reads them in the service).
DIGEST_PEOPLE_PER_BATCH = 100
DIGEST_MAX_LISTED = 50


@dataclass(frozen=True)
class SendResult:
    """One run: emails sent, marked failed for good, and waiting to be tried again."""

    sent: int
    failed: int
    retrying: int


@dataclass(frozen=True)
class Leased:
    email: delivery.Email
    token: str
    attempts: int
    sensitive: bool


# ------------------------------------------------------------------------------ time


def uk_time(moment: datetime) -> datetime:
    """A stored (naive UTC) time as UK local time."""
    return moment.replace(tzinfo=UTC).astimezone(UK)


def uk_day_start(moment: datetime) -> datetime:
    """The start of ``moment``'s UK day, as naive UTC (to compare with stored times)."""
    midnight = datetime.combine(uk_time(moment).date(), time_of_day(0), tzinfo=UK)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def retry_wait(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed try: 1, 2, 4, 8 … minutes, at most 6 hours,
    jittered by up to 10 % so emails that failed together are not retried together."""
    base = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20)
    return min(LONGEST_RETRY, base * random.uniform(0.9, 1.1))


# ------------------------------------------------------------------------------ sending


def send_due(
    now: datetime | None = None,
    batch_size: int | None = None,
    *,
    backend: delivery.Backend | None = None,
) -> SendResult:
    """Compose the day's digests when due, then send every email due by ``now`` (the clock
    when not given), batch by batch, until nothing is left to lease."""
    config = current_app.config
    compose_digests(now)
    backend = backend or delivery.backend_for(config)
    batch_size = batch_size or int(config["OUTBOX_BATCH_SIZE"])
    lease_seconds = int(config["OUTBOX_LEASE_SECONDS"])
    # stop sending a batch while one more send surely fits in what is left of the lease
    margin = min(float(config.get("SMTP_TIMEOUT_SECONDS") or 30) + 5, lease_seconds / 2)
    outcomes: Counter[str] = Counter()
    while True:
        batch = _lease(now or clock.now(), batch_size, lease_seconds)
        if not batch:
            break
        started = time.monotonic()
        for index, item in enumerate(batch):
            if time.monotonic() - started > lease_seconds - margin:
                _release(batch[index:])
                break
            outcomes[_deliver(backend, item, now)] += 1
    return SendResult(sent=outcomes[SENT], failed=outcomes[FAILED], retrying=outcomes[QUEUED])


def _due(now: datetime):
    return (
        (OutboundEmail.status == QUEUED)
        & (OutboundEmail.next_attempt_at <= now)
        & or_(OutboundEmail.leased_until.is_(None), OutboundEmail.leased_until < now)
    )


@retrying
def _lease(now: datetime, batch_size: int, lease_seconds: int) -> list[Leased]:
    token = secrets.token_hex(16)
    with transaction():
        pick = (
            select(OutboundEmail.id)
            .where(_due(now))
            .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
            .limit(batch_size)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list(db.session.execute(pick).scalars())
        if not ids:
            return []
        db.session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id.in_(ids), _due(now))
            .values(lease_token=token, leased_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        rows = db.session.execute(
            select(
                OutboundEmail.id,
                OutboundEmail.to_address,
                OutboundEmail.subject,
                OutboundEmail.body,
                OutboundEmail.attempts,
                OutboundEmail.sensitive,
            )
            .where(OutboundEmail.lease_token == token)
            .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
        ).all()
    return [
        Leased(
            delivery.Email(row.id, row.to_address, row.subject, row.body), token, row.attempts, row.sensitive
        )
        for row in rows
    ]


@retrying
def _release(items: Sequence[Leased]) -> None:
    """Hand leased emails back unsent, for the next lease (ours or another sender's)."""
    with transaction():
        for item in items:
            db.session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == item.email.id, OutboundEmail.lease_token == item.token)
                .values(lease_token=None, leased_until=None)
                .execution_options(synchronize_session=False)
            )


def _deliver(backend: delivery.Backend, item: Leased, now: datetime | None) -> str:
    """Send one leased email and mark it; the status it ends in."""
    try:
        reference = backend.send(item.email)
    except delivery.DeliveryFailed as exc:
        return _mark_failed(item, exc.reason, exc.permanent, now or clock.now())
    except Exception as exc:  # a backend's own bug or an unexpected error: try again later
        log.exception("Sending email %s failed unexpectedly", item.email.id)
        return _mark_failed(item, delivery.short(f"{type(exc).__name__}: {exc}"), False, now or clock.now())
    return _mark_sent(item, reference, now or clock.now())


def _mark(item: Leased, values: dict[str, object]) -> bool:
    result = db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == item.email.id, OutboundEmail.lease_token == item.token)
        .values(lease_token=None, leased_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning(
            "Email %s: lease expired before it was marked (another sender may send it again)", item.email.id
        )
        return False
    return True


@retrying
def _mark_sent(item: Leased, reference: str, at: datetime) -> str:
    values: dict[str, object] = {"status": SENT, "sent_at": at, "provider_reference": reference[:100]}
    if item.sensitive:
        values["body"] = ""  # the one-time link has done its job
    with transaction():
        _mark(item, {**values, "last_error": ""})
    return SENT


@retrying
def _mark_failed(item: Leased, error: str, permanent: bool, at: datetime) -> str:
    attempts = item.attempts + 1
    give_up = permanent or attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    status = FAILED if give_up else QUEUED
    with transaction():
        marked = _mark(
            item,
            {
                "status": status,
                "attempts": attempts,
                "last_error": error[:500],
                "next_attempt_at": at if give_up else at + retry_wait(attempts),
            },
        )
        if marked and give_up:
            messages.email_failed(item.email, error)
    log.warning("Email %s not sent (attempt %s, %s): %s", item.email.id, attempts, status, error)
    return status


# ------------------------------------------------------------------------------ the admin's retry


@retrying
def retry_failed(actor: User | None, email_id: int) -> OutboundEmail:
    """Put a failed email back in the queue, to be sent at the next run with a fresh set of
    attempts (after the cause, a wrong address or a mail server's setting, was put right)."""
    with transaction():
        email = db.session.get(OutboundEmail, email_id)
        if email is None or not _manages_email(actor, email):
            raise NotFound(f"No email {email_id}")
        result = db.session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == email_id, OutboundEmail.status == FAILED)
            .values(
                status=QUEUED,
                attempts=0,
                next_attempt_at=clock.now(),
                last_error="",
                lease_token=None,
                leased_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise InvalidTransition("That email is not marked as failed: it is already queued again or sent")
    log.info("%s put email %s back in the queue", getattr(actor, "email", "fundflow"), email_id)
    return email


def _manages_email(actor: User | None, email: OutboundEmail) -> bool:
    """An organisation's administrator looks after the emails to the people whose accounts
    they manage, and those to no account; the shell, after every email."""
    if actor is None or email.user_id is None:
        return True
    person = db.session.get(User, email.user_id)
    return person is not None and access.manages_user(actor, person)


# ------------------------------------------------------------------------------ the daily digest


def compose_digests(now: datetime | None = None) -> int:
    """From ``DIGEST_HOUR`` UK time, give each person with messages waiting for their digest
    one email listing them, once per UK day. Returns how many digests this run composed."""
    now = now or clock.now()
    local = uk_time(now)
    if local.hour < int(current_app.config["DIGEST_HOUR"]):
        return 0
    day = local.date()
    composed = 0
    while people := _waiting_for_digest(day):
        composed += sum(_compose_digest(user_id, day) for user_id in people)
    return composed


@retrying
def _waiting_for_digest(day: date) -> list[int]:
    """People (active) with digest messages waiting and no digest yet on ``day``. Each one
    returned is claimed or taken by another sender before the next read, so reads end."""
    with transaction():
        return list(
            db.session.execute(
                select(User.id)
                .join(Notification, Notification.user_id == User.id)
                .where(
                    Notification.delivery == "digest",
                    Notification.email_id.is_(None),
                    User.active.is_(True),
                    or_(User.last_digest_on.is_(None), User.last_digest_on < day),
                )
                .distinct()
                .order_by(User.id)
                .limit(DIGEST_PEOPLE_PER_BATCH)
            ).scalars()
        )


@retrying
def _compose_digest(user_id: int, day: date) -> int:
    """Claim ``day`` for this person (compare-and-set: one sender wins), then write their
    digest and link the messages to it, all in one transaction."""
    with transaction():
        claimed = db.session.execute(
            update(User)
            .where(User.id == user_id, or_(User.last_digest_on.is_(None), User.last_digest_on < day))
            .values(last_digest_on=day, updated_at=User.updated_at)  # not a change to the account
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return 0
        waiting = select(Notification.id).where(
            Notification.user_id == user_id,
            Notification.delivery == "digest",
            Notification.email_id.is_(None),
        )
        ids = list(db.session.execute(waiting.order_by(Notification.id)).scalars())
        if not ids:
            return 0
        listed = list(
            db.session.execute(
                select(Notification)
                .where(Notification.id.in_(ids[:DIGEST_MAX_LISTED]))
                .order_by(Notification.id)
            ).scalars()
        )
        user = db.session.get(User, user_id)
        email = queue_email(
            to_address=user.email,
            kind="digest",
            subject=f"Your fundflow messages for {long_date(day)}",
            body=digest_body(user, listed, len(ids) - len(listed)),
            user_id=user.id,
        )
        for start in range(0, len(ids), 500):
            db.session.execute(
                update(Notification)
                .where(Notification.id.in_(ids[start : start + 500]))
                .values(email_id=email.id)
                .execution_options(synchronize_session=False)
            )
    return 1


def digest_body(user: User, listed: Sequence[Notification], more: int) -> str:
    """The digest's text: each message's subject, body and the full address of its page."""
    count = len(listed) + more
    parts = [
        f"Hello {user.name},",
        f"You have {count} new message{'s' if count != 1 else ''} in fundflow.",
    ]
    for number, message in enumerate(listed, start=1):
        parts.append(f"{number}. {message.subject}\n\n{email_body(message.body, message.link).rstrip()}")
    if more:
        parts.append(f"And {more} more. Read them all in the service: {service_url()}")
    parts.append(
        "You get this summary once a day because you asked for these messages in a daily summary. "
        "You can change that in your account settings in the service."
    )
    return "\n\n".join(parts) + "\n"
