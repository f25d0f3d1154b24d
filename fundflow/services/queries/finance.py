"""Read-only queries behind the finance pages: claims waiting to be paid and the payments
made (the funds their filter offers come from :mod:`.funds`). Lists load their related rows
in a fixed number of queries whatever the page size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import Application, BackfillClaim, Disbursement, User
from ...workflow import PAYABLE_CLAIM_STATUSES
from ..access import in_organisation
from ..ledger import claim_paid_pence
from .aggregates import sum_if
from .paging import page_of


def _without_bid_details(*path: Any) -> list[Any]:
    """Lists show a bid's reference, school and fund (joined), not its partners, activities
    or measures: skip the select-in loads those collections would otherwise run. ``path``
    leads from the listed row to its application."""
    application = joinedload(path[0])
    for step in path[1:]:
        application = application.joinedload(step)
    return [
        application.lazyload(getattr(Application, name)) for name in ("partners", "activities", "measures")
    ]


def _fund_of_claim() -> Any:
    """The fund of a claim's bid, looked up by the bid's key for each claim (a correlated
    subquery): counting a page's worth of claims then never reads every bid, as a join
    of claims and bids, hashed, would."""
    return (
        select(Application.fund_id)
        .where(Application.id == BackfillClaim.application_id)
        .correlate(BackfillClaim)
        .scalar_subquery()
    )


def claims_to_pay(user: User, page: int, per_page: int) -> tuple[Pagination, dict[int, int]]:
    """Verified claims of ``user``'s organisation, oldest first, and the net amount already
    paid on each."""
    query = (
        select(BackfillClaim)
        .where(BackfillClaim.status.in_(PAYABLE_CLAIM_STATUSES), in_organisation(user, _fund_of_claim()))
        .options(*_without_bid_details(BackfillClaim.application))
        .order_by(BackfillClaim.id)
    )
    pagination = page_of(query, page, per_page)
    paid = claim_paid_pence(claim.id for claim in pagination.items)
    return pagination, paid


def unpaid_pence(claim: BackfillClaim) -> int:
    """What is left to pay on one claim."""
    return claim.amount_pence - claim_paid_pence([claim.id])[claim.id]


def payments(user: User, fund_id: int | None, page: int, per_page: int) -> Pagination:
    """Disbursements and reversals of ``user``'s organisation (of one fund of it, if given),
    newest first, with who recorded them and any reversal."""
    query = (
        select(Disbursement)
        .where(in_organisation(user, Disbursement.fund_id, fund_id))
        .options(
            selectinload(Disbursement.recorded_by),
            selectinload(Disbursement.reversed_by),
            selectinload(Disbursement.reverses),
            *_without_bid_details(Disbursement.claim, BackfillClaim.application),
        )
        .order_by(Disbursement.id.desc())
    )
    return page_of(query, page, per_page)


@dataclass(frozen=True)
class PaymentTotals:
    count: int
    paid_pence: int
    reversed_pence: int

    @property
    def net_pence(self) -> int:
        return self.paid_pence + self.reversed_pence


def payment_totals(user: User, fund_id: int | None) -> PaymentTotals:
    """Counts and sums over every payment of ``payments``' list, in one aggregate query."""
    query = select(
        func.count(Disbursement.id),
        sum_if(Disbursement.amount_pence > 0, Disbursement.amount_pence),
        sum_if(Disbursement.amount_pence < 0, Disbursement.amount_pence),
    )
    count, paid, reversed_ = db.session.execute(
        query.where(in_organisation(user, Disbursement.fund_id, fund_id))
    ).one()
    return PaymentTotals(int(count), int(paid), int(reversed_))
