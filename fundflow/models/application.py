from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import APPLICATION_LIFECYCLE
from .base import TimestampMixin
from .fund import Fund
from .school import School
from .user import User

PARTNER_ROLES = ("supporting", "supported")


class Application(TimestampMixin, db.Model):
    """A bid for backfill money. Found by its public ``reference``, never by row id."""

    __tablename__ = "applications"
    #: For the lists' filters and orders (issue 13): each list reads one index range in order.
    __table_args__ = (
        Index("ix_applications_status_id", "status", "id"),
        Index("ix_applications_fund_id_id", "fund_id", "id"),
        Index("ix_applications_status_submitted_at", "status", "submitted_at", "id"),
        Index("ix_applications_lead_school_id_updated_at", "lead_school_id", "updated_at", "id"),
        Index("ix_applications_created_by_id", "created_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), nullable=False, index=True)
    lead_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), nullable=False, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    need: Mapped[str] = mapped_column(Text, default="", nullable=False)
    priority_areas: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(
        String(30), default=APPLICATION_LIFECYCLE.initial, nullable=False, index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    requested_pence: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    awarded_pence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="", nullable=False)
    override_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    countersigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    approved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: When the bid was last approved (countersignature pending or not) or rejected: the
    #: value-for-money view's "days from submission to decision".
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: Interim report dates the approving liaison officer set (funds whose cadence is
    #: "set_by_officer"), as ISO dates, kept until the award is approved.
    interim_report_dates: Mapped[list | None] = mapped_column(JSON, nullable=True)

    fund: Mapped[Fund] = relationship(lazy="joined")
    lead_school: Mapped[School] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    countersigned_by: Mapped[User | None] = relationship(foreign_keys=[countersigned_by_id])
    partners: Mapped[list[ApplicationPartner]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationPartner.id",
        lazy="selectin",
    )
    activities: Mapped[list[Activity]] = relationship(
        cascade="all, delete-orphan", order_by="Activity.position", lazy="selectin"
    )
    measures: Mapped[list[Measure]] = relationship(
        cascade="all, delete-orphan", order_by="Measure.id", lazy="selectin"
    )
    versions: Mapped[list[ApplicationVersion]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationVersion.version"
    )

    def school_ids(self) -> set[int]:
        """Every school that takes part: the lead and each partner."""
        return {self.lead_school_id, *(p.school_id for p in self.partners)}

    def __repr__(self) -> str:
        return f"<Application {self.reference} {self.status}>"


class ApplicationPartner(db.Model):
    __tablename__ = "application_partners"
    __table_args__ = (UniqueConstraint("application_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    endorsed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The partner's headteacher declined to endorse, saying why (cleared if they endorse).
    declined_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    declined_reason: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)

    application: Mapped[Application] = relationship(back_populates="partners")
    school: Mapped[School] = relationship(lazy="joined")

    @property
    def endorsed(self) -> bool:
        return self.endorsed_at is not None

    @property
    def declined(self) -> bool:
        return self.declined_at is not None and self.endorsed_at is None


class Activity(db.Model):
    """Planned release of staff: ``days`` in half-day steps at a daily rate."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    staff_role: Mapped[str] = mapped_column(String(200), nullable=False)
    days: Mapped[Decimal] = mapped_column(Numeric(6, 1), nullable=False)
    daily_rate_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cost_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: When the release is planned to start and end (the claim deadline follows the end).
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Measure(db.Model):
    """An intended outcome: indicator, unit, baseline, target and when it is due."""

    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    indicator: Mapped[str] = mapped_column(String(300), nullable=False)
    unit: Mapped[str] = mapped_column(String(60), nullable=False)
    baseline: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    target: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: Why the target is followed up after the fund's delivery period ends (empty when it
    #: falls due within it). Approving the bid accepts the later date.
    follow_up_reason: Mapped[str] = mapped_column(String(1000), default="", server_default="", nullable=False)


class ApplicationVersion(db.Model):
    """What the bid said when each version was submitted; kept for ever."""

    __tablename__ = "application_versions"
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    snapshot: Mapped[dict] = mapped_column(JSON, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
