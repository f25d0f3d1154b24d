"""GET /api/v1/reports/value-for-money: its objects, its filters and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.services.clock import today

from ..factories import Factory
from ..integration.test_value_by_council import story
from .conftest import error_of

OBJECTS = {"money", "bought", "outcomes", "targeting", "timeliness", "by_council", "filters", "options"}


@pytest.fixture
def fund(make):
    fund = make.fund(countersign_threshold_pence=None)
    bid = make.application("approved", fund=fund, awarded_pence=1_000_00)
    make.claim(bid, amount_pence=300_00, state="paid")
    make.application("under_review", fund=fund)
    return fund


def test_the_report_has_every_object_and_measures_on_each_row(api, make, fund):
    response = api.get(f"/reports/value-for-money?fund_id={fund.id}", make.user("auditor"))
    assert response.status_code == 200
    report = response.get_json()
    assert set(report) == {"fund_id", "fund", "totals", "rows", "page", "per_page", "total"} | OBJECTS
    money = report["money"]
    assert (money["awarded_pence"], money["committed_pence"], money["paid_pence"]) == (
        1_000_00,
        1_000_00,
        300_00,
    )
    assert money["budget_pence"] == money["committed_pence"] + money["available_pence"]
    assert report["bought"]["days_funded"] == "4.0"
    assert report["outcomes"]["measures"] == 1 and report["outcomes"]["no_result_yet"] == 1
    areas = report["outcomes"]["by_priority_area"]
    assert [(a["priority_area"], a["committed_pence"]) for a in areas] == [("Early reading", 1_000_00)]
    assert [b["band"] for b in report["targeting"]["by_fsm_band"]][-1] == "Not known"
    assert set(report["timeliness"]["reports"]) == {"on_time", "late", "overdue", "waived"}
    assert report["options"]["priority_areas"] == ["Early reading"]
    for row in report["rows"]:
        assert row["measures"][0]["baseline"] == "60" and row["measures"][0]["target"] == "75"


def test_filters_are_applied_and_echoed(api, make, fund):
    auditor = make.user("auditor")
    day = today().isoformat()
    query = f"fund_id={fund.id}&from={day}&to={day}&local_authority=871&priority_area=early%20reading"
    report = api.get(f"/reports/value-for-money?{query}", auditor).get_json()
    assert report["filters"] == {
        "date_from": day,
        "date_to": day,
        "local_authority": "871",
        "priority_area": "early reading",
    }
    none = api.get(f"/reports/value-for-money?fund_id={fund.id}&local_authority=000", auditor).get_json()
    assert none["total"] == 0 and none["rows"] == [] and none["money"]["awarded_pence"] == 0
    elsewhere = api.get(f"/reports/value-for-money?fund_id={fund.id}&priority_area=Maths", auditor).get_json()
    assert elsewhere["total"] == 0 and elsewhere["outcomes"]["by_priority_area"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from={today}&to={yesterday}", "to"),
        ("from=2026-1-5", "from"),
        ("to=not-a-date", "to"),
        ("per_page=501", "per_page"),
        ("local_authority=" + "9" * 11, "local_authority"),
    ],
)
def test_bad_filters_are_422_with_the_field(api, make, fund, query, field):
    yesterday = (today() - timedelta(days=1)).isoformat()
    path = f"/reports/value-for-money?fund_id={fund.id}&" + query.format(
        today=today().isoformat(), yesterday=yesterday
    )
    response = api.get(path, make.user("auditor"))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed" and field in error["fields"]


@pytest.mark.parametrize("role", ["headteacher", "admin"])
def test_not_for_headteachers_or_administrators(api, make, fund, role):
    response = api.get(f"/reports/value-for-money?fund_id={fund.id}", make.user(role))
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


def test_a_partnership_funds_report_gives_its_figures_by_member_council(api):
    p = story(Factory())
    response = api.get(f"/reports/value-for-money?fund_id={p.fund.id}", p.auditor)
    assert response.status_code == 200
    report = response.get_json()
    councils = {c["name"]: c for c in report["by_council"]}
    assert list(councils) == ["Bridgend", "Cardiff", "Other"]
    assert councils["Cardiff"] == {
        "gss_code": "W06000015",
        "name": "Cardiff",
        "bids": 2,
        "awarded_pence": 1_000_00,
        "committed_pence": 1_000_00,
        "paid_pence": 300_00,
        "days": "4.0",
        "measures": 1,
        "with_result": 1,
        "achieved": 1,
        "share_achieved": 1.0,
    }
    assert councils["Other"]["gss_code"] is None
    assert sum(c["committed_pence"] for c in councils.values()) == report["totals"]["committed_pence"]
