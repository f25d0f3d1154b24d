"""Shared form plumbing: put a service's field errors onto a WTForms form so the page
re-renders with the GOV.UK error summary, and read the client's address."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm

from .services.errors import DomainError, ValidationFailed


def apply_errors(form: FlaskForm, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Attach ``exc``'s messages to the matching form fields.

    ``field_map`` renames service field names (``awarded_pence``) to form fields
    (``awarded``); messages for fields the form lacks go on ``form.form_errors`` and show
    at the top of the error summary.
    """
    field_map = field_map or {}
    pairs = (
        [(name, m) for name, ms in exc.fields.items() for m in ms]
        if isinstance(exc, ValidationFailed) and exc.fields
        else [("", exc.message)]
    )
    for name, message in pairs:
        target = field_map.get(name, name)
        field = getattr(form, target, None) if target else None
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(message)
        else:
            form.form_errors.append(message)


def client_address() -> str:
    """The address a request came from (ProxyFix, when configured, sets remote_addr)."""
    return request.remote_addr or "unknown"
