"""CSV exports for publishing and for other systems: the Local Government Transparency
Code spending file, the audit trail and finance's payments file. Each is one query, read
in batches (a server-side cursor on PostgreSQL) and written in chunks: the ``*_chunks``
functions are what the downloads stream; the ``*_csv`` ones join them, for small uses.

Anything that must fail before the file starts (an unknown fund: 404) is checked when the
``*_chunks`` function is called, not when its first chunk is read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from .. import formatting
from ..extensions import db
from ..models import Application, BackfillClaim, Disbursement, Event, Fund, Organisation, School, User
from ..models.school import giving360_id
from ..services import access
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

#: The audit trail as people read it: what happened in words (the heading the pages show),
#: its details as sentences with amounts in pounds, the statuses by name; the hashes stay,
#: to match each row to the chain an auditor checks on the site.
AUDIT_COLUMNS = (
    "Event number",
    "Position in the chain",
    "Time (UTC)",
    "Done by",
    "What happened",
    "Details",
    "About",
    "Bid reference",
    "Fund number",
    "Status before",
    "Status after",
    "Previous event's hash",
    "Hash",
)
#: The kind of status each kind of record has, for its name (see ``formatting.status_text``).
_STATUS_KINDS = {
    "application": "application",
    "claim": "claim",
    "impact_report": "report",
    "schedule_item": "schedule",
}
#: What each kind of record an event is about is called.
_SUBJECT_WORDS = {
    "application": "Bid",
    "impact_report": "Impact report",
    "schedule_item": "Schedule item",
    "api_token": "API token",
    "user": "Account",
    "organisation": "Organisation",
}


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
    # after the first columns, so that readers of the earlier layout are not thrown
    "payee_nation",
    "payee_identifier",
)


#: Rows fetched per round trip while an export is written.
BATCH = 500


def _streamed(query: Select) -> Iterator[Any]:
    """The query's rows, fetched ``BATCH`` at a time (a server-side cursor on PostgreSQL)
    when the first is asked for: Core rows on the session's connection, no ORM layer."""
    result = db.session.connection().execute(query.execution_options(yield_per=BATCH, stream_results=True))
    try:
        for batch in result.partitions():
            yield from batch
    finally:
        result.close()


def _iso_utc(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _payments(fund_id: int | None, viewer: User | None = None) -> Select:
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
            School.nation.label("payee_nation"),
            School.identifier.label("payee_identifier"),
            School.name.label("payee_name"),
            Organisation.funder_id.label("body"),
            Organisation.name.label("body_name"),
            User.email.label("recorded_by"),
            reversed_payment.reference.label("reverses_reference"),
            reversed_payment.paid_on.label("reverses_paid_on"),
        )
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .join(Application, Application.id == BackfillClaim.application_id)
        .join(Fund, Fund.id == Disbursement.fund_id)
        .join(Organisation, Organisation.id == Fund.organisation_id)
        .join(School, School.id == Disbursement.payee_school_id)
        .join(User, User.id == Disbursement.recorded_by_id)
        .outerjoin(reversed_payment, reversed_payment.id == Disbursement.reverses_id)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    if fund_id is not None:
        fund_or_404(fund_id, viewer)
    return query.where(*access.funds_seen_by(viewer, Disbursement.fund_id, fund_id))


def transparency_chunks(
    fund_id: int | None, date_from: date | None, date_to: date | None, *, viewer: User | None = None
) -> Iterator[str]:
    """Payments at or over the configured threshold (by absolute value), paid between
    ``date_from`` and ``date_to`` inclusive, in the Transparency Code layout. A reversal is a
    negative row on the day it was recorded, carrying the transaction number and date of the
    payment it reverses; amounts are pounds with two decimals."""
    config = current_app.config
    query = _payments(fund_id, viewer).where(
        func.abs(Disbursement.amount_pence) >= config["TRANSPARENCY_THRESHOLD_PENCE"]
    )
    if date_from is not None:
        query = query.where(Disbursement.paid_on >= date_from)
    if date_to is not None:
        query = query.where(Disbursement.paid_on <= date_to)
    rows = (
        (
            r.body,
            csvfile.text(r.body_name),
            r.paid_on.isoformat(),
            csvfile.text(r.reference),
            f"{r.application_reference}/claim-{r.claim_id}",
            csvfile.pounds(r.amount_pence),
            csvfile.text(r.payee_name),
            giving360_id(r.payee_nation, r.payee_identifier),
            csvfile.text(r.fund_name),
            EXPENSE_TYPE,
            csvfile.text(r.reverses_reference) if r.reverses_reference else "",
            r.reverses_paid_on.isoformat() if r.reverses_paid_on else "",
        )
        for r in _streamed(query)
    )
    return csvfile.chunks(TRANSPARENCY_COLUMNS, rows)


