"""The API's plumbing: the blueprint, bearer-token authentication, JSON body and query
parsing, and the :func:`operation` decorator that registers each route together with the
description the OpenAPI document is built from — so the two cannot drift apart.

A view receives the signed-in ``user`` and the loaded ``body``/``query`` and returns either
the object to dump with the operation's response schema or a finished ``Response``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError

from ..downloads import streamed
from ..extensions import csrf
from ..models import User
from ..services import auth, idempotency
from ..services.errors import AuthenticationFailed, DomainError, ValidationFailed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the API takes no cookies, so there is no session to forge requests with

JSON = "application/json"
CSV = "text/csv"

#: Flask converter for row ids: 1 … the largest integer key, anything else is "not found".
ID = "int(min=1, max=2147483647)"


class BadRequest(DomainError):
    """The body is not a JSON object."""

    status = 400
    code = "bad_request"


@dataclass(frozen=True)
class Operation:
    """One route as the OpenAPI document describes it."""

    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    response: Schema | dict[str, Any] | None
    status: int
    media_type: str
    body: type[Schema] | None
    query: type[Schema] | None
    errors: tuple[int, ...]
    public: bool

    @property
    def path_template(self) -> str:
        """The rule as OpenAPI writes it: ``/claims/{claim_id}``."""
        return re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def all_errors(self) -> list[int]:
        """Every error status the route can answer with."""
        codes = set(self.errors)
        if not self.public:
            codes.add(401)
        if self.body is not None:
            codes.update((400, 422))
        if self.query is not None:
            codes.add(422)
        if "<" in self.rule:
            codes.add(404)
        if self.idempotent:
            codes.update((409, 422))  # Idempotency-Key: still in use; used for another request
        return sorted(codes)

    @property
    def idempotent(self) -> bool:
        """Accepts an ``Idempotency-Key`` header: every POST made as a user (all but ``/tokens``)."""
        return self.method == "POST" and not self.public


OPERATIONS: list[Operation] = []


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    response: Schema | dict[str, Any] | None = None,
    status: int = 200,
    media_type: str = JSON,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    errors: tuple[int, ...] = (),
    public: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``view`` on the blueprint and describe it for the OpenAPI document."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            rule=rule,
            method=method.upper(),
            endpoint=view.__name__,
            summary=summary,
            description=(view.__doc__ or "").strip(),
            tag=tag,
            response=response,
            status=status,
            media_type=media_type,
            body=body,
            query=query,
            errors=errors,
            public=public,
        )

        def respond(user: User | None, path: dict[str, Any]) -> Response:
            kwargs = dict(path)
            if not op.public:
                kwargs["user"] = user or bearer_user()
            if op.query is not None:
                query_schema = op.query()
                kwargs["query"] = load(query_schema, query_args(query_schema))
            if op.body is not None:
                kwargs["body"] = load(op.body(), json_body())
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            data = op.response.dump(result) if isinstance(op.response, Schema) else result
            response = jsonify(data)
            response.status_code = op.status
            return response

        @wraps(view)
        def handler(**path: Any) -> Response:
            if op.idempotent and idempotency.HEADER in request.headers:
                return idempotent_call(lambda user: respond(user, path))
            return respond(None, path)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[op.method])
        OPERATIONS.append(op)
        return handler

    return decorator


# --------------------------------------------------------------------------------------
# Authentication: bearer tokens only, never the site's session cookie
# --------------------------------------------------------------------------------------


def bearer_user() -> User:
    """The user whose token is in ``Authorization: Bearer …``, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("Send an API token: Authorization: Bearer <token>")
    user = auth.user_for_token(token)
    if user is None:
        raise AuthenticationFailed("The API token is not valid, or it has been revoked")
    return user


# --------------------------------------------------------------------------------------
# Idempotency-Key: a retried POST replays its first answer instead of writing again
# --------------------------------------------------------------------------------------

REPLAYED_HEADER = "Idempotent-Replayed"

