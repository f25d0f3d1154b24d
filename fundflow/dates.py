"""How a date reads in a message or on a page: "2 November 2025".

Pure (no Flask, no database) so that services, the workflow rules and the Jinja filters in
:mod:`fundflow.formatting` all write dates the same way. Written without ``%-d``, which only
the C library on Linux and macOS understands.
"""

from __future__ import annotations

from datetime import date, datetime


def long_date(value: date | datetime) -> str:
    """2025-11-02 → '2 November 2025' (a datetime gives its date)."""
    return f"{value.day} {value:%B %Y}"
