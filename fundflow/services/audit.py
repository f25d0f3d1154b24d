"""The audit trail: an append-only, hash-chained list of events.

Each event's ``hash`` is the SHA-256 of its canonical content plus the previous event's
hash, so editing, reordering or deleting any row is detected by :func:`verify_chain`.
Appending takes a transaction-scoped lock so that concurrent writers extend the chain one
at a time (an advisory lock on PostgreSQL; SQLite serialises write transactions anyway).
It is the last lock of the order written down in ``unit_of_work``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text

from ..extensions import db
from ..models import (
    ApiToken,
    Application,
    BackfillClaim,
    Event,
    Fund,
    ImpactReport,
    Review,
    ScheduleItem,
    School,
    User,
    utcnow,
)
from ..workflow import SCHEDULE_LIFECYCLE
from . import messages
from .unit_of_work import note_chain_locked

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 7_276_277  # arbitrary constant naming "the audit chain" advisory lock


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def event_hash(event: Event) -> str:
    """The hash an event must carry, given its content and ``prev_hash``."""
    content = {
        "seq": event.seq,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "application_id": event.application_id,
        "fund_id": event.fund_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "payload": event.payload or {},
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(_canonical(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    """Step 5, the last, of the lock order in ``unit_of_work``: held until commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    note_chain_locked()


def record_event(
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    application_id: int | None = None,
    fund_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event in the caller's transaction (the caller commits)."""
    db.session.flush()
    _lock_chain()
    last = db.session.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    event = Event(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        application_id=application_id,
        fund_id=fund_id,
        from_status=from_status,
        to_status=to_status,
        payload=_canonical(payload or {}),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


# What an event says it is about, by the kind of record it is about.
_SUBJECT_TYPES: dict[type, str] = {
    Application: "application",
    BackfillClaim: "claim",
    ImpactReport: "impact_report",
    Review: "review",
    ScheduleItem: "schedule_item",
    Fund: "fund",
    School: "school",
    User: "user",
    ApiToken: "api_token",
}


def _subject_type(subject: Any) -> str:
    """The record's kind; ``isinstance`` so a proxy (Flask-Login's ``current_user``) counts too."""
    for model, name in _SUBJECT_TYPES.items():
        if isinstance(subject, model):
            return name
    raise TypeError(f"no audit subject type for {subject!r}")


Subject = Application | BackfillClaim | ImpactReport | Review | ScheduleItem | Fund | School | User | ApiToken


def record(
    actor: User | None,
    action: str,
    subject: Subject,
    *,
    transition: tuple[str | None, str | None] = (None, None),
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append the event for a change to ``subject``: its type, id, bid and fund come from
    the record itself (a bid's claims, impact reports and reviews file under that bid and
    its fund); ``transition`` is the ``(from_status, to_status)`` it moved through.

    The messages the action sends (:mod:`fundflow.services.messages`) are written here too,
    in the same transaction."""
    db.session.flush()
    application_id: int | None = None
    fund_id: int | None = None
    if isinstance(subject, Application):
        application_id, fund_id = subject.id, subject.fund_id
    elif isinstance(subject, BackfillClaim | ImpactReport | Review | ScheduleItem):
        application = db.session.get(Application, subject.application_id)
        application_id, fund_id = subject.application_id, application.fund_id if application else None
    elif isinstance(subject, Fund):
        fund_id = subject.id
    event = record_event(
        actor=actor,
        action=action,
        subject_type=_subject_type(subject),
        subject_id=subject.id,
        application_id=application_id,
        fund_id=fund_id,
        from_status=transition[0],
        to_status=transition[1],
        payload=payload,
    )
    messages.on_event(actor, action, subject, payload)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_event_id: int | None
    problem: str | None = None


def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Walk the whole chain in order, recomputing every hash."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    rows = db.session.execute(
        select(Event).order_by(Event.seq).execution_options(yield_per=batch_size)
    ).scalars()
    for event in rows:
        checked += 1
        if event.seq != expected_seq:
            return ChainReport(False, checked, event.id, f"sequence {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.id, "does not follow the event before it")
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.id, "its content was changed")
        expected_prev = event.hash
        expected_seq += 1
    mismatch = _status_without_its_event()
    if mismatch is not None:
        return ChainReport(False, checked, mismatch[0], mismatch[1])
    return ChainReport(True, checked, None)


def _status_without_its_event() -> tuple[int | None, str] | None:
    """The chain alone cannot see its newest events cut off. So every record's status must
    be the one its latest status event moved it to: deleting that event (or editing a
    status by hand) leaves a record whose status no event explains."""
    latest = (
        select(Event.subject_type, Event.subject_id, func.max(Event.seq).label("seq"))
        .where(Event.to_status.is_not(None), Event.subject_id.is_not(None))
        .group_by(Event.subject_type, Event.subject_id)
        .subquery()
    )
    last_status = {
        (row.subject_type, row.subject_id): (row.id, row.to_status)
        for row in db.session.execute(
            select(Event.id, Event.subject_type, Event.subject_id, Event.to_status).join(
                latest, Event.seq == latest.c.seq
            )
        )
    }
    initial = {"schedule_item": SCHEDULE_LIFECYCLE.initial}
    for subject_type, model in (
        ("application", Application),
        ("claim", BackfillClaim),
        ("impact_report", ImpactReport),
        ("schedule_item", ScheduleItem),
    ):
        for row_id, status in db.session.execute(select(model.id, model.status)):
            # a schedule item is made "due" with its award's approval (its Event names the
            # schedule); its later moves have Events of their own
            event_id, to_status = last_status.get((subject_type, row_id), (None, initial.get(subject_type)))
            if to_status != status:
                return event_id, f"{subject_type} {row_id} is {status} but its last event says {to_status}"
    return None
