"""Each bid's dossier: one page, and the same as a PDF."""

from __future__ import annotations

from .blueprint import bp  # noqa: F401
