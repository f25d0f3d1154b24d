"""One transaction per user action, row locks in one order, and a retry when PostgreSQL
still breaks a deadlock.

Lock order
==========
Every write transaction takes its locks in this order, and never goes back up the list:

0. a request guarded by an ``Idempotency-Key`` (or a form's one-time token) first takes an
   advisory lock on hash(user, key) (``services/idempotency.py``), before any row lock;
1. the application row (``lock(Application, …)``),
2. its claim rows, then its monitoring schedule items (``ScheduleItem``: sending a report,
   finishing delivery, cancelling or closing settle them; ``run-schedule`` locks the bid,
   then the item),
3. disbursement rows,
4. the fund row (``lock(Fund, …)``: approve, countersign and new bids check the budget or
   the reference sequence against it),
5. the bid's running figures row (``bid_figures``), written afresh by
   :func:`fundflow.services.audit.record_event` for an event about a bid, just before
   6. (only ever by the holder of the bid's row lock, so it never waits on another writer);
6. last, the audit chain: :func:`fundflow.services.audit.record_event` takes a
   transaction-scoped advisory lock so that events extend the hash chain one at a time.
   It is held until commit, so no row may be locked after it (:func:`lock` refuses). In a
   guarded request the commit is the request's (the key and its answer are written after
   the service operation, in the same transaction, and lock no row anyone else locks).

Rows are locked ``FOR NO KEY UPDATE``, not ``FOR UPDATE``. Inserting a row whose foreign
key points at a locked row (an Event's ``fund_id`` and ``application_id``, a new bid's
``fund_id``, a claim's ``application_id``) takes ``KEY SHARE`` on that row; ``FOR UPDATE``
conflicts with ``KEY SHARE`` and ``FOR NO KEY UPDATE`` does not. With ``FOR UPDATE`` a
transaction holding the fund row and waiting for the chain lock deadlocked against the one
holding the chain lock and inserting an Event that points at that fund. We never change a
referenced key (ids are never updated), so the weaker lock protects everything we check.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (see ``fundflow``'s
``_serialise_sqlite_writes``), so writers run one at a time and the order is moot.

Retry
=====
If PostgreSQL still reports a deadlock or a serialization failure (or SQLite stays busy
past its timeout), :func:`retrying` rolls back and runs the whole service operation again
from the start, with fresh rows, up to :data:`MAX_ATTEMPTS` times. Nothing of a failed
attempt was committed, so the person sees one answer, never a 500.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..extensions import db

T = TypeVar("T")
P = ParamSpec("P")

MAX_ATTEMPTS = 6
#: SQLSTATEs meaning "nothing was done; the same transaction may succeed if run again".
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_CHAIN_LOCKED = "fundflow.chain_locked"
_IN_OPERATION = "fundflow.in_operation"
_HELD_TO_REQUEST_END = "fundflow.held_to_request_end"


@contextmanager
def transaction() -> Iterator[None]:
    """Commit once at the end, or roll everything back on any error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if not db.session.info.get(_HELD_TO_REQUEST_END):
            db.session.info.pop(_CHAIN_LOCKED, None)


def lock(model: type[T], row_id: int) -> T:
    """Load ``model`` row ``row_id`` with ``SELECT … FOR NO KEY UPDATE`` and fresh values.

    Callers lock in the order documented at the top of this module.
    """
    if db.session.info.get(_CHAIN_LOCKED):
        raise RuntimeError(f"lock order: {model.__name__} locked after the audit chain")
    return db.session.execute(
        select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        # OF the model's own table: PostgreSQL refuses a row lock on the nullable side of
        # the outer joins that eager-load its many-to-one relationships.
        .with_for_update(of=model, key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def hold_locks_to_request_end(session: Session) -> None:
    """Mark a session whose commits are savepoints of one request-wide transaction (see
    ``services/idempotency.py``): the audit chain stays locked until the request ends, so
    :func:`lock` keeps refusing row locks after it for the rest of the request."""
    session.info[_HELD_TO_REQUEST_END] = True


def note_chain_locked() -> None:
    """Called by the audit trail once it holds the chain lock (step 5 of the order)."""
    db.session.info[_CHAIN_LOCKED] = True


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure (PostgreSQL) or a busy database (SQLite)."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(original)


def retrying(operation: Callable[P, T]) -> Callable[P, T]:
    """Run a service operation again from the start when the database asks for a retry.

    Only the outermost operation retries: one called from inside another is part of the
    caller's transaction and is run again with it.
    """

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        if db.session.info.get(_IN_OPERATION):
            return operation(*args, **kwargs)
        db.session.info[_IN_OPERATION] = True
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    return operation(*args, **kwargs)
                except DBAPIError as exc:
                    db.session.rollback()
                    if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                        raise
                    # growing, jittered pause so the transactions that met don't meet again
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
            raise AssertionError("unreachable")
        finally:
            db.session.info.pop(_IN_OPERATION, None)

    return run
