"""Every oversight page, registered on the one blueprint (each page's views in its own module)."""

from __future__ import annotations

from . import dossier_pages, exceptions_pages, termly_pages, value_pages
from .blueprint import bp

__all__ = ["bp", "dossier_pages", "exceptions_pages", "termly_pages", "value_pages"]
