"""Ending a user's access: the hashing of secrets kept only as a hash (session secrets,
API tokens, set-password links, device nonces), and ending sessions and revoking API
tokens inside a caller's transaction.

Both :mod:`fundflow.services.auth` (sign-out, password changes) and
:mod:`fundflow.services.admin` (deactivating an account, set-password links) build on
this module; it imports neither of them.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, update

from ..extensions import db
from ..models import ApiToken, User, UserSession, utcnow


def hash_token(token: str) -> str:
    """What the database keeps of a secret: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def end_sessions(user: User, keep: str | None = None) -> int:
    """Delete ``user``'s sessions except the one with secret ``keep``; inside a transaction."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        statement = statement.where(UserSession.token_hash != hash_token(keep))
    return db.session.execute(statement).rowcount or 0


def revoke_tokens(user: User) -> int:
    """Revoke ``user``'s live API tokens; inside a transaction."""
    return (
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
        or 0
    )


def end_access(user: User, keep_session: str | None = None) -> dict[str, int]:
    """End ``user``'s sessions (all but ``keep_session``) and revoke their API tokens, inside
    the caller's transaction; returns the counts for its audit Event."""
    return {"sessions_ended": end_sessions(user, keep_session), "tokens_revoked": revoke_tokens(user)}
