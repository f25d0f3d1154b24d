"""Each bid's running figures (:class:`~fundflow.models.BidFigures`): what its claims,
payments, reviews, impact reports, partners, activities and measures add up to.

Why kept, not worked out when asked: the value-for-money report covers every bid of a fund
(10,000 and more), and working these out for each bid read nine tables, about 180 ms at
100,000 bids, every time the report was asked for. Kept, the report reads one row a bid.

How they stay right: every change to a bid writes its audit Event in the same transaction,
and :func:`fundflow.services.audit.record_event` calls :func:`refresh` for the event's bid
just before it takes the audit chain's lock. ``refresh`` works the bid's figures out again
from its own rows (never adds a difference to the old ones), so a figure is exactly what a
fresh working-out gives. Every change to a bid holds its row lock first (the lock order in
:mod:`.unit_of_work`), so two changes to one bid refresh one after the other, the second
reading what the first committed; the figures row itself is written before the chain lock
and only by the holder of the bid's row. :func:`drifted` works every bid out afresh and
lists those whose kept figures differ: ``verify-audit`` runs it, and the tests run it after
concurrent mixed load.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, delete, func, insert, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import (
    Activity,
    Application,
    ApplicationPartner,
    BackfillClaim,
    BidFigures,
    Disbursement,
    ImpactEvaluation,
    ImpactReport,
    Review,
)
from ..workflow import COUNTED_CLAIM_STATUSES
from .measure_results import MEASURE_RESULTS, measure_results, result_counts

TABLE = BidFigures.__table__
#: The figures, as the table names them (after ``application_id``).
FIGURES = tuple(c.name for c in TABLE.columns if c.name != "application_id")
#: How many drifted bids :func:`drifted` names at most.
DRIFT_SHOWN = 20


def worked_out(application_id: Any = None) -> Select:
    """Each bid's figures worked out from its own rows (one bid's, or every bid's when
    ``application_id`` is None), with the columns of :class:`~fundflow.models.BidFigures`.
    ``application_id`` may be a bound parameter (:func:`refresh` builds its statement once)."""

    def of(column: Any) -> Any:
        return column == application_id if application_id is not None else true()

    claimed = _per_bid(
        BackfillClaim.application_id,
        [func.sum(BackfillClaim.amount_pence).label("pence"), func.sum(BackfillClaim.days).label("days")],
        BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES),
        of(BackfillClaim.application_id),
    )
    paid = _per_bid(
        BackfillClaim.application_id,
        [func.sum(Disbursement.amount_pence).label("pence")],
        of(BackfillClaim.application_id),
        join=(BackfillClaim, BackfillClaim.id == Disbursement.claim_id),
    )
    supported = _per_bid(
        ApplicationPartner.application_id,
        [func.count(ApplicationPartner.id).label("schools")],
        ApplicationPartner.role == "supported",
        of(ApplicationPartner.application_id),
    )
    planned = _per_bid(
        Activity.application_id, [func.sum(Activity.days).label("days")], of(Activity.application_id)
    )
    review = _latest(Review.application_id, Review.id, Review.value_for_money.label("score"), of)
    evaluation = _latest(
        ImpactReport.application_id,
        ImpactEvaluation.id,
        ImpactEvaluation.rating.label("rating"),
        of,
        join=(ImpactReport, ImpactReport.id == ImpactEvaluation.report_id),
    )
    bids = select(Application.id).where(of(Application.id))
    measured = measure_results(bids, described=False).subquery()
    results = (
        select(measured.c.application_id, *result_counts(measured.c.result))
        .group_by(measured.c.application_id)
        .subquery()
    )
    return (
        select(
            Application.id.label("application_id"),
            func.coalesce(claimed.c.pence, 0).label("claimed_pence"),
            func.coalesce(claimed.c.days, 0).label("claimed_days"),
            func.coalesce(paid.c.pence, 0).label("paid_pence"),
            review.c.score.label("value_for_money_score"),
            evaluation.c.rating.label("impact_rating"),
            func.coalesce(supported.c.schools, 0).label("supported_partners"),
            planned.c.days.label("planned_days"),
            func.coalesce(results.c.measures, 0).label("measures"),
            *(func.coalesce(results.c[name], 0).label(name) for name in MEASURE_RESULTS),
        )
        .outerjoin(claimed, claimed.c.application_id == Application.id)
        .outerjoin(paid, paid.c.application_id == Application.id)
        .outerjoin(review, and_(review.c.application_id == Application.id, review.c.newest == 1))
        .outerjoin(evaluation, and_(evaluation.c.application_id == Application.id, evaluation.c.newest == 1))
        .outerjoin(supported, supported.c.application_id == Application.id)
        .outerjoin(planned, planned.c.application_id == Application.id)
        .outerjoin(results, results.c.application_id == Application.id)
        .where(of(Application.id))
    )


def refresh(application_id: int) -> None:
    """Write one bid's figures afresh, in the caller's transaction (which holds the bid's row
    lock, or is creating the bid): one INSERT … ON CONFLICT DO UPDATE."""
    connection = db.session.connection()
    connection.execute(_refresh_statement(connection.dialect.name), {"bid": application_id})


@functools.cache
def _refresh_statement(dialect_name: str) -> Any:
    """The upsert of one bid's figures (the bid as the parameter ``bid``), built once per
    dialect: it runs with every event about a bid, and building the query each time cost
    more than running it."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    columns = ["application_id", *FIGURES]
    statement = dialect.insert(TABLE).from_select(columns, worked_out(bindparam("bid", type_=Integer)))
    return statement.on_conflict_do_update(
        index_elements=[TABLE.c.application_id], set_={name: statement.excluded[name] for name in FIGURES}
    )


