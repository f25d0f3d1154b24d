"""The streaming chain check (``verify-audit``, ``GET /api/v1/audit/verify``, the auditor's
page): raw rows in batches, no ORM objects, and still every tamper seen, on SQLite and on
PostgreSQL (where the rows come through psycopg's server-side cursor)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from fundflow.extensions import db
from fundflow.models import Event
from fundflow.services import audit, organisations
from tests.chain import append_events
from tests.factories import Factory


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make(request) -> Iterator[Factory]:
    """A factory on an empty database of each kind."""
    request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    yield Factory()


def events() -> list[Event]:
    """Every event, chain by chain (the service's first), each chain in order."""
    return list(
        db.session.execute(
            select(Event).order_by(Event.organisation_id.is_not(None), Event.organisation_id, Event.seq)
        ).scalars()
    )


def bid_chain() -> list[Event]:
    """The chain of the bids' events: their fund's organisation's (the first one)."""
    home = organisations.home_organisation().id
    return [e for e in events() if e.organisation_id == home]


def tampered(statement: str, **params) -> audit.ChainReport:
    db.session.execute(text(statement), params)
    db.session.commit()
    db.session.expire_all()
    return audit.verify_chain(batch_size=4)  # several batches even for a short trail


def test_values_hash_is_the_sorted_compact_json_of_the_hashed_fields():
    """The hand-written encoding must give the bytes ``json.dumps`` gives, whatever the text."""
    rng = random.Random(13)
    words = ["plain", 'quo"te', "back\\slash", "new\nline", "é ü 漢", "\u2028", "tab\t", ""]
    for _ in range(200):
        values = {
            "seq": rng.randint(1, 10**9),
            "at": datetime(2026, rng.randint(1, 12), 1, 2, 3, 4, rng.randint(0, 999_999)),
            "actor_id": rng.choice([None, 7]),
            "actor_email": rng.choice(words),
            "action": rng.choice(words),
            "subject_type": rng.choice(words),
            "subject_id": rng.choice([None, 0, 123456789012]),
            "application_id": rng.choice([None, 5]),
            "fund_id": rng.choice([None, 2]),
            "from_status": rng.choice([None, *words]),
            "to_status": rng.choice([None, *words]),
            "payload": rng.choice(
                [None, {}, {"b": [1, 2.5, None, True], "a": {"z": rng.choice(words), "y": -3}}]
            ),
            "prev_hash": "f" * 64,
        }
        content = {**values, "at": values["at"].isoformat(timespec="microseconds")}
        content["payload"] = content["payload"] or {}
        expected = json.dumps(content, sort_keys=True, separators=(",", ":"))
        assert audit.values_hash([values[n] for n in audit.HASHED_FIELDS]) == (
            hashlib.sha256(expected.encode()).hexdigest()
        )


def test_a_payload_value_that_is_not_json_hashes_as_recorded():
    values = [1, datetime(2026, 1, 1), None, "system", "a", "fund", 1, None, None, None, None, {}, "0" * 64]
    values[audit.HASHED_FIELDS.index("payload")] = {"amount": Decimal("1.50")}
    with_decimal = audit.values_hash(values)
    values[audit.HASHED_FIELDS.index("payload")] = {"amount": "1.50"}
    assert audit.values_hash(values) == with_decimal


def test_a_long_chain_verifies_in_batches_without_orm_objects(make):
    make.application("approved")
    append_events(2_500)
    loaded = []
    listener = lambda target, context: loaded.append(target)  # noqa: E731
    sa_event.listen(Event, "load", listener)
    try:
        report = audit.verify_chain(batch_size=1_000)
    finally:
        sa_event.remove(Event, "load", listener)
    assert report.ok, report
    assert report.events_checked == db.session.execute(select(db.func.count(Event.id))).scalar_one()
    assert loaded == []


def test_an_edited_payload_is_found(make):
    make.application("approved")
    target = events()[5]
    report = tampered("UPDATE events SET payload = '{\"awarded_pence\": 1}' WHERE id = :id", id=target.id)
    assert (report.ok, report.first_bad_event_id, report.problem) == (
        False,
        target.id,
        "its content was changed",
    )


def test_an_edited_payload_after_the_first_batches_is_found(make):
    make.application("approved")
    append_events(50)
    target = events()[-7]
    report = tampered("UPDATE events SET actor_email = 'x@example.test' WHERE id = :id", id=target.id)
    assert (report.ok, report.first_bad_event_id) == (False, target.id)


def test_a_deleted_middle_event_is_found(make):
    make.application("approved")
    (victim_id, victim_seq), (follower_id, _) = [(e.id, e.seq) for e in bid_chain()[4:6]]
    report = tampered("DELETE FROM events WHERE id = :id", id=victim_id)
    assert (report.ok, report.first_bad_event_id) == (False, follower_id)
    assert report.problem == f"sequence {victim_seq} is missing"


def test_reordered_events_are_found(make):
    make.application("approved")
    a, b = bid_chain()[2:4]
    db.session.execute(text("UPDATE events SET seq = -1 WHERE id = :id"), {"id": a.id})
    db.session.execute(text("UPDATE events SET seq = :s WHERE id = :id"), {"s": a.seq, "id": b.id})
    report = tampered("UPDATE events SET seq = :s WHERE id = :id", s=b.seq, id=a.id)
    assert (report.ok, report.first_bad_event_id) == (False, b.id)
    assert report.problem == "does not follow the event before it"


def test_a_status_edited_by_hand_is_found(make):
    bid = make.application("approved")
    last = db.session.execute(
        select(Event.id)
        .where(Event.subject_type == "application", Event.subject_id == bid.id, Event.to_status.is_not(None))
        .order_by(Event.seq.desc())
        .limit(1)
    ).scalar_one()
    report = tampered("UPDATE applications SET status = 'closed' WHERE id = :id", id=bid.id)
    assert (report.ok, report.first_bad_event_id) == (False, last)
    assert report.problem == f"application {bid.id} is closed but its last event says approved"


def test_a_claim_status_edited_by_hand_is_found(make):
    claim = make.claim(make.application("approved"), state="paid")
    report = tampered("UPDATE backfill_claims SET status = 'submitted' WHERE id = :id", id=claim.id)
    assert not report.ok
    assert report.problem.startswith(f"claim {claim.id} is submitted")


def test_the_last_event_deleted_is_found(make):
    bid = make.application("approved")
    last = events()[-1]
    assert last.subject_id == bid.id and last.to_status == "approved"
    report = tampered("DELETE FROM events WHERE id = :id", id=last.id)
    assert not report.ok
    assert report.problem == f"application {bid.id} is approved but its last event says under_review"


def test_an_intact_trail_of_every_kind_verifies(make):
    make.claim(make.application("approved"), state="paid")
    make.application("closed")
    report = audit.verify_chain(batch_size=3)
    assert report.ok and report.events_checked == len(events())


def test_verify_audit_command_reports_the_count_and_fails_on_a_tamper(app, runner):
    Factory().application("approved")
    append_events(30)
    result = runner.invoke(args=["fundflow", "verify-audit"])
    assert result.exit_code == 0
    count = db.session.execute(select(db.func.count(Event.id))).scalar_one()
    assert f"OK: {count} events, hash chain intact" in result.output
    db.session.execute(text("UPDATE events SET action = 'x' WHERE seq = 3"))
    db.session.commit()
    result = runner.invoke(args=["fundflow", "verify-audit"])
    assert result.exit_code == 1
    assert "its content was changed" in result.output
