"""The audit trail: an append-only, hash-chained list of events.

Each event's ``hash`` is the SHA-256 of its canonical content plus the previous event's
hash, so editing, reordering or deleting any row is detected by :func:`verify_chain`.
Appending takes a transaction-scoped lock so that concurrent writers extend the chain one
at a time (an advisory lock on PostgreSQL; SQLite serialises write transactions anyway).
It is the last lock of the order written down in ``unit_of_work``.

Each organisation has its own chain (issue 15), numbered from 1 and starting from its
``audit_genesis``, with its own lock; what belongs to no organisation (a headteacher's own
account, a schools import from the shell) is in the service's chain (``organisation_id``
None, starting from :data:`SERVICE_GENESIS_HASH`). An event joins the chain of its fund's
organisation; one about no fund, the organisation it is about, or the account's, or the
actor's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, cast, func, literal, select, text, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    ApiToken,
    Application,
    AuditVerification,
    BackfillClaim,
    Event,
    Fund,
    ImpactReport,
    Organisation,
    Review,
    ScheduleItem,
    School,
    User,
    utcnow,
)
from ..workflow import SCHEDULE_LIFECYCLE
from . import bid_figures, messages
from .unit_of_work import note_chain_locked

GENESIS_HASH = "0" * 64
#: Where the service's own chain (events of no organisation) starts.
SERVICE_GENESIS_HASH = hashlib.sha256(b"fundflow audit chain of the service").hexdigest()
# arbitrary constant naming "the audit chain" advisory locks; the second key is the chain's
# organisation id (0: the service's chain)
_CHAIN_LOCK_KEY = 7_276_277


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


#: What an event's hash covers: these columns, as one JSON object with sorted keys.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "subject_type",
    "subject_id",
    "application_id",
    "fund_id",
    "from_status",
    "to_status",
    "payload",
    "prev_hash",
)
_PAYLOAD = HASHED_FIELDS.index("payload")


def _not_canonical(value: Any) -> Any:
    """A payload that somehow holds a non-JSON value hashes as :func:`_canonical` makes it."""
    canonical = _canonical(value)
    if canonical is value:
        raise TypeError(f"cannot hash {value!r}")
    return canonical


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_not_canonical)


def _reusable_encoder() -> Any:
    """The C encoder behind ``JSONEncoder.encode``, made once (``encode`` builds a new one for
    every call, a third of the cost of hashing a million events); None, and ``encode`` is
    used, if this Python has none or it does not write exactly what ``encode`` writes."""
    sample = {"b": [1, 2.5, None, True, 'é"\n\u2028'], "a": {"z": {}, "y": -1}}
    try:
        encode = json.encoder.c_make_encoder(  # type: ignore[misc]
            None, _not_canonical, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
        )
        if "".join(encode(sample, 0)) == _ENCODER.encode(sample):
            return encode
    except TypeError:
        pass
    return None


_C_ENCODE = _reusable_encoder()
_QUOTE = json.encoder.encode_basestring_ascii


def _object(value: dict[str, Any]) -> str:
    return "".join(_C_ENCODE(value, 0)) if _C_ENCODE is not None else _ENCODER.encode(value)


def _text(value: str | None) -> str:
    return "null" if value is None else _QUOTE(value)


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def values_hash(values: Sequence[Any]) -> str:
    """The hash an event must carry, from its :data:`HASHED_FIELDS` values in that order (an
    ORM event's attributes or a raw row): the one definition of what the chain covers.

    What is hashed is ``json.dumps(dict(zip(HASHED_FIELDS, values)), sort_keys=True,
    separators=(",", ":"))`` with ``at`` in ISO form and a missing payload as ``{}``, written
    out here key by key (in sorted order) because building and sorting a dict per event was
    most of the cost of checking a million. The payload is already canonical
    (:func:`record_event` stores it so, and a JSON column reads back only JSON types)."""
    (
        seq,
        at,
        actor_id,
        actor_email,
        action,
        subject_type,
        subject_id,
        application_id,
        fund_id,
        from_status,
        to_status,
        payload,
        prev_hash,
    ) = values
    encoded = "".join(
        (
            '{"action":', _text(action),
            ',"actor_email":', _text(actor_email),
            ',"actor_id":', _number(actor_id),
            ',"application_id":', _number(application_id),
            ',"at":"', at.isoformat(timespec="microseconds"),
            '","from_status":', _text(from_status),
            ',"fund_id":', _number(fund_id),
            ',"payload":', _object(payload or {}),
            ',"prev_hash":', _text(prev_hash),
            ',"seq":', _number(seq),
            ',"subject_id":', _number(subject_id),
            ',"subject_type":', _text(subject_type),
            ',"to_status":', _text(to_status),
            "}",
        )
    )  # fmt: skip
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def event_hash(event: Event) -> str:
    """The hash an event must carry, given its content and ``prev_hash``."""
    return values_hash([getattr(event, name) for name in HASHED_FIELDS])


def _lock_chain(organisation_id: int | None = None) -> None:
    """Step 5, the last, of the lock order in ``unit_of_work``: held until commit. One lock
    per chain, so organisations do not wait for each other."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :chain)"),
            {"key": _CHAIN_LOCK_KEY, "chain": organisation_id or 0},
        )
    note_chain_locked()


