"""The value-for-money report's ``money``: the fund's money from budget to payment, adding
up (budget = committed + available; committed = paid + still to pay; awarded = committed +
released), and spend over time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import BackfillClaim, Disbursement, Fund
from .value_scope import Scope
from .value_sql import month_of


def money(scope: Scope, fund: Fund | None, held: dict[str, int]) -> dict[str, Any]:
    """``held``: what the report's bids hold (worked out with its totals): ``awarded`` awards
    made (countersigned where needed), ``waiting`` awards waiting for their second signature
    (not yet committed), ``committed`` what the bids hold of the fund (the ledger's rule).
    ``budget_pence`` is the fund's (every fund's without one); ``paid_pence`` net of
    reversals, in the date range when there is one; ``released_pence`` the unspent rest of
    finished or cancelled awards."""
    if fund is not None:
        budget = fund.budget_pence
    else:
        budget = db.session.execute(select(func.coalesce(func.sum(Fund.budget_pence), 0))).scalar_one()
    months = spend_over_time(scope)
    awarded, committed = held["awarded"], held["committed"]
    paid = months[-1]["cumulative_paid_pence"] if months else 0
    return {
        "budget_pence": int(budget),
        "awarded_pence": awarded,
        "awaiting_countersignature_pence": held["waiting"],
        "committed_pence": committed,
        "paid_pence": paid,
        "still_to_pay_pence": committed - paid,
        "released_pence": awarded - committed,
        "available_pence": int(budget) - committed,
        "spend_over_time": months,
    }


def spend_over_time(scope: Scope) -> list[dict[str, Any]]:
    """Net payments to the bids by month paid (months with payments, in order), with the
    running total, in one statement."""
    month = month_of(Disbursement.paid_on).label("month")
    monthly = (
        select(month, func.sum(Disbursement.amount_pence).label("paid"))
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .where(BackfillClaim.application_id.in_(scope.bid_ids()))
        .where(*scope.paid_conditions(Disbursement.paid_on))
        .group_by(month)
        .subquery()
    )
    rows = db.session.execute(
        select(
            monthly.c.month,
            monthly.c.paid,
            func.sum(monthly.c.paid).over(order_by=monthly.c.month).label("cumulative"),
        ).order_by(monthly.c.month)
    )
    return [
        {"month": r.month, "paid_pence": int(r.paid), "cumulative_paid_pence": int(r.cumulative)}
        for r in rows
    ]
