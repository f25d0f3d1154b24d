"""Schemathesis against the live app with its FULL set of checks (the CLI's ``--checks all``):
no 5xx; every status, content type, header and body as the OpenAPI document describes;
schema-violating requests refused (``negative_data_rejection``), methods the document does
not list answered 405 with ``Allow`` (``unsupported_method``), a missing token 401
(``ignored_auth``, ``missing_required_header``), and requests that fit the document accepted
(``positive_data_acceptance``).

The document describes shapes; some refusals are the fund's rules, which no schema can say
(an award over the budget, a claim before approval). So a schema-valid request may still be
answered 422 — but only if the server's own schema (the marshmallow schema the OpenAPI
document is generated from) accepts it: the 422 then came from a service rule. A 422 from
the schema itself for a request the document allows is a mismatch, and fails
(:func:`valid_requests_pass_the_servers_schema`).

It runs schemathesis's engine (examples, coverage and fuzzing phases) over HTTP against the
app served in a thread. Bounded: ``FUNDFLOW_SCHEMATHESIS_EXAMPLES`` cases per operation and
phase (default 5), deterministic so CI is repeatable; ``FUNDFLOW_SCHEMATHESIS_RANDOM=1``
explores with fresh seeds. It runs on SQLite and, when the PostgreSQL tests run, on
PostgreSQL too (which enforces column sizes).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from marshmallow import ValidationError
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import events
from werkzeug.serving import make_server

from fundflow.api.core import OPERATIONS
from fundflow.extensions import db

from .conftest import SCHEMATHESIS_CASES, seed_world

MAX_EXAMPLES = int(os.environ.get("FUNDFLOW_SCHEMATHESIS_EXAMPLES", "5"))
DETERMINISTIC = os.environ.get("FUNDFLOW_SCHEMATHESIS_RANDOM") != "1"
#: Statuses a schema-valid request may get: success, the token's limits, a missing record,
#: the state of the bid, throttling — and 422, checked by the custom check below.
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "422", "429"]
BY_LABEL = {f"{op.method} /api/v1{op.path_template}": op for op in OPERATIONS}


@schemathesis.check
def valid_requests_pass_the_servers_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """A positive case answered 422 must pass the marshmallow schemas the document is built
    from: the refusal was then a service rule (which the document cannot express)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    op = BY_LABEL.get(case.operation.label)
    if op is None:
        return None
    try:
        if op.body is not None and isinstance(case.body, dict):
            op.body().load(case.body)
        if op.query is not None:
            op.query().load({k: str(v) for k, v in (case.query or {}).items()})
    except ValidationError as exc:
        raise Failure(
            operation=case.operation.label,
            title="The document allows what the server's schema refuses",
            message=f"Refused by the server's schema: {exc.messages}",
        ) from None
    return None


@contextmanager
def served(app) -> Iterator[str]:
    """The app on an ephemeral port, one request at a time (SQLite in memory is one
    connection); the base URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def config_for(world: dict[str, Any]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {world['token']}"},
            "workers": 1,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": DETERMINISTIC,
                "database": "none",
            },
            # Stateful links are not described; every single-request phase runs.
            "phases": {"stateful": {"enabled": False}},
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        }
    )


def run(base_url: str, world: dict[str, Any]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Every operation through every check; cases per operation and failures."""
    schema = schemathesis.openapi.from_url(base_url + "/api/v1/openapi.json", config=config_for(world))
    cases: dict[str, int] = defaultdict(int)
    failures: dict[str, set[str]] = defaultdict(set)
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.label:
            recorder = event.recorder
            cases[event.label] += len(recorder.cases)
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        status = getattr(failure, "status_code", "")
                        failures[event.label].add(
                            f"{check.name} ({status}): {failure.title}: {failure.message}"
                        )
        elif isinstance(event, events.NonFatalError):
            failures[event.label].add(f"error: {event.value}")
    return dict(cases), dict(failures)


def test_api_matches_its_openapi_document_under_every_check(live_app, request):
    database = request.node.callspec.params["live_app"]
    world = seed_world()
    db.session.commit()
    db.session.remove()  # in-memory SQLite is one connection: leave no transaction open on it
    with served(live_app) as base_url:
        cases, failures = run(base_url, world)
    SCHEMATHESIS_CASES[database] = cases
    report = "\n\n".join(
        f"{label}\n  " + "\n  ".join(sorted(found)) for label, found in sorted(failures.items())
    )
    assert not failures, report
    # every operation but the document itself, which schemathesis leaves out
    documented = {label for label, op in BY_LABEL.items() if op.endpoint != "openapi_json"}
    assert set(cases) == documented