def chain_genesis(organisation_id: int | None) -> str:
    """The ``prev_hash`` of the first event of an organisation's chain (or the service's)."""
    if organisation_id is None:
        return SERVICE_GENESIS_HASH
    return db.session.execute(
        select(Organisation.audit_genesis).where(Organisation.id == organisation_id)
    ).scalar_one()


def chain_end(organisation_id: int | None) -> tuple[int, str]:
    """The last ``seq`` and hash of a chain (0 and its genesis if it has no events yet)."""
    last = db.session.execute(
        select(Event.seq, Event.hash).where(_in_chain(organisation_id)).order_by(Event.seq.desc()).limit(1)
    ).first()
    return (last.seq, last.hash) if last else (0, chain_genesis(organisation_id))


def _in_chain(organisation_id: int | None) -> Any:
    return (
        Event.organisation_id.is_(None)
        if organisation_id is None
        else Event.organisation_id == organisation_id
    )


_NOT_GIVEN: Any = object()


def _chain_of(fund_id: int | None, actor: User | None) -> int | None:
    if fund_id is not None:
        return db.session.execute(select(Fund.organisation_id).where(Fund.id == fund_id)).scalar_one()
    return actor.organisation_id if actor is not None else None


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
    organisation_id: int | None = _NOT_GIVEN,
) -> Event:
    """Append one event in the caller's transaction (the caller commits), to the chain of
    ``organisation_id``; if not given, of the fund's organisation, or else the actor's.
    An event about a bid first writes the bid's running figures afresh
    (:mod:`.bid_figures`): every change to a bid passes here, before the chain's lock."""
    db.session.flush()
    if application_id is not None:
        bid_figures.refresh(application_id)
    if organisation_id is _NOT_GIVEN:
        organisation_id = _chain_of(fund_id, actor)
    _lock_chain(organisation_id)
    last_seq, last_hash = chain_end(organisation_id)
    event = Event(
        organisation_id=organisation_id,
        seq=last_seq + 1,
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
        prev_hash=last_hash,
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
    Organisation: "organisation",
}


def _subject_type(subject: Any) -> str:
    """The record's kind; ``isinstance`` so a proxy (Flask-Login's ``current_user``) counts too."""
    for model, name in _SUBJECT_TYPES.items():
        if isinstance(subject, model):
            return name
    raise TypeError(f"no audit subject type for {subject!r}")


Subject = (
    Application
    | BackfillClaim
    | ImpactReport
    | Review
    | ScheduleItem
    | Fund
    | School
    | User
    | ApiToken
    | Organisation
)


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
    organisation_id: int | None = _NOT_GIVEN
    if isinstance(subject, Organisation):
        organisation_id = subject.id
    elif isinstance(subject, User) and subject.organisation_id is not None:
        organisation_id = subject.organisation_id
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
        organisation_id=organisation_id,
    )
    messages.on_event(actor, action, subject, payload)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_event_id: int | None
    problem: str | None = None
    #: Events checked in each chain found intact, by organisation id (None: the service's).
    by_chain: dict[int | None, int] = field(default_factory=dict)
    #: The chain (organisation id) of ``first_bad_event_id``: EVERY_CHAIN when the break
    #: is a record's status no event explains, which the chains alone don't place.
    bad_chain: Any = None


#: Rows fetched per round trip when the chain is checked.
VERIFY_BATCH = 10_000


#: ``verify_chain``'s default: every chain.
EVERY_CHAIN: Any = object()


