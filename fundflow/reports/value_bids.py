"""The value-for-money report's per-bid figures, gathered once per report.

Each bid's money (claimed, paid, committed), latest review score, impact rating, number of
supported partners, and for an awarded bid its days of release and its measures' results,
come from its kept running figures (:mod:`fundflow.services.bid_figures`) and its own row.
The report's totals, targeting, what it bought, its outcomes and its councils all start
from them, so the bids in the report's scope are gathered once into a temporary table,
inside the report's transaction, and every aggregate reads that table instead of filtering
the bids again. The table lives only as long as the report: it is dropped when the report
is built, and PostgreSQL drops it at the end of the transaction in any case (``ON COMMIT
DROP``); a rolled-back transaction takes it with it on both databases. Temporary tables are
each connection's own, so concurrent reports do not meet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    and_,
    case,
    insert,
    select,
)

from ..extensions import db
from ..models import Application, BidFigures
from ..workflow import AWARDED_STATUSES
from .value_outcomes import COUNTED_RESULTS

#: The temporary table's name (one per connection, for the length of one report).
TABLE_NAME = "value_report_bids"
#: The per-bid figures kept, as :func:`fundflow.reports.value.bid_figures` names them (with
#: ``aggregates=True``).
FIGURES = (
    "application_id",
    "status",
    "requested_pence",
    "awarded_pence",
    "claimed_pence",
    "paid_pence",
    "committed_pence",
    "value_for_money_score",
    "impact_rating",
    "supported_partners",
    "claimed_days",
)
#: Each bid's lead school, for the schools its money goes to.
LEAD_SCHOOL = "lead_school_id"
#: What only an awarded bid has (NULL for the others): its planned ``days`` of release and
#: its ``measures`` with how many have each result (``achieved``, ``part_way``, …).
AWARDED_FIGURES = ("days", "measures", *COUNTED_RESULTS)


def _table() -> Table:
    """The temporary table's definition: one for the process (each connection has its own
    table of that name), so that the statements reading it are compiled once and cached."""
    return Table(
        TABLE_NAME,
        MetaData(),
        Column("application_id", Integer, primary_key=True, autoincrement=False),
        Column("status", String(40), nullable=False),
        Column("requested_pence", BigInteger, nullable=False),
        Column("awarded_pence", BigInteger),
        Column("claimed_pence", BigInteger, nullable=False),
        Column("paid_pence", BigInteger, nullable=False),
        Column("committed_pence", BigInteger, nullable=False),
        Column("value_for_money_score", Integer),
        Column("impact_rating", String(20)),
        Column("supported_partners", Integer, nullable=False),
        Column("claimed_days", Numeric(12, 1), nullable=False),
        Column(LEAD_SCHOOL, Integer, nullable=False),
        Column("days", Numeric(12, 1)),
        Column("measures", Integer),
        *(Column(name, Integer) for name in COUNTED_RESULTS),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


BIDS = _table()


def materialise(figures: Select) -> Table:
    """Run ``figures`` (:func:`~fundflow.reports.value.bid_figures` of the report's scope
    with ``aggregates=True``, one row per bid, read from its kept figures) once into a new
    temporary table, with its :data:`LEAD_SCHOOL` and each awarded bid's
    :data:`AWARDED_FIGURES` (NULL for another bid, and the measures for a bid without any),
    and return it, its columns named as :data:`FIGURES`, :data:`LEAD_SCHOOL` and
    :data:`AWARDED_FIGURES`. On
    PostgreSQL the table is ANALYZEd (the columns the report filters on: a few milliseconds,
    where every column took five times as long) so that the statements reading it are
    planned on its real size and spread of statuses. Call :func:`drop` when done with it."""
    table = BIDS
    connection = db.session.connection()
    table.create(connection)
    awarded = Application.status.in_(AWARDED_STATUSES)
    measured = and_(awarded, BidFigures.measures > 0)
    rows = figures.add_columns(
        Application.lead_school_id.label(LEAD_SCHOOL),
        case((awarded, BidFigures.planned_days)).label("days"),
        *(
            case((measured, BidFigures.__table__.c[name])).label(name)
            for name in ("measures", *COUNTED_RESULTS)
        ),
    ).subquery()
    columns = [*FIGURES, LEAD_SCHOOL, *AWARDED_FIGURES]
    source = select(*(rows.c[name] for name in columns))
    connection.execute(insert(table).from_select(columns, source))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {TABLE_NAME} (status, supported_partners)")
    return table


def awarded(bids: Table) -> Any:
    """The bids whose award was made (``application_id``, ``status``, ``awarded_pence``,
    ``committed_pence``, :data:`LEAD_SCHOOL` and the :data:`AWARDED_FIGURES`), as a
    subquery of the table."""
    c = bids.c
    return (
        select(
            c.application_id,
            c.status,
            c.awarded_pence,
            c.committed_pence,
            c[LEAD_SCHOOL],
            *(c[n] for n in AWARDED_FIGURES),
        )
        .where(c.status.in_(AWARDED_STATUSES))
        .subquery("award_money")
    )


def drop(bids: Table) -> None:
    """Drop the table now that the report is built (the transaction may go on)."""
    bids.drop(db.session.connection())
