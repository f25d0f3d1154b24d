"""Today's date, in one place so tests can move it."""

from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    """The service's idea of today: ``FUNDFLOW_TODAY`` in config when set (tests), else the date."""
    if has_app_context():
        fixed = current_app.config.get("FUNDFLOW_TODAY")
        if fixed:
            return date.fromisoformat(str(fixed))
    return date.today()
