"""Every failure answers with API.md's error shape, never HTML or a stack trace."""

from __future__ import annotations

import pytest

from .conftest import PREFIX, bid_body, error_of


@pytest.fixture
def head(make):
    return make.headteacher()


def test_body_that_is_not_json_is_400(api, head):
    response = api.post("/applications", head, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_body_that_is_not_an_object_is_400(api, head):
    response = api.post("/applications", head, json=[1, 2, 3])
    assert response.status_code == 400
    assert "object" in error_of(response)["message"]


def test_body_with_wrong_content_type_is_400(api, head, make):
    response = api.post("/applications", head, data='{"fund_id": 1, "title": "x"}', content_type="text/plain")
    assert response.status_code == 400
    assert "application/json" in error_of(response)["message"]


def test_empty_body_is_400(api, head):
    response = api.post("/applications", head, data="", content_type="application/json")
    assert response.status_code == 400


def test_json_nan_is_not_json(api, head):
    response = api.post("/applications", head, data='{"fund_id": NaN}', content_type="application/json")
    assert response.status_code == 400


def test_nested_validation_errors_use_dotted_field_names(api, head, make):
    body = bid_body(make.fund(), make.school())
    body["activities"][0]["days"] = "two"
    body["partners"] = [{"urn": "100001"}]
    body["surprise"] = True
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert error["fields"] == {
        "activities.0.days": ["Not a valid number."],
        "partners.0.role": ["Missing data for required field."],
        "surprise": ["Unknown field."],
    }


def test_service_rule_failures_are_422_with_fields(api, head, make):
    body = bid_body(make.fund(), make.school())
    body["activities"][0]["days"] = 2.3  # the column holds it; the fund's rule does not
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "activities.0.days": ["Days must be whole or half days, like 2 or 2.5"]
    }


def test_days_finer_than_their_column_are_422_not_rounded(api, head, make):
    body = bid_body(make.fund(), make.school())
    body["activities"][0]["days"] = 2.25
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "activities.0.days": ["Enter a number with at most 1 decimal place"]
    }


def test_wrong_method_is_405_as_json(api, head):
    response = api.call("DELETE", "/applications", head)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unknown_api_path_is_404_as_json(api, head):
    response = api.get("/no-such-thing", head)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_id_out_of_range_is_404_not_a_crash(api, make):
    user = make.liaison()
    response = api.post("/claims/99999999999999999999999/actions", user, json={"action": "verify"})
    assert response.status_code == 404
    error_of(response)


def test_text_with_a_nul_is_refused_at_the_request_boundary_with_400(api, head, make):
    body = bid_body(make.fund(), make.school())
    body["title"] = "nul\x00byte"
    response = api.post("/applications", head, json=body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_text_the_database_cannot_store_is_422(api, head, make):
    body = bid_body(make.fund(), make.school())
    body["title"] = "lone \ud800 surrogate"
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    assert "title" in error_of(response)["fields"]


def test_unexpected_error_is_json_500_that_leaks_nothing(api, head, monkeypatch):
    from fundflow.services import access

    def explode(user):
        raise RuntimeError("secret database password in a stack trace")

    monkeypatch.setattr(access, "visible_applications", explode)
    response = api.get("/applications", head)
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert b"secret" not in response.data
    assert b"Traceback" not in response.data


def test_errors_are_json_even_when_the_client_asks_for_html(api, head):
    response = api.get("/applications/LSIF-0000-0000", head, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_openapi_document_needs_no_token(client):
    response = client.get(PREFIX + "/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_empty_query_values_are_refused_as_the_openapi_document_says(api, make):
    auditor = make.user("auditor")
    listed = api.get("/applications?status=&page=2", auditor)
    assert listed.status_code == 422
    assert set(error_of(listed)["fields"]) == {"status"}
    transparency = api.get("/exports/transparency.csv?fund_id=1&from=2026-04-01&to=", auditor)
    assert transparency.status_code == 422
    assert set(error_of(transparency)["fields"]) == {"to"}
    assert api.get("/applications?page=2", auditor).status_code == 200


def test_a_repeated_query_parameter_is_refused(api, make):
    auditor = make.user("auditor")
    response = api.get("/exports/transparency.csv?fund_id=1&to=2026-04-01&to=2027-03-31", auditor)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"to": ["Give this parameter once"]}


@pytest.mark.parametrize("day", ["2026-4-1", "20260401", "2026-W14-3", "٢٠٢٦-04-01", "2026-04-01T00:00:00"])
def test_dates_are_read_only_as_yyyy_mm_dd(api, make, day):
    auditor = make.user("auditor")
    response = api.get(f"/exports/transparency.csv?fund_id=1&from={day}&to=2027-03-31", auditor)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"from"}
