"""Impact reports and their evaluation."""

from __future__ import annotations

import pytest

from .conftest import error_of


@pytest.fixture
def approved(make):
    head = make.headteacher()
    app = make.application("approved", lead=head)
    return app, head


def report_body(app, kind="interim", actual=68.5):
    return {
        "kind": kind,
        "narrative": "Pupils read more fluently.",
        "results": [{"measure_id": m.id, "actual": actual} for m in app.measures],
    }


def test_lead_headteacher_submits_an_impact_report(api, approved):
    app, head = approved
    response = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app))
    assert response.status_code == 201
    report = response.get_json()
    assert report["kind"] == "interim"
    assert report["status"] == "submitted"
    assert report["application_reference"] == app.reference
    assert report["results"] == [
        {"measure_id": app.measures[0].id, "indicator": "Phonics pass rate", "actual": 68.5}
    ]


def test_partner_headteacher_cannot_report_impact(api, make):
    partner = make.school()
    app = make.application("approved", partner=partner)
    response = api.post(
        f"/applications/{app.reference}/impact-reports",
        make.headteacher(school=partner),
        json=report_body(app),
    )
    assert response.status_code == 403


def test_impact_before_approval_is_409(api, make):
    head = make.headteacher()
    app = make.application("submitted", lead=head)
    response = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app))
    assert response.status_code == 409


def test_result_for_a_measure_of_another_bid_is_422(api, approved, make):
    app, head = approved
    other = make.application("draft")
    body = report_body(app)
    body["results"] = [{"measure_id": other.measures[0].id, "actual": 1}]
    response = api.post(f"/applications/{app.reference}/impact-reports", head, json=body)
    assert response.status_code == 422
    assert "results.0.measure_id" in error_of(response)["fields"]


def test_unknown_report_kind_is_422(api, approved):
    app, head = approved
    response = api.post(
        f"/applications/{app.reference}/impact-reports", head, json=report_body(app, kind="weekly")
    )
    assert response.status_code == 422
    assert "kind" in error_of(response)["fields"]


def test_liaison_officer_evaluates_an_impact_report(api, approved, make):
    app, head = approved
    report = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app)).get_json()
    body = {
        "rating": "partly_achieved",
        "drivers": ["practice_change", "collaboration"],
        "comment": "Good start",
    }
    response = api.post(f"/impact-reports/{report['id']}/evaluation", make.liaison(), json=body)
    assert response.status_code == 201
    evaluation = response.get_json()
    assert evaluation["report_id"] == report["id"]
    assert evaluation["rating"] == "partly_achieved"
    assert evaluation["drivers"] == ["collaboration", "practice_change"]
    assert evaluation["comment"] == "Good start"


def test_evaluating_twice_is_409(api, approved, make):
    app, head = approved
    report = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app)).get_json()
    liaison = make.liaison()
    body = {"rating": "achieved", "drivers": []}
    assert api.post(f"/impact-reports/{report['id']}/evaluation", liaison, json=body).status_code == 201
    assert api.post(f"/impact-reports/{report['id']}/evaluation", liaison, json=body).status_code == 409


def test_liaison_officer_cannot_evaluate_impact_for_own_school(api, make):
    school = make.school()
    head = make.headteacher()
    app = make.application("approved", lead=head, partner=school)
    report = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app)).get_json()
    response = api.post(
        f"/impact-reports/{report['id']}/evaluation", make.liaison(school=school), json={"rating": "achieved"}
    )
    assert response.status_code == 403


def test_headteacher_cannot_evaluate(api, approved):
    app, head = approved
    report = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app)).get_json()
    response = api.post(f"/impact-reports/{report['id']}/evaluation", head, json={"rating": "achieved"})
    assert response.status_code == 403


def test_unknown_driver_is_422(api, approved, make):
    app, head = approved
    report = api.post(f"/applications/{app.reference}/impact-reports", head, json=report_body(app)).get_json()
    response = api.post(
        f"/impact-reports/{report['id']}/evaluation",
        make.liaison(),
        json={"rating": "achieved", "drivers": ["luck"]},
    )
    assert response.status_code == 422
    assert "drivers.0" in error_of(response)["fields"]


def test_missing_report_is_404(api, make):
    assert (
        api.post("/impact-reports/4040/evaluation", make.liaison(), json={"rating": "achieved"}).status_code
        == 404
    )
