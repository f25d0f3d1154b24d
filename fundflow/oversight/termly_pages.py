"""The termly report for the Schools Forum: a printable page and PDF."""

from __future__ import annotations

from .blueprint import bp  # noqa: F401
