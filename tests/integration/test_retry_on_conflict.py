"""A deadlock or serialization failure runs the whole service operation again; anything
else is raised at once; and no row is locked after the audit chain (the lock order)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from fundflow.extensions import db
from fundflow.models import Fund
from fundflow.services import audit
from fundflow.services.unit_of_work import MAX_ATTEMPTS, is_retryable, lock, retrying, transaction
from tests.factories import Factory


class _PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, _PgError(sqlstate))


def test_a_deadlocked_operation_runs_again_and_returns_its_result(app):
    calls = []

    @retrying
    def operation() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _db_error("40P01")
        return "done"

    assert operation() == "done"
    assert len(calls) == 2


def test_a_serialization_failure_is_retried_too():
    assert is_retryable(_db_error("40001"))
    assert is_retryable(OperationalError("BEGIN", {}, Exception("database is locked")))


def test_other_database_errors_are_raised_without_a_retry(app):
    calls = []

    @retrying
    def operation() -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, _PgError("23505"))

    with pytest.raises(IntegrityError):
        operation()
    assert len(calls) == 1


def test_a_deadlock_that_keeps_happening_is_raised_after_the_last_attempt(app):
    calls = []

    @retrying
    def operation() -> None:
        calls.append(1)
        raise _db_error("40P01")

    with pytest.raises(OperationalError):
        operation()
    assert len(calls) == MAX_ATTEMPTS


def test_an_operation_inside_another_is_retried_only_with_its_caller(app):
    inner_calls, outer_calls = [], []

    @retrying
    def inner() -> None:
        inner_calls.append(1)
        if len(inner_calls) == 1:
            raise _db_error("40P01")

    @retrying
    def outer() -> None:
        outer_calls.append(1)
        inner()

    outer()
    assert (len(outer_calls), len(inner_calls)) == (2, 2)


def test_locking_a_row_after_the_audit_chain_is_refused(app):
    fund = Factory().fund()
    with pytest.raises(RuntimeError, match="lock order"), transaction():
        audit.record_event(actor=None, action="note", subject_type="fund", subject_id=fund.id)
        lock(Fund, fund.id)


@pytest.mark.postgres
def test_a_real_deadlock_on_postgresql_is_retried_and_both_operations_succeed(pg_app):
    """Two operations lock the same two rows in opposite orders (breaking the rule on
    purpose): PostgreSQL kills one with a deadlock, and the retry completes it."""
    make = Factory()
    first, second = make.fund().id, make.fund().id
    db.session.remove()
    barrier = threading.Barrier(2)
    attempts: list[str] = []
    outcomes: dict[str, object] = {}

    def operation(name: str, order: tuple[int, int]) -> None:
        @retrying
        def run() -> str:
            attempts.append(name)
            with transaction():
                lock(Fund, order[0])
                if attempts.count(name) == 1:
                    barrier.wait(timeout=10)  # both hold their first row
                lock(Fund, order[1])
            return name

        with pg_app.app_context():
            try:
                outcomes[name] = run()
            except Exception as exc:  # asserted on below
                outcomes[name] = exc
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=operation, args=("a", (first, second))),
        threading.Thread(target=operation, args=("b", (second, first))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == {"a": "a", "b": "b"}
    assert len(attempts) == 3  # one of the two ran twice


def test_in_a_guarded_request_the_audit_chain_stays_locked_until_the_request_ends(app):
    """A form or Idempotency-Key request commits once, at its end: a service's commit is only
    a savepoint, so the chain lock is still held and no row may be locked after it."""
    from fundflow.services.idempotency import RequestTransaction

    fund_id = Factory().fund().id
    request_tx = RequestTransaction()
    try:
        with transaction():
            audit.record_event(actor=None, action="note", subject_type="fund", subject_id=fund_id)
        with pytest.raises(RuntimeError, match="lock order"):
            lock(Fund, fund_id)
    finally:
        request_tx.close()
