"""GET /api/v1/reports/exceptions: who may ask, its exact shape, filters, pages and errors,
on SQLite and (with the PostgreSQL tests) PostgreSQL."""

from __future__ import annotations

from fundflow.services import payments
from fundflow.services.queries.exceptions import EXCEPTION_KINDS
from tests.factories import Factory

from .conftest import Api, error_of


def exceptional_fund(make: Factory):
    """A fund with two partial awards (one reversed payment on the first) and a day rate at
    the cap: four exceptions of three kinds."""
    fund = make.fund(countersign_threshold_pence=None)
    first = make.application("approved", fund=fund, awarded_pence=900_00)
    make.application("approved", fund=fund, awarded_pence=1_000_00)
    make.application("approved", fund=fund, rate=500_00)
    finance = make.user("finance")
    claim = make.claim(first, state="verified")
    payments.reverse_disbursement(finance, make.pay(claim, finance=finance, reference="PAY-1"), "Duplicate")
    return fund, first


def test_reporting_roles_get_the_exact_shape_newest_first(api, make):
    fund, first = exceptional_fund(make)
    for role in ("auditor", "liaison_officer", "finance"):
        response = api.get(f"/reports/exceptions?fund_id={fund.id}", make.user(role))
        assert response.status_code == 200, role
        body = response.get_json()
        assert set(body) == {"items", "page", "per_page", "total"}
        assert (body["page"], body["per_page"], body["total"]) == (1, 20, 4)
        for item in body["items"]:
            assert set(item) == {"kind", "reference", "detail", "at"}
            assert item["kind"] in EXCEPTION_KINDS and item["at"].endswith("+00:00")
        stamps = [item["at"] for item in body["items"]]
        assert stamps == sorted(stamps, reverse=True)
    kinds = sorted(item["kind"] for item in body["items"])
    assert kinds == ["day_rate_at_cap", "partial_award", "partial_award", "reversal"]
    partial = next(
        i for i in body["items"] if i["reference"] == first.reference and i["kind"] == "partial_award"
    )
    assert partial["detail"] == "Awarded £900.00 of £1,200.00 requested."


def test_kind_filters_and_pages(api, make):
    fund, _ = exceptional_fund(make)
    auditor = make.user("auditor")
    body = api.get(f"/reports/exceptions?fund_id={fund.id}&kind=partial_award&per_page=1", auditor).get_json()
    assert body["total"] == 2 and len(body["items"]) == 1 and body["items"][0]["kind"] == "partial_award"
    second = api.get(f"/reports/exceptions?fund_id={fund.id}&kind=partial_award&per_page=1&page=2", auditor)
    assert second.get_json()["items"][0]["reference"] != body["items"][0]["reference"]
    beyond = api.get(f"/reports/exceptions?fund_id={fund.id}&page=9", auditor).get_json()
    assert beyond["items"] == [] and beyond["total"] == 4
    everywhere = api.get("/reports/exceptions?per_page=100", auditor).get_json()
    assert everywhere["total"] >= 4


def test_others_are_refused_and_mistakes_answered_in_the_error_shape(api, make):
    fund, _ = exceptional_fund(make)
    for role in ("headteacher", "admin"):
        response = api.get(f"/reports/exceptions?fund_id={fund.id}", make.user(role))
        assert response.status_code == 403, role
        assert error_of(response)["code"] == "forbidden"
    auditor = make.user("auditor")
    unknown_kind = api.get(f"/reports/exceptions?fund_id={fund.id}&kind=bribery", auditor)
    assert unknown_kind.status_code == 422
    assert "kind" in error_of(unknown_kind)["fields"]
    unknown_fund = api.get("/reports/exceptions?fund_id=99999", auditor)
    assert unknown_fund.status_code == 404 and error_of(unknown_fund)["code"] == "not_found"
    assert api.get("/reports/exceptions?per_page=101", auditor).status_code == 422
    assert api.get("/reports/exceptions", None).status_code == 401


def test_the_same_answers_on_every_database(live_app):
    """The UNION ALL (its NULL columns typed, a date sorted among times) on PostgreSQL too."""
    client = live_app.test_client()
    make = Factory()
    fund, first = exceptional_fund(make)
    from fundflow.services import schedule
    from fundflow.services.queries.schedule import schedule_for

    liaison = make.liaison()
    item = next(i for i in schedule_for(first.id) if i.kind == "final_report")
    schedule.waive(liaison, item, "Not needed.")
    body = (
        Api(client)
        .get(f"/reports/exceptions?fund_id={fund.id}&per_page=100", make.user("auditor"))
        .get_json()
    )
    assert body["total"] == 5
    assert {i["kind"] for i in body["items"]} == {
        "partial_award",
        "reversal",
        "day_rate_at_cap",
        "waived_report",
    }
    waived = next(i for i in body["items"] if i["kind"] == "waived_report")
    assert waived["detail"].endswith("was waived. Reason: “Not needed.”")