def verify_chain(batch_size: int = VERIFY_BATCH, organisation_id: int | None = EVERY_CHAIN) -> ChainReport:
    """Walk every chain (or one organisation's; None: the service's) in order, recomputing
    every hash, then check every record's status (of that organisation) against its latest
    event.

    Raw rows are streamed in batches (a server-side cursor on PostgreSQL): no ORM objects,
    so memory stays flat and a million events take seconds, not minutes."""
    geneses = {None: SERVICE_GENESIS_HASH} | dict(
        db.session.execute(select(Organisation.id, Organisation.audit_genesis)).all()
    )
    chain: Any = EVERY_CHAIN
    expected_prev = ""
    expected_seq = 1
    checked = 0
    by_chain: dict[int | None, int] = {}
    seq, prev_hash = 3 + HASHED_FIELDS.index("seq"), 3 + HASHED_FIELDS.index("prev_hash")
    payload = 3 + _PAYLOAD
    loads = _parse_json
    with closing(_event_rows(batch_size, organisation_id)) as rows:
        for row in rows:
            checked += 1
            if row[2] != chain:  # the next chain begins
                if chain is not EVERY_CHAIN:
                    by_chain[chain] = expected_seq - 1
                chain, expected_seq = row[2], 1
                expected_prev = geneses.get(chain, "")
            if row[seq] != expected_seq:
                return ChainReport(
                    False, checked, row[0], f"sequence {expected_seq} is missing", by_chain, chain
                )
            if row[prev_hash] != expected_prev:
                return ChainReport(
                    False, checked, row[0], "does not follow the event before it", by_chain, chain
                )
            values = list(row[3:])
            values[_PAYLOAD] = loads(row[payload]) if row[payload] is not None else None
            expected_prev = row[1]
            if values_hash(values) != expected_prev:
                return ChainReport(False, checked, row[0], "its content was changed", by_chain, chain)
            expected_seq += 1
    if chain is not EVERY_CHAIN:
        by_chain[chain] = expected_seq - 1
    mismatch = _status_without_its_event(organisation_id)
    if mismatch is not None:
        return ChainReport(False, checked, mismatch[0], mismatch[1], by_chain, EVERY_CHAIN)
    return ChainReport(True, checked, None, by_chain=by_chain)


def verify_and_record(checked_by: str, organisation_id: int | None = EVERY_CHAIN) -> ChainReport:
    """:func:`verify_chain` of every chain (or one organisation's), and its result kept as
    :class:`AuditVerification` rows (shown with every bid's dossier as the last full
    verification), committed on its own: one per organisation whose chain was checked, so
    each organisation's auditors see their own chain's check and count, never another's;
    and, for a check of every chain, one for the whole (``organisation_id`` None).

    Not an :class:`Event`: a check changes no money and no status, and recording it in the
    chain would change the chain it checked. Call it with no unsaved changes in the session
    (a page or a command that only reads): its commit would save them too."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("verify_and_record needs a session with no unsaved changes")
    report = verify_chain(organisation_id=organisation_id)
    at = utcnow()
    everything = organisation_id is EVERY_CHAIN
    rows = [(None, report.events_checked, report)] if everything else []
    unplaced = report.bad_chain is EVERY_CHAIN  # a status no event explains: no chain is sure
    for chain, checked in report.by_chain.items():
        if chain is not None:
            rows.append((chain, checked, report if unplaced else ChainReport(True, checked, None)))
    if report.bad_chain is not None and not unplaced:
        rows.append((report.bad_chain, report.events_checked, report))
    checked_alone = not everything and organisation_id is not None
    if checked_alone and organisation_id not in report.by_chain and report.bad_chain != organisation_id:
        rows.append((organisation_id, 0, report))  # a chain with no events yet
    db.session.add_all(
        AuditVerification(
            at=at,
            organisation_id=chain,
            checked_by=checked_by,
            ok=found.ok,
            events_checked=checked,
            first_bad_event_id=found.first_bad_event_id,
            problem=found.problem or "",
        )
        for chain, checked, found in rows
    )
    db.session.commit()
    return report


_SCAN = json.JSONDecoder().scan_once


def _parse_json(text: str) -> Any:
    """``json.loads``, without its layers of Python calls for the common case of a document
    that is exactly one value (as a JSON column holds)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _event_rows(batch_size: int, organisation_id: int | None = EVERY_CHAIN) -> Iterator[tuple[Any, ...]]:
    """Every event (of one chain, or all) as a plain tuple ``(id, hash, organisation_id,
    *HASHED_FIELDS)`` chain by chain in chain order, the payload
    as JSON text (parsing it here is faster than the driver's JSON loading),
    fetched ``batch_size`` at a time in the session's transaction.

    On PostgreSQL through psycopg's own server-side (named) cursor: SQLAlchemy's result rows
    cost as much again as hashing. Elsewhere through a Core result (no ORM objects either)."""
    columns = [
        cast(Event.payload, Text) if name == "payload" else Event.__table__.c[name]
        for name in ("id", "hash", "organisation_id", *HASHED_FIELDS)
    ]
    query = select(*columns).order_by(Event.organisation_id, Event.seq)
    if organisation_id is not EVERY_CHAIN:
        query = query.where(_in_chain(organisation_id))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        cursor = connection.connection.dbapi_connection.cursor(name="fundflow_verify_chain")
        try:
            compiled = query.compile(dialect=connection.dialect)
            cursor.execute(str(compiled), compiled.params or None)
            # one batch ahead, in a thread: PostgreSQL reads and sends the next batch while
            # this one is hashed (the thread waits on the socket, which frees the GIL)
            with ThreadPoolExecutor(max_workers=1) as ahead:
                batch = ahead.submit(cursor.fetchmany, batch_size)
                while rows := batch.result():
                    batch = ahead.submit(cursor.fetchmany, batch_size)
                    yield from rows
        finally:
            cursor.close()
        return
    result = connection.execute(query.execution_options(yield_per=batch_size, stream_results=True))
    try:
        for batch in result.partitions():
            yield from batch
    finally:
        result.close()


