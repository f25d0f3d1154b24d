"""Backfill claims: a school claims the cost of releasing staff; a liaison officer verifies
or rejects it. Payment is in :mod:`fundflow.services.payments`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select

from ..dates import long_date
from ..extensions import db
from ..models import Application, BackfillClaim, User, utcnow
from ..workflow import (
    CLAIM_LIFECYCLE,
    COUNTED_CLAIM_STATUSES,
    LIVE_CLAIM_STATUSES,
    GuardContext,
)
from . import audit, evidence
from .applications import MAX_DAYS, activity_cost_pence
from .clock import today
from .errors import Problems, ValidationFailed
from .firing import fire, operate_on_bid
from .ledger import claim_paid_pence
from .parsing import is_half_days, text_field, to_date, to_decimal
from .unit_of_work import lock, retrying, transaction


@dataclass(frozen=True)
class ClaimInput:
    period_start: date | str | None
    period_end: date | str | None
    staff_released: str | None
    days: Decimal | float | int | str | None
    amount_pence: int | None
    evidence: evidence.Upload | None = None
    #: The person released (``staff_released`` is their role). Required; a default only so
    #: that positional callers of the older shape fail validation rather than the call.
    staff_name: str | None = None


def working_days(start: date, end: date) -> int:
    """Monday to Friday from ``start`` to ``end`` inclusive (bank holidays are not known)."""
    if end < start:
        return 0
    weeks, extra = divmod((end - start).days + 1, 7)
    return weeks * 5 + sum(1 for i in range(extra) if (start + timedelta(days=weeks * 7 + i)).weekday() < 5)


def same_person(name: str) -> str:
    """A staff name compared case- and space-insensitively."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def _claims_total(application: Application, statuses: tuple[str, ...]) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(BackfillClaim.amount_pence), 0)).where(
                BackfillClaim.application_id == application.id,
                BackfillClaim.status.in_(statuses),
            )
        ).scalar_one()
    )


def _check_period_within_award(
    problems: Problems, application: Application, start: date | None, end: date | None
) -> None:
    """Claims cover days from the award's approval to the earlier of today and the end of
    the fund's delivery period."""
    approved_on, delivery_end = application.approved_on, application.fund.delivery_ends_on
    if start and approved_on and start < approved_on:
        problems.add(
            "period_start",
            f"The award was approved on {long_date(approved_on)}: you can only claim for days from then on",
        )
    if end and end > today():
        problems.add("period_end", "You can only claim for days that have happened")
    elif end and delivery_end and end > delivery_end:
        problems.add(
            "period_end",
            f"The fund's delivery period ended on {long_date(delivery_end)}: "
            "you can only claim for days up to then",
        )


def _staff_name(problems: Problems, value: object) -> str:
    name = re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        problems.add("staff_name", "Enter text")
    elif not name:
        problems.add("staff_name", "Enter the name of the person released")
    elif len(name) > 200:
        problems.add("staff_name", "Use 200 characters or fewer")
    return name


def _check_overlaps(
    problems: Problems,
    application: Application,
    start: date,
    end: date,
    name: str,
    role: str,
    days: Decimal | None,
    amount: object,
) -> BackfillClaim | None:
    """A person is released once a day. Refuses an exact duplicate, or an overlap with
    another live claim on this bid for the same person; answers the first overlapping claim
    on another bid at the same school (possible double funding, to be flagged)."""
    candidates = (
        db.session.execute(
            select(BackfillClaim)
            .join(Application, Application.id == BackfillClaim.application_id)
            .where(
                Application.lead_school_id == application.lead_school_id,
                BackfillClaim.status.in_(LIVE_CLAIM_STATUSES),
                BackfillClaim.period_start <= end,
                BackfillClaim.period_end >= start,
            )
            .order_by(BackfillClaim.id)
        )
        .scalars()
        .all()
    )
    person = same_person(name)
    same = [c for c in candidates if same_person(c.staff_name) == person]
    for other in same:
        if other.application_id != application.id:
            continue
        claimed = (other.period_start, other.period_end, other.days, other.amount_pence)
        same_role = same_person(other.staff_released) == same_person(role)
        exact = same_role and claimed == (start, end, days, amount)
        when = f"{long_date(other.period_start)} to {long_date(other.period_end)}"
        if exact:
            problems.add(
                "period_start",
                f"This is the same as claim {other.id} ({other.staff_name}, {when}), "
                "already made on this bid",
            )
        else:
            problems.add(
                "period_start",
                f"{other.staff_name} is already claimed for {when} on this bid (claim {other.id}): "
                "a person can be claimed for once a day",
            )
        return None
    return next((c for c in same if c.application_id != application.id), None)


