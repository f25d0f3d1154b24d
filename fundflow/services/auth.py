"""Signing in, passwords and API tokens.

Failed attempts are throttled per account (email) with a looser ceiling per address, as
DESIGN.md asks: colleagues share an office address. Attempts are counted in the database
so the limit holds across every worker.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, LoginAttempt, User, utcnow
from . import audit
from .admin import check_password, hash_password, normalise_email
from .errors import AuthenticationFailed, NotFound, Problems, Throttled
from .unit_of_work import retrying, transaction

# Compared against when the account does not exist, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-fundflow")


def _failures_since(column, value: str) -> int:
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.session.execute(
        select(func.count(LoginAttempt.id)).where(column == value, LoginAttempt.at >= utcnow() - window)
    ).scalar_one()


def check_throttle(email: str, address: str) -> None:
    config = current_app.config
    if _failures_since(LoginAttempt.email, email) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        raise Throttled("Too many failed attempts for this account. Wait 15 minutes and try again.")
    if _failures_since(LoginAttempt.address, address) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        raise Throttled("Too many failed attempts from this address. Wait 15 minutes and try again.")


@retrying
def authenticate(email: str, password: str, address: str) -> User:
    """The active user with these credentials, or AuthenticationFailed / Throttled."""
    email = normalise_email(email)
    address = (address or "unknown")[:64]
    check_throttle(email[:254], address)
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    hashed = user.password_hash if user else _DUMMY_HASH
    valid = check_password_hash(hashed, password or "")
    if user is None or not valid or not user.active:
        with transaction():
            # The column holds 254 characters; a longer "email" is counted by its start.
            db.session.add(LoginAttempt(email=email[:254], address=address))
        raise AuthenticationFailed("Enter a correct email address and password")
    with transaction():
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


@retrying
def change_password(user: User, current: str, new: str) -> None:
    problems = Problems()
    if not check_password_hash(user.password_hash, current or ""):
        problems.add("current_password", "Your current password is not right")
    check_password(problems, new, "new_password")
    problems.raise_if_any()
    with transaction():
        user.password_hash = hash_password(new)
        user.session_version += 1
        audit.record_event(
            actor=user,
            action="change_password",
            subject_type="user",
            subject_id=user.id,
            payload={"email": user.email},
        )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@retrying
def issue_token(user: User, name: str = "") -> str:
    """A new bearer token for ``user``; only its hash is kept, so show it once."""
    token = secrets.token_urlsafe(32)
    with transaction():
        row = ApiToken(user_id=user.id, token_hash=_hash_token(token), name=name[:100])
        db.session.add(row)
        db.session.flush()
        audit.record_event(
            actor=user,
            action="issue_token",
            subject_type="api_token",
            subject_id=row.id,
            payload={"email": user.email, "name": row.name},
        )
    return token


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


@retrying
def revoke_token(actor: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and not actor.has_role("admin")):
        raise NotFound("No such token")
    with transaction():
        row.revoked_at = utcnow()
        audit.record_event(
            actor=actor,
            action="revoke_token",
            subject_type="api_token",
            subject_id=row.id,
            payload={"email": row.user.email},
        )


@retrying
def revoke_all_tokens(actor: User | None, user: User) -> int:
    """Revoke every live token of ``user`` (a lost laptop, a leaver); returns how many."""
    rows = (
        db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
        .scalars()
        .all()
    )
    with transaction():
        for row in rows:
            row.revoked_at = utcnow()
        audit.record_event(
            actor=actor,
            action="revoke_tokens",
            subject_type="user",
            subject_id=user.id,
            payload={"email": user.email, "revoked": len(rows)},
        )
    return len(rows)


def user_by_email(email: str) -> User:
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {email}")
    return user
