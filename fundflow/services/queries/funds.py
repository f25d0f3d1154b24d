"""The funds offered by filters and listed on fund pages: every fund, newest first. There
are only ever a handful, so lists for the pages load them all; the API pages them."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select

from ...extensions import db
from ...models import Fund
from .paging import page_of


def _newest_first() -> Select:
    return select(Fund).order_by(Fund.opens_on.desc(), Fund.id.desc())


def all_funds() -> list[Fund]:
    """Every fund, newest first."""
    return list(db.session.execute(_newest_first()).scalars())


def funds_page(page: int, per_page: int) -> Pagination:
    """One page of the funds, newest first."""
    return page_of(_newest_first(), page, per_page)
