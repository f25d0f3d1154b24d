"""Today's date and the time now, in one place so tests can move them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from flask import current_app, has_app_context


def today() -> date:
    """The service's idea of today: ``FUNDFLOW_TODAY`` in config when set (tests), else the date."""
    if has_app_context():
        fixed = current_app.config.get("FUNDFLOW_TODAY")
        if fixed:
            return date.fromisoformat(str(fixed))
    return date.today()


def now() -> datetime:
    """The service's idea of now, naive UTC like every stored time: ``FUNDFLOW_NOW`` in config
    (an ISO datetime, naive UTC or with an offset) when set (tests), else the clock."""
    if has_app_context():
        fixed = current_app.config.get("FUNDFLOW_NOW")
        if fixed:
            moment = datetime.fromisoformat(str(fixed))
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            return moment
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def as_of(day: date) -> Iterator[None]:
    """Run services as if today were ``day`` (tests, and the demo's weeks of history), then
    put the clock back."""
    saved = current_app.config.get("FUNDFLOW_TODAY")
    current_app.config["FUNDFLOW_TODAY"] = day.isoformat()
    try:
        yield
    finally:
        current_app.config["FUNDFLOW_TODAY"] = saved
