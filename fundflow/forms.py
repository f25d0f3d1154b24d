"""Shared form plumbing: put a service's field errors onto a WTForms form so the page
re-renders with the GOV.UK error summary, and read the page asked for and the client's
address from the request."""

from __future__ import annotations

from flask import current_app, request
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


#: Service error codes that belong to one form field, on whichever form has that field.
CODE_FIELDS = {"duplicate_email": "email", "duplicate_urn": "urn", "duplicate_reference": "reference"}


def show_error(form: FlaskForm, exc: DomainError, field_map: dict[str, str] | None = None) -> int:
    """Put a service's refusal on the form; the status to re-render the page with.

    A refusal whose code belongs to one field (a duplicate email address, URN or payment
    reference) goes on that field; anything else as :func:`apply_errors` places it.
    """
    target = CODE_FIELDS.get(exc.code)
    if target and hasattr(form, target):
        getattr(form, target).errors.append(exc.message)
    else:
        apply_errors(form, exc, field_map)
    return exc.status


def client_address() -> str:
    """The address a request came from (ProxyFix, when configured, sets remote_addr)."""
    return request.remote_addr or "unknown"


MAX_PAGE = 100_000  # far past any real list; keeps OFFSET within a database integer


def page_number() -> int:
    """The ``page`` query argument, 1 when missing or nonsense."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


def per_page() -> int:
    """Rows on one page of a list (config ``PER_PAGE``)."""
    return current_app.config.get("PER_PAGE", 20)