#: The header as the OpenAPI document describes it, on every operation that is ``idempotent``.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "description": (
        "Optional. A key you make up (a UUID, say) so that sending this request again — after "
        "a time-out, a dropped connection or a 5xx — never writes twice. Within 24 hours the same "
        "key with the same method, path and body answers with the first response (status and "
        "body) and the header `Idempotent-Replayed: true`; with another path or body: 422 "
        "`idempotency_key_reused`; while the first request is still running: 409 "
        "`idempotency_key_in_use`. Keys belong to the token's user. A refused request (4xx) "
        "keeps no key."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]+$"},
}


def idempotent_call(respond: Callable[[User], Response]) -> Response:
    """Run ``respond`` guarded by the request's ``Idempotency-Key`` (see
    :mod:`fundflow.services.idempotency`): in one transaction with the key and its answer,
    or replay the answer a first request with the same key, method, path and body gave.
    A refused request (4xx) keeps no key: sent again, it is decided again."""
    tx = idempotency.RequestTransaction()
    try:
        user = bearer_user()
        key = idempotency.validate_key(request.headers.get(idempotency.HEADER, ""))
        fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data(cache=True))
        first = idempotency.claim(tx, user.id, key, wait=False)
        if first is not None:
            if first.fingerprint != fingerprint:
                raise idempotency.key_reused()
            replay = Response(first.response_body, status=first.response_status, mimetype=JSON)
            replay.headers[REPLAYED_HEADER] = "true"
            return replay
        response = respond(user)
        if 200 <= response.status_code < 300:
            try:
                idempotency.record(
                    tx,
                    user_id=user.id,
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    body=response.get_data(as_text=True),
                )
            except idempotency.KeyInUse:
                tx.rollback()  # another request recorded this key first: its write stands, not ours
                raise
        tx.commit()
        return response
    except DomainError:
        tx.commit()  # keeps only what the services committed before refusing: never a key
        raise
    finally:
        tx.close()


@bp.after_request
def ask_for_bearer_token(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fundflow"'
    return response


# --------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body() -> dict[str, Any]:
    """The request body as a JSON object, or 400."""
    if not request.is_json:
        raise BadRequest("Send a JSON object with Content-Type: application/json")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("Send a JSON object in the request body")
    try:
        # Decimals, not floats: 1E-999999999 must not silently become 0.0, nor a 17-digit
        # number lose its last digit, before the schemas' bounded parser sees it.
        data = json.loads(raw, parse_constant=_no_constants, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    return data


def query_args(schema: Schema | None = None) -> dict[str, str]:
    """Query parameters, as the OpenAPI document describes them: each given at most once,
    and never empty (``?to=`` is not a date). A repeat of a parameter ``schema`` declares is a
    422; its typed field refuses an empty value."""
    args = request.args
    declared = {f.data_key or name for name, f in schema.fields.items()} if schema is not None else set(args)
    repeated = sorted(key for key in declared if len(args.getlist(key)) > 1)
    if repeated:
        raise ValidationFailed(
            {key: ["Give this parameter once"] for key in repeated},
            message="Check these fields: " + ", ".join(repeated),
        )
    return args.to_dict()


def load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """``schema.load(data)``, with marshmallow's errors as the API's 422 field errors."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        fields = flatten_errors(exc.messages)
        raise ValidationFailed(fields, message="Check these fields: " + ", ".join(fields)) from None


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"activities": {0: {"days": [...]}}}`` → ``{"activities.0.days": [...]}``."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = str(key) if key != "_schema" else "body"
            for field, errors in flatten_errors(value, f"{prefix}{name}.").items():
                flat.setdefault(field, []).extend(errors)
        return flat
    field = prefix[:-1] or "body"
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return {field: list(messages)}
        flat = {}
        for item in messages:
            for name, errors in flatten_errors(item, prefix).items():
                flat.setdefault(name, []).extend(errors)
        return flat
    return {field: [str(messages)]}


# --------------------------------------------------------------------------------------
# Helpers for views
# --------------------------------------------------------------------------------------


def csv_response(chunks: Iterator[str], filename: str, mimetype: str = CSV) -> Response:
    """A file download, streamed chunk by chunk (:func:`fundflow.downloads.streamed`)."""
    return streamed(chunks, mimetype, re.sub(r"[^A-Za-z0-9._-]+", "-", filename))
