"""allowed_actions leaves out actions the stored facts already rule out."""

from fundflow.services import impact, lifecycle


def test_finish_delivery_not_offered_while_a_claim_is_outstanding(make):
    app = make.application("approved")
    lead = make.lead_of(app)
    assert "finish_delivery" in lifecycle.available_actions(app, lead)
    make.claim(app, state="pending")
    assert "finish_delivery" not in lifecycle.available_actions(app, lead)


def test_close_offered_only_once_a_final_report_is_evaluated(make):
    liaison = make.liaison()
    app = make.application("monitoring", liaison=liaison)
    assert "close" not in lifecycle.available_actions(app, liaison)

    report = impact.submit_report(
        make.lead_of(app),
        app,
        impact.ReportInput(
            kind="final",
            narrative="Done.",
            results=[impact.ResultInput(measure_id=m.id, actual="70") for m in app.measures],
        ),
    )
    impact.evaluate_report(liaison, report, impact.EvaluationInput(rating="achieved", drivers=[]))
    assert "close" in lifecycle.available_actions(app, liaison)
