from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TimestampMixin


class School(TimestampMixin, db.Model):
    """An establishment, identified by its 6-digit URN from GIAS."""

    __tablename__ = "schools"

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

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"
