from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin, utcnow
from .school import School

#: Marks the password hash of an account whose owner has not set a password yet; no
#: password hash starts with it, so nothing signs in with it.
NO_PASSWORD = "!unset:"

ROLES = ("headteacher", "liaison_officer", "finance", "auditor", "admin", "service_admin")
ROLE_LABELS = {
    "headteacher": "Headteacher",
    "liaison_officer": "Liaison officer",
    "finance": "Finance",
    "auditor": "Auditor",
    "admin": "Administrator",
    "service_admin": "Service administrator",
}

#: Roles of no organisation: a headteacher belongs to a school; a service administrator
#: creates organisations and sees no bids.
ROLES_WITHOUT_ORGANISATION = ("headteacher", "service_admin")


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class User(UserMixin, TimestampMixin, db.Model):
    """A person who signs in. Never deleted: deactivated instead."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_active_name_id", "active", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), nullable=True)
    #: The council or partnership a member of council staff works for; None for headteachers
    #: and service administrators.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    #: Kinds of message the person wants in their daily digest rather than at once
    #: (``{kind: "digest"}``; a kind not named is emailed at once).
    notification_preferences: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    #: The day of the last daily digest composed for them (so one is sent per day).
    last_digest_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: SHA-256 of the secret in their private calendar feed's address; None: no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    school: Mapped[School | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    @property
    def roles(self) -> list[str]:
        return [row.role for row in self.role_rows]

    def has_role(self, role: str) -> bool:
        return any(row.role == role for row in self.role_rows)

    @property
    def is_active(self) -> bool:  # flask-login asks this
        return self.active

    @property
    def has_password(self) -> bool:
        """False until the person sets one with their set-password link."""
        return not self.password_hash.startswith(NO_PASSWORD)

    #: The secret of the server-side session this object was loaded for (a plain attribute,
    #: never stored: only its hash is, in UserSession).
    session_token = None

    def get_id(self) -> str:
        # What Flask-Login keeps in the signed cookie: the user and their session's secret.
        # The session row (UserSession) is the proof that the session is still live.
        return f"{self.id}:{self.session_token or ''}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class _UserSecret:
    """A random secret given to one user for a while; only its SHA-256 is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class UserSession(_UserSecret, db.Model):
    """A signed-in browser. The cookie carries the secret. Signing out deletes the row, so
    a copy of the cookie stops working."""

    __tablename__ = "user_sessions"


class SetPasswordLink(_UserSecret, db.Model):
    """A one-time link for a person to set their own password: a new account's first, or a
    forgotten one's replacement (``purpose`` "reset"). Used or replaced links are deleted."""

    __tablename__ = "set_password_links"

    purpose: Mapped[str] = mapped_column(String(10), default="new", server_default="new", nullable=False)

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(TimestampMixin, db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(db.Model):
    """Failed sign-ins and token requests, counted to throttle guessing. ``device`` is the
    SHA-256 of the nonce of a trusted device cookie the attempt came with (counted for that
    browser only), or None (counted for the account and the address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
