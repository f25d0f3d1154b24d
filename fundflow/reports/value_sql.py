"""SQL that reads differently on SQLite and PostgreSQL, for the value-for-money report: the
items of a JSON list of text as rows, a date's month, the days between two dates, and a
median. Each builds a SQLAlchemy expression for the database in use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float, Integer, cast, func, or_, select

from ..extensions import db


def dialect() -> str:
    return db.session.get_bind().dialect.name


def json_items(json_list: Any) -> Any:
    """A table-valued function giving each item of a JSON list of strings as a row, its one
    column ``value``: ``json_each`` on SQLite, ``json_array_elements_text`` on PostgreSQL.
    Join it after the table it reads (``.join(json_items(T.c), true())``): both databases let
    a function in ``FROM`` read the rows before it."""
    if dialect() == "postgresql":
        return func.json_array_elements_text(json_list).table_valued("value")
    return func.json_each(json_list).table_valued("value")


def normalised(text: Any) -> Any:
    """Free text compared without case or surrounding spaces (priority areas)."""
    return func.lower(func.trim(text))


def month_of(day: Any) -> Any:
    """``YYYY-MM`` of a date column."""
    if dialect() == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def days_between(earlier: Any, later: Any) -> Any:
    """Whole calendar days from ``earlier`` to ``later`` (dates or times; times count by their day)."""
    if dialect() == "postgresql":
        return cast(cast(later, Date) - cast(earlier, Date), Integer)
    return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)


def median(values: Any) -> tuple[float | None, int]:
    """The median of the one-column subquery ``values`` (NULLs left out) and how many values
    there are, in one statement: the middle one or two of the values in order, found by row
    number against their count (works alike on both databases). ``(None, 0)`` when none."""
    value = values.c[0]
    ranked = (
        select(
            value.label("v"),
            func.row_number().over(order_by=value).label("n"),
            func.count().over().label("total"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    lower, upper = (ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2
    found, count = db.session.execute(
        select(func.avg(cast(ranked.c.v, Float)), func.max(ranked.c.total)).where(
            or_(ranked.c.n == lower, ranked.c.n == upper)
        )
    ).one()
    return (round(float(found), 1) if found is not None else None), int(count or 0)
