"""The JSON API's lists (docs/api.md): one page of funds, schools or the bids a user may
see, with what each item's representation needs loaded in a fixed number of queries."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...models import Application, ApplicationPartner, School, User
from .. import access
from .funds import funds_page
from .paging import page_of

__all__ = ["applications_page", "funds_page", "schools_page"]


def schools_page(page: int, per_page: int) -> Pagination:
    """One page of schools, by nation then identifier (English schools, first, by URN)."""
    return page_of(select(School).order_by(School.nation, School.identifier), page, per_page)


def applications_page(
    user: User, status: str | None, fund_id: int | None, page: int, per_page: int
) -> Pagination:
    """One page of the bids ``user`` may see, newest first, optionally of one status and
    fund, with partners (and their schools), activities and measures loaded."""
    statement = access.visible_applications(user).options(
        selectinload(Application.partners).joinedload(ApplicationPartner.school),
        selectinload(Application.activities),
        selectinload(Application.measures),
    )
    if status is not None:
        statement = statement.where(Application.status == status)
    if fund_id is not None:
        statement = statement.where(Application.fund_id == fund_id)
    statement = statement.order_by(Application.id.desc())
    return page_of(statement, page, per_page)
