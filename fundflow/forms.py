"""Shared form plumbing: put a service's field errors onto a WTForms form so the page
re-renders with the GOV.UK error summary, read the page asked for and the client's
address from the request, and record a form sent twice only once (:func:`init_app`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, Response, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError
from wtforms import Field, FieldList, Form
from wtforms.form import BaseForm

from .errors import is_database_unavailable, unavailable_response
from .extensions import csrf
from .services import idempotency
from .services.errors import DomainError, ValidationFailed

In = TypeVar("In")
Out = TypeVar("Out")


#: A refusal whose code belongs to one form field, on whichever form has that field.
_CODE_FIELDS = {"duplicate_email": "email", "duplicate_urn": "urn", "duplicate_reference": "reference"}


@dataclass(frozen=True)
class Outcome(Generic[Out]):
    """What :func:`submit_form` (or :func:`attempt`) made of a request: ``done`` with the
    service's ``value``, or not (nothing posted, or refused) with the ``status`` to render
    the form with and the refusal's ``message``."""

    done: bool
    value: Out | None = None
    status: int = 200
    message: str = ""


def submit_form(
    form: FlaskForm,
    act: Callable[[In], Out],
    read: Callable[[], In] | None = None,
    check: Callable[[In], object] | None = None,
    *,
    catching: type[DomainError] | tuple[type[DomainError], ...] = DomainError,
) -> Outcome[Out]:
    """The one way from a posted form to a service: validate, call, show what is wrong.

    The form's input is read once (``read``, after the form's own checks have parsed it;
    ``None`` when the service takes nothing from the form). When those checks pass, ``act``
    (the service) runs with it; a :class:`DomainError` it raises goes on the form. When they
    fail, ``check`` (the service's read-only check of the same input, which writes nothing)
    runs too and its problems go on the fields the form left unmarked, so a page shows its
    form's errors and the service's rules in one pass.

    A refusal goes where the form says: each service field on the form field that declares
    it feeds it (the form's ``service_fields``, ``{form field: service field}``; a field of
    the same name otherwise), a row's field (``activities.2.days``) on the form row that
    input came from (the input's ``positions``), a refusal code that names one field (a
    duplicate email address, URN or payment reference, or the form's own ``code_fields``)
    on that field, and anything else at
    the top of the error summary. A refused form re-renders with the refusal's status (422
    when the form's own checks failed). Refusals other than ``catching`` go on to the
    error pages.
    """
    if not form.is_submitted():
        return Outcome(False)
    valid = form.validate()
    data = read() if read is not None else None
    try:
        if valid:
            return Outcome(True, act(data))
        if check is not None:
            check(data)
    except catching as exc:
        status = _place(form, exc, getattr(data, "positions", None), only_unmarked=not valid)
        return Outcome(False, status=status if valid else 422)
    return Outcome(False, status=422)


def attempt(act: Callable[[], Out], *, letting_through: tuple[type[DomainError], ...] = ()) -> Outcome[Out]:
    """Call a service that takes no form (a button): its result, or its refusal's message
    and status for the page to show. Refusals in ``letting_through`` go on to the error
    pages (a 403 for someone who may not act at all)."""
    try:
        return Outcome(True, act())
    except letting_through:
        raise
    except DomainError as exc:
        return Outcome(False, status=exc.status, message=exc.message)


def _place(form: FlaskForm, exc: DomainError, positions: list[int] | None, *, only_unmarked: bool) -> int:
    """Put ``exc`` on ``form`` (``only_unmarked``: not on fields already showing an error of
    the form's own); the status to re-render with."""
    code_field = {**_CODE_FIELDS, **getattr(form, "code_fields", {})}.get(exc.code)
    if code_field is not None and code_field in form:
        _add(form[code_field], [exc.message], only_unmarked)
    elif isinstance(exc, ValidationFailed) and exc.fields:
        for name, messages in exc.fields.items():
            field = _field_for(form, name, positions)
            if field is None:
                form.form_errors.extend(messages)
            else:
                _add(field, messages, only_unmarked)
        refresh_list_errors(form)
    else:
        form.form_errors.append(exc.message)
    return exc.status


def _add(field: Field, messages: list[str], only_unmarked: bool) -> None:
    if not (only_unmarked and field.errors):
        field.errors = [*field.errors, *messages]


def _feeding(form: BaseForm | Form, service_name: str) -> Field | None:
    """The field of ``form`` that feeds the service's ``service_name``."""
    for field_name, feeds in getattr(form, "service_fields", {}).items():
        if service_name == feeds or (isinstance(feeds, tuple) and service_name in feeds):
            return form[field_name]
    return form[service_name] if service_name in form else None  # noqa: SIM401 (a form has no .get)


def _field_for(form: FlaskForm, name: str, positions: list[int] | None) -> Field | None:
    """The field a service's error ``name`` belongs on; ``None`` for the top of the summary.

    ``title`` and ``priority_areas.3`` name a plain field; ``activities.2.days`` the
    ``days`` of the row the service's third input came from; a whole list, the summary.
    """
    head, _, rest = name.partition(".")
    field = _feeding(form, head)
    index, _, sub = rest.partition(".")
    if field is None or (rest and not index.isdigit()):
        return None
    if not isinstance(field, FieldList):
        return None if sub else field
    if not sub or positions is None or int(index) >= len(positions):
        return None
    position = positions[int(index)]
    if position >= len(field.entries):
        return None
    return _feeding(field.entries[position].form, sub)


def refresh_list_errors(form: FlaskForm) -> None:
    """A FieldList keeps the errors it saw when validated; gather its rows' errors again."""
    for item in form:
        if isinstance(item, FieldList):
            errors = [entry.errors for entry in item.entries]
            item.errors = errors if any(errors) else []


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
