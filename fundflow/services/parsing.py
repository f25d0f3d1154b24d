"""Parsing of user-supplied values.

:func:`parse_number` is the ONE reader of every money and quantity input — the site's form
fields (:mod:`fundflow.fields`), the API's schemas (:mod:`fundflow.api.schemas`) and the
services (:func:`to_decimal`) all go through it. It is bounded by what the column holds
(:class:`Bounds`: ``NUMERIC(digits, places)`` or a 64-bit integer), so nothing it returns can
overflow a column or be rounded on the way in, and it never does arithmetic on a value before
that is known: ``1e30``, ``1e-999999999``, ``NaN``, ``Infinity`` or a 29-digit number are
refused with a message (:class:`NumberRefused`), never ``decimal.InvalidOperation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

#: Longest text read as a number; anything longer is refused before it is parsed.
MAX_NUMBER_TEXT = 64
INT64_MAX = 2**63 - 1
#: A plain decimal: optional sign, digits, optional fraction, optional exponent. No NaN,
#: Infinity, underscores or Unicode digits (``Decimal`` itself takes all of those).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class NumberRefused(ValueError):
    """A value that is not a number the column can hold; ``str()`` says why, for a person."""


@dataclass(frozen=True)
class Bounds:
    """What a column holds: ``digits`` significant digits of which ``places`` after the point
    (``NUMERIC(digits, places)``; a 64-bit integer is ``Bounds(19, 0, ...)``), narrowed by
    optional ``minimum``/``maximum`` (inclusive)."""

    digits: int
    places: int
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None

    @property
    def largest(self) -> Decimal:
        """The largest value the column holds, e.g. 99999.9 for NUMERIC(6, 1)."""
        column = Decimal((0, (9,) * self.digits, -self.places))
        return min(column, Decimal(self.maximum)) if self.maximum is not None else column

    @property
    def smallest(self) -> Decimal:
        column = -Decimal((0, (9,) * self.digits, -self.places))
        return max(column, Decimal(self.minimum)) if self.minimum is not None else column


#: Days released: ``NUMERIC(6, 1)`` (activities and claims).
DAYS = Bounds(6, 1)
#: Measure baselines, targets and reported actuals: ``NUMERIC(14, 4)``.
MEASURE_VALUE = Bounds(14, 4)
#: Money in pence: a ``BigInteger`` column.
PENCE = Bounds(19, 0, minimum=-INT64_MAX, maximum=INT64_MAX)
#: Money typed in pounds on the site: up to £99,999,999,999.99, so its pence fit ``PENCE``.
POUNDS = Bounds(13, 2)
#: Row ids: the database's 32-bit integer keys.
ROW_ID = Bounds(10, 0, minimum=1, maximum=2**31 - 1)


def parse_number(value: Any, bounds: Bounds, *, what: str = "a number") -> Decimal:
    """``value`` (text as typed, or a JSON int/float/Decimal) as an exact ``Decimal`` that
    ``bounds`` holds, or :class:`NumberRefused` saying why. Never rounds: ``2.55`` for one
    decimal place is refused, not stored as 2.6. Whole numbers may carry a zero fraction
    (``283.0``) or an exponent (``1e3``). ``what`` names the value in messages
    ("Enter the baseline as a number")."""
    if isinstance(value, bool) or value is None:
        raise NumberRefused(f"Enter {what} as a number")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberRefused(f"Enter {what} as a number")
        value = repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberRefused(f"Enter {what} as a number")
        sign, digits, exponent = value.as_tuple()
    elif isinstance(value, int):
        if abs(value) > 10 ** (bounds.digits + 1):
            raise NumberRefused(_too_large(bounds, what))
        sign, digits, exponent = Decimal(value).as_tuple()
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
            raise NumberRefused(f"Enter {what} as a number")
        try:
            sign, digits, exponent = Decimal(text).as_tuple()
        except (InvalidOperation, ValueError):  # pragma: no cover - the pattern admits only numbers
            raise NumberRefused(f"Enter {what} as a number") from None
    else:
        raise NumberRefused(f"Enter {what} as a number")
    assert isinstance(exponent, int)
    # Drop trailing zeros by hand (``normalize`` would round to the context's precision).
    digits = tuple(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if digits == (0,):
        sign, exponent = 0, 0
    if exponent < -bounds.places:
        if bounds.places == 0:
            raise NumberRefused(f"Enter {what} as a whole number")
        places = "1 decimal place" if bounds.places == 1 else f"{bounds.places} decimal places"
        raise NumberRefused(f"Enter {what} with at most {places}")
    if len(digits) + exponent > bounds.digits - bounds.places:
        raise NumberRefused(_too_large(bounds, what))
    if exponent > 0:  # 1e3 → 1000, not Decimal('1E+3')
        digits, exponent = digits + (0,) * exponent, 0
    number = Decimal((sign, digits, exponent))  # now small enough for ordinary arithmetic
    if number > bounds.largest:
        raise NumberRefused(_too_large(bounds, what))
    if number < bounds.smallest:
        raise NumberRefused(f"Enter {what} of {_plain(bounds.smallest)} or more")
    return number


def pounds(pence: int) -> Decimal:
    """Pence as pounds, exactly: 12345 → ``Decimal('123.45')``, -5 → ``Decimal('-0.05')``.
    The ONE conversion of money from pence to pounds; the reverse is :func:`parse_number`
    with :data:`POUNDS` (``fundflow.fields.parse_pounds``). Form boxes, CSV files and the
    ``money`` filter all show amounts through it."""
    return Decimal(int(pence)).scaleb(-2)


def parse_whole(value: Any, bounds: Bounds, *, what: str = "a whole number") -> int:
    """:func:`parse_number` for an integer column: ``283`` or ``283.0``, never ``283.5``."""
    return int(parse_number(value, Bounds(bounds.digits, 0, bounds.minimum, bounds.maximum), what=what))


def _too_large(bounds: Bounds, what: str) -> str:
    if bounds.minimum is not None and bounds.minimum >= 0:
        return f"Enter {what} of {_plain(bounds.largest)} or less"
    return f"Enter {what} between {_plain(bounds.smallest)} and {_plain(bounds.largest)}"


def _plain(number: Decimal) -> str:
    return f"{number:,f}"


def to_decimal(value: Any, bounds: Bounds = MEASURE_VALUE) -> Decimal | None:
    """Lenient: :func:`parse_number`, or ``None`` when ``value`` is not a number ``bounds``
    holds (the caller then says which field is wrong)."""
    try:
        return parse_number(value, bounds)
    except NumberRefused:
        return None


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
