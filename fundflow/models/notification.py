"""Messages to people: the in-service list, and the email outbox that delivers them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

#: How a person asks for a kind of message by email: at once, or in the 07:00 digest.
DELIVERY_CHOICES = ("immediate", "digest")
EMAIL_STATUSES = ("queued", "sent", "failed")


class Notification(db.Model):
    """One message to one person, shown in their in-service list (read or unread) and
    emailed at once or in their daily digest. Written in the transaction of the action
    that caused it, so an action rolled back leaves no message."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_digest", "delivery", "email_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: The path of the page where the person acts (joined to the service's address in emails).
    link: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id"), nullable=True, index=True
    )
    delivery: Mapped[str] = mapped_column(String(10), default="immediate", nullable=False)
    #: The email that carried it (at once, or its digest); None while a digest waits.
    email_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_emails.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def read(self) -> bool:
        return self.read_at is not None


class OutboundEmail(db.Model):
    """The outbox. ``send-notifications`` leases a batch (``lease_token`` until
    ``leased_until``), sends, and marks each sent; a failure waits ``next_attempt_at`` and
    is retried with growing back-off until it is marked failed."""

    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: A one-time link is in the body: it is blanked once the email is sent.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0", nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="queued", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="", server_default="", nullable=False)
    #: What the provider called it (GOV.UK Notify's notification id), once sent.
    provider_reference: Mapped[str] = mapped_column(
        String(100), default="", server_default="", nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class PasswordResetRequest(db.Model):
    """A "Forgotten your password?" request, counted to throttle them (whether or not the
    address has an account)."""

    __tablename__ = "password_reset_requests"
    __table_args__ = (
        Index("ix_password_reset_requests_email_at", "email", "at"),
        Index("ix_password_reset_requests_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
