"""One way to write a date, for services, workflow rules and pages alike."""

from __future__ import annotations

from datetime import date, datetime

from fundflow import formatting
from fundflow.dates import long_date


def test_a_date_reads_as_day_month_and_year_without_a_leading_zero():
    assert long_date(date(2025, 11, 2)) == "2 November 2025"
    assert long_date(date(2026, 4, 30)) == "30 April 2026"


def test_a_moment_reads_as_its_date():
    assert long_date(datetime(2026, 11, 30, 23, 59)) == "30 November 2026"


def test_pages_write_dates_as_the_services_do():
    assert formatting.day(date(2025, 11, 2)) == long_date(date(2025, 11, 2))
    assert formatting.day(None) == "—"
    assert formatting.moment(datetime(2026, 3, 5, 9, 7)) == "5 March 2026 at 09:07 UTC"
