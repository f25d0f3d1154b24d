"""The OpenAPI document describes exactly the routes the server has."""

from __future__ import annotations

import re

import pytest

from .conftest import PREFIX
from .test_applications import APPLICATION_FIELDS


@pytest.fixture
def document(client):
    return client.get(PREFIX + "/openapi.json").get_json()


def served_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add((method.lower(), path))
    return operations


def documented_operations(document) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_document_lists_every_route_and_only_those(app, document):
    assert documented_operations(document) == served_operations(app)
    assert len(documented_operations(document)) == 33


def test_every_route_of_api_md_is_documented(document):
    expected = {
        ("post", "/tokens"),
        ("get", "/me"),
        ("get", "/funds"),
        ("get", "/funds/{fund_id}"),
        ("post", "/funds"),
        ("get", "/schools"),
        ("post", "/schools"),
        ("post", "/applications"),
        ("get", "/applications"),
        ("get", "/applications/{reference}"),
        ("patch", "/applications/{reference}"),
        ("post", "/applications/{reference}/actions"),
        ("get", "/applications/{reference}/events"),
        ("post", "/applications/{reference}/claims"),
        ("post", "/claims/{claim_id}/actions"),
        ("post", "/claims/{claim_id}/disbursements"),
        ("post", "/disbursements/{disbursement_id}/reverse"),
        ("post", "/claims/{claim_id}/reversals"),
        ("post", "/applications/{reference}/impact-reports"),
        ("post", "/impact-reports/{report_id}/evaluation"),
        ("post", "/schedule-items/{item_id}/actions"),
        ("get", "/reports/value-for-money"),
        ("get", "/reports/exceptions"),
        ("get", "/audit/verify"),
        ("get", "/applications/{reference}/dossier.pdf"),
        ("get", "/reports/termly.pdf"),
        ("get", "/exports/360giving.json"),
        ("get", "/exports/360giving.csv"),
        ("get", "/exports/transparency.csv"),
        ("get", "/exports/audit-trail.csv"),
        ("get", "/openapi.json"),
    }
    assert {(m, PREFIX + p) for m, p in expected} <= documented_operations(document)


def test_bearer_auth_is_required_except_for_tokens_and_the_document(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = path in (PREFIX + "/tokens", PREFIX + "/openapi.json")
            assert operation["security"] == ([] if public else [{"bearerAuth": []}]), (method, path)
            if not public:
                assert "401" in operation["responses"], (method, path)


def test_every_error_response_uses_the_error_schema(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for name, response in document["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
            name
        )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert response == {"$ref": f"#/components/responses/Error{code}"}, (method, path, code)


def test_bodies_and_responses_are_described(document):
    application = PREFIX + "/applications"
    post = document["paths"][application]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApplicationCreate"
    }
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Application"
    }
    # 409 and 422 also answer an Idempotency-Key still in use, or used for another request
    # 400 and 503 on every operation: control characters, and the database away (Retry-After)
    assert set(post["responses"]) == {"201", "400", "401", "403", "409", "422", "503"}
    csv = document["paths"][PREFIX + "/exports/transparency.csv"]["get"]
    assert "text/csv" in csv["responses"]["200"]["content"]
    names = {p["name"] for p in csv["parameters"]}
    assert names == {"fund_id", "from", "to"}


def test_application_schema_has_api_md_fields(document):
    schema = document["components"]["schemas"]["Application"]
    for name in sorted(APPLICATION_FIELDS):
        assert name in schema["required"]
    assert schema["properties"]["awarded_pence"]["type"] == ["integer", "null"]
    assert document["components"]["schemas"]["Activity"]["properties"]["days"] == {"type": "number"}
