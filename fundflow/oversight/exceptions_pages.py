"""The control exceptions an auditor follows up, each linking to its record."""

from __future__ import annotations

from .blueprint import bp  # noqa: F401
