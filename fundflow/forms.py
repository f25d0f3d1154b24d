"""Shared form plumbing: put a service's field errors onto a WTForms form so the page
re-renders with the GOV.UK error summary, read the page asked for and the client's
address from the request, and record a form sent twice only once (:func:`init_app`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError

from .errors import is_database_unavailable, unavailable_response
from .extensions import csrf
from .services import idempotency
from .services.errors import DomainError, ValidationFailed

In = TypeVar("In")
Out = TypeVar("Out")


def apply_errors(
    form: FlaskForm,
    exc: DomainError,
    field_map: dict[str, str] | None = None,
    *,
    only_unmarked: bool = False,
) -> None:
    """Attach ``exc``'s messages to the matching form fields.

    ``field_map`` renames service field names (``awarded_pence``) to form fields
    (``awarded``); messages for fields the form lacks go on ``form.form_errors`` and show
    at the top of the error summary. ``only_unmarked`` skips fields that already show an
    error of the form's own (:func:`submit_form`).
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
            if only_unmarked and field.errors:
                continue
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(message)
        else:
            form.form_errors.append(message)


#: Service error codes that belong to one form field, on whichever form has that field.
CODE_FIELDS = {"duplicate_email": "email", "duplicate_urn": "urn", "duplicate_reference": "reference"}


def show_error(
    form: FlaskForm,
    exc: DomainError,
    field_map: dict[str, str] | None = None,
    *,
    only_unmarked: bool = False,
) -> int:
    """Put a service's refusal on the form; the status to re-render the page with.

    A refusal whose code belongs to one field (a duplicate email address, URN or payment
    reference) goes on that field; anything else as :func:`apply_errors` places it.
    """
    target = CODE_FIELDS.get(exc.code)
    if target and hasattr(form, target):
        field = getattr(form, target)
        if not (only_unmarked and field.errors):
            field.errors = [*field.errors, exc.message]
    else:
        apply_errors(form, exc, field_map, only_unmarked=only_unmarked)
    return exc.status


def submit_form(
    form: FlaskForm,
    read: Callable[[], In],
    check: Callable[[In], object],
    act: Callable[[In], Out],
    place: Callable[[DomainError, In, bool], int] | None = None,
    field_map: dict[str, str] | None = None,
) -> tuple[Out | None, int]:
    """Validate a posted ``form`` and show everything wrong with it at once.

    The form's input is read once (``read``, after the form's own checks have parsed it).
    When those checks pass, ``act`` (the service) runs; its refusal goes on the form. When
    they fail, ``check`` (the service's read-only check of the same input, which writes
    nothing) runs too, and its problems go on the fields the form left unmarked, so a page
    shows its form's errors and the service's rules in one pass. ``place(exc, input,
    only_unmarked)`` puts a refusal on the form (by default :func:`show_error` with
    ``field_map``) and answers the status.

    Answers the service's result, or ``None`` with the status to render the form with
    (200 when nothing was posted).
    """

    def on_form(exc: DomainError, _input: In, only_unmarked: bool) -> int:
        return show_error(form, exc, field_map, only_unmarked=only_unmarked)

    place = place or on_form
    if not form.is_submitted():
        return None, 200
    valid = form.validate()
    data = read()
    try:
        if valid:
            return act(data), 200
        check(data)
    except DomainError as exc:
        status = place(exc, data, not valid)
        return None, status if valid else 422
    return None, 422


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


# --------------------------------------------------------------------------------------
# A form sent twice (a double click, or back and send again) is recorded once
# --------------------------------------------------------------------------------------

#: The hidden field carrying a rendered form's one-time token.
FORM_TOKEN = "form_token"
REPEAT_MESSAGE = "You sent that form more than once. It was recorded once: this is where it took you."
_TRANSACTION = "fundflow.form_transaction"
_GUARD = "fundflow.form_guard"


def form_token() -> Markup:
    """``{{ form_token() }}``: the hidden one-time token a state-changing form carries, next
    to its ``csrf_token``. Each rendering of the form gets a new one."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_TOKEN, secrets.token_urlsafe(24))


def init_app(app: Flask) -> None:
    """Guard every signed-in POST that carries a :func:`form_token`.

    The request runs in one transaction with the token (:mod:`fundflow.services.idempotency`,
    keyed by the user and the token). When it ends in a redirect, the token is recorded with
    where it went; the same token sent again redirects there with a message instead of
    writing again (on PostgreSQL after waiting for the first request to finish). A page
    re-rendered with errors records nothing, so the form can be corrected and sent.

    Registered before the other request hooks that touch the database (after the upload
    limit, which must be set before the form is read), so that the signed-in user is loaded
    in that transaction.
    """
    app.add_template_global(form_token, "form_token")
    app.before_request(_guard_repeated_form)
    app.after_request(_record_where_the_form_went)
    app.teardown_request(_end_form_transaction)


def _guard_repeated_form() -> Response | None:
    if request.method != "POST" or request.blueprint == "api":
        return None
    token = request.form.get(FORM_TOKEN, "")
    try:
        key = idempotency.validate_key(token, FORM_TOKEN)
    except ValidationFailed:
        return None  # no token (sign-in, sign-out) or not one of ours: not guarded
    tx = idempotency.RequestTransaction()
    setattr(g, _TRANSACTION, tx)
    if not current_user.is_authenticated:
        _end_form_transaction()
        return None
    first = idempotency.claim(tx, current_user.id, key, wait=True)
    if first is not None and first.fingerprint != idempotency.fingerprint("POST", request.path):
        # The token was first sent to another form (each rendering of a form has its own, so
        # only a page altered by hand gets here). Not a repeat of that form: it runs as a new
        # submission through its own CSRF, role and domain checks, never sent to where the
        # other form went, and is not recorded (the token is taken).
        return None
    if first is not None:
        _check_csrf()  # the replay answers before the CSRF hook runs: a forged one is refused too
        flash(REPEAT_MESSAGE, "info")
        return redirect(first.response_location or url_for("main.index"), 303)
    setattr(g, _GUARD, (current_user.id, key))
    return None


def _check_csrf() -> None:
    """Flask-WTF's CSRF check (400 when it fails), as its own hook would make it."""
    config = current_app.config
    if config.get("WTF_CSRF_ENABLED", True) and config.get("WTF_CSRF_CHECK_DEFAULT", True):
        csrf.protect(apply_exemptions=True)


def _record_where_the_form_went(response: Response) -> Response:
    tx: idempotency.RequestTransaction | None = g.get(_TRANSACTION)
    guard: tuple[int, str] | None = g.pop(_GUARD, None)
    if tx is None:
        return response
    if response.status_code >= 500:
        tx.rollback()
        return response
    if guard is not None and 300 <= response.status_code < 400 and response.location:
        user_id, key = guard
        try:
            idempotency.record(
                tx,
                user_id=user_id,
                key=key,
                fingerprint=idempotency.fingerprint("POST", request.path),
                method="POST",
                path=request.path,
                status=response.status_code,
                location=response.location,
            )
        except idempotency.KeyInUse:
            tx.rollback()  # recorded by a request that met this one: its write stands, not ours
            flash(REPEAT_MESSAGE, "info")
            return redirect(request.path, 303)
    try:
        tx.commit()
    except DBAPIError as exc:  # after the view, so the error handlers no longer see it
        if not is_database_unavailable(exc):
            raise
        return unavailable_response()
    return response


def _end_form_transaction(_exc: BaseException | None = None) -> None:
    tx: idempotency.RequestTransaction | None = g.pop(_TRANSACTION, None)
    if tx is not None:
        tx.close()