def refresh_all() -> int:
    """Work every bid's figures out afresh (after a bulk load that wrote rows directly, such
    as ``seed-bench``, or to repair drift); returns how many bids there are. The caller commits."""
    connection = db.session.connection()
    connection.execute(delete(TABLE))
    connection.execute(insert(TABLE).from_select(["application_id", *FIGURES], worked_out()))
    return connection.execute(select(func.count()).select_from(TABLE)).scalar_one()


def drifted(limit: int = DRIFT_SHOWN) -> tuple[int, list[str]]:
    """How many bids' kept figures differ from a fresh working-out (or are missing), and the
    references of the first ``limit`` of them."""
    fresh = worked_out().subquery()
    kept = TABLE
    differs = [kept.c.application_id.is_(None)] + [
        kept.c[name].is_distinct_from(fresh.c[name]) for name in FIGURES
    ]
    found = (
        select(Application.reference, func.count().over().label("drifted"))
        .join(fresh, fresh.c.application_id == Application.id)
        .outerjoin(kept, kept.c.application_id == Application.id)
        .where(or_(*differs))
        .order_by(Application.id)
        .limit(limit)
    )
    rows = db.session.execute(found).all()
    return (rows[0].drifted if rows else 0), [row.reference for row in rows]


def _per_bid(application_id: Any, values: list[Any], *where: Any, join: tuple[Any, Any] | None = None) -> Any:
    """A subquery of labelled aggregates (``values``) per bid, keyed ``application_id``."""
    query = select(application_id.label("application_id"), *values)
    if join is not None:
        query = query.join(*join)
    return query.where(*where).group_by(application_id).subquery()


def _latest(
    application_id: Any, order: Any, value: Any, of: Any, *, join: tuple[Any, Any] | None = None
) -> Any:
    """A subquery of each bid's rows numbered newest first (by ``order``), with ``value``:
    join it on ``newest == 1`` for the latest (one read of the table)."""
    newest = func.row_number().over(partition_by=application_id, order_by=order.desc()).label("newest")
    query = select(application_id.label("application_id"), value, newest)
    if join is not None:
        query = query.join(*join)
    return query.where(of(application_id)).subquery()
