"""Impact reports from the lead school, evaluated by a liaison officer with no link to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event
from fundflow.services import impact
from fundflow.services.errors import InvalidTransition, NotPermitted, ValidationFailed
from fundflow.services.evidence import Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def report_input(bid, kind="final", actual="70", **overrides) -> impact.ReportInput:
    data = {
        "kind": kind,
        "narrative": "Phonics pass rate rose after coaching.",
        "results": [impact.ResultInput(measure_id=m.id, actual=actual) for m in bid.measures],
    }
    data.update(overrides)
    return impact.ReportInput(**data)


@pytest.mark.parametrize("state", ["approved", "monitoring"])
def test_lead_headteacher_reports_impact_once_approved(make, state):
    bid = make.application(state)
    report = impact.submit_report(
        make.lead_of(bid), bid, report_input(bid, evidence=Upload("chart.png", PNG))
    )
    assert report.status == "submitted"
    assert [str(r.actual) for r in report.results] in (["70"], ["70.0000"])
    assert report.evidence.content_type == "image/png"
    assert impact.reports_for(bid) == [report]
    event = db.session.execute(select(Event).where(Event.action == "submit_impact_report")).scalar_one()
    assert event.to_status == "submitted"


@pytest.mark.parametrize(
    "state", ["draft", "submitted", "under_review", "rejected", "withdrawn", "closed", "cancelled"]
)
def test_impact_is_reported_only_for_an_approved_or_monitored_award(make, state):
    bid = make.application(state)
    with pytest.raises(InvalidTransition):
        impact.submit_report(make.lead_of(bid), bid, report_input(bid))


def test_partner_headteacher_cannot_report_impact(make):
    partner_school = make.school()
    bid = make.application("monitoring", partner=partner_school)
    with pytest.raises(NotPermitted):
        impact.submit_report(make.headteacher(school=partner_school), bid, report_input(bid))


def test_final_report_gives_every_measure(make):
    bid = make.application("monitoring")
    with pytest.raises(ValidationFailed) as failed:
        impact.submit_report(make.lead_of(bid), bid, report_input(bid, results=[]))
    assert "results" in failed.value.fields


def test_report_results_must_name_the_bids_own_measures_once_with_numbers(make):
    bid = make.application("monitoring")
    other = make.application("monitoring")
    measure = bid.measures[0]
    with pytest.raises(ValidationFailed) as failed:
        impact.submit_report(
            make.lead_of(bid),
            bid,
            report_input(
                bid,
                kind="interim",
                results=[
                    impact.ResultInput(measure.id, "abc"),
                    impact.ResultInput(measure.id, "71"),
                    impact.ResultInput(other.measures[0].id, "5"),
                ],
            ),
        )
    assert {"results.0.actual", "results.1.measure_id", "results.2.measure_id"} <= set(failed.value.fields)


def test_report_needs_a_narrative_and_a_known_kind(make):
    bid = make.application("monitoring")
    with pytest.raises(ValidationFailed) as failed:
        impact.submit_report(make.lead_of(bid), bid, report_input(bid, kind="annual", narrative=" "))
    assert {"kind", "narrative"} <= set(failed.value.fields)


def test_liaison_officer_evaluates_a_report(make):
    bid = make.application("monitoring")
    report = impact.submit_report(make.lead_of(bid), bid, report_input(bid))
    officer = make.liaison()
    evaluation = impact.evaluate_report(
        officer,
        report,
        impact.EvaluationInput(rating="partly_achieved", drivers=["practice_change", "collaboration"]),
    )
    assert report.status == "evaluated"
    assert evaluation.evaluator_id == officer.id
    assert evaluation.drivers == ["collaboration", "practice_change"]  # in the design's order
    event = db.session.execute(select(Event).where(Event.action == "evaluate_impact_report")).scalar_one()
    assert (event.from_status, event.to_status) == ("submitted", "evaluated")


def test_liaison_officer_cannot_evaluate_impact_for_own_school(make):
    partner_school = make.school()
    bid = make.application("monitoring", partner=partner_school)
    report = impact.submit_report(make.lead_of(bid), bid, report_input(bid))
    with pytest.raises(NotPermitted):
        impact.evaluate_report(
            make.liaison(school=partner_school), report, impact.EvaluationInput("achieved", [])
        )
    assert report.status == "submitted"


@pytest.mark.parametrize("role", ["headteacher", "finance", "auditor", "admin"])
def test_only_a_liaison_officer_evaluates_impact(make, role):
    bid = make.application("monitoring")
    report = impact.submit_report(make.lead_of(bid), bid, report_input(bid))
    with pytest.raises(NotPermitted):
        impact.evaluate_report(make.user(role), report, impact.EvaluationInput("achieved", []))


def test_report_is_evaluated_once(make):
    bid = make.application("monitoring")
    report = impact.submit_report(make.lead_of(bid), bid, report_input(bid))
    impact.evaluate_report(make.liaison(), report, impact.EvaluationInput("achieved", []))
    with pytest.raises(InvalidTransition):
        impact.evaluate_report(make.liaison(), report, impact.EvaluationInput("not_achieved", []))


@pytest.mark.parametrize(
    ("rating", "drivers", "field"),
    [("great", [], "rating"), ("achieved", ["luck"], "drivers"), ("achieved", "collaboration", "drivers")],
)
def test_evaluation_uses_the_designs_ratings_and_drivers(make, rating, drivers, field):
    bid = make.application("monitoring")
    report = impact.submit_report(make.lead_of(bid), bid, report_input(bid))
    with pytest.raises(ValidationFailed) as failed:
        impact.evaluate_report(make.liaison(), report, impact.EvaluationInput(rating, drivers))
    assert field in failed.value.fields
