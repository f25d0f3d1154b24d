"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document, generated with apispec from the
routes registered by :func:`fundflow.api.core.operation` and their marshmallow schemas."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema

from . import schemas as s
from .core import CSV, IDEMPOTENCY_KEY_PARAMETER, JSON, OPERATIONS, Operation, bp, operation

TITLE = "fundflow API"
VERSION = "1.0.0"
OPENAPI_VERSION = "3.1.0"

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON or not a JSON object, or the request holds NUL or other control characters",
    401: "No token, or a bad one",
    403: "The role may not do this, or a control forbids it",
    404: "Not found, or not visible to this user",
    409: "Not allowed from the current state, or a duplicate",
    422: "Validation failed (fields listed) or a guard failed",
    429: "Too many failed attempts: wait and try again",
    503: "The database cannot be reached for a moment: try again after Retry-After seconds",
}
#: Any request may be refused at the boundary (control characters) or meet the database away.
EVERY_OPERATION_ERRORS = (400, 503)

_CONVERTER = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def _schema_name(schema: type[Schema] | Schema) -> str:
    """Component names without the ``Schema`` suffix; ``many`` or partial variants of a
    schema share its component."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Flask's ``/claims/<int(min=1):claim_id>`` → ``/claims/{claim_id}`` and its parameter."""
    parameters = []
    for match in _CONVERTER.finditer(rule):
        if match["converter"] == "int":
            schema: dict[str, Any] = {"type": "integer"}
            for arg in (match["args"] or "").split(","):
                key, _, value = arg.partition("=")
                if key.strip() in ("min", "max"):
                    schema["minimum" if key.strip() == "min" else "maximum"] = int(value)
        else:
            schema = {"type": "string"}
        parameters.append({"in": "path", "name": match["name"], "required": True, "schema": schema})
    return bp.url_prefix + _CONVERTER.sub(r"{\g<name>}", rule), parameters


def _operation(op: Operation) -> dict[str, Any]:
    path_parameters = _path(op.rule)[1]
    success: dict[str, Any] = {"description": op.summary}
    if op.media_type == CSV:
        success["content"] = {CSV: {"schema": {"type": "string"}}}
    elif op.media_type != JSON:  # a binary download (a PDF)
        success["content"] = {op.media_type: {"schema": {"type": "string", "format": "binary"}}}
    elif op.response is not None:
        success["content"] = {JSON: {"schema": op.response}}
    responses: dict[str, Any] = {str(op.status): success}
    for code in sorted({*op.all_errors, *EVERY_OPERATION_ERRORS}):
        responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    result: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
        "security": [] if op.public else [{"bearerAuth": []}],
    }
    if op.description:
        result["description"] = op.description
    parameters = list(path_parameters)
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if op.idempotent:
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {"required": True, "content": {JSON: {"schema": op.body}}}
    return result


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document; built once per process (it depends on code only)."""
    marshmallow_plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[marshmallow_plugin],
        info={
            "description": (
                "The JSON API of fundflow, a local school improvement fund. Money is integer "
                "pence in fields ending _pence; dates are YYYY-MM-DD, times ISO 8601 UTC. "
                "Authenticate with Authorization: Bearer <token> (POST /api/v1/tokens or "
                "`flask --app wsgi fundflow issue-token EMAIL`)."
            )
        },
    )
    marshmallow_plugin.map_to_openapi_type(s.Number, "number", None)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=s.ErrorSchema)
    for code, description in ERROR_DESCRIPTIONS.items():
        response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": "Error"}}}
        if code == 503:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
        spec.components.response(f"Error{code}", response)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, _ = _path(op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@operation(
    "/openapi.json",
    "GET",
    summary="This OpenAPI document",
    tag="meta",
    response={"type": "object"},
    public=True,
)
def openapi_json() -> dict[str, Any]:
    return openapi_document()
