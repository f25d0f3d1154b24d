"""The API's side of the hostile input found from outside (issue 10): numbers its columns
cannot hold are 422 field errors, whole numbers sent as floats are accepted as the OpenAPI
document allows, control characters are 400 — and nothing is written when refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Activity, Event, Measure

from .conftest import bid_body, error_of


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("days", 1e300),
        ("days", 2.25),
        ("days", "4"),
        ("daily_rate_pence", 1e30),
        ("daily_rate_pence", 2**70),
        ("daily_rate_pence", 283.5),
        ("daily_rate_pence", True),
    ],
)
def test_api_activity_numbers_the_columns_cannot_hold_are_422(api, make, field, value):
    head = make.headteacher()
    body = bid_body(make.fund(), make.school())
    body["activities"][0][field] = value
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    assert f"activities.0.{field}" in error_of(response)["fields"]


@pytest.mark.parametrize(
    "raw", ['{"baseline": 1e400}', '{"baseline": 9999999999.99999}', '{"baseline": 1E-999999999}']
)
def test_api_measure_baselines_that_would_be_rounded_are_422(api, make, raw):
    head = make.headteacher()
    body = bid_body(make.fund(), make.school())
    text = json.dumps(body).replace('"baseline": 60', raw[1:-1])
    response = api.post("/applications", head, data=text, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.data
    assert "measures.0.baseline" in error_of(response)["fields"]
    assert count(Measure) == 0


def test_api_accepts_whole_numbers_sent_as_floats(api, make):
    head = make.headteacher()
    fund = make.fund()
    body = bid_body(fund, make.school(), rate=28300)
    body["fund_id"] = float(fund.id)
    body["activities"][0]["daily_rate_pence"] = 28300.0
    body["activities"][0]["days"] = 2.0
    response = api.post("/applications", head, json=body)
    assert response.status_code == 201, response.get_json()
    activity = db.session.scalars(select(Activity)).one()
    assert (activity.daily_rate_pence, activity.days) == (28300, 2)


@pytest.mark.parametrize(
    "url", ["/api/v1/applications/%00", "/api/v1/applications?status=a%00", "/api/v1/funds/1%00"]
)
def test_control_characters_in_an_api_address_are_a_400_json_error(api, make, url):
    response = api.client.get(url, headers=api.headers(make.headteacher()))
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_nul_in_a_json_body_is_refused_before_anything_is_written(api, make):
    body = bid_body(make.fund(), make.school())
    body["title"] = "Phonics\x00"
    head = make.headteacher()
    api.token(head)  # issuing a token is itself recorded
    events = count(Event)
    response = api.post("/applications", head, json=body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
    assert count(Event) == events


def test_a_control_character_in_a_json_key_is_refused(api, make):
    response = api.post("/applications", make.headteacher(), json={"ti\x01tle": "x"})
    assert response.status_code == 400


def test_a_control_character_in_a_header_the_api_reads_is_refused(api, make):
    response = api.client.get("/api/v1/me", headers={"Authorization": "Bearer abc\x01def"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
