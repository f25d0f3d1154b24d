"""One page of a list, at the same cost whichever page it is.

``db.paginate`` reads page *k* with ``LIMIT n OFFSET (k-1)·n`` over the whole statement: the
database builds every skipped row, with its eager joins, only to throw it away, so the last
page of 100,000 bids took two seconds where the first took a few milliseconds. Here:

* the rows of a page are chosen by their primary keys alone (a "deferred join": the skipped
  rows are index entries, not whole rows joined to their fund and school), and only the
  page's rows are then read whole;
* a page past the middle is read from the far end, in the reverse order, and turned round:
  the last page skips nothing at all, and no page skips more than half the list;
* the total is a count of primary keys, with no eager joins.

The answer is flask-sqlalchemy's ``Pagination``, so every template's pager is unchanged.
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, UnaryExpression, func, inspect, select
from sqlalchemy.orm import lazyload
from sqlalchemy.sql import operators

from ...extensions import db


def page_of(
    statement: Select,
    page: int,
    per_page: int,
    *,
    count_up_to: int | None = None,
    total: int | None = None,
) -> Pagination:
    """Page ``page`` (from 1) of ``statement``, ``per_page`` rows a page; a page past the end
    is empty. ``statement`` must be fully ordered (a unique key last) for pages not to
    overlap, as for any paging.

    With ``count_up_to``, rows are counted only up to one more than that (see
    :func:`counted`): the total then says "more than ``count_up_to``", and the pages reach
    that far. ``total``: the count, when the caller has already made it (so it is not made
    twice)."""
    known = {} if total is None else {"total": total}
    return _Page(
        statement=statement,
        page=page,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count_up_to=count_up_to,
        **known,
    )


def counted(statement: Select, up_to: int | None = None) -> Select:
    """A SELECT of how many rows ``statement`` has, counting primary keys only (no eager
    joins); with ``up_to``, at most ``up_to + 1`` of them, so a count of a long list costs
    no more than a short one's (a scalar subquery: several counts can share one round trip)."""
    key = _primary_key(statement)
    keys = (
        statement.with_only_columns(key) if key is not None else statement.options(lazyload("*"))
    ).order_by(None)
    if up_to is not None:
        keys = keys.limit(up_to + 1)
    return select(func.count()).select_from(keys.subquery())


class _Page(Pagination):
    def _query_count(self) -> int:
        return self._total()

    def _query_items(self) -> list[Any]:
        statement: Select = self._query_args["statement"]
        total, offset = self._total(), self._query_offset
        if offset >= total:
            return []
        limit = min(self.per_page, total - offset)
        # a capped count is not the far end, so a capped list is read forwards only
        backwards = offset > total // 2 and self._query_args["count_up_to"] is None
        order = statement._order_by_clauses
        if backwards:
            order = tuple(_reversed(clause) for clause in order)
            offset = total - offset - limit
        key = _primary_key(statement)
        if key is None:
            rows = db.session.execute(statement.order_by(None).order_by(*order).limit(limit).offset(offset))
            items = list(rows.unique().scalars())
            return items[::-1] if backwards else items
        chosen = (
            statement.with_only_columns(key).order_by(None).order_by(*order).limit(limit).offset(offset)
        ).scalar_subquery()
        return list(db.session.execute(statement.where(key.in_(chosen))).unique().scalars())

    def _total(self) -> int:
        if "total" not in self._query_args:
            statement = counted(self._query_args["statement"], self._query_args["count_up_to"])
            self._query_args["total"] = db.session.execute(statement).scalar_one()
        return self._query_args["total"]


def _primary_key(statement: Select) -> Any:
    """The primary-key column of the one ORM entity ``statement`` selects, else None."""
    described = statement.column_descriptions
    if len(described) != 1:
        return None
    entity = described[0].get("entity")
    if entity is None or described[0].get("expr") is not entity:
        return None
    keys = inspect(entity).primary_key
    return keys[0] if len(keys) == 1 else None


def _reversed(clause: Any) -> Any:
    """``clause`` sorting the other way (``a`` ↔ ``a DESC``)."""
    if isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op:
        return clause.element.asc()
    if isinstance(clause, UnaryExpression) and clause.modifier is operators.asc_op:
        return clause.element.desc()
    return clause.desc()
