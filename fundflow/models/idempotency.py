"""Idempotency keys: what a guarded write answered, so that a retry replays it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class IdempotencyKey(db.Model):
    """One guarded request of one user: an API ``Idempotency-Key`` or a form's one-time token.

    Written in the same transaction as the write it guards, together with the answer that
    write gave, so a committed write always has its key and a rolled-back one never does.
    Kept :data:`fundflow.services.idempotency.KEY_LIFETIME` (24 hours), then ignored and purged.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),  # uq_idempotency_keys_user_id
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    #: SHA-256 of the method, path and body the key was first used with.
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(2048), nullable=False)
    response_status: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The JSON body the API answered with (API keys).
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Where the page redirected to (form tokens).
    response_location: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
