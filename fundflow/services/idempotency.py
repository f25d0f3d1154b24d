"""A retry never makes a second record.

A guarded request — an API POST sent with an ``Idempotency-Key`` header, or a site form
carrying its one-time ``form_token`` — runs in ONE database transaction
(:class:`RequestTransaction`): the service operations' own commits become savepoints
inside it, and the key is written in it together with the answer the request gave
(:func:`record`). So a write that commits always has its key and its answer, and a write
that rolls back leaves no key. Each key belongs to one user: two users may use the same
key string.

Before the request runs, :func:`claim` looks the key up:

- not seen (or older than :data:`KEY_LIFETIME`): the request runs;
- seen: the caller replays the stored answer instead of writing again (the API checks
  first that the method, path and body are the same, else 422);
- still in use by a request that has not finished: on PostgreSQL a transaction-scoped
  advisory lock on (user, key) is held for the whole guarded transaction; the API asks
  with ``pg_try_advisory_xact_lock`` and answers 409 when it is taken, a form waits for it
  (a double click then redirects to where the first click went). It is taken before any
  row lock and never while holding one, so it comes first in the lock order written down
  in :mod:`fundflow.services.unit_of_work`. On SQLite write transactions are serialised
  (``BEGIN IMMEDIATE``), so the second request simply finds the first one's key.

The unique constraint on (user, key) backs all this up: a second insert fails and the
whole guarded transaction rolls back (409).

Keys are kept 24 hours; expired ones are ignored, purged a few at a time on each guarded
write, and all at once by ``flask --app wsgi fundflow purge-idempotency-keys``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import IdempotencyKey, utcnow
from .errors import Conflict, ValidationFailed
from .unit_of_work import hold_locks_to_request_end, transaction

#: How long a key is remembered.
KEY_LIFETIME = timedelta(hours=24)
#: Expired keys deleted by one guarded write (the CLI command deletes them all).
PURGE_BATCH = 100
HEADER = "Idempotency-Key"
#: 1–255 visible ASCII characters: a UUID, a ULID or any client-made string without spaces.
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class KeyInUse(Conflict):
    """A request with this key has not finished yet, or its answer was not kept."""

    code = "idempotency_key_in_use"


def validate_key(raw: str, field: str = HEADER) -> str:
    """The key, or 422 naming ``field`` when it is empty, too long or not visible ASCII."""
    if not _VALID_KEY.fullmatch(raw or ""):
        raise ValidationFailed(
            {field: ["Use 1 to 255 visible ASCII characters (letters, digits, - _ : . and so on, no spaces)"]}
        )
    return raw


def key_reused(field: str = HEADER) -> ValidationFailed:
    """422: the key was first used with another method, path or body."""
    return ValidationFailed(
        {field: ["This key was already used for a different request: send a new key for a new request"]},
        code="idempotency_key_reused",
    )


def fingerprint(method: str, path: str, body: bytes = b"") -> str:
    """SHA-256 of the request; a JSON body counts by its content, not its spacing or key order."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogateescape"), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class RequestTransaction:
    """Everything one request does, in one database transaction.

    The request's session (``db.session``) is replaced by one joined to an outer
    transaction on its own connection ("joining a Session into an external transaction"
    in SQLAlchemy's documentation): ``db.session.commit()`` in a service releases a
    savepoint and ``rollback()`` returns to it, so :func:`unit_of_work.retrying` still
    runs a failed operation again from its start. :meth:`commit` commits the whole;
    :meth:`close` rolls back whatever was not committed and puts the request's own
    session back.
    """

    def __init__(self) -> None:
        registry = db.session.registry
        self._previous: Session | None = registry() if registry.has() else None
        if self._previous is not None and self._previous.in_transaction():
            # Nothing of this request is written yet; end the read it may have begun so
            # that the new connection (on SQLite: the write lock) is free to begin.
            self._previous.rollback()
        self.connection: Connection = db.engine.connect()
        try:
            self._outer: RootTransaction = self.connection.begin()
        except BaseException:
            self.connection.close()
            raise
        self.session = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", query_cls=db.Query
        )
        hold_locks_to_request_end(self.session)
        registry.set(self.session)
        self._closed = False

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def commit(self) -> None:
        """Commit everything the request did (and its key, when recorded)."""
        if self.session.in_transaction():
            self.session.commit()
        if self._outer.is_active:
            self._outer.commit()

    def rollback(self) -> None:
        """Undo everything the request did."""
        if self._outer.is_active:
            self.session.rollback()
            self._outer.rollback()

    def close(self) -> None:
        """Roll back what was not committed, release the connection, restore the session."""
        if self._closed:
            return
        self._closed = True
        try:
            self.session.close()
            if self._outer.is_active:
                self._outer.rollback()
        finally:
            self.connection.close()
            if self._previous is not None:
                db.session.registry.set(self._previous)
            else:
                db.session.registry.clear()


def _advisory_lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"fundflow.idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def claim(tx: RequestTransaction, user_id: int, key: str, *, wait: bool) -> IdempotencyKey | None:
    """Hold ``user_id``'s ``key`` for this transaction and return its live record, if any.

    ``wait=False``: :class:`KeyInUse` (409) when another request holds the key right now;
    ``wait=True``: wait for that request to finish, then look.
    """
    if tx.dialect == "postgresql":
        lock_id = _advisory_lock_id(user_id, key)
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        held = tx.connection.execute(text(f"SELECT {function}(:id)"), {"id": lock_id}).scalar()
        if held is False:
            raise KeyInUse("A request with this Idempotency-Key is still running: wait for its answer")
    row = tx.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    tx.session.commit()  # ends the read's savepoint; the advisory lock stays until the end
    if row is None or row.created_at <= utcnow() - KEY_LIFETIME:
        return None
    return row


def record(
    tx: RequestTransaction,
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    status: int,
    body: str | None = None,
    location: str | None = None,
) -> None:
    """Write the key and the answer the guarded request gave, in the request's transaction.

    Also deletes this key's expired record and a batch of other expired keys.
    """
    session = tx.session
    now = utcnow()
    cutoff = now - KEY_LIFETIME
    try:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.key == key,
                IdempotencyKey.created_at <= cutoff,
            )
        )
        _purge(session, cutoff, PURGE_BATCH)
        session.add(
            IdempotencyKey(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                method=method,
                path=path[:2048],
                response_status=status,
                response_body=body,
                response_location=location[:2048] if location else None,
                created_at=now,
            )
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise KeyInUse("A request with this Idempotency-Key has just been recorded: send it again") from None


def _purge(session: Session, cutoff: datetime, limit: int | None) -> int:
    """Delete expired keys; skips rows another transaction is deleting (PostgreSQL)."""
    expired = select(IdempotencyKey.id).where(IdempotencyKey.created_at <= cutoff)
    if limit is not None:
        expired = expired.order_by(IdempotencyKey.created_at).limit(limit).with_for_update(skip_locked=True)
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)))
    return result.rowcount or 0


def purge_expired() -> int:
    """Delete every key older than :data:`KEY_LIFETIME`; the number deleted."""
    with transaction():
        deleted = _purge(db.session, utcnow() - KEY_LIFETIME, None)
    return deleted
