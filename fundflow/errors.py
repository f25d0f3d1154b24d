"""Errors as pages for people and as API.md's JSON shape for the API: one handler asks
which the client wants. Nothing leaks a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
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
}


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

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "Something went wrong on our side. Try again later.")
        return _page(500, InternalServerError.description)


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
