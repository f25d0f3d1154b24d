"""Read queries behind a person's messages and their calendar feed: one page of their
messages, the unread count with the latest few (for the menu and the messages panel), the
account a calendar link belongs to, and the dated things each role's feed shows.

Every list is bounded (a page, three rows, or ``limit`` rows) and each comes from one
query, whatever its length. Nothing here writes; :mod:`fundflow.services.inbox` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, or_, select

from ...extensions import db
from ...models import (
    Application,
    BackfillClaim,
    ImpactReport,
    Notification,
    ScheduleItem,
    User,
)
from ...workflow import (
    AWAITING_COUNTERSIGN_STATUSES,
    AWAITING_EVALUATION_STATUSES,
    CLAIMABLE_STATUSES,
    IN_REVIEW_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    PAYABLE_CLAIM_STATUSES,
    PENDING_CLAIM_STATUSES,
)
from ..access import in_organisation
from ..errors import NotFound
from ..sessions import hash_token
from .liaison import not_conflicted_with
from .paging import page_of

#: Row ids are the database's 32-bit integer keys: a larger number names no message.
ID_MAX = 2**31 - 1

# ----------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class InboxSummary:
    """How many unread messages a person has, and the newest few of them."""

    unread: int
    latest: list[Notification] = field(default_factory=list)


def messages_page(user: User, page: int, per_page: int) -> Pagination:
    """One page of ``user``'s messages, newest first (read and unread)."""
    statement = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    return page_of(statement, page, per_page)


def unread_count(user: User) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()


def summary(user: User, latest: int = 3) -> InboxSummary:
    """The unread count and the ``latest`` newest unread messages, in one query (the count
    is a window over every unread row, taken before the limit)."""
    rows = db.session.execute(
        select(Notification, func.count().over().label("unread"))
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc())
        .limit(latest)
    ).all()
    return InboxSummary(unread=rows[0].unread if rows else 0, latest=[row[0] for row in rows])


def get_message(user: User, message_id: int) -> Notification:
    """``user``'s own message ``message_id``; anyone else's is "not found", like a missing one."""
    message = db.session.get(Notification, message_id) if 0 < message_id <= ID_MAX else None
    if message is None or message.user_id != user.id:
        raise NotFound(f"No message {message_id}")
    return message


def references(application_ids: Iterable[int | None]) -> dict[int, str]:
    """Bid references by bid id, in one query (for a page of messages)."""
    ids = {i for i in application_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(Application.id, Application.reference).where(Application.id.in_(ids)))
    return {row_id: reference for row_id, reference in rows}


# ------------------------------------------------------------------------ calendar feed


def calendar_owner(token: str) -> User | None:
    """The active account whose calendar link carries ``token``; None for a wrong,
    replaced or turned-off link."""
    if not token or len(token) > 200:
        return None
    user = db.session.execute(
        select(User).where(User.calendar_token_hash == hash_token(token))
    ).scalar_one_or_none()
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class DueRow:
    """A schedule item still owed, with the bid it belongs to."""

    id: int
    kind: str
    due_on: date
    status: str
    application_id: int
    reference: str
    title: str


@dataclass(frozen=True)
class WaitingRow:
    """A decision waiting for someone: ``kind`` names it, ``record_id`` the bid, claim or
    report it is about, ``since`` when it started waiting."""

    kind: str
    record_id: int
    reference: str
    title: str
    since: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)


def _not_by(column: Any, user: User) -> Any:
    """The person named in ``column`` (a nullable user id) is not ``user``."""
    return or_(column.is_(None), column != user.id)


def _due_rows(condition: Any, start: date, end: date, limit: int) -> list[DueRow]:
    rows = db.session.execute(
        select(
            ScheduleItem.id,
            ScheduleItem.kind,
            ScheduleItem.due_on,
            ScheduleItem.status,
            Application.id,
            Application.reference,
            Application.title,
        )
        .join(Application, Application.id == ScheduleItem.application_id)
        .where(
            condition,
            ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES),
            ScheduleItem.due_on >= start,
            ScheduleItem.due_on <= end,
        )
        .order_by(ScheduleItem.due_on, ScheduleItem.id)
        .limit(limit)
    )
    return [DueRow(*row) for row in rows]


