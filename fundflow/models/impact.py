from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import REPORT_LIFECYCLE
from .application import Application, Measure
from .base import TimestampMixin
from .evidence import EvidenceFile
from .user import User

REPORT_KINDS = ("interim", "final")
RATINGS = ("achieved", "partly_achieved", "not_achieved")
DRIVERS = ("collaboration", "practitioner_knowledge", "practice_change")
RATING_LABELS = {
    "achieved": "Achieved",
    "partly_achieved": "Partly achieved",
    "not_achieved": "Not achieved",
}
DRIVER_LABELS = {
    "collaboration": "Collaboration",
    "practitioner_knowledge": "Practitioner knowledge, understanding and confidence",
    "practice_change": "Practice change",
}


class ImpactReport(TimestampMixin, db.Model):
    """What the school reports it achieved against its measures."""

    __tablename__ = "impact_reports"
    __table_args__ = (Index("ix_impact_reports_status_created_at", "status", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    narrative: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=REPORT_LIFECYCLE.initial, nullable=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"), nullable=True)

    application: Mapped[Application] = relationship(lazy="joined")
    submitted_by: Mapped[User] = relationship()
    evidence: Mapped[EvidenceFile | None] = relationship()
    results: Mapped[list[ImpactResult]] = relationship(
        cascade="all, delete-orphan", order_by="ImpactResult.id", lazy="selectin"
    )
    evaluation: Mapped[ImpactEvaluation | None] = relationship(
        uselist=False, lazy="selectin", back_populates="report"
    )


class ImpactResult(db.Model):
    __tablename__ = "impact_results"
    __table_args__ = (
        UniqueConstraint("report_id", "measure_id"),
        # a measure's latest result: one bid's running figures read its measures' results
        Index("ix_impact_results_measure_id_id", "measure_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("impact_reports.id"), nullable=False, index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"), nullable=False)
    actual: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)

    measure: Mapped[Measure] = relationship(lazy="joined")


class ImpactEvaluation(TimestampMixin, db.Model):
    """The liaison officer's judgement of a report: rating and improvement drivers."""

    __tablename__ = "impact_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("impact_reports.id"), unique=True, nullable=False)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    rating: Mapped[str] = mapped_column(String(20), nullable=False)
    drivers: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    report: Mapped[ImpactReport] = relationship(back_populates="evaluation")
    evaluator: Mapped[User] = relationship()
