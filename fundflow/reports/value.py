"""The value-for-money report: one row per bid with its money, its review score and its
impact rating, aggregated in SQL (a fixed number of queries however many bids)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from ..extensions import db
from ..models import (
    RATINGS,
    Application,
    ApplicationPartner,
    BackfillClaim,
    Disbursement,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    Review,
    School,
)
from ..services import ledger
from ..workflow import AWARDED_STATUSES, COMMITTED_AT_AWARD, COMMITTED_AT_PAID, COUNTED_CLAIM_STATUSES
from .access import fund_or_404


def value_for_money(fund_id: int | None = None, page: int = 1, per_page: int | None = None) -> dict[str, Any]:
    """Value for money of every bid ever submitted (in one fund, or in all).

    Returns ``{"fund_id", "fund", "totals", "rows", "page", "per_page", "total"}``:

    * ``rows``: per bid ``reference, title, fund_id, lead_school_urn, lead_school_name,
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
    * ``fund``: the fund's ledger when ``fund_id`` is given, else ``None``.

    A supported school is a partner marked ``supported``; when no partner is, the partners
    support the lead school, which is then the one supported school. Drafts never
    submitted are left out: they are not bids yet.
    """
    fund = fund_or_404(fund_id) if fund_id is not None else None
    query = _per_bid_rows(fund_id)
    totals = _totals(query.subquery())
    page_query = query.order_by(Application.reference)
    if per_page is not None:
        page_query = page_query.limit(per_page).offset((page - 1) * per_page)
    return {
        "fund_id": fund_id,
        "fund": _fund_ledger(fund) if fund is not None else None,
        "totals": totals,
        "rows": [_row(r._mapping) for r in db.session.execute(page_query)],
        "page": page,
        "per_page": per_page,
        "total": totals["applications"],
    }


def _per_bid_rows(fund_id: int | None) -> Select:
    """One row per submitted bid with its money, latest review score and impact rating."""
    claimed = _per_bid(
        BackfillClaim.application_id,
        func.sum(BackfillClaim.amount_pence).label("pence"),
        where=BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES),
    )
    paid = _per_bid(
        BackfillClaim.application_id,
        func.sum(Disbursement.amount_pence).label("pence"),
        join=(BackfillClaim, BackfillClaim.id == Disbursement.claim_id),
    )
    latest_review = _per_bid(Review.application_id, func.max(Review.id).label("review_id"))
    latest_evaluation = _per_bid(
        ImpactReport.application_id,
        func.max(ImpactEvaluation.id).label("evaluation_id"),
        join=(ImpactEvaluation, ImpactEvaluation.report_id == ImpactReport.id),
    )
    supported = _per_bid(
        ApplicationPartner.application_id,
        func.count(ApplicationPartner.id).label("schools"),
        where=ApplicationPartner.role == "supported",
    )
    paid_pence = func.coalesce(paid.c.pence, 0)
    committed = case(
        (Application.status.in_(COMMITTED_AT_AWARD), func.coalesce(Application.awarded_pence, 0)),
        (Application.status.in_(COMMITTED_AT_PAID), paid_pence),
        else_=0,
    )
    query = (
        select(
            Application.reference,
            Application.title,
            Application.fund_id,
            School.urn.label("lead_school_urn"),
            School.name.label("lead_school_name"),
            Application.status,
            Application.requested_pence,
            Application.awarded_pence,
            func.coalesce(claimed.c.pence, 0).label("claimed_pence"),
            paid_pence.label("paid_pence"),
            committed.label("committed_pence"),
            Review.value_for_money.label("value_for_money_score"),
            ImpactEvaluation.rating.label("impact_rating"),
            func.coalesce(supported.c.schools, 0).label("supported_partners"),
        )
        .join(School, School.id == Application.lead_school_id)
        .outerjoin(claimed, claimed.c.application_id == Application.id)
        .outerjoin(paid, paid.c.application_id == Application.id)
        .outerjoin(latest_review, latest_review.c.application_id == Application.id)
        .outerjoin(Review, Review.id == latest_review.c.review_id)
        .outerjoin(latest_evaluation, latest_evaluation.c.application_id == Application.id)
        .outerjoin(ImpactEvaluation, ImpactEvaluation.id == latest_evaluation.c.evaluation_id)
        .outerjoin(supported, supported.c.application_id == Application.id)
        .where(Application.submitted_at.is_not(None))
    )
    if fund_id is not None:
        query = query.where(Application.fund_id == fund_id)
    return query


def _per_bid(
    application_id: Any, value: Any, *, join: tuple[Any, Any] | None = None, where: Any = None
) -> Any:
    """A subquery of one labelled aggregate (``value``) per bid, keyed ``application_id``."""
    query = select(application_id.label("application_id"), value)
    if join is not None:
        query = query.join(*join)
    if where is not None:
        query = query.where(where)
    return query.group_by(application_id).subquery()


def _row(values: Any) -> dict[str, Any]:
    row = dict(values)
    supported_partners = int(row.pop("supported_partners"))
    for key in ("claimed_pence", "paid_pence", "committed_pence"):
        row[key] = int(row[key] or 0)
    row["supported_schools"] = supported_partners or 1
    row["cost_per_supported_school_pence"] = (
        round(row["committed_pence"] / row["supported_schools"]) if row["committed_pence"] else None
    )
    return row


def _totals(bids: Any) -> dict[str, Any]:
    """The report's totals over every bid of ``bids`` (the per-bid rows as a subquery), in
    one query: the same sums the rows would give, without loading them."""
    c = bids.c
    holds_money = c.committed_pence != 0
    schools = case((c.supported_partners > 0, c.supported_partners), else_=1)

    def total(value: Any) -> Any:
        return func.coalesce(func.sum(value), 0)

    def count_of(condition: Any) -> Any:
        return total(case((condition, 1), else_=0))

    row = db.session.execute(
        select(
            func.count().label("applications"),
            total(c.requested_pence).label("requested_pence"),
            # An award waiting for its countersignature is not yet made.
            total(case((c.status.in_(AWARDED_STATUSES), c.awarded_pence), else_=0)).label("awarded_pence"),
            total(c.claimed_pence).label("claimed_pence"),
            total(c.paid_pence).label("paid_pence"),
            total(c.committed_pence).label("committed_pence"),
            total(case((holds_money, schools), else_=0)).label("supported_schools"),
            total(c.value_for_money_score).label("score_sum"),
            func.count(c.value_for_money_score).label("score_count"),
            *(count_of(c.impact_rating == rating).label(f"rating_{i}") for i, rating in enumerate(RATINGS)),
        )
    ).one()
    committed, supported = int(row.committed_pence), int(row.supported_schools)
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
    }


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
