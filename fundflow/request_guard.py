"""Refuse control characters at the request boundary, once, before any view runs.

NUL and the other C0/C1 control characters (all but tab, line feed and carriage return)
have no place in a path, a query string, a form field, a JSON body or a header fundflow
reads: PostgreSQL cannot store NUL in text, and the others are only ever an attack or a
broken client. They are refused here with 400 — the API's JSON error shape or a GOV.UK
error page — so no view, form or service has to think about them. Uploaded files' bytes are
not inspected (evidence may be any document); their file names are.

Ids in a route (``<int:…>``) are bounded the same way, once, by the converter every route
uses: a number no row can have is "not found", never an overflow in the database.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

#: C0 controls but tab, LF and CR; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: The headers a view or extension reads.
READ_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Requested-With", "Referer")
#: Row ids are the database's 32-bit integer keys.
ROW_ID_MAX = 2**31 - 1
MESSAGE = "The request contains characters that are not allowed (such as NUL or other control characters)"


class ControlCharacters(BadRequest):
    description = MESSAGE


def has_control_characters(value: Any) -> bool:
    """Whether a string, or any string inside a list or dict (keys too), holds a refused
    character."""
    stack = [value]  # iterative: a deeply nested body must not exhaust the stack
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if CONTROL.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refused_part() -> str | None:
    """Which part of the current request holds a refused character, or ``None``."""
    if CONTROL.search(request.path):
        return "path"
    if CONTROL.search(request.query_string.decode("latin-1")) or _multi_has(request.args):
        return "query"
    for name in READ_HEADERS:
        if CONTROL.search(request.headers.get(name, "")):
            return f"header {name}"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if _multi_has(request.form):
            return "form"
        for storage in request.files.values():
            if CONTROL.search(storage.filename or ""):
                return "file name"
    elif request.is_json:
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None  # not JSON: the API answers that itself
        if has_control_characters(body):
            return "body"
    return None


def _multi_has(values: Any) -> bool:
    return any(CONTROL.search(k) or CONTROL.search(v) for k, v in values.items(multi=True))


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in a route: a whole number the database's 32-bit keys can hold, so
    ``/claims/99999999999999999999`` is "not found" rather than an overflow in the query."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", ROW_ID_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def refuse_control_characters() -> None:
        if refused_part() is not None:
            raise ControlCharacters()
