"""A fund's ledger, derived in SQL every time and never stored twice.

* paid: every disbursement against the fund, reversals (negative rows) included;
* committed: each application's award while ``approved``, and what was actually paid to
  it once it is ``monitoring``, ``closed`` or ``cancelled`` (the unspent rest is released);
* available: budget − committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from ..extensions import db
from ..models import Application, BackfillClaim, Disbursement, Fund
from ..workflow import COMMITTED_AT_AWARD, COMMITTED_AT_PAID, COUNTED_CLAIM_STATUSES


@dataclass(frozen=True)
class Ledger:
    fund_id: int
    budget_pence: int
    committed_pence: int
    paid_pence: int

    @property
    def available_pence(self) -> int:
        return self.budget_pence - self.committed_pence


def ledgers(fund_ids: Iterable[int] | None = None) -> dict[int, Ledger]:
    """Ledgers for the given funds (all funds when None) in three aggregate queries."""
    funds_q = select(Fund.id, Fund.budget_pence)
    if fund_ids is not None:
        fund_ids = list(fund_ids)
        if not fund_ids:
            return {}
        funds_q = funds_q.where(Fund.id.in_(fund_ids))
    budgets = dict(db.session.execute(funds_q).all())
    ids = list(budgets)

    awarded = dict(
        db.session.execute(
            select(Application.fund_id, func.coalesce(func.sum(Application.awarded_pence), 0))
            .where(Application.fund_id.in_(ids), Application.status.in_(COMMITTED_AT_AWARD))
            .group_by(Application.fund_id)
        ).all()
    )
    settled = case((Application.status.in_(COMMITTED_AT_PAID), Disbursement.amount_pence), else_=0)
    paid_rows = db.session.execute(
        select(
            Disbursement.fund_id,
            func.coalesce(func.sum(Disbursement.amount_pence), 0),
            func.coalesce(func.sum(settled), 0),
        )
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .join(Application, Application.id == BackfillClaim.application_id)
        .where(Disbursement.fund_id.in_(ids))
        .group_by(Disbursement.fund_id)
    ).all()
    paid = {row[0]: (int(row[1]), int(row[2])) for row in paid_rows}
    return {
        fund_id: Ledger(
            fund_id=fund_id,
            budget_pence=int(budget),
            committed_pence=int(awarded.get(fund_id, 0)) + paid.get(fund_id, (0, 0))[1],
            paid_pence=paid.get(fund_id, (0, 0))[0],
        )
        for fund_id, budget in budgets.items()
    }


def ledger(fund_id: int) -> Ledger:
    return ledgers([fund_id])[fund_id]


def claims_by_application(
    ids: list[int], statuses: Iterable[str], aggregate: ColumnElement[Any]
) -> dict[int, Any]:
    """``aggregate`` (a sum or count over ``BackfillClaim``) of each application's claims in
    ``statuses``; an application with none is missing from the answer."""
    return dict(
        db.session.execute(
            select(BackfillClaim.application_id, aggregate)
            .where(BackfillClaim.application_id.in_(ids), BackfillClaim.status.in_(statuses))
            .group_by(BackfillClaim.application_id)
        ).all()
    )


def application_money(application_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(claimed_pence, paid_pence) per application: verified-or-paid claims, net payments."""
    ids = list(application_ids)
    if not ids:
        return {}
    claimed = claims_by_application(ids, COUNTED_CLAIM_STATUSES, func.sum(BackfillClaim.amount_pence))
    paid = dict(
        db.session.execute(
            select(BackfillClaim.application_id, func.sum(Disbursement.amount_pence))
            .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
            .where(BackfillClaim.application_id.in_(ids))
            .group_by(BackfillClaim.application_id)
        ).all()
    )
    return {i: (int(claimed.get(i) or 0), int(paid.get(i) or 0)) for i in ids}


def claim_paid_pence(claim_ids: Iterable[int]) -> dict[int, int]:
    """Net amount paid per claim."""
    ids = list(claim_ids)
    if not ids:
        return {}
    rows = dict(
        db.session.execute(
            select(Disbursement.claim_id, func.sum(Disbursement.amount_pence))
            .where(Disbursement.claim_id.in_(ids))
            .group_by(Disbursement.claim_id)
        ).all()
    )
    return {i: int(rows.get(i) or 0) for i in ids}
