"""docs/api.md, the API reference in the repository, names exactly the routes the OpenAPI
document describes (and so the server serves: tests/api/test_openapi.py), and points at no
file outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fundflow.api.core import OPERATIONS

from .conftest import PREFIX

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "api.md"

#: ``GET /api/v1/funds/<id>`` in backticks, up to a query string, a space or the closing tick.
MENTION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) " + re.escape(PREFIX) + r"(/[^`\s?]*)")
#: A backticked path into the repository, like ``fundflow/workflow.py`` or ``docs/``.
REPO_PATH = re.compile(r"`((?:fundflow|tests|docs|scripts|migrations|templates)/[\w./-]*)`")


def mentioned(text: str) -> set[tuple[str, str]]:
    """(method, path) for every ``METHOD /api/v1/path`` the text names, path without /api/v1."""
    return {(method, path.rstrip("/") or "/") for method, path in MENTION.findall(text)}


def _pattern(template: str) -> re.Pattern[str]:
    """An OpenAPI path template as a pattern: ``/claims/{claim_id}`` matches ``/claims/<id>``."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + r"\Z")


def matches(mention: tuple[str, str], operation: tuple[str, str]) -> bool:
    return mention[0] == operation[0] and bool(_pattern(operation[1]).match(mention[1]))


def undocumented(mentions: set[tuple[str, str]], operations: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Operations no mention names."""
    return {op for op in operations if not any(matches(m, op) for m in mentions)}


def unserved(mentions: set[tuple[str, str]], operations: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Mentions that name no operation."""
    return {m for m in mentions if not any(matches(m, op) for op in operations)}


@pytest.fixture(scope="module")
def reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture
def documented_operations(client) -> set[tuple[str, str]]:
    """(METHOD, path template under /api/v1) of every operation in the live OpenAPI document."""
    document = client.get(PREFIX + "/openapi.json").get_json()
    return {
        (method.upper(), path.removeprefix(PREFIX))
        for path, item in document["paths"].items()
        for method in item
    }


def test_the_openapi_document_and_the_registered_operations_agree(documented_operations):
    assert documented_operations == {(op.method, op.path_template) for op in OPERATIONS}


def test_every_route_of_the_openapi_document_is_in_the_api_reference(reference, documented_operations):
    missing = undocumented(mentioned(reference), documented_operations)
    assert missing == set(), f"add these routes to docs/api.md: {sorted(missing)}"


def test_every_route_the_api_reference_names_is_in_the_openapi_document(reference, documented_operations):
    extra = unserved(mentioned(reference), documented_operations)
    assert extra == set(), f"docs/api.md names routes the server does not have: {sorted(extra)}"


def test_the_comparison_notices_a_route_added_or_removed():
    operations = {("GET", "/funds"), ("GET", "/funds/{fund_id}"), ("POST", "/claims/{claim_id}/actions")}
    text = "`GET /api/v1/funds?page=`, `GET /api/v1/funds/<id>` and `POST /api/v1/claims/<id>/actions`."
    assert undocumented(mentioned(text), operations) == set()
    assert unserved(mentioned(text), operations) == set()
    added = operations | {("DELETE", "/funds/{fund_id}")}
    assert undocumented(mentioned(text), added) == {("DELETE", "/funds/{fund_id}")}
    removed = operations - {("GET", "/funds/{fund_id}")}
    assert unserved(mentioned(text), removed) == {("GET", "/funds/<id>")}
    assert unserved(mentioned("`PATCH /api/v1/funds`"), operations) == {("PATCH", "/funds")}


def test_the_api_reference_names_no_file_outside_the_repository(reference):
    assert "../" not in reference
    for path in REPO_PATH.findall(reference):
        assert (ROOT / path).exists(), f"docs/api.md names {path}, which is not in the repository"