#: The records whose status the audit trail must explain, by the subject type naming them.
_STATUS_SUBJECTS = (
    ("application", Application),
    ("claim", BackfillClaim),
    ("impact_report", ImpactReport),
    ("schedule_item", ScheduleItem),
)


def _status_without_its_event(organisation_id: int | None = EVERY_CHAIN) -> tuple[int | None, str] | None:
    """The chain alone cannot see its newest events cut off. So every record's status must
    be the one its latest status event moved it to: deleting that event (or editing a
    status by hand) leaves a record whose status no event explains.

    One statement, in SQL: the latest status event of every subject (one pass over the
    events), each kind of record joined to it, and only the records that disagree returned
    (none, unless the trail was tampered with). With ``organisation_id``, only the records
    of that organisation's funds (the service's chain has none)."""
    latest = (
        select(Event.subject_type, Event.subject_id, Event.organisation_id, func.max(Event.seq).label("seq"))
        .where(
            Event.subject_type.in_([subject_type for subject_type, _ in _STATUS_SUBJECTS]),
            Event.to_status.is_not(None),
            Event.subject_id.is_not(None),
        )
        .group_by(Event.subject_type, Event.subject_id, Event.organisation_id)
        .cte("latest_status")
    )
    initial = {"schedule_item": SCHEDULE_LIFECYCLE.initial}
    last_event = aliased(Event)
    disagreements = []
    for kind, (subject_type, model) in enumerate(_STATUS_SUBJECTS):
        # a schedule item is made "due" with its award's approval (its Event names the
        # schedule); its later moves have Events of their own
        explained = func.coalesce(last_event.to_status, initial.get(subject_type))
        query = (
            select(
                literal(kind).label("kind"),
                model.id.label("id"),
                model.status.label("status"),
                last_event.id.label("event_id"),
                explained.label("to_status"),
            )
            .select_from(model)
            .outerjoin(latest, (latest.c.subject_type == subject_type) & (latest.c.subject_id == model.id))
            .outerjoin(
                last_event,
                # a record's events are all in its fund's organisation's chain
                (last_event.organisation_id == latest.c.organisation_id) & (last_event.seq == latest.c.seq),
            )
            .where(explained.is_distinct_from(model.status))
        )
        if organisation_id is not EVERY_CHAIN:
            if model is not Application:
                query = query.join(Application, Application.id == model.application_id)
            query = query.join(Fund, Fund.id == Application.fund_id).where(
                Fund.organisation_id == organisation_id
            )
        disagreements.append(query)
    # no LIMIT: with one, PostgreSQL guesses a nested loop over every record (minutes)
    row = db.session.execute(union_all(*disagreements).order_by("kind", "id")).first()
    if row is None:
        return None
    subject_type = _STATUS_SUBJECTS[row.kind][0]
    return row.event_id, f"{subject_type} {row.id} is {row.status} but its last event says {row.to_status}"
