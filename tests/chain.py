"""A long, valid audit chain written straight into the events table (for tests of the
verifier and of streamed exports at volume): hashed with the one definition the app uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from fundflow.extensions import db
from fundflow.models import Event, Fund
from fundflow.services import audit


def append_events(count: int, *, fund_id: int | None = None, batch: int = 5_000) -> None:
    """Append ``count`` events (no status changes) after the last of the chain of the fund's
    organisation (the service's chain without a fund), committed."""
    organisation_id = (
        db.session.execute(select(Fund.organisation_id).where(Fund.id == fund_id)).scalar_one()
        if fund_id is not None
        else None
    )
    seq, prev = audit.chain_end(organisation_id)
    start = datetime(2026, 1, 1)
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        seq += 1
        values = {
            "organisation_id": organisation_id,
            "seq": seq,
            "at": start + timedelta(seconds=seq, microseconds=seq % 997),
            "actor_id": None,
            "actor_email": "system",
            "action": "note",
            "subject_type": "fund",
            "subject_id": fund_id,
            "application_id": None,
            "fund_id": fund_id,
            "from_status": None,
            "to_status": None,
            "payload": {"note": f"entry {seq}", "pence": seq, "quoted": 'say "é"', "list": [1, None]},
            "prev_hash": prev,
        }
        prev = values["hash"] = audit.values_hash([values[name] for name in audit.HASHED_FIELDS])
        rows.append(values)
        if len(rows) == batch:
            _insert(rows)
    _insert(rows)
    db.session.commit()


def _insert(rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(Event), rows)
        rows.clear()
