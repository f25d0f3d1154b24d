from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin
from .user import User

RECOMMENDATIONS = ("approve", "request_changes", "reject")


class Review(TimestampMixin, db.Model):
    """A liaison officer's assessment of one version of a bid."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    eligible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    aligned_with_priorities: Mapped[bool] = mapped_column(Boolean, nullable=False)
    supporting_school_has_capacity: Mapped[bool] = mapped_column(Boolean, nullable=False)
    value_for_money: Mapped[int] = mapped_column(Integer, nullable=False)
    comments: Mapped[str] = mapped_column(Text, default="", nullable=False)
    recommendation: Mapped[str] = mapped_column(String(20), nullable=False)

    reviewer: Mapped[User] = relationship(lazy="joined")
