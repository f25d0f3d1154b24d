"""Read-only queries behind the admin pages: users, schools, and how many bids each fund
has (the funds themselves come from :mod:`.funds`). Each list loads its rows and their
related rows in a fixed number of queries, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterable

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import Application, School, User
from ..access import managed_users_condition, manages_user
from ..errors import NotFound
from .paging import page_of


def users(actor: User, page: int, per_page: int) -> Pagination:
    """The accounts ``actor`` manages (their organisation's staff and its schools'
    headteachers), active first, by name. School is joined and roles select-in loaded."""
    query = (
        select(User).where(managed_users_condition(actor)).order_by(User.active.desc(), User.name, User.id)
    )
    return page_of(query, page, per_page)


def get_user(actor: User, user_id: int) -> User:
    """The account ``user_id`` if ``actor`` manages it; anyone else's is "not found"."""
    user = db.session.get(User, user_id)
    if user is None or not manages_user(actor, user):
        raise NotFound(f"No user {user_id}")
    return user


def schools(search: str, page: int, per_page: int) -> Pagination:
    """Schools by name; ``search`` matches the start of a URN or identifier (any nation's),
    or any part of the name."""
    query = select(School).order_by(School.name, School.id)
    search = search.strip()
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                School.name.ilike(f"%{escaped}%", escape="\\"),
                School.urn.like(f"{escaped}%", escape="\\"),
                School.identifier.like(f"{escaped}%", escape="\\"),
            )
        )
    return page_of(query, page, per_page)


def bid_counts(fund_ids: Iterable[int]) -> dict[int, int]:
    """How many bids (in any state, drafts included) each fund has: one GROUP BY."""
    ids = list(fund_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Application.fund_id, func.count(Application.id))
        .where(Application.fund_id.in_(ids))
        .group_by(Application.fund_id)
    ).all()
    counts = dict(rows)
    return {i: int(counts.get(i, 0)) for i in ids}