class _Claimed(NamedTuple):
    start: date
    end: date
    staff: str
    name: str
    days: Decimal
    amount: int
    overlapping: BackfillClaim | None


def _validated_claim(problems: Problems, application: Application, data: ClaimInput) -> _Claimed:
    """What ``data`` would record on ``application``: its period, role, person, days and
    amount, and another bid's claim it overlaps; problems go on ``problems``. Reads only."""
    start, end = to_date(data.period_start), to_date(data.period_end)
    if start is None:
        problems.add("period_start", "Enter the first day of release as YYYY-MM-DD")
    if end is None:
        problems.add("period_end", "Enter the last day of release as YYYY-MM-DD")
    if start and end and end < start:
        problems.add("period_end", "The last day must be on or after the first day")
    _check_period_within_award(problems, application, start, end)
    staff = text_field(problems, "staff_released", data.staff_released, required=True, limit=300)
    name = _staff_name(problems, data.staff_name)
    days = to_decimal(data.days)
    if days is None or days <= 0 or not is_half_days(days):
        problems.add("days", "Enter the days released, in whole or half days")
        days = None
    elif days > MAX_DAYS:
        problems.add("days", f"Claim at most {MAX_DAYS} days at a time")
        days = None
    elif start and end and start <= end and days > working_days(start, end):
        available = working_days(start, end)
        problems.add(
            "days",
            f"The days released cannot be more than the {available} working "
            f"day{'' if available == 1 else 's'} (Monday to Friday) from "
            f"{long_date(start)} to {long_date(end)}",
        )
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
    overlapping: BackfillClaim | None = None
    if start and end and start <= end and name:
        overlapping = _check_overlaps(problems, application, start, end, name, staff, days, amount)
    return _Claimed(start, end, staff, name, days, amount, overlapping)  # type: ignore[arg-type]


def check_claim(application: Application, data: ClaimInput) -> None:
    """Raise :class:`ValidationFailed` with every problem :func:`create_claim` would find in
    what was typed (the evidence file apart), saving nothing: a claim form with its own
    errors shows these as well, so the person sees everything wrong at once."""
    evidence.validate_with_evidence(lambda problems: _validated_claim(problems, application, data))


@retrying
def create_claim(user: User, application: Application, data: ClaimInput) -> BackfillClaim:
    """The lead headteacher claims backfill while the award is approved."""
    with transaction():
        application, _ = operate_on_bid(user, application, "create_claim")
        claimed, stored = evidence.validate_with_evidence(
            lambda problems: _validated_claim(problems, application, data), data.evidence, user
        )
        start, end, staff, name, days, amount, overlapping = claimed
        claim = BackfillClaim(
            application_id=application.id,
            status=CLAIM_LIFECYCLE.initial,
            period_start=start,
            period_end=end,
            staff_released=staff,
            staff_name=name,
            days=days,
            amount_pence=amount,
            evidence=stored,
            created_by_id=user.id,
            overlaps_claim_id=overlapping.id if overlapping else None,
        )
        db.session.add(claim)
        db.session.flush()
        audit.record(
            user,
            "create_claim",
            claim,
            transition=(None, claim.status),
            payload={
                "amount_pence": amount,
                "days": str(days),
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "staff_name": name,
                "evidence_sha256": stored.sha256 if stored else None,
                "overlaps_claim_id": overlapping.id if overlapping else None,
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
            ctx.verified_claims_pence = _claims_total(application, COUNTED_CLAIM_STATUSES)
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
        audit.record(user, action, claim, transition=(from_status, to_status), payload=payload)
    return claim
