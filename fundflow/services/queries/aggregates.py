"""SQL aggregates the reports and pages count with, written once: a sum that is 0 over no
rows (SQL's own is NULL), how many rows meet a condition, and the sum over those rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func


def total(value: Any) -> Any:
    """``SUM(value)``, 0 over no rows."""
    return func.coalesce(func.sum(value), 0)


def count_if(condition: Any) -> Any:
    """How many rows meet ``condition`` (0 over none)."""
    return total(case((condition, 1), else_=0))


def sum_if(condition: Any, value: Any) -> Any:
    """The sum of ``value`` over the rows meeting ``condition`` (0 over none)."""
    return total(case((condition, value), else_=0))
