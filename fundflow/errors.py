"""Errors as pages for people and as API.md's JSON shape for the API: one handler asks
which the client wants. Nothing leaks a stack trace."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from .services.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}

#: Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_SECONDS = 5
VALUE_MESSAGE = "The request holds a value that is too large or too long to be kept"
UNAVAILABLE_MESSAGE = "The service is unavailable for a moment. Try again in a few seconds."
#: PostgreSQL SQLSTATE classes that mean "the database cannot serve you right now":
#: connection exceptions, transaction rollback (deadlock, serialization), insufficient
#: resources, object not in prerequisite state (lock not available), operator intervention
#: (shutting down, starting up), system errors.
TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "55", "57", "58"}
SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(
    status: int, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            fields = exc.fields if isinstance(exc, ValidationFailed) else None
            return json_error(exc.status, exc.message, exc.code, fields)
        return _page(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            response = json_error(status, _http_message(exc))
            if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
                response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return response
        return _page(status, _http_message(exc))

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.DisconnectionError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_unavailable(exc: Exception):
        if not is_database_unavailable(exc):
            return unexpected(exc)
        log.warning("Database unavailable on %s %s: %s", request.method, request.path, exc)
        _roll_back()
        return unavailable_response()

    @app.errorhandler(sa_exc.DataError)
    def value_the_database_cannot_store(exc: sa_exc.DataError):
        """A value that slipped past validation and that the database refuses (a number out
        of range, text too long for its column): the request's fault, so 400 — and logged,
        because the form or schema that let it through should have said so on its field."""
        log.warning("Database refused a value on %s %s: %s", request.method, request.path, exc.orig)
        _roll_back()
        if wants_json():
            return json_error(400, VALUE_MESSAGE)
        return _page(400, VALUE_MESSAGE)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        _roll_back()
        if wants_json():
            return json_error(500, "Something went wrong on our side. Try again later.")
        return _page(500, InternalServerError.description)


def _roll_back() -> None:
    """End the failed transaction, so the error page (which may look up the signed-in user)
    is not refused by PostgreSQL's "current transaction is aborted"."""
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone: nothing to end
        log.debug("Rollback after an error failed", exc_info=True)


def is_database_unavailable(exc: BaseException) -> bool:
    """A connection-type database failure — unreachable, restarting, out of connections, a
    lock or deadlock that a retry will clear — rather than a bug in a query."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError | sa_exc.InterfaceError):
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc.orig, sqlite3.Error):  # busy or locked past the timeout, or no file
        return getattr(exc.orig, "sqlite_errorname", "").startswith(SQLITE_TRANSIENT)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate is None or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES


def unavailable_response() -> Response:
    """503 with ``Retry-After``: the API's JSON error shape, or a GOV.UK page rendered
    without the database (no context processors, no signed-in user, no flashed messages)."""
    if wants_json():
        response = json_error(503, UNAVAILABLE_MESSAGE)
    else:
        try:
            from .main.routes import csp_nonce

            template = current_app.jinja_env.get_template("errors/unavailable.html")
            html = template.render(
                current_user=AnonymousUserMixin(), message=UNAVAILABLE_MESSAGE, cspNonce=csp_nonce()
            )
        except Exception:  # the page must not fail: fall back to plain text
            log.exception("Service unavailable page failed to render")
            html = "Sorry, the service is unavailable. Try again in a few seconds."
        response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _http_message(exc: HTTPException) -> str:
    defaults = {
        400: "The request could not be understood",
        401: "Sign in to continue",
        403: "You do not have access to this page",
        404: "Page not found",
        405: "That method is not allowed here",
        413: "The file or request is too large",
        429: "Too many requests. Wait a few minutes and try again.",
    }
    return defaults.get(exc.code or 500, exc.description or "Something went wrong")


def _page(status: int, message: str):
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/error.html")
    try:
        return render_template(template, status=status, message=message), status
    except Exception:  # a broken template must not turn a 404 into a 500 page
        log.exception("Error page failed to render")
        return f"{status} {message}", status, {"Content-Type": "text/plain; charset=utf-8"}
