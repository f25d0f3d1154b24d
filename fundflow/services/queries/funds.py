"""The funds offered by filters and listed on fund pages: those the person may see (their
organisation's, for council staff), newest first. An organisation runs only a handful, so
lists for the pages load them all; the API pages them."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select

from ...extensions import db
from ...models import Fund, User
from ..access import funds_condition
from .paging import page_of


def _newest_first(user: User) -> Select:
    return select(Fund).where(funds_condition(user)).order_by(Fund.opens_on.desc(), Fund.id.desc())


def all_funds(user: User) -> list[Fund]:
    """Every fund ``user`` may see, newest first."""
    return list(db.session.execute(_newest_first(user)).scalars())


def funds_page(user: User, page: int, per_page: int) -> Pagination:
    """One page of the funds ``user`` may see, newest first."""
    return page_of(_newest_first(user), page, per_page)
