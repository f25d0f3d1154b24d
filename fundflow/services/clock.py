"""Today's date, in one place so tests can move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    """The service's idea of today: ``FUNDFLOW_TODAY`` in config when set (tests), else the date."""
    if has_app_context():
        fixed = current_app.config.get("FUNDFLOW_TODAY")
        if fixed:
            return date.fromisoformat(str(fixed))
    return date.today()


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
