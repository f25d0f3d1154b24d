from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .application import Application
from .base import TimestampMixin
from .evidence import EvidenceFile
from .school import School
from .user import User


class BackfillClaim(TimestampMixin, db.Model):
    """A school's claim for the cost of releasing staff, with its evidence."""

    __tablename__ = "backfill_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", nullable=False, index=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    staff_released: Mapped[str] = mapped_column(String(300), nullable=False)
    days: Mapped[Decimal] = mapped_column(Numeric(6, 1), nullable=False)
    amount_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"), nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[str] = mapped_column(Text, default="", nullable=False)

    application: Mapped[Application] = relationship(lazy="joined")
    evidence: Mapped[EvidenceFile | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class Disbursement(TimestampMixin, db.Model):
    """Money paid against one verified claim. Never deleted: a mistake gets a reversal row
    (negative amount, ``reverses_id`` set, a reason)."""

    __tablename__ = "disbursements"
    __table_args__ = (UniqueConstraint("fund_id", "reference"),)

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
