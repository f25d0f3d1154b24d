from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import CLAIM_LIFECYCLE
from .application import Application
from .base import TimestampMixin
from .evidence import EvidenceFile
from .school import School
from .user import User


class BackfillClaim(TimestampMixin, db.Model):
    """A school's claim for the cost of releasing staff, with its evidence."""

    __tablename__ = "backfill_claims"
    __table_args__ = (
        Index("ix_backfill_claims_status_created_at", "status", "created_at", "id"),
        Index("ix_backfill_claims_status_verified_at", "status", "verified_at", "id"),
        Index("ix_backfill_claims_application_id_period_start", "application_id", "period_start", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        String(20), default=CLAIM_LIFECYCLE.initial, nullable=False, index=True
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    staff_released: Mapped[str] = mapped_column(String(300), nullable=False)
    #: The person released (``staff_released`` is their role).
    staff_name: Mapped[str] = mapped_column(String(200), nullable=False)
    days: Mapped[Decimal] = mapped_column(Numeric(6, 1), nullable=False)
    amount_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"), nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: Set when the claim, for the same person at the same school, overlaps a claim on
    #: another bid: possible double funding, for the liaison officer to look at.
    overlaps_claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("backfill_claims.id"), nullable=True, index=True
    )

    application: Mapped[Application] = relationship(lazy="joined")
    evidence: Mapped[EvidenceFile | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    overlaps_claim: Mapped[BackfillClaim | None] = relationship(
        remote_side=[id], foreign_keys=[overlaps_claim_id]
    )

    @property
    def possible_double_funding(self) -> bool:
        return self.overlaps_claim_id is not None

    @property
    def overlaps_application_reference(self) -> str | None:
        return self.overlaps_claim.application.reference if self.overlaps_claim is not None else None


class Disbursement(TimestampMixin, db.Model):
    """Money paid against one verified claim. Never deleted: a mistake gets a reversal row
    (negative amount, ``reverses_id`` set, a reason)."""

    __tablename__ = "disbursements"
    __table_args__ = (
        UniqueConstraint("fund_id", "reference"),
        Index("ix_disbursements_fund_id_id", "fund_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("backfill_claims.id"), nullable=False, index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), nullable=False, index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    reference: Mapped[str] = mapped_column(String(60), nullable=False)
    payee_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("disbursements.id"), unique=True, nullable=True
    )
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)

    claim: Mapped[BackfillClaim] = relationship(lazy="joined")
    payee_school: Mapped[School] = relationship(lazy="joined")
    recorded_by: Mapped[User] = relationship()
    reverses: Mapped[Disbursement | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by"
    )
    reversed_by: Mapped[Disbursement | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False
    )

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def reverses_reference(self) -> str | None:
        """The transaction number of the payment this reversal reverses."""
        return self.reverses.reference if self.reverses is not None else None

    @property
    def reverses_paid_on(self) -> date | None:
        return self.reverses.paid_on if self.reverses is not None else None
