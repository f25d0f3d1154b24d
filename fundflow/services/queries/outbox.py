"""Read-only queries behind the admin's "Email delivery" page: how the outbox stands, and the
emails that could not be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select

from ...extensions import db
from ...models import OutboundEmail
from .. import clock
from ..outbox import FAILED, QUEUED, SENT, uk_day_start
from .paging import page_of


@dataclass(frozen=True)
class DeliveryCounts:
    """Emails waiting for their first try, sent since midnight UK time, waiting to be tried
    again after a failure, and given up on."""

    queued: int
    sent_today: int
    retrying: int
    failed: int


def delivery_counts(now: datetime | None = None) -> DeliveryCounts:
    """The four counts in one query."""
    since = uk_day_start(now or clock.now())
    status = OutboundEmail.status

    def total(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            total((status == QUEUED) & (OutboundEmail.attempts == 0)),
            total((status == SENT) & (OutboundEmail.sent_at >= since)),
            total((status == QUEUED) & (OutboundEmail.attempts > 0)),
            total(status == FAILED),
        )
    ).one()
    return DeliveryCounts(*(int(value) for value in row))


def failed_emails(page: int, per_page: int) -> Pagination:
    """Emails marked failed, the latest failure first (a failed email's ``next_attempt_at``
    is when it failed)."""
    query = (
        select(OutboundEmail)
        .where(OutboundEmail.status == FAILED)
        .order_by(OutboundEmail.next_attempt_at.desc(), OutboundEmail.id.desc())
    )
    return page_of(query, page, per_page)
