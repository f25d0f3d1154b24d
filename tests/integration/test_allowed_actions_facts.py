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


def test_the_offered_actions_are_exactly_what_the_state_machine_would_allow(make):
    """``allowed_actions`` asks each action's condition directly; the ``transitions`` machine
    must agree, for every state a bid reaches and every kind of person."""
    from fundflow.services.clock import today
    from fundflow.workflow import APPLICATION_LIFECYCLE as bids
    from fundflow.workflow import GuardContext

    liaison = make.liaison()
    people = [liaison, make.liaison(), make.user("finance"), make.user("auditor"), make.user("admin")]
    for state in ("draft", "submitted", "under_review", "approved", "monitoring", "closed"):
        app = make.application(state, liaison=liaison)
        for user in [*people, make.lead_of(app)]:
            ctx = GuardContext(record=app, user=user, today=today())
            leaving = [a.name for a in bids.actions.values() if app.status in a.sources]
            with bids._subject(ctx, with_guards=False) as subject:
                machine = [name for name in leaving if getattr(subject, f"may_{name}")()]
            assert bids.allowed_actions(app, user, ctx.today) == machine, (state, user.email)
