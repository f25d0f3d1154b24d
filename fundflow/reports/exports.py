"""CSV exports for publishing and for other systems: the Local Government Transparency
Code spending file, the audit trail and finance's payments file. Each is one query."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Application, BackfillClaim, Disbursement, Event, Fund, School, User
from . import csvfile
from .access import fund_or_404

TRANSPARENCY_COLUMNS = (
    "Body",
    "Name of Body",
    "Date",
    "Transaction Number",
    "Invoice Number",
    "Amount",
    "Supplier Name",
    "Supplier ID",
    "Expense Area",
    "Expense Type",
    # A reversal's row names the payment it reverses; empty on a payment's own row.
    "Reverses Transaction Number",
    "Reverses Payment Date",
)
EXPENSE_TYPE = "School improvement backfill grant"

AUDIT_COLUMNS = (
    "id",
    "seq",
    "at",
    "actor_email",
    "action",
    "subject_type",
    "subject_id",
    "application_reference",
    "fund_id",
    "from_status",
    "to_status",
    "payload",
    "prev_hash",
    "hash",
)

PAYMENT_COLUMNS = (
    "disbursement_id",
    "paid_on",
    "reference",
    "amount_pence",
    "amount",
    "reverses_id",
    "reverses_reference",
    "reverses_paid_on",
    "reason",
    "claim_id",
    "application_reference",
    "fund_id",
    "fund_name",
    "payee_urn",
    "payee_name",
    "recorded_by",
    "recorded_at",
)


def _iso_utc(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _payments(fund_id: int | None) -> Select:
    reversed_payment = aliased(Disbursement)
    query = (
        select(
            Disbursement.id,
            Disbursement.paid_on,
            Disbursement.reference,
            Disbursement.amount_pence,
            Disbursement.reverses_id,
            Disbursement.reason,
            Disbursement.claim_id,
            Disbursement.created_at,
            Application.reference.label("application_reference"),
            Fund.id.label("fund_id"),
            Fund.name.label("fund_name"),
            School.urn.label("payee_urn"),
            School.name.label("payee_name"),
            User.email.label("recorded_by"),
            reversed_payment.reference.label("reverses_reference"),
            reversed_payment.paid_on.label("reverses_paid_on"),
        )
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .join(Application, Application.id == BackfillClaim.application_id)
        .join(Fund, Fund.id == Disbursement.fund_id)
        .join(School, School.id == Disbursement.payee_school_id)
        .join(User, User.id == Disbursement.recorded_by_id)
        .outerjoin(reversed_payment, reversed_payment.id == Disbursement.reverses_id)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    if fund_id is not None:
        fund_or_404(fund_id)
        query = query.where(Disbursement.fund_id == fund_id)
    return query


def transparency_csv(fund_id: int | None, date_from: date | None, date_to: date | None) -> str:
    """Payments at or over the configured threshold (by absolute value), paid between
    ``date_from`` and ``date_to`` inclusive, in the Transparency Code layout. A reversal is a
    negative row on the day it was recorded, carrying the transaction number and date of the
    payment it reverses; amounts are pounds with two decimals."""
    config = current_app.config
    query = _payments(fund_id).where(
        func.abs(Disbursement.amount_pence) >= config["TRANSPARENCY_THRESHOLD_PENCE"]
    )
    if date_from is not None:
        query = query.where(Disbursement.paid_on >= date_from)
    if date_to is not None:
        query = query.where(Disbursement.paid_on <= date_to)
    rows = (
        (
            config["FUNDER_ORG_ID"],
            config["FUNDER_ORG_NAME"],
            r.paid_on.isoformat(),
            csvfile.text(r.reference),
            f"{r.application_reference}/claim-{r.claim_id}",
            csvfile.pounds(r.amount_pence),
            csvfile.text(r.payee_name),
            f"GB-EDU-{r.payee_urn}",
            csvfile.text(r.fund_name),
            EXPENSE_TYPE,
            csvfile.text(r.reverses_reference) if r.reverses_reference else "",
            r.reverses_paid_on.isoformat() if r.reverses_paid_on else "",
        )
        for r in db.session.execute(query)
    )
    return csvfile.write(TRANSPARENCY_COLUMNS, rows)


def payments_csv(fund_id: int | None) -> str:
    """Every disbursement, reversals included (negative, with ``reverses_id`` and reason)."""
    rows = (
        (
            r.id,
            r.paid_on.isoformat(),
            csvfile.text(r.reference),
            r.amount_pence,
            csvfile.pounds(r.amount_pence),
            r.reverses_id,
            csvfile.text(r.reverses_reference) if r.reverses_reference else "",
            r.reverses_paid_on.isoformat() if r.reverses_paid_on else "",
            csvfile.text(r.reason),
            r.claim_id,
            r.application_reference,
            r.fund_id,
            csvfile.text(r.fund_name),
            r.payee_urn,
            csvfile.text(r.payee_name),
            r.recorded_by,
            _iso_utc(r.created_at),
        )
        for r in db.session.execute(_payments(fund_id))
    )
    return csvfile.write(PAYMENT_COLUMNS, rows)


def audit_trail_csv(fund_id: int | None) -> str:
    """The audit trail in chain order: every event of the fund (its rules and its bids), or
    every event when ``fund_id`` is None. Hashes are included so the chain can be checked."""
    query = (
        select(Event, Application.reference)
        .outerjoin(Application, Application.id == Event.application_id)
        .order_by(Event.seq)
    )
    if fund_id is not None:
        fund_or_404(fund_id)
        query = query.where(Event.fund_id == fund_id)
    rows = (
        (
            event.id,
            event.seq,
            _iso_utc(event.at),
            event.actor_email,
            event.action,
            event.subject_type,
            event.subject_id,
            reference,
            event.fund_id,
            event.from_status,
            event.to_status,
            csvfile.text(json.dumps(event.payload or {}, sort_keys=True, ensure_ascii=False)),
            event.prev_hash,
            event.hash,
        )
        for event, reference in db.session.execute(query.execution_options(yield_per=1000))
    )
    return csvfile.write(AUDIT_COLUMNS, rows)


def application_events(application: Application) -> list[Event]:
    """An application's audit trail, oldest first."""
    return list(
        db.session.execute(
            select(Event).where(Event.application_id == application.id).order_by(Event.seq)
        ).scalars()
    )
