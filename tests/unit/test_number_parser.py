"""The one bounded number parser (fundflow.services.parsing.parse_number): exact, bounded by
what the column holds, never rounding, never raising anything but NumberRefused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundflow.fields import parse_pounds
from fundflow.services.parsing import (
    DAYS,
    MEASURE_VALUE,
    PENCE,
    ROW_ID,
    Bounds,
    NumberRefused,
    parse_number,
    parse_whole,
    to_decimal,
)


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        ("2.5", DAYS, Decimal("2.5")),
        ("  12 ", DAYS, Decimal(12)),
        ("1e3", DAYS, Decimal(1000)),
        ("283.0", PENCE, Decimal(283)),
        (283.0, PENCE, Decimal(283)),
        (Decimal("283.000"), PENCE, Decimal(283)),
        ("-0", DAYS, Decimal(0)),
        ("9999999999.9999", MEASURE_VALUE, Decimal("9999999999.9999")),
        (2**63 - 1, PENCE, Decimal(2**63 - 1)),
        (".5", DAYS, Decimal("0.5")),
    ],
)
def test_numbers_the_column_holds_are_read_exactly(value, bounds, expected):
    number = parse_number(value, bounds)
    assert number == expected
    assert "E" not in str(number)  # 1e3 is stored as 1000, not 1E+3


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        ("1e30", PENCE, "between"),
        ("99999999999999999999999999999", MEASURE_VALUE, "between"),
        ("1e-999999999", DAYS, "at most 1 decimal place"),
        ("9999999999.99999", MEASURE_VALUE, "at most 4 decimal places"),  # would round up to 10^10
        ("10000000000", MEASURE_VALUE, "between"),
        ("2.55", DAYS, "at most 1 decimal place"),
        ("283.5", PENCE, "as a whole number"),
        (2**63, PENCE, "between"),
        (10**400, PENCE, "between"),
        ("NaN", DAYS, "as a number"),
        ("Infinity", DAYS, "as a number"),
        (float("nan"), DAYS, "as a number"),
        (float("-inf"), DAYS, "as a number"),
        (Decimal("sNaN"), DAYS, "as a number"),
        ("١٢", DAYS, "as a number"),  # other scripts' digits: Decimal() would take them
        ("1_000", DAYS, "as a number"),
        ("0x10", DAYS, "as a number"),
        ("9" * 65, MEASURE_VALUE, "as a number"),  # longer than any number is read
        ("", DAYS, "as a number"),
        (True, DAYS, "as a number"),
        (None, DAYS, "as a number"),
        ([1], DAYS, "as a number"),
        ("0", ROW_ID, "of 1 or more"),
        (2**31, ROW_ID, "or less"),
    ],
)
def test_what_the_column_cannot_hold_is_refused_with_a_message(value, bounds, message):
    with pytest.raises(NumberRefused, match=message):
        parse_number(value, bounds)


@given(st.one_of(st.text(max_size=80), st.floats(), st.integers(), st.decimals()))
def test_the_parser_raises_nothing_but_number_refused_and_returns_what_the_column_holds(value):
    for bounds in (DAYS, MEASURE_VALUE, PENCE, ROW_ID, Bounds(13, 2)):
        try:
            number = parse_number(value, bounds)
        except NumberRefused:
            continue
        assert bounds.smallest <= number <= bounds.largest
        assert number == number.quantize(Decimal(1).scaleb(-bounds.places))


def test_whole_numbers_come_back_as_int():
    assert parse_whole(283.0, PENCE) == 283 and isinstance(parse_whole("283", PENCE), int)


def test_services_lenient_reader_answers_none_for_what_the_column_cannot_hold():
    assert to_decimal("1e-999999999") is None
    assert to_decimal("2.5") == Decimal("2.5")


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("£1,250.50", 125050),
        ("1250", 125000),
        (" 0.99 ", 99),
        ("", None),
        ("99,999,999,999.99", 9999999999999),
    ],
)
def test_pounds_typed_on_the_site_are_read_as_pence(typed, pence):
    assert parse_pounds(typed) == pence


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e30", "£99,999,999,999.99 or less"),
        ("99999999999999999999999999999", "or less"),
        ("12.345", "pounds and pence"),
        ("NaN", "Enter an amount in pounds"),
        ("ten pounds", "Enter an amount in pounds"),
    ],
)
def test_pounds_the_column_cannot_hold_are_refused_with_a_message(typed, message):
    with pytest.raises(NumberRefused, match=message):
        parse_pounds(typed)
