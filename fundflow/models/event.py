from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Event(db.Model):
    """One line of the audit trail. Append-only; ``hash`` covers the content and
    ``prev_hash``, so editing or deleting any row breaks the chain.

    Each organisation has its own chain (``organisation_id``; None: the service's own, for
    what belongs to no organisation), numbered by ``seq`` from 1 and starting from that
    organisation's ``audit_genesis``."""

    __tablename__ = "events"
    #: A bid's trail and a fund's trail, each read in chain order.
    __table_args__ = (
        Index("ix_events_application_id_seq", "application_id", "seq"),
        Index("ix_events_fund_id_seq", "fund_id", "seq"),
        UniqueConstraint("organisation_id", "seq", name="uq_events_organisation_id_seq"),
        # the service's chain: NULLs are distinct in a unique constraint, so its own index
        Index(
            "uq_events_service_seq",
            "seq",
            unique=True,
            sqlite_where=text("organisation_id IS NULL"),
            postgresql_where=text("organisation_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_email: Mapped[str] = mapped_column(String(254), nullable=False)
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id"), nullable=True, index=True
    )
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), nullable=True, index=True)
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)


class AuditVerification(db.Model):
    """One full check of the audit trail's hash chain: when, by whom, and what it found
    (shown with each bid's dossier as "the last full verification")."""

    __tablename__ = "audit_verifications"
    __table_args__ = (
        Index("ix_audit_verifications_at", "at", "id"),
        Index("ix_audit_verifications_organisation_id_at", "organisation_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organisation whose chain was checked; None: the check of every chain together
    #: (from the command line), which no organisation's auditor is shown.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    checked_by: Mapped[str] = mapped_column(String(254), nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    events_checked: Mapped[int] = mapped_column(Integer, nullable=False)
    first_bad_event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    problem: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
