"""The value-for-money report's ``timeliness``: was it run well? Median days from a bid's
submission to its decision and from a claim to its first payment, and how the awards kept
their impact report schedule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import Application, BackfillClaim, Disbursement, ScheduleItem
from ..services.clock import today
from ..services.queries.auditor import REPORT_ITEM_KINDS, report_tallies
from .value_scope import Scope
from .value_sql import days_between, median


def timeliness(scope: Scope) -> dict[str, Any]:
    """Decisions: the bids covered that were approved (countersignature pending or not) or
    rejected. Payments: claims on them with a payment, counted from the claim to its first
    payment (in the date range when there is one). Reports: the awards' interim and final
    report schedule items, sent on time, sent late, overdue and not sent, or waived."""
    decided = (
        select(days_between(Application.submitted_at, Application.decided_at).label("days"))
        .where(*scope.bid_conditions(), Application.decided_at.is_not(None))
        .subquery()
    )
    # Each claim with its first payment, reading the claims once (grouped by claim).
    first_paid_on = func.min(Disbursement.paid_on)
    claims_paid = (
        select(days_between(BackfillClaim.created_at, first_paid_on).label("days"))
        .join(Disbursement, Disbursement.claim_id == BackfillClaim.id)
        .where(BackfillClaim.application_id.in_(scope.bid_ids()), Disbursement.amount_pence > 0)
        .group_by(BackfillClaim.id, BackfillClaim.created_at)
    )
    for condition in scope.paid_conditions(first_paid_on):
        claims_paid = claims_paid.having(condition)
    paid = claims_paid.subquery()
    decision_days, decisions = median(decided)
    payment_days, payments = median(paid)
    on_time, late, overdue, waived = db.session.execute(
        select(*report_tallies(today())).where(
            ScheduleItem.kind.in_(REPORT_ITEM_KINDS), ScheduleItem.application_id.in_(scope.bid_ids())
        )
    ).one()
    return {
        "median_days_to_decision": decision_days,
        "median_days_claim_to_payment": payment_days,
        "decisions": decisions,
        "payments": payments,
        "reports": {
            "on_time": int(on_time),
            "late": int(late),
            "overdue": int(overdue),
            "waived": int(waived),
        },
    }
