"""The lifecycle tables of DESIGN.md, checked against ``fundflow.workflow`` without an app.

The expected tables below are written out by hand from DESIGN.md ("The application
lifecycle", the controls and the claim machine), not generated from the code: if the code
and the design drift apart, this file says where.

Every record here is a plain ``SimpleNamespace`` stand-in, so the workflow's guards are
checked as the pure predicates they are meant to be.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from fundflow.workflow import (
    APPLICATION_LIFECYCLE,
    APPLICATION_STATES,
    CLAIM_LIFECYCLE,
    CLAIM_STATES,
    GuardContext,
    Refused,
    UnknownAction,
    allowed_actions,
    daily_rate_problem,
    due_date_problem,
    lifecycle_rows,
)

TODAY = date(2026, 11, 22)

LEAD_SCHOOL, PARTNER_SCHOOL, OTHER_SCHOOL = 1, 2, 3
LEAD_ID, PARTNER_ID, OTHER_ID, LIAISON_ID, CONFLICTED_ID = 10, 11, 12, 13, 14
FINANCE_ID, AUDITOR_ID, ADMIN_ID, APPROVER_ID = 15, 16, 17, 18


def person(user_id: int, *roles: str, school_id: int | None = None, active: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        id=user_id, school_id=school_id, active=active, roles=roles, has_role=lambda role: role in roles
    )


ACTORS = {
    "lead": person(LEAD_ID, "headteacher", school_id=LEAD_SCHOOL),
    "partner": person(PARTNER_ID, "headteacher", school_id=PARTNER_SCHOOL),
    "other_head": person(OTHER_ID, "headteacher", school_id=OTHER_SCHOOL),
    "liaison": person(LIAISON_ID, "liaison_officer"),
    # A seconded headteacher whose own school is a partner in the bid.
    "conflicted_liaison": person(CONFLICTED_ID, "liaison_officer", "headteacher", school_id=PARTNER_SCHOOL),
    "finance": person(FINANCE_ID, "finance"),
    "auditor": person(AUDITOR_ID, "auditor"),
    "admin": person(ADMIN_ID, "admin"),
}


def make_fund(**overrides) -> SimpleNamespace:
    fund = SimpleNamespace(
        opens_on=TODAY - timedelta(days=30),
        closes_on=TODAY + timedelta(days=30),
        delivery_ends_on=TODAY + timedelta(days=395),
        max_daily_rate_pence=500_00,
        max_award_pence=None,
        countersign_threshold_pence=5_000_00,
        requires_partner_endorsement=False,
    )
    fund.__dict__.update(overrides)
    fund.is_open_on = lambda day: fund.opens_on <= day <= fund.closes_on
    return fund


def make_application(status: str, **overrides) -> SimpleNamespace:
    """A complete bid, led by LEAD_SCHOOL with PARTNER_SCHOOL supporting, that passes every guard."""
    partner_school = SimpleNamespace(id=PARTNER_SCHOOL, name="Partner School", causing_concern=False)
    lead_school = SimpleNamespace(id=LEAD_SCHOOL, name="Lead School", causing_concern=False)
    application = SimpleNamespace(
        status=status,
        fund=make_fund(),
        lead_school_id=LEAD_SCHOOL,
        lead_school=lead_school,
        partners=[
            SimpleNamespace(
                school_id=PARTNER_SCHOOL,
                school=partner_school,
                role="supporting",
                endorsed_at=None,
                declined_at=None,
                declined=False,
            )
        ],
        created_by_id=LEAD_ID,
        # Someone other than every actor above approved it (relevant from awaiting_countersign on).
        decided_by_id=APPROVER_ID,
        countersigned_by_id=None,
        title="Phonics partnership",
        need="Reading is below the local average.",
        priority_areas=["Early reading"],
        activities=[SimpleNamespace(description="Coaching", daily_rate_pence=300_00)],
        measures=[
            SimpleNamespace(
                indicator="Phonics pass rate", due_on=TODAY + timedelta(days=90), follow_up_reason=""
            )
        ],
        requested_pence=1_200_00,
        awarded_pence=1_000_00,
    )
    application.__dict__.update(overrides)
    application.school_ids = lambda: {
        application.lead_school_id,
        *(p.school_id for p in application.partners),
    }
    return application


def make_claim(status: str, application_status: str = "approved") -> SimpleNamespace:
    return SimpleNamespace(
        status=status,
        period_start=TODAY - timedelta(days=3),
        amount_pence=300_00,
        application=make_application(application_status),
    )


def full_context(record, user) -> GuardContext:
    """Every input an action could need, each within the rules, so only who/when decide."""
    return GuardContext(
        record=record,
        user=user,
        today=TODAY,
        comment="Because the evidence says so",
        awarded_pence=1_000_00,
        available_pence=100_000_00,
        verified_claims_pence=0,
        outstanding_claims=0,
        final_report_evaluated=True,
    )


# --------------------------------------------------------------------------------------
# The expected tables, from DESIGN.md
# --------------------------------------------------------------------------------------
#
# Reading notes (DESIGN.md → these tables):
# * "liaison_officer … not conflicted": the controls section extends the conflict of
#   interest to reviewing and deciding anything, so request_changes, reject, cancel and
#   close are refused to the conflicted liaison officer too, not only start_review/approve/
#   countersign as the table's guard column lists.
# * finish_delivery: "headteacher of lead school or liaison_officer", no conflict guard. The
#   lead headteacher (the most interested party) may fire it, so DESIGN does not treat it as
#   a decision; the conflicted liaison officer may fire it as a liaison officer.
# * endorse is not a row of DESIGN's table; "partner headteachers confirm (endorse) a bid
#   that names their school" before it is decided: in draft, submitted and
#   changes_requested. The conflicted liaison officer heads a partner school, so may endorse.
#   Until they endorse, a partner may instead decline (decline_endorsement), with a reason.
# * The approver of a large award is someone else (APPROVER_ID), so "liaison" may
#   countersign; the approver case is tested separately below.

EXPECTED_APPLICATION: dict[str, dict[str, set[str]]] = {
    "draft": {
        "lead": {"submit", "withdraw"},
        "partner": {"endorse", "decline_endorsement"},
        "conflicted_liaison": {"endorse", "decline_endorsement"},
    },
    "submitted": {
        "lead": {"withdraw"},
        "partner": {"endorse", "decline_endorsement"},
        "liaison": {"start_review"},
        "conflicted_liaison": {"endorse", "decline_endorsement"},
    },
    "under_review": {
        "liaison": {"request_changes", "approve", "reject"},
    },
    "changes_requested": {
        "lead": {"resubmit", "withdraw"},
        "partner": {"endorse", "decline_endorsement"},
        "conflicted_liaison": {"endorse", "decline_endorsement"},
    },
    "awaiting_countersign": {
        "liaison": {"countersign", "reject"},
    },
    "approved": {
        "lead": {"finish_delivery"},
        "liaison": {"finish_delivery", "cancel"},
        "conflicted_liaison": {"finish_delivery"},
    },
    "monitoring": {
        "liaison": {"close"},
    },
    "rejected": {},
    "withdrawn": {},
    "closed": {},
    "cancelled": {},
}

#: Claims on an approved award. pending → verified (liaison officer) → paid (finance);
#: pending/verified → rejected (liaison officer, reason); finance reverses a wrong payment.
EXPECTED_CLAIM: dict[str, dict[str, set[str]]] = {
    "pending": {"liaison": {"verify", "reject"}},
    "verified": {"liaison": {"reject"}, "finance": {"pay"}},
    "paid": {"finance": {"reverse_payment"}},
    "rejected": {},
}

APPLICATION_ACTION_NAMES = sorted(APPLICATION_LIFECYCLE.actions)
CLAIM_ACTION_NAMES = sorted(CLAIM_LIFECYCLE.actions)


def test_expected_tables_cover_every_state_and_action():
    assert set(EXPECTED_APPLICATION) == set(APPLICATION_STATES)
    assert set(EXPECTED_CLAIM) == set(CLAIM_STATES)
    assert set(APPLICATION_ACTION_NAMES) == {
        "submit",
        "endorse",
        "decline_endorsement",
        "start_review",
        "request_changes",
        "resubmit",
        "approve",
        "countersign",
        "reject",
        "withdraw",
        "finish_delivery",
        "cancel",
        "close",
    }
    assert set(CLAIM_ACTION_NAMES) == {"verify", "reject", "pay", "reverse_payment"}


APPLICATION_CASES = [
    pytest.param(
        state,
        action,
        actor,
        action in EXPECTED_APPLICATION[state].get(actor, set()),
        id=f"{state}-{action}-{actor}",
    )
    for state in APPLICATION_STATES
    for action in APPLICATION_ACTION_NAMES
    for actor in ACTORS
]

CLAIM_CASES = [
    pytest.param(
        state,
        action,
        actor,
        action in EXPECTED_CLAIM[state].get(actor, set()),
        id=f"{state}-{action}-{actor}",
    )
    for state in CLAIM_STATES
    for action in CLAIM_ACTION_NAMES
    for actor in ACTORS
]


@pytest.mark.parametrize(("state", "action", "actor", "allowed"), APPLICATION_CASES)
def test_application_action_allowed_or_refused(state, action, actor, allowed):
    application = make_application(state)
    user = ACTORS[actor]
    if allowed:
        APPLICATION_LIFECYCLE.check(action, full_context(application, user))
    else:
        with pytest.raises(Refused) as refused:
            APPLICATION_LIFECYCLE.check(action, full_context(application, user))
        assert refused.value.kind in ("forbidden", "invalid_state")
    assert application.status == state  # check() never moves the record


@pytest.mark.parametrize(("state", "action", "actor", "allowed"), CLAIM_CASES)
def test_claim_action_allowed_or_refused(state, action, actor, allowed):
    claim = make_claim(state)
    user = ACTORS[actor]
    if allowed:
        CLAIM_LIFECYCLE.check(action, full_context(claim, user))
    else:
        with pytest.raises(Refused) as refused:
            CLAIM_LIFECYCLE.check(action, full_context(claim, user))
        assert refused.value.kind in ("forbidden", "invalid_state")


@pytest.mark.parametrize("state", list(APPLICATION_STATES))
@pytest.mark.parametrize("actor", list(ACTORS))
def test_allowed_actions_on_an_application_match_the_table(state, actor):
    expected = EXPECTED_APPLICATION[state].get(actor, set())
    assert set(allowed_actions(make_application(state), ACTORS[actor], TODAY)) == expected


@pytest.mark.parametrize("state", list(CLAIM_STATES))
@pytest.mark.parametrize("actor", list(ACTORS))
def test_allowed_actions_on_a_claim_match_the_table(state, actor):
    expected = EXPECTED_CLAIM[state].get(actor, set())
    assert set(allowed_actions(make_claim(state), ACTORS[actor], TODAY)) == expected


# --------------------------------------------------------------------------------------
# The kind of refusal: role and controls are 403, state is 409, input is 422
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["finance", "auditor", "admin"])
def test_roles_outside_the_lifecycle_are_forbidden_every_application_action(actor):
    for action in APPLICATION_ACTION_NAMES:
        state = APPLICATION_LIFECYCLE.actions[action].sources[0]
        with pytest.raises(Refused) as refused:
            APPLICATION_LIFECYCLE.check(action, full_context(make_application(state), ACTORS[actor]))
        assert refused.value.kind == "forbidden", action


def test_action_from_the_wrong_state_is_an_invalid_transition():
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check("approve", full_context(make_application("submitted"), ACTORS["liaison"]))
    assert refused.value.kind == "invalid_state"


def test_partner_headteacher_cannot_submit_the_lead_schools_bid():
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check("submit", full_context(make_application("draft"), ACTORS["partner"]))
    assert refused.value.kind == "forbidden"


def test_liaison_officer_cannot_approve_bid_from_own_school():
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check(
            "approve", full_context(make_application("under_review"), ACTORS["conflicted_liaison"])
        )
    assert refused.value.kind == "forbidden"


def test_liaison_officer_who_leads_the_bid_cannot_review_it():
    seconded = person(LEAD_ID, "headteacher", "liaison_officer", school_id=LEAD_SCHOOL)
    application = make_application("submitted")
    assert "start_review" not in allowed_actions(application, seconded, TODAY)
    assert "withdraw" in allowed_actions(application, seconded, TODAY)


def test_author_of_a_bid_cannot_act_on_it_as_reviewer_even_after_moving_school():
    author = person(LEAD_ID, "liaison_officer")  # no school now, but wrote the bid
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check("start_review", full_context(make_application("submitted"), author))
    assert refused.value.kind == "forbidden"


def test_approver_cannot_countersign_own_award():
    approver = person(APPROVER_ID, "liaison_officer")
    application = make_application("awaiting_countersign")
    assert allowed_actions(application, approver, TODAY) == ["reject"]
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check("countersign", full_context(application, approver))
    assert refused.value.kind == "forbidden"


def test_finance_officer_who_decided_award_cannot_pay_it():
    decider = person(APPROVER_ID, "finance", "liaison_officer")
    countersigner = person(LIAISON_ID, "finance", "liaison_officer")
    claim = make_claim("verified")
    claim.application.countersigned_by_id = LIAISON_ID
    for user in (decider, countersigner):
        assert "pay" not in allowed_actions(claim, user, TODAY)
        with pytest.raises(Refused) as refused:
            CLAIM_LIFECYCLE.check("pay", full_context(claim, user))
        assert refused.value.kind == "forbidden"


def test_claims_are_only_verified_or_paid_while_the_award_is_approved():
    for status in ("monitoring", "cancelled", "closed"):
        pending, verified = make_claim("pending", status), make_claim("verified", status)
        assert "verify" not in allowed_actions(pending, ACTORS["liaison"], TODAY)
        assert "pay" not in allowed_actions(verified, ACTORS["finance"], TODAY)
        with pytest.raises(Refused) as refused:
            CLAIM_LIFECYCLE.check("verify", full_context(pending, ACTORS["liaison"]))
        assert refused.value.kind == "invalid_state"


def test_partner_that_has_endorsed_cannot_endorse_again():
    application = make_application("draft")
    application.partners[0].endorsed_at = TODAY
    assert "endorse" not in allowed_actions(application, ACTORS["partner"], TODAY)
    with pytest.raises(Refused) as refused:
        APPLICATION_LIFECYCLE.check("endorse", full_context(application, ACTORS["partner"]))
    assert refused.value.kind == "invalid_state"


def test_inactive_user_has_no_actions():
    retired = person(LIAISON_ID, "liaison_officer", active=False)
    assert allowed_actions(make_application("submitted"), retired, TODAY) == []
    assert allowed_actions(make_application("submitted"), None, TODAY) == []


def test_unknown_action_is_named_with_the_known_ones():
    with pytest.raises(UnknownAction) as unknown:
        APPLICATION_LIFECYCLE.check("delete", full_context(make_application("draft"), ACTORS["lead"]))
    assert "submit" in unknown.value.known


# --------------------------------------------------------------------------------------
# Guards: a failing guard is a validation failure naming the field
# --------------------------------------------------------------------------------------


def guard_failure(lifecycle, action: str, record, user, **ctx_changes) -> dict[str, list[str]]:
    ctx = full_context(record, user)
    for name, value in ctx_changes.items():
        setattr(ctx, name, value)
    with pytest.raises(Refused) as refused:
        lifecycle.check(action, ctx)
    assert refused.value.kind == "guard_failed"
    fields: dict[str, list[str]] = {}
    for field, message in refused.value.problems:
        fields.setdefault(field, []).append(message)
    return fields


def test_submit_refused_when_fund_closed():
    application = make_application("draft", fund=make_fund(closes_on=TODAY - timedelta(days=1)))
    assert "fund_id" in guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])


def test_submit_refused_when_bid_incomplete():
    application = make_application("draft", measures=[], need="  ")
    fields = guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])
    assert "application" in fields
    assert "measure" in fields["application"][0] and "need" in fields["application"][0]


def test_submit_refused_when_daily_rate_over_cap():
    application = make_application(
        "draft", activities=[SimpleNamespace(description="Coaching", daily_rate_pence=500_01)]
    )
    assert "activities" in guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])


def test_the_daily_rate_cap_is_the_same_where_an_activity_is_typed_and_when_the_bid_is_sent():
    assert daily_rate_problem(500_00, 500_00) is None
    assert daily_rate_problem(500_01, 500_00) == "The fund pays at most £500.00 a day"
    application = make_application(
        "draft", activities=[SimpleNamespace(description="Coaching", daily_rate_pence=500_01)]
    )
    assert guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"]) == {
        "activities": ["The fund pays at most £500.00 a day: Coaching"]
    }


def test_submit_refused_when_request_over_max_award():
    application = make_application(
        "draft", fund=make_fund(max_award_pence=1_000_00), requested_pence=1_000_01
    )
    assert "activities" in guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])


def test_submit_needs_partner_endorsements_when_fund_requires_them():
    application = make_application("draft", fund=make_fund(requires_partner_endorsement=True))
    assert "partners" in guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])
    application.partners[0].endorsed_at = TODAY
    APPLICATION_LIFECYCLE.check("submit", full_context(application, ACTORS["lead"]))


def test_resubmit_has_the_same_guards_as_submit():
    application = make_application("changes_requested", fund=make_fund(max_award_pence=1_000_00))
    assert "activities" in guard_failure(APPLICATION_LIFECYCLE, "resubmit", application, ACTORS["lead"])


@pytest.mark.parametrize("action", ["request_changes", "reject"])
def test_sending_back_or_rejecting_a_bid_needs_a_comment(action):
    application = make_application("under_review")
    assert "comment" in guard_failure(
        APPLICATION_LIFECYCLE, action, application, ACTORS["liaison"], comment=" "
    )


def test_cancel_needs_a_reason():
    application = make_application("approved")
    assert "comment" in guard_failure(
        APPLICATION_LIFECYCLE, "cancel", application, ACTORS["liaison"], comment=""
    )


@pytest.mark.parametrize("awarded", [0, -1, None, 1_200_01])
def test_award_must_be_more_than_nothing_and_at_most_the_request(awarded):
    application = make_application("under_review")
    fields = guard_failure(
        APPLICATION_LIFECYCLE, "approve", application, ACTORS["liaison"], awarded_pence=awarded
    )
    assert "awarded_pence" in fields


def test_approval_over_available_budget_refused():
    application = make_application("under_review")
    fields = guard_failure(
        APPLICATION_LIFECYCLE,
        "approve",
        application,
        ACTORS["liaison"],
        awarded_pence=1_000_00,
        available_pence=999_99,
    )
    assert "awarded_pence" in fields


def test_countersign_rechecks_what_is_still_available():
    application = make_application("awaiting_countersign")
    fields = guard_failure(
        APPLICATION_LIFECYCLE,
        "countersign",
        application,
        ACTORS["liaison"],
        awarded_pence=None,
        available_pence=0,
    )
    assert "awarded_pence" in fields


def test_supporting_school_causing_concern_needs_override_note():
    application = make_application("under_review")
    application.partners[0].school.causing_concern = True
    fields = guard_failure(APPLICATION_LIFECYCLE, "approve", application, ACTORS["liaison"], comment="")
    assert "comment" in fields
    APPLICATION_LIFECYCLE.check("approve", full_context(application, ACTORS["liaison"]))


def test_supported_school_causing_concern_needs_no_override_note():
    application = make_application("under_review")
    application.partners[0].role = "supported"
    application.partners[0].school.causing_concern = True
    ctx = full_context(application, ACTORS["liaison"])
    ctx.comment = ""
    APPLICATION_LIFECYCLE.check("approve", ctx)


def test_finish_delivery_needs_every_claim_settled():
    application = make_application("approved")
    assert "action" in guard_failure(
        APPLICATION_LIFECYCLE, "finish_delivery", application, ACTORS["lead"], outstanding_claims=1
    )


def test_close_needs_evaluated_final_report():
    application = make_application("monitoring")
    assert "action" in guard_failure(
        APPLICATION_LIFECYCLE, "close", application, ACTORS["liaison"], final_report_evaluated=False
    )


def test_close_needs_every_report_evaluated_not_only_the_final_one():
    application = make_application("monitoring")
    fields = guard_failure(
        APPLICATION_LIFECYCLE, "close", application, ACTORS["liaison"], reports_awaiting_evaluation=2
    )
    assert fields == {"action": ["Evaluate every impact report first: 2 reports are waiting"]}


@pytest.mark.parametrize("days_from_today", [0, -1, -3650])
def test_submit_refused_when_a_measure_is_not_due_after_today(days_from_today):
    measure = SimpleNamespace(
        indicator="Attendance", due_on=TODAY + timedelta(days=days_from_today), follow_up_reason=""
    )
    application = make_application("draft", measures=[measure])
    fields = guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"])
    assert fields == {"measures": ["The target must fall due after today: Attendance"]}


def test_the_due_date_rule_is_the_same_where_a_measure_is_typed_and_when_the_bid_is_sent():
    fund = make_fund()
    late = fund.delivery_ends_on + timedelta(days=1)
    problem = due_date_problem(late, "", TODAY, fund.delivery_ends_on)
    assert problem is not None and problem.startswith("The target must fall due by the end of the fund")
    assert due_date_problem(late, "Published later", TODAY, fund.delivery_ends_on) is None
    assert due_date_problem(fund.delivery_ends_on, "", TODAY, fund.delivery_ends_on) is None
    measure = SimpleNamespace(indicator="Attendance", due_on=late, follow_up_reason="")
    application = make_application("draft", fund=fund, measures=[measure])
    assert guard_failure(APPLICATION_LIFECYCLE, "submit", application, ACTORS["lead"]) == {
        "measures": [f"{problem}: Attendance"]
    }


@pytest.mark.parametrize("action", ["submit", "resubmit"])
def test_a_measure_due_after_the_delivery_period_needs_a_stated_follow_up(action):
    fund = make_fund()
    late = SimpleNamespace(
        indicator="Attendance", due_on=fund.delivery_ends_on + timedelta(days=1), follow_up_reason=""
    )
    state = "draft" if action == "submit" else "changes_requested"
    application = make_application(state, fund=fund, measures=[late])
    assert "measures" in guard_failure(APPLICATION_LIFECYCLE, action, application, ACTORS["lead"])
    late.follow_up_reason = "Results are published after the period ends"
    APPLICATION_LIFECYCLE.check(action, full_context(application, ACTORS["lead"]))


def test_a_measure_due_on_the_last_day_of_the_delivery_period_may_be_sent():
    fund = make_fund()
    last_day = SimpleNamespace(indicator="Attendance", due_on=fund.delivery_ends_on, follow_up_reason="")
    application = make_application("draft", fund=fund, measures=[last_day])
    APPLICATION_LIFECYCLE.check("submit", full_context(application, ACTORS["lead"]))


def test_verified_claims_never_exceed_award():
    claim = make_claim("pending")  # 300_00 against an award of 1_000_00
    fields = guard_failure(CLAIM_LIFECYCLE, "verify", claim, ACTORS["liaison"], verified_claims_pence=700_01)
    assert "amount_pence" in fields
    ctx = full_context(claim, ACTORS["liaison"])
    ctx.verified_claims_pence = 700_00
    CLAIM_LIFECYCLE.check("verify", ctx)


def test_part_paid_claim_cannot_be_rejected():
    claim = make_claim("verified")
    ctx = full_context(claim, ACTORS["liaison"])
    ctx.claim_paid_pence = 100_00
    with pytest.raises(Refused) as refused:
        CLAIM_LIFECYCLE.check("reject", ctx)
    assert refused.value.kind == "invalid_state"


# --------------------------------------------------------------------------------------
# Routing and firing
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "awarded", "destination"),
    [
        (5_000_00, 5_000_00, "awaiting_countersign"),  # at the threshold
        (5_000_00, 5_000_01, "awaiting_countersign"),  # over it
        (5_000_00, 4_999_99, "approved"),  # below it
        (None, 10_000_00, "approved"),  # no threshold: one officer decides
    ],
)
def test_approve_routes_on_the_countersign_threshold(threshold, awarded, destination):
    application = make_application(
        "under_review",
        fund=make_fund(countersign_threshold_pence=threshold),
        requested_pence=10_000_00,
        awarded_pence=None,
        decided_by_id=None,
    )
    ctx = full_context(application, ACTORS["liaison"])
    ctx.awarded_pence = awarded
    assert APPLICATION_LIFECYCLE.fire("approve", ctx) == ("under_review", destination)
    assert application.status == destination


def test_countersign_moves_to_approved():
    application = make_application("awaiting_countersign")
    assert APPLICATION_LIFECYCLE.fire("countersign", full_context(application, ACTORS["liaison"])) == (
        "awaiting_countersign",
        "approved",
    )


def test_endorse_leaves_the_status_alone():
    application = make_application("submitted")
    assert APPLICATION_LIFECYCLE.fire("endorse", full_context(application, ACTORS["partner"])) == (
        "submitted",
        "submitted",
    )


def test_refused_fire_leaves_the_record_unchanged():
    application = make_application("under_review")
    with pytest.raises(Refused):
        APPLICATION_LIFECYCLE.fire("approve", full_context(application, ACTORS["conflicted_liaison"]))
    assert application.status == "under_review"


@pytest.mark.parametrize(
    ("action", "source", "dest"),
    [
        ("submit", "draft", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("request_changes", "under_review", "changes_requested"),
        ("resubmit", "changes_requested", "submitted"),
        ("reject", "under_review", "rejected"),
        ("reject", "awaiting_countersign", "rejected"),
        ("withdraw", "draft", "withdrawn"),
        ("withdraw", "submitted", "withdrawn"),
        ("withdraw", "changes_requested", "withdrawn"),
        ("finish_delivery", "approved", "monitoring"),
        ("cancel", "approved", "cancelled"),
        ("close", "monitoring", "closed"),
    ],
)
def test_each_transition_lands_where_design_says(action, source, dest):
    actor = "lead" if action in ("submit", "resubmit", "withdraw", "finish_delivery") else "liaison"
    application = make_application(source)
    assert APPLICATION_LIFECYCLE.fire(action, full_context(application, ACTORS[actor])) == (source, dest)


def test_lifecycle_rows_list_every_application_action_once():
    rows = lifecycle_rows()
    assert [row["action"] for row in rows] == list(APPLICATION_LIFECYCLE.actions)
    approve = next(row for row in rows if row["action"] == "approve")
    assert approve["to"] == "awaiting_countersign or approved"
    assert "not_conflicted" in approve["guards"]
