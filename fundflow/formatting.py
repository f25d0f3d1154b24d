"""Jinja filters for money, dates and labels, so templates hold no arithmetic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask

from .dates import long_date
from .models import DRIVER_LABELS, RATING_LABELS, ROLE_LABELS
from .workflow import APPLICATION_LIFECYCLE, APPLICATION_STATES, CLAIM_STATES


def money(pence: int | None) -> str:
    """12345 → '£123.45'; None → '—'."""
    if pence is None:
        return "—"
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


def day(value: date | datetime | None) -> str:
    """2025-11-02 → '2 November 2025'; None → '—'."""
    if value is None:
        return "—"
    return long_date(value)


def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return f"{long_date(value)} at {value:%H:%M} UTC"


def number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value).normalize():f}"
    return text


def status_label(status: str) -> str:
    return APPLICATION_STATES.get(status, status.replace("_", " ").capitalize())


def claim_status_label(status: str) -> str:
    return CLAIM_STATES.get(status, status.replace("_", " ").capitalize())


def action_label(action: str) -> str:
    if action in APPLICATION_LIFECYCLE.actions:
        return APPLICATION_LIFECYCLE.actions[action].label
    return action.replace("_", " ").capitalize()


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        day=day,
        moment=moment,
        number=number,
        status_label=status_label,
        claim_status_label=claim_status_label,
        action_label=action_label,
        role_label=lambda r: ROLE_LABELS.get(r, r),
        rating_label=lambda r: RATING_LABELS.get(r, r),
        driver_label=lambda d: DRIVER_LABELS.get(d, d),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
