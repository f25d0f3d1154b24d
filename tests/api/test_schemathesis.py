"""Schemathesis against the live app: every operation of the OpenAPI document, with a valid
token, must never answer 5xx and never answer anything the document does not describe.

Bounded: ``FUNDFLOW_SCHEMATHESIS_EXAMPLES`` cases per operation (default 20), derandomised
so CI is repeatable; ``FUNDFLOW_SCHEMATHESIS_RANDOM=1`` explores with fresh seeds. It runs on
SQLite and, when the PostgreSQL tests run, on PostgreSQL too (which enforces column sizes).
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fundflow.api.core import OPERATIONS

from .conftest import SCHEMATHESIS_CASES, seed_world

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
MAX_EXAMPLES = int(os.environ.get("FUNDFLOW_SCHEMATHESIS_EXAMPLES", "20"))
DERANDOMIZE = os.environ.get("FUNDFLOW_SCHEMATHESIS_RANDOM") != "1"


def operation_strategy(operation):
    """Cases that fit the document, and cases that break it (the server must still answer
    as documented: 4xx, never 5xx)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        negative = operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception:  # nothing in this operation can be made invalid
        return positive
    return st.one_of(positive, negative)


def run_operation(operation, world: dict, counts: dict[str, int]) -> None:
    """Up to MAX_EXAMPLES cases of one operation; raises the first failure found."""
    label = operation.label
    headers = {"Authorization": f"Bearer {world['token']}"}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation_strategy(operation))
    def check(case) -> None:
        n = counts.get(label, 0)
        counts[label] = n + 1
        if n % 2 == 0:  # every other case aims at records that exist
            for name in case.path_parameters or {}:
                known = world.get(name)
                if known:
                    case.path_parameters[name] = known[(n // 2) % len(known)]
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    check()


def test_api_matches_its_openapi_document(live_app, request):
    database = request.node.callspec.params["live_app"]
    counts = SCHEMATHESIS_CASES.setdefault(database, {})
    world = seed_world()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", live_app)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            run_operation(operation, world, counts)
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"
    assert not failures, "\n\n".join(f"{label}\n{failure}" for label, failure in failures.items())
    # every operation but the document itself, which schemathesis leaves out
    documented = {
        f"{op.method} /api/v1{op.path_template}" for op in OPERATIONS if op.endpoint != "openapi_json"
    }
    assert set(counts) == documented
