"""The value-for-money page of a fund, its charts and its tables as CSV."""

from __future__ import annotations

from .blueprint import bp  # noqa: F401