def school_due_items(user: User, start: date, end: date, limit: int) -> list[DueRow]:
    """Items owed by bids ``user``'s school leads, due between ``start`` and ``end``."""
    if user.school_id is None:
        return []
    return _due_rows(Application.lead_school_id == user.school_id, start, end, limit)


def liaison_due_items(user: User, start: date, end: date, limit: int) -> list[DueRow]:
    """Items owed by every bid of the officer's organisation they are not conflicted on,
    due between the dates."""
    return _due_rows(_theirs_to_decide(user), start, end, limit)


def _theirs_to_decide(user: User) -> Any:
    """Bids of ``user``'s organisation they are not conflicted on."""
    return and_(in_organisation(user, Application.fund_id), not_conflicted_with(user))


def _waiting(kind: str, statement: Any) -> list[WaitingRow]:
    return [
        WaitingRow(kind, row_id, reference, title or "", since)
        for row_id, reference, title, since in db.session.execute(statement)
    ]


def liaison_decisions(user: User, limit: int) -> list[WaitingRow]:
    """Decisions waiting for the officer, oldest first in each kind: bids to review, awards
    to countersign (that they did not approve), claims to verify and reports to evaluate, on
    bids they are not conflicted on. Four queries, each at most ``limit`` rows."""
    free = _theirs_to_decide(user)
    bid = (Application.reference, Application.title)
    review = (
        select(Application.id, *bid, Application.submitted_at)
        .where(free, Application.status.in_(IN_REVIEW_STATUSES))
        .order_by(Application.submitted_at, Application.id)
    )
    countersign = (
        select(Application.id, *bid, Application.updated_at)
        .where(
            free,
            Application.status.in_(AWAITING_COUNTERSIGN_STATUSES),
            _not_by(Application.decided_by_id, user),
        )
        .order_by(Application.updated_at, Application.id)
    )
    claims = (
        select(BackfillClaim.id, *bid, BackfillClaim.created_at)
        .join(Application, Application.id == BackfillClaim.application_id)
        .where(
            free,
            BackfillClaim.status.in_(PENDING_CLAIM_STATUSES),
            Application.status.in_(CLAIMABLE_STATUSES),
        )
        .order_by(BackfillClaim.created_at, BackfillClaim.id)
    )
    reports = (
        select(ImpactReport.id, *bid, ImpactReport.created_at)
        .join(Application, Application.id == ImpactReport.application_id)
        .where(free, ImpactReport.status.in_(AWAITING_EVALUATION_STATUSES))
        .order_by(ImpactReport.created_at, ImpactReport.id)
    )
    found: list[WaitingRow] = []
    for kind, statement in (
        ("review", review),
        ("countersign", countersign),
        ("verify_claim", claims),
        ("evaluate_report", reports),
    ):
        found += _waiting(kind, statement.limit(limit))
    return found


def claims_to_pay(user: User, limit: int) -> list[WaitingRow]:
    """Verified claims waiting to be paid (not on awards ``user`` decided: they may not pay
    those), oldest verified first."""
    statement = (
        select(BackfillClaim.id, Application.reference, Application.title, BackfillClaim.verified_at)
        .join(Application, Application.id == BackfillClaim.application_id)
        .where(
            BackfillClaim.status.in_(PAYABLE_CLAIM_STATUSES),
            in_organisation(user, Application.fund_id),
            _not_by(Application.decided_by_id, user),
            _not_by(Application.countersigned_by_id, user),
        )
        .order_by(BackfillClaim.verified_at, BackfillClaim.id)
        .limit(limit)
    )
    return _waiting("pay_claim", statement)
