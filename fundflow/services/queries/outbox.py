"""Read-only queries behind the admin's "Email delivery" page: how the outbox stands, and the
emails that could not be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from ...extensions import db
from ...models import OutboundEmail, User
from .. import clock
from ..access import managed_users_condition
from ..outbox import FAILED, QUEUED, SENT, uk_day_start
from .aggregates import count_if
from .paging import page_of


@dataclass(frozen=True)
class DeliveryCounts:
    """Emails waiting for their first try, sent since midnight UK time, waiting to be tried
    again after a failure, and given up on."""

    queued: int
    sent_today: int
    retrying: int
    failed: int


def _theirs(actor: User) -> Any:
    """Emails to the people whose accounts ``actor`` manages (their organisation's), and
    those to no account (the deployment's own, which name no one's records)."""
    return or_(
        OutboundEmail.user_id.is_(None),
        OutboundEmail.user_id.in_(select(User.id).where(managed_users_condition(actor))),
    )


def delivery_counts(actor: User, now: datetime | None = None) -> DeliveryCounts:
    """The four counts in one query, over the emails to the people ``actor`` manages."""
    since = uk_day_start(now or clock.now())
    status = OutboundEmail.status

    row = db.session.execute(
        select(
            count_if((status == QUEUED) & (OutboundEmail.attempts == 0)),
            count_if((status == SENT) & (OutboundEmail.sent_at >= since)),
            count_if((status == QUEUED) & (OutboundEmail.attempts > 0)),
            count_if(status == FAILED),
        ).where(_theirs(actor))
    ).one()
    return DeliveryCounts(*(int(value) for value in row))


def failed_emails(actor: User, page: int, per_page: int) -> Pagination:
    """Emails to the people ``actor`` manages marked failed, the latest failure first (a
    failed email's ``next_attempt_at`` is when it failed)."""
    query = (
        select(OutboundEmail)
        .where(OutboundEmail.status == FAILED, _theirs(actor))
        .order_by(OutboundEmail.next_attempt_at.desc(), OutboundEmail.id.desc())
    )
    return page_of(query, page, per_page)
