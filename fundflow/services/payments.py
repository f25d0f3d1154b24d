"""Disbursements: finance pays verified claims, and reverses a wrong payment with a reason.

Paying locks the application and then the claim row, so simultaneous attempts to pay the
same claim queue up and only the first finds money outstanding.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..dates import long_date
from ..extensions import db
from ..models import Application, BackfillClaim, Disbursement, User
from ..workflow import CLAIM_LIFECYCLE, CLAIM_OPERATIONS_LIFECYCLE, GuardContext
from . import audit, school_lookup
from .clock import today
from .errors import Conflict, InvalidTransition, Problems, ValidationFailed
from .firing import fire, require_role
from .parsing import clean_text, to_date
from .unit_of_work import lock, retrying, transaction

REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,59}$")
REASON_MAX = 2000


@dataclass(frozen=True)
class DisbursementInput:
    amount_pence: int | None
    paid_on: date | str | None
    reference: str | None


def _paid_on_claim(claim_id: int) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Disbursement.amount_pence), 0)).where(
                Disbursement.claim_id == claim_id
            )
        ).scalar_one()
    )


def _reference_taken(fund_id: int, reference: str) -> bool:
    return (
        db.session.execute(
            select(Disbursement.id).where(
                Disbursement.fund_id == fund_id, Disbursement.reference == reference
            )
        ).first()
        is not None
    )


def _reversal_reference(fund_id: int, reference: str) -> str:
    """``<reference>-REV`` (or -REV2, -REV3 … if a payment already uses it), within 60 characters.

    Cutting ``<reference>-REV`` at 60 characters gave a long reference back unchanged, and a
    reference someone had already typed made the reversal look like a second one."""
    for n in itertools.count(1):
        suffix = "-REV" if n == 1 else f"-REV{n}"
        candidate = reference[: 60 - len(suffix)] + suffix
        if not _reference_taken(fund_id, candidate):
            return candidate
    raise AssertionError("unreachable")


def _before_verification(claim: BackfillClaim, paid_on: date) -> str | None:
    """Why ``paid_on`` cannot be the date of a payment of ``claim``: before it was verified."""
    verified_on = claim.verified_at.date() if claim.verified_at else None
    if verified_on and paid_on < verified_on:
        verified = long_date(verified_on)
        return f"The payment date must be on or after the day the claim was verified, {verified}"
    return None


def check_disbursement(claim: BackfillClaim, data: DisbursementInput) -> tuple[int, date, str]:
    """The amount, date and reference of a payment of ``claim``, checked; raises
    :class:`ValidationFailed` with every problem in them and writes nothing, so a payment form
    with its own errors shows these as well. :func:`record_disbursement` checks the rest (the
    claim's state, what is unpaid, a reference used before) on the locked rows."""
    problems = Problems()
    amount = data.amount_pence
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        problems.add("amount_pence", "Enter the amount paid in pence, more than 0")
    paid_on = to_date(data.paid_on)
    if paid_on is None:
        problems.add("paid_on", "Enter the payment date as YYYY-MM-DD")
    elif paid_on > today():
        problems.add("paid_on", "The payment date cannot be in the future")
    elif message := _before_verification(claim, paid_on):
        problems.add("paid_on", message)
    reference = (data.reference or "").strip() if isinstance(data.reference, str) else ""
    if not REFERENCE_PATTERN.match(reference):
        problems.add("reference", "Enter the payment reference: letters, numbers, / _ . - (up to 60)")
    problems.raise_if_any()
    return amount, paid_on, reference  # type: ignore[return-value]


@retrying
def record_disbursement(user: User, claim: BackfillClaim, data: DisbursementInput) -> Disbursement:
    """Record money paid against a verified claim; the claim is paid once fully settled."""
    require_role(CLAIM_OPERATIONS_LIFECYCLE, "record_payment", user)
    amount, paid_on, reference = check_disbursement(claim, data)
    try:
        with transaction():
            application = lock(Application, claim.application_id)
            claim = lock(BackfillClaim, claim.id)
            paid_so_far = _paid_on_claim(claim.id)
            ctx = GuardContext(
                record=claim, user=user, today=today(), amount_pence=amount, claim_paid_pence=paid_so_far
            )
            fire(CLAIM_OPERATIONS_LIFECYCLE, "record_payment", ctx)  # who, state, award, amount unpaid
            if message := _before_verification(claim, paid_on):  # checked again on the locked row
                raise ValidationFailed({"paid_on": [message]})
            outstanding = claim.amount_pence - paid_so_far
            if _reference_taken(application.fund_id, reference):
                raise Conflict(
                    f"Payment reference {reference} is already used in this fund", code="duplicate_reference"
                )
            disbursement = Disbursement(
                claim_id=claim.id,
                fund_id=application.fund_id,
                amount_pence=amount,
                paid_on=paid_on,
                reference=reference,
                payee_school_id=application.lead_school_id,
                recorded_by_id=user.id,
            )
            db.session.add(disbursement)
            db.session.flush()
            # paid in full, the claim moves to paid; a part payment leaves it where it is
            moved = (
                fire(CLAIM_LIFECYCLE, "pay", ctx) if amount == outstanding else (claim.status, claim.status)
            )
            paid = {
                "disbursement_id": disbursement.id,
                "amount_pence": amount,
                "paid_on": paid_on.isoformat(),
                "reference": reference,
                **school_lookup.audit_words(application.lead_school, "payee_urn", "payee"),
            }
            audit.record(user, "record_disbursement", claim, transition=moved, payload=paid)
    except IntegrityError:
        raise Conflict(
            f"Payment reference {reference} is already used in this fund", code="duplicate_reference"
        ) from None
    return disbursement


def _reason(problems: Problems, reason: str | None) -> str:
    """The reason for a reversal, trimmed; what is wrong with it goes on ``problems``."""
    reason = clean_text(reason)
    if not reason:
        problems.add("reason", "Give the reason for the reversal")
    elif len(reason) > REASON_MAX:
        problems.add("reason", "Use 2,000 characters or fewer")
    return reason


def _why_not_reversible(original: Disbursement) -> str | None:
    """Why ``original`` (a locked row) cannot be reversed: it is a reversal, or already reversed."""
    if original.is_reversal:
        return f"{original.reference} is a reversal: a reversal cannot be reversed"
    already = db.session.execute(
        select(Disbursement.reference).where(Disbursement.reverses_id == original.id)
    ).scalar()
    if already:
        return f"Payment {original.reference} has already been reversed by {already}"
    return None


def reverse_payment_of_claim(user: User, claim: BackfillClaim, reverses_id: int, reason: str) -> Disbursement:
    """A reversal on ``claim`` naming the payment it reverses (``reverses_id``): refused on
    that field (422) unless it is a payment of this claim, not a reversal, not already reversed.

    Only finance reverses: anyone else is refused (403) before the payment is looked for, so
    the answer does not depend on the ``reverses_id`` they send."""
    require_role(CLAIM_OPERATIONS_LIFECYCLE, "record_reversal", user)
    problems = Problems()
    original = db.session.get(Disbursement, reverses_id) if isinstance(reverses_id, int) else None
    if original is None:
        problems.add("reverses_id", f"Choose a payment of claim {claim.id} to reverse")
    _reason(problems, reason)
    problems.raise_if_any()
    return reverse_disbursement(user, original, reason, claim_id=claim.id)


@retrying
def reverse_disbursement(
    user: User, disbursement: Disbursement, reason: str, *, claim_id: int | None = None
) -> Disbursement:
    """Undo a payment with a negative row and a reason; the original is never changed.

    The reversal names the payment (``reverses_id``) and the transparency file carries its
    reference and date. A reversal, or a payment already reversed, cannot be reversed:
    409 (``invalid_state``) when the payment is named by its own address
    (``POST /disbursements/<id>/reverse``); when ``claim_id`` is given, the payment was named
    by ``reverses_id`` on that claim (:func:`reverse_payment_of_claim`), and it is 422 on that
    field, as is a payment of another claim."""
    require_role(CLAIM_OPERATIONS_LIFECYCLE, "record_reversal", user)
    problems = Problems()
    reason = _reason(problems, reason)
    problems.raise_if_any()
    try:
        with transaction():
            lock(Application, disbursement.claim.application_id)
            claim = lock(BackfillClaim, disbursement.claim_id)
            original = lock(Disbursement, disbursement.id)
            ctx = GuardContext(record=claim, user=user, today=today(), comment=reason)
            fire(CLAIM_OPERATIONS_LIFECYCLE, "record_reversal", ctx)
            if claim_id is not None and original.claim_id != claim_id:
                raise ValidationFailed(
                    {"reverses_id": [f"Payment {original.reference} is not a payment of claim {claim_id}"]}
                )
            if refusal := _why_not_reversible(original):
                if claim_id is not None:
                    raise ValidationFailed({"reverses_id": [refusal]})
                raise InvalidTransition(refusal)
            reversal = Disbursement(
                claim_id=claim.id,
                fund_id=original.fund_id,
                amount_pence=-original.amount_pence,
                paid_on=today(),
                reference=_reversal_reference(original.fund_id, original.reference),
                payee_school_id=original.payee_school_id,
                recorded_by_id=user.id,
                reverses_id=original.id,
                reason=reason,
            )
            db.session.add(reversal)
            db.session.flush()
            # reversing a payment in full takes the claim back from paid; a part one leaves it
            if CLAIM_LIFECYCLE.may("reverse_payment", ctx):
                moved = fire(CLAIM_LIFECYCLE, "reverse_payment", ctx)
            else:
                moved = (claim.status, claim.status)
            reversed_payment = {
                "disbursement_id": original.id,
                "reverses_reference": original.reference,
                "reverses_paid_on": original.paid_on.isoformat(),
                "reversal_id": reversal.id,
                "amount_pence": reversal.amount_pence,
                "reason": reason,
            }
            audit.record(user, "reverse_disbursement", claim, transition=moved, payload=reversed_payment)
    except IntegrityError:
        raise Conflict("This payment has already been reversed", code="duplicate_reference") from None
    return reversal
