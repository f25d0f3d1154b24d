"""Every API body, fed generated and hostile JSON: a valid body with one part replaced
(huge and tiny numbers, whole numbers as floats, NUL and other control characters, very
long text, other scripts, wrong types, nested lists and objects), extra keys, whole random
documents, and raw bytes that are not JSON at all. Never a 5xx, always the JSON error shape
for a refusal, and when refused nothing is written (no row in any table changes count).

Bounded: ``FUNDFLOW_FUZZ_EXAMPLES`` examples per operation (default 50), derandomised; on
SQLite and, when the PostgreSQL tests run, on PostgreSQL (which enforces column sizes).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundflow.api.core import OPERATIONS
from fundflow.extensions import db
from fundflow.models import Disbursement

from .conftest import PREFIX, seed_world
from .test_boundaries import requests_for

EXAMPLES = int(os.environ.get("FUNDFLOW_FUZZ_EXAMPLES", "50"))
#: Book-keeping a refused request may still write: a failed token request is counted.
BOOKKEEPING = {"login_attempts", "user_sessions"}

HOSTILE_JSON = [
    1e308,
    -1e308,
    5e-324,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
    283.0,
    0.1 + 0.2,
    1.5,
    -0.0,
    True,
    False,
    None,
    "",
    "\x00",
    "a\x00b",
    "\x07",
    "NaN",
    "Infinity",
    "1e30",
    "283",
    "x" * 20_000,
    "é" * 5_000,
    "\u202edesrever",
    "𝟙𝟚𝟛",
    [],
    {},
    [[[]]],
    {"a": {"b": {}}},
    "2026-02-30",
    "2026-2-3",
    "0001-01-01",
    "9999-12-31",
    "+002026-01-01",
]
RAW_BODIES = [
    b'{"amount_pence": NaN}',
    b'{"days": Infinity}',
    b'{"days": 1e999999}',
    b'{"days": 1E-999999999}',
    b'{"amount_pence": 1' + b"0" * 5000 + b"}",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"title": "\xff\xfe"}',
    b"",
    b"null",
    b'"just a string"',
    b'{"a": 1, "a": 2}',
]

leaf = st.one_of(
    st.sampled_from(HOSTILE_JSON),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
any_json = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
)


def paths_in(body: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``body`` a value can be swapped: each key and list item, at any depth."""
    found = [prefix] if prefix else []
    if isinstance(body, dict):
        for key, value in body.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(body, list):
        for i, value in enumerate(body):
            found += paths_in(value, (*prefix, i))
    return found


def replaced(body: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: replaced(body[head], rest, value)}
    copy = list(body)
    copy[head] = replaced(body[head], rest, value)
    return copy


def bodies_for(valid: dict[str, Any]) -> st.SearchStrategy:
    paths = paths_in(valid)
    one_swapped = st.tuples(st.sampled_from(paths), any_json).map(lambda pv: replaced(valid, *pv))
    extra_key = st.tuples(st.text(max_size=12), any_json).map(lambda kv: {**valid, kv[0]: kv[1]})
    return st.one_of(
        one_swapped,
        one_swapped.flatmap(
            lambda b: st.tuples(st.sampled_from(paths_in(b) or [()]), leaf).map(lambda pv: replaced(b, *pv))
        ),
        extra_key,
        any_json,
        st.sampled_from(RAW_BODIES),
    )


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }


def fuzz_operation(client, headers: dict[str, str], method: str, path: str, valid: dict, cases: dict) -> None:
    label = f"{method} {path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies_for(valid))
    def send(body) -> None:
        cases[label] = cases.get(label, 0) + 1
        before = row_counts()
        if isinstance(body, bytes):
            response = client.open(
                PREFIX + path, method=method, data=body, content_type="application/json", headers=headers
            )
        else:
            response = client.open(PREFIX + path, method=method, json=body, headers=headers)
        assert response.status_code < 500, (label, body, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/json"
        if response.status_code >= 400:
            error = response.get_json()["error"]
            assert {"code", "message"} <= set(error)
            db.session.expire_all()
            assert row_counts() == before, (label, response.status_code)

    send()


def test_every_api_body_answers_hostile_json_without_a_server_error_and_writes_nothing_when_refused(
    live_app, request
):
    world = seed_world()
    client = live_app.test_client()
    headers = {"Authorization": f"Bearer {world['token']}"}
    cases: dict[str, int] = {}
    payment = db.session.get(Disbursement, world["disbursement_id"][0])
    bodies = [
        *requests_for(world),
        ("POST", f"/claims/{payment.claim_id}/reversals", {"reverses_id": payment.id, "reason": "Reason"}),
    ]
    routes = live_app.url_map.bind("localhost")
    fuzzed = {routes.match(PREFIX + path, method=method)[0] for method, path, _ in bodies}
    assert fuzzed == {f"api.{op.endpoint}" for op in OPERATIONS if op.body is not None}, "every body"
    for method, path, valid in bodies:
        fuzz_operation(client, headers, method, path, valid, cases)
    total = sum(cases.values())
    assert total >= EXAMPLES * len(cases) // 2
    database = request.node.callspec.params["live_app"]
    print(f"API body fuzz ({database}): {total} requests over {len(cases)} bodies")
