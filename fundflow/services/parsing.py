"""Lenient parsing of user-supplied values; ``None`` when a value can't be read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def to_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def clean_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def is_half_days(days: Decimal) -> bool:
    """Whole or half days only: 2 or 2.5, not 2.25."""
    return days * 2 == (days * 2).to_integral_value()


def text_field(problems: Any, name: str, value: Any, *, required: bool, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        problems.add(name, "Enter text")
    elif required and not text:
        problems.add(name, "Enter " + name.rsplit(".", 1)[-1].replace("_", " "))
    elif len(text) > limit:
        problems.add(name, f"Use {limit} characters or fewer")
    return text
