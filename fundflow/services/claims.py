"""Backfill claims: a school claims the cost of releasing staff; a liaison officer verifies
or rejects it. Payment is in :mod:`fundflow.services.payments`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import Application, BackfillClaim, User, utcnow
from ..workflow import CLAIM_LIFECYCLE, GuardContext
from . import audit, evidence
from .applications import MAX_DAYS, activity_cost_pence
from .clock import today
from .errors import InvalidTransition, NotPermitted, Problems, ValidationFailed
from .ledger import claim_paid_pence
from .lifecycle import fire
from .parsing import is_half_days, text_field, to_date, to_decimal
from .unit_of_work import lock, retrying, transaction

LIVE_CLAIM_STATUSES = ("pending", "verified", "paid")


@dataclass(frozen=True)
class ClaimInput:
    period_start: date | str | None
    period_end: date | str | None
    staff_released: str | None
    days: Decimal | float | int | str | None
    amount_pence: int | None
    evidence: evidence.Upload | None = None


def _claims_total(application: Application, statuses: tuple[str, ...]) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(BackfillClaim.amount_pence), 0)).where(
                BackfillClaim.application_id == application.id,
                BackfillClaim.status.in_(statuses),
            )
        ).scalar_one()
    )


@retrying
def create_claim(user: User, application: Application, data: ClaimInput) -> BackfillClaim:
    """The lead headteacher claims backfill while the award is approved."""
    with transaction():
        application = lock(Application, application.id)
        if not (user.has_role("headteacher") and user.school_id == application.lead_school_id):
            raise NotPermitted("Only the lead school's headteacher can claim backfill")
        if application.status != "approved":
            raise InvalidTransition("Claims are only accepted while the award is approved")
        problems = Problems()
        start, end = to_date(data.period_start), to_date(data.period_end)
        if start is None:
            problems.add("period_start", "Enter the first day of release as YYYY-MM-DD")
        if end is None:
            problems.add("period_end", "Enter the last day of release as YYYY-MM-DD")
        if start and end and end < start:
            problems.add("period_end", "The last day must be on or after the first day")
        if end and end > today():
            problems.add("period_end", "You can only claim for days that have happened")
        staff = text_field(problems, "staff_released", data.staff_released, required=True, limit=300)
        days = to_decimal(data.days)
        if days is None or days <= 0 or not is_half_days(days):
            problems.add("days", "Enter the days released, in whole or half days")
            days = None
        elif days > MAX_DAYS:
            problems.add("days", f"Claim at most {MAX_DAYS} days at a time")
            days = None
        elif start and end and days > (end - start).days + 1:
            problems.add("days", "The days released cannot be more than the days in the period")
        amount = data.amount_pence
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            problems.add("amount_pence", "Enter the amount in pence, more than 0")
        else:
            cap = application.fund.max_daily_rate_pence
            if days is not None and amount > activity_cost_pence(days, cap):
                problems.add(
                    "amount_pence",
                    f"The fund pays at most £{cap / 100:,.2f} a day: "
                    f"£{activity_cost_pence(days, cap) / 100:,.2f} for {days} days",
                )
            left = (application.awarded_pence or 0) - _claims_total(application, LIVE_CLAIM_STATUSES)
            if amount > left:
                problems.add("amount_pence", f"Only £{max(left, 0) / 100:,.2f} of the award is left to claim")
        stored = evidence.store_if_given(data.evidence, user, problems)
        problems.raise_if_any()
        claim = BackfillClaim(
            application_id=application.id,
            status="pending",
            period_start=start,
            period_end=end,
            staff_released=staff,
            days=days,
            amount_pence=amount,
            evidence=stored,
            created_by_id=user.id,
        )
        db.session.add(claim)
        db.session.flush()
        audit.record_event(
            actor=user,
            action="create_claim",
            subject_type="claim",
            subject_id=claim.id,
            application_id=application.id,
            fund_id=application.fund_id,
            to_status="pending",
            payload={
                "amount_pence": amount,
                "days": str(days),
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "evidence_sha256": stored.sha256 if stored else None,
            },
        )
    return claim


@retrying
def decide_claim(user: User, claim: BackfillClaim, action: str, comment: str = "") -> BackfillClaim:
    """A liaison officer verifies or rejects a claim."""
    if action not in ("verify", "reject"):
        raise ValidationFailed({"action": ["Choose verify or reject"]}, code="unknown_action")
    comment = (comment or "").strip()
    with transaction():
        application = lock(Application, claim.application_id)
        claim = lock(BackfillClaim, claim.id)
        ctx = GuardContext(record=claim, user=user, today=today(), comment=comment)
        if action == "verify":
            ctx.verified_claims_pence = _claims_total(application, ("verified", "paid"))
        else:
            ctx.claim_paid_pence = claim_paid_pence([claim.id])[claim.id]
        from_status, to_status = fire(CLAIM_LIFECYCLE, action, ctx)
        claim.decision_comment = comment
        if action == "verify":
            claim.verified_by_id = user.id
            claim.verified_at = utcnow()
        payload = {"amount_pence": claim.amount_pence}
        if comment:
            payload["comment"] = comment
        audit.record_event(
            actor=user,
            action=action,
            subject_type="claim",
            subject_id=claim.id,
            application_id=application.id,
            fund_id=application.fund_id,
            from_status=from_status,
            to_status=to_status,
            payload=payload,
        )
    return claim
