"""One transaction per user action, and row locks that hold on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import select

from ..extensions import db

T = TypeVar("T")


@contextmanager
def transaction() -> Iterator[None]:
    """Commit once at the end, or roll everything back on any error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def lock(model: type[T], row_id: int) -> T:
    """Load ``model`` row ``row_id`` with ``SELECT … FOR UPDATE`` and fresh column values.

    Callers lock in one order to avoid deadlocks: application, claim, disbursement, fund.
    On SQLite the whole write transaction is serialised instead (see ``extensions``).
    """
    return db.session.execute(
        select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        # OF the model's own table: PostgreSQL refuses FOR UPDATE on the nullable side of
        # the outer joins that eager-load its many-to-one relationships.
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).scalar_one()
