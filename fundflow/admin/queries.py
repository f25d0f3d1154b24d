"""Read-only queries behind the admin lists. Each list loads its rows and their related
rows in a fixed number of queries, whatever the page size."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from ..extensions import db
from ..models import School, User
from ..services.errors import NotFound


def users(page: int, per_page: int) -> Pagination:
    """Everyone, active first, by name. School is joined and roles select-in loaded."""
    query = select(User).order_by(User.active.desc(), User.name, User.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}")
    return user


def schools(search: str, page: int, per_page: int) -> Pagination:
    """Schools by name; ``search`` matches the start of a URN or any part of the name."""
    query = select(School).order_by(School.name, School.id)
    search = search.strip()
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                School.name.ilike(f"%{escaped}%", escape="\\"),
                School.urn.like(f"{escaped}%", escape="\\"),
            )
        )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
