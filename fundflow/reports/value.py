"""The value-for-money report: one row per bid with its money, its review score and its
impact rating, and what the fund bought and achieved (money, bought, outcomes, targeting,
timeliness: ``value_*.py``), aggregated in SQL (a fixed number of queries however many bids)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select

from ..extensions import db
from ..models import (
    RATINGS,
    Application,
    BidFigures,
    Fund,
    School,
    User,
)
from ..services import ledger
from ..services.access import organisation_funds
from ..services.queries.aggregates import count_if, sum_if, total
from ..workflow import (
    AWAITING_COUNTERSIGN_STATUSES,
    AWARDED_STATUSES,
    COMMITTED_AT_AWARD,
    COMMITTED_AT_PAID,
)
from . import (
    value_bids,
    value_bought,
    value_councils,
    value_money,
    value_outcomes,
    value_targeting,
    value_timeliness,
)
from .access import fund_or_404
from .value_scope import Scope, options


def value_for_money(
    fund_id: int | None = None,
    page: int = 1,
    per_page: int | None = None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    local_authority: str | None = None,
    priority_area: str | None = None,
    viewer: User | None = None,
) -> dict[str, Any]:
    """Value for money of every bid ever submitted (in one fund, or in all: all of
    ``viewer``'s organisation's, or of every organisation without a viewer).

    Filters (each optional): ``date_from``/``date_to`` keep bids submitted in the range and
    payments paid in it (``paid_on``); ``local_authority`` bids whose lead school has that
    ``la_code``; ``priority_area`` bids naming that area (case and spaces ignored).
    ``date_from`` after ``date_to`` is a :class:`ValidationFailed` on ``to``.

    Returns ``{"fund_id", "fund", "totals", "rows", "page", "per_page", "total"}``:

    * ``rows``: per bid ``reference, title, fund_id, lead_school_nation,
      lead_school_identifier, lead_school_urn`` (English schools only), ``lead_school_name,
      status, requested_pence, awarded_pence, claimed_pence`` (verified and paid claims),
      ``paid_pence`` (net of reversals), ``committed_pence`` (what the bid holds of the fund:
      the award while approved, what was paid once delivered, closed or cancelled, else 0),
      ``value_for_money_score`` (1–4, from the latest review), ``impact_rating`` (of the
      latest evaluated impact report), ``supported_schools`` and
      ``cost_per_supported_school_pence`` (committed ÷ supported schools); by reference,
      one page of ``per_page`` (every row when ``per_page`` is None);
    * ``total``: how many rows there are over all pages (``totals["applications"]``);
    * ``totals``: the sums over every bid (not just the page), the number of supported
      schools, the overall cost per supported school (over the bids that hold money), the
      average review score and the count of each impact rating, aggregated in SQL;
    * ``fund``: the fund's ledger when ``fund_id`` is given, else ``None``;
    * ``money``, ``bought``, ``outcomes``, ``targeting``, ``timeliness``, ``by_council`` (the
      lead schools' member councils): see their modules;
      each row also has its ``measures`` with their results, read in one query;
    * ``filters``: what was applied; ``options``: the local authorities and priority areas
      the fund's bids have, for choosing filters.

    A supported school is a partner marked ``supported``; when no partner is, the partners
    support the lead school, which is then the one supported school. Drafts never
    submitted are left out: they are not bids yet.
    """
    if fund_id is not None and viewer is not None:
        fund_or_404(fund_id, viewer)
    within = organisation_funds(viewer) if viewer is not None else None
    scope = Scope.of(fund_id, date_from, date_to, local_authority, priority_area, within=within)
    fund = fund_or_404(fund_id) if fund_id is not None else None
    # Each bid's figures, worked out once (a temporary table) for every aggregate below.
    committed = value_bids.materialise(bid_figures(scope, aggregates=True))
    summary = _summary(scope, page, per_page, committed)
    money = summary["money"]
    schools = value_targeting.school_figures(committed)
    # What the schools and priority areas need: the awarded bids' figures alone.
    awards = value_bids.awarded(committed)
    report = {
        **summary,
        "bought": value_bought.bought(scope, fund, committed, schools, money["committed_pence"]),
        "outcomes": value_outcomes.outcomes(scope, money["committed_pence"], awards),
        "targeting": value_targeting.targeting(schools, money["committed_pence"]),
        "timeliness": value_timeliness.timeliness(scope),
        "by_council": value_councils.by_council(scope, committed),
        "filters": scope.echo(),
        "options": options(fund_id, within),
    }
    value_bids.drop(committed)
    return report


def value_summary(fund_id: int, page: int = 1, per_page: int | None = None) -> dict[str, Any]:
    """The part of :func:`value_for_money` a fund's ledger page shows: ``fund_id``, ``fund``,
    ``totals``, one page of ``rows``, ``page``, ``per_page``, ``total`` and ``money``, without
    what the value-for-money view adds (what it bought, outcomes, targeting, timeliness),
    so the ledger costs a third of the whole report."""
    return _summary(Scope.of(fund_id, None, None, None, None), page, per_page)


def _summary(scope: Scope, page: int, per_page: int | None, bids: Any = None) -> dict[str, Any]:
    """``bids``: the per-bid figures when already worked out (:mod:`.value_bids`)."""
    fund = fund_or_404(scope.fund_id) if scope.fund_id is not None else None
    totals, held = _totals(bids if bids is not None else bid_figures(scope).subquery())
    rows = _page_rows(scope, page, per_page)
    measures = value_outcomes.measures_of([r["application_id"] for r in rows])
    return {
        "fund_id": scope.fund_id,
        "fund": _fund_ledger(fund) if fund is not None else None,
        "totals": totals,
        "rows": [_row(r, measures.get(r["application_id"], [])) for r in rows],
        "page": page,
        "per_page": per_page,
        "total": totals["applications"],
        "money": value_money.money(scope, fund, held),
    }


#: Bids fetched per round trip by :func:`value_for_money_rows` (their measures are read per batch).
ROWS_BATCH = 500


def value_for_money_rows(
    fund_id: int | None = None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    local_authority: str | None = None,
    priority_area: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every per-bid row of :func:`value_for_money` (the same filters, the same row keys,
    by reference) without the rest of the report, for a file: one SELECT read
    :data:`ROWS_BATCH` rows at a time (a server-side cursor on PostgreSQL) when the first
    is asked for, and each batch's measures in one more query. Nothing runs (not even the
    filters' check) until the first row is asked for: check the fund and the filters first."""
    scope = Scope.of(fund_id, date_from, date_to, local_authority, priority_area)
    query = bid_figures(scope).order_by(Application.reference)
    streamed = query.execution_options(yield_per=ROWS_BATCH, stream_results=True)
    result = db.session.connection().execute(streamed)
    try:
        for batch in result.partitions():
            rows = [dict(r._mapping) for r in batch]
            measures = value_outcomes.measures_of([r["application_id"] for r in rows])
            yield from (_row(r, measures.get(r["application_id"], [])) for r in rows)
    finally:
        result.close()


def _page_rows(scope: Scope, page: int, per_page: int | None) -> list[dict[str, Any]]:
    """One page of the per-bid rows, by reference. The page's bids are found first (an index
    walk by reference) so that their figures are worked out for them alone."""
    if per_page is None:
        query = bid_figures(scope)
    else:
        ids = list(
            db.session.execute(
                select(Application.id)
                .where(*scope.bid_conditions())
                .order_by(Application.reference)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).scalars()
        )
        if not ids:
            return []
        query = bid_figures(scope, ids)
    return [dict(r._mapping) for r in db.session.execute(query.order_by(Application.reference))]


def bid_figures(scope: Scope, ids: Any = None, *, aggregates: bool = False) -> Select:
    """One row per submitted bid of ``scope`` (or of ``ids`` among them) with its money,
    latest review score and impact rating, read from its kept running figures
    (:mod:`fundflow.services.bid_figures`). The whole report gathers them once for every bid
    (:mod:`.value_bids`), with ``aggregates=True``: without the lead school's URN and name,
    which only the rows show, and with ``claimed_days`` (the days on its verified and paid
    claims)."""
    kept = BidFigures
    paid_pence = func.coalesce(kept.paid_pence, 0)
    committed = case(
        (Application.status.in_(COMMITTED_AT_AWARD), func.coalesce(Application.awarded_pence, 0)),
        (Application.status.in_(COMMITTED_AT_PAID), paid_pence),
        else_=0,
    )
    conditions = [*scope.bid_conditions(), *([Application.id.in_(ids)] if ids is not None else [])]
    # The rows show the lead school; the report's aggregates need the days claimed instead.
    shown = [
        School.nation.label("lead_school_nation"),
        School.identifier.label("lead_school_identifier"),
        School.urn.label("lead_school_urn"),
        School.name.label("lead_school_name"),
    ]
    query = select(
        Application.id.label("application_id"),
        Application.reference,
        Application.title,
        Application.fund_id,
        *([] if aggregates else shown),
        Application.status,
        Application.requested_pence,
        Application.awarded_pence,
        func.coalesce(kept.claimed_pence, 0).label("claimed_pence"),
        paid_pence.label("paid_pence"),
        committed.label("committed_pence"),
        kept.value_for_money_score,
        kept.impact_rating,
        func.coalesce(kept.supported_partners, 0).label("supported_partners"),
        *([func.coalesce(kept.claimed_days, 0).label("claimed_days")] if aggregates else []),
    )
    if not aggregates:
        query = query.join(School, School.id == Application.lead_school_id)
    return query.outerjoin(kept, kept.application_id == Application.id).where(*conditions)


def _row(values: dict[str, Any], measures: list[dict[str, Any]]) -> dict[str, Any]:
    row = dict(values)
    row.pop("application_id")
    row["measures"] = measures
    supported_partners = int(row.pop("supported_partners"))
    for key in ("claimed_pence", "paid_pence", "committed_pence"):
        row[key] = int(row[key] or 0)
    row["supported_schools"] = supported_partners or 1
    row["cost_per_supported_school_pence"] = (
        round(row["committed_pence"] / row["supported_schools"]) if row["committed_pence"] else None
    )
    return row


def _totals(bids: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """The report's totals over every bid of ``bids`` (the per-bid rows as a subquery), in
    one query: the same sums the rows would give, without loading them. Also the money the
    bids hold for ``money``: ``awarded``, ``waiting`` (for a countersignature), ``committed``."""
    c = bids.c
    holds_money = c.committed_pence != 0
    schools = case((c.supported_partners > 0, c.supported_partners), else_=1)

    row = db.session.execute(
        select(
            func.count().label("applications"),
            total(c.requested_pence).label("requested_pence"),
            # An award waiting for its countersignature is not yet made.
            sum_if(c.status.in_(AWARDED_STATUSES), c.awarded_pence).label("awarded_pence"),
            sum_if(c.status.in_(AWAITING_COUNTERSIGN_STATUSES), c.awarded_pence).label("waiting_pence"),
            total(c.claimed_pence).label("claimed_pence"),
            total(c.paid_pence).label("paid_pence"),
            total(c.committed_pence).label("committed_pence"),
            sum_if(holds_money, schools).label("supported_schools"),
            total(c.value_for_money_score).label("score_sum"),
            func.count(c.value_for_money_score).label("score_count"),
            *(count_if(c.impact_rating == rating).label(f"rating_{i}") for i, rating in enumerate(RATINGS)),
        )
    ).one()
    committed, supported = int(row.committed_pence), int(row.supported_schools)
    held = {"awarded": int(row.awarded_pence), "waiting": int(row.waiting_pence), "committed": committed}
    return {
        "applications": int(row.applications),
        "requested_pence": int(row.requested_pence),
        "awarded_pence": int(row.awarded_pence),
        "claimed_pence": int(row.claimed_pence),
        "paid_pence": int(row.paid_pence),
        "committed_pence": committed,
        "supported_schools": supported,
        "cost_per_supported_school_pence": round(committed / supported) if supported else None,
        "average_value_for_money_score": (
            round(int(row.score_sum) / row.score_count, 2) if row.score_count else None
        ),
        "impact_ratings": {rating: int(getattr(row, f"rating_{i}")) for i, rating in enumerate(RATINGS)},
    }, held


def _fund_ledger(fund: Fund) -> dict[str, Any]:
    books = ledger.ledger(fund.id)
    return {
        "id": fund.id,
        "name": fund.name,
        "budget_pence": books.budget_pence,
        "committed_pence": books.committed_pence,
        "paid_pence": books.paid_pence,
        "available_pence": books.available_pence,
    }
