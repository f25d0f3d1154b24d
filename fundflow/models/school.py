from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TimestampMixin

#: GIAS's "EstablishmentStatus (name)" values, as stored, and how each reads.
STATUS_LABELS = {
    "open": "Open",
    "proposed_to_close": "Open, but proposed to close",
    "proposed_to_open": "Proposed to open",
    "closed": "Closed",
}
STATUSES = tuple(STATUS_LABELS)


class School(TimestampMixin, db.Model):
    """An establishment, identified by its 6-digit URN from GIAS.

    Schools are never deleted: a closed school keeps its row (and so its name on every bid
    it took part in) with ``status`` "closed", and cannot be named on a new bid."""

    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'proposed_to_close', 'proposed_to_open', 'closed')", name="status"
        ),
        Index("ix_schools_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    phase: Mapped[str] = mapped_column(String(60), default="", nullable=False)
    la_code: Mapped[str] = mapped_column(String(10), default="", nullable=False)
    la_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    trust: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    establishment_type: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    postcode: Mapped[str] = mapped_column(String(12), default="", nullable=False)
    causing_concern: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open", nullable=False)
    #: GIAS's ``NumberOfPupils`` and ``PercentageFSM`` (pupils eligible for free school meals),
    #: blank until an import gives them.
    pupils: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fsm_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), nullable=True)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"