def transparency_csv(
    fund_id: int | None, date_from: date | None, date_to: date | None, *, viewer: User | None = None
) -> str:
    """:func:`transparency_chunks` as one string."""
    return "".join(transparency_chunks(fund_id, date_from, date_to, viewer=viewer))


def payments_chunks(fund_id: int | None, *, viewer: User | None = None) -> Iterator[str]:
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
            r.payee_nation,
            r.payee_identifier,
        )
        for r in _streamed(_payments(fund_id, viewer))
    )
    return csvfile.chunks(PAYMENT_COLUMNS, rows)


def payments_csv(fund_id: int | None, *, viewer: User | None = None) -> str:
    """:func:`payments_chunks` as one string."""
    return "".join(payments_chunks(fund_id, viewer=viewer))


def audit_trail_chunks(fund_id: int | None, *, viewer: User | None = None) -> Iterator[str]:
    """The audit trail in chain order: every event of the fund (its rules and its bids), or
    every event when ``fund_id`` is None, each labelled and told in sentences as the pages
    tell it (never JSON or code names). Hashes are included to match rows to the chain.
    Columns, not ORM objects: a national trail is a million rows."""
    query = (
        select(
            Event.id,
            Event.seq,
            Event.at,
            Event.actor_email,
            Event.action,
            Event.subject_type,
            Event.subject_id,
            Application.reference,
            Event.fund_id,
            Event.from_status,
            Event.to_status,
            Event.payload,
            Event.prev_hash,
            Event.hash,
        )
        .outerjoin(Application, Application.id == Event.application_id)
        .order_by(Event.organisation_id, Event.seq)
    )
    if fund_id is not None:
        fund_or_404(fund_id, viewer)
        query = query.where(Event.fund_id == fund_id)
    if viewer is not None:
        # the viewer's organisation's own chain: its funds' events and its staff's
        query = query.where(Event.organisation_id == access.staff_organisation(viewer))
    rows = (
        (
            r.id,
            r.seq,
            _iso_utc(r.at),
            r.actor_email,
            formatting.trail_label(r.subject_type, r.action, r.payload, r.to_status),
            csvfile.text(formatting.payload_sentence(r.payload, r.subject_type)),
            _subject_words(r.subject_type, r.subject_id),
            r.reference,
            r.fund_id,
            _status_words(r.subject_type, r.from_status),
            _status_words(r.subject_type, r.to_status),
            r.prev_hash,
            r.hash,
        )
        for r in _streamed(query)
    )
    return csvfile.chunks(AUDIT_COLUMNS, rows)


def _subject_words(subject_type: str, subject_id: int | None) -> str:
    what = _SUBJECT_WORDS.get(subject_type) or subject_type.replace("_", " ").capitalize()
    return what if subject_id is None else f"{what} {subject_id}"


def _status_words(subject_type: str, status: str | None) -> str:
    if status is None:
        return ""
    return formatting.status_text(status, _STATUS_KINDS.get(subject_type, "application"))


def audit_trail_csv(fund_id: int | None, *, viewer: User | None = None) -> str:
    """:func:`audit_trail_chunks` as one string."""
    return "".join(audit_trail_chunks(fund_id, viewer=viewer))


def application_events(application: Application) -> list[Event]:
    """An application's audit trail, oldest first."""
    return list(
        db.session.execute(
            select(Event).where(Event.application_id == application.id).order_by(Event.seq)
        ).scalars()
    )
