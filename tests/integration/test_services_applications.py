"""Drafting, editing, submitting and versioning bids; who may see them (least privilege)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Disbursement, Event
from fundflow.services import access, applications
from fundflow.services.applications import ActivityInput, BidDetails, PartnerInput
from fundflow.services.clock import today
from fundflow.services.errors import InvalidTransition, NotFound, NotPermitted, ValidationFailed


def activity(days="1", rate=300_00, description="Coaching") -> ActivityInput:
    return ActivityInput(description=description, staff_role="Deputy head", days=days, daily_rate_pence=rate)


def events_count() -> int:
    return db.session.execute(select(func.count(Event.id))).scalar_one()


# ------------------------------------------------------------------------------ drafting


def test_headteacher_starts_a_draft_for_own_school_with_a_public_reference(make):
    lead = make.headteacher()
    fund = make.fund()
    app = applications.create_draft(lead, make.details(fund, make.school()))
    assert app.status == "draft"
    assert app.lead_school_id == lead.school_id
    assert app.reference == f"LSIF-{today().year}-0001"
    second = applications.create_draft(lead, make.details(fund, make.school()))
    assert second.reference == f"LSIF-{today().year}-0002"
    event = db.session.execute(select(Event).where(Event.application_id == app.id)).scalar_one()
    assert (event.action, event.from_status, event.to_status) == ("create", None, "draft")


@pytest.mark.parametrize("roles", [("liaison_officer",), ("finance",), ("auditor",), ("admin",)])
def test_only_a_headteacher_of_a_school_can_start_a_bid(make, roles):
    user = make.user(*roles)
    with pytest.raises(NotPermitted):
        applications.create_draft(user, make.details(make.fund(), make.school()))


def test_cannot_start_a_bid_in_a_closed_fund(make):
    fund = make.fund(opens_on=today() - timedelta(days=60), closes_on=today() - timedelta(days=1))
    with pytest.raises(ValidationFailed) as failed:
        applications.create_draft(make.headteacher(), make.details(fund, make.school()))
    assert "fund_id" in failed.value.fields


def test_requested_amount_is_the_sum_of_activity_costs(make):
    lead = make.headteacher()
    details = make.details(make.fund(), make.school())
    details = BidDetails(
        **{**details.__dict__, "activities": [activity("2", 250_00), activity("1.5", 300_00, "Planning")]}
    )
    app = applications.create_draft(lead, details)
    assert [a.cost_pence for a in app.activities] == [500_00, 450_00]
    assert app.requested_pence == 950_00


@pytest.mark.parametrize("days", ["0.5", "1", "2.5", "10"])
def test_days_in_whole_or_half_steps_accepted(make, days):
    app = make.application("draft", days=days)
    assert str(app.activities[0].days) in (days, f"{days}.0")


@pytest.mark.parametrize("days", ["0.25", "1.1", "2.75", "0", "-1", "many"])
def test_days_not_in_half_steps_refused(make, days):
    with pytest.raises(ValidationFailed) as failed:
        make.application("draft", days=days)
    assert "activities.0.days" in failed.value.fields


def test_cost_is_rounded_to_the_penny_once_per_activity(make):
    lead = make.headteacher()
    details = make.details(make.fund(), make.school())
    # 0.5 day at 101p is 50.5p: each activity rounds its own total once, half up (51p),
    # so two of them ask for 102p, not the 101p of adding unrounded halves.
    details = BidDetails(
        **{**details.__dict__, "activities": [activity("0.5", 101, "A"), activity("0.5", 101, "B")]}
    )
    app = applications.create_draft(lead, details)
    assert [a.cost_pence for a in app.activities] == [51, 51]
    assert app.requested_pence == 102
    assert applications.activity_cost_pence("2.5", 333_33) == 833_33  # 833,32.5p → 833,33p


@pytest.mark.parametrize("rate", [0, -100, True, "300"])
def test_daily_rate_must_be_whole_pence_above_zero(make, rate):
    details = make.details(make.fund(), make.school())
    details = BidDetails(**{**details.__dict__, "activities": [activity("1", rate)]})
    with pytest.raises(ValidationFailed) as failed:
        applications.create_draft(make.headteacher(), details)
    assert "activities.0.daily_rate_pence" in failed.value.fields


@pytest.mark.parametrize(
    ("urn", "problem"),
    [("12AB", "6-digit"), ("999999", "No school"), ("LEAD", "cannot also be a partner")],
)
def test_partner_schools_must_exist_and_differ_from_the_lead(make, urn, problem):
    lead = make.headteacher()
    if urn == "LEAD":
        urn = lead.school.urn
    details = make.details(make.fund(), make.school())
    details = BidDetails(**{**details.__dict__, "partners": [PartnerInput(urn=urn, role="supporting")]})
    with pytest.raises(ValidationFailed) as failed:
        applications.create_draft(lead, details)
    assert problem in " ".join(failed.value.fields["partners.0.urn"])


def test_partner_named_twice_refused(make):
    school = make.school()
    details = make.details(make.fund(), school)
    details = BidDetails(
        **{
            **details.__dict__,
            "partners": [PartnerInput(school.urn, "supporting"), PartnerInput(school.urn, "supported")],
        }
    )
    with pytest.raises(ValidationFailed) as failed:
        applications.create_draft(make.headteacher(), details)
    assert "partners.1.urn" in failed.value.fields


# ------------------------------------------------------------------------------- editing


def test_lead_headteacher_edits_a_draft_and_the_request_follows(make):
    app = make.application("draft")
    lead = make.lead_of(app)
    applications.update_draft(lead, app, BidDetails(activities=[activity("3", 200_00)]))
    assert app.requested_pence == 600_00
    assert app.title == "Phonics partnership"  # None leaves a part unchanged


def test_partner_headteacher_cannot_edit_bid(make):
    partner_school = make.school()
    app = make.application("draft", partner=partner_school)
    partner = make.headteacher(school=partner_school)
    with pytest.raises(NotPermitted):
        applications.update_draft(partner, app, BidDetails(title="Hijacked"))
    db.session.refresh(app)
    assert app.title == "Phonics partnership"


@pytest.mark.parametrize("state", ["submitted", "under_review", "approved", "rejected", "withdrawn"])
def test_bid_cannot_be_edited_once_submitted_until_changes_are_requested(make, state):
    app = make.application(state)
    with pytest.raises(InvalidTransition):
        applications.update_draft(make.lead_of(app), app, BidDetails(title="Changed"))


def test_editing_keeps_an_endorsement_while_the_partner_stays_the_same(make):
    partner_school = make.school()
    app = make.application("draft", partner=partner_school)
    make.act(app, make.headteacher(school=partner_school), "endorse")
    applications.update_draft(
        make.lead_of(app), app, BidDetails(partners=[PartnerInput(partner_school.urn, "supporting")])
    )
    assert app.partners[0].endorsed
    applications.update_draft(
        make.lead_of(app), app, BidDetails(partners=[PartnerInput(partner_school.urn, "supported")])
    )
    assert not app.partners[0].endorsed


def test_invalid_edit_changes_nothing(make):
    app = make.application("draft")
    before = events_count()
    with pytest.raises(ValidationFailed):
        applications.update_draft(make.lead_of(app), app, BidDetails(title="", activities=[activity("0.3")]))
    db.session.expire_all()
    assert app.title == "Phonics partnership"
    assert app.requested_pence == 1_200_00
    assert events_count() == before


# ----------------------------------------------------------------------------- submitting


def test_cannot_submit_when_fund_closed(app, make):
    fund = make.fund(closes_on=today() + timedelta(days=5))
    bid = make.application("draft", fund=fund)
    app.config["FUNDFLOW_TODAY"] = (today() + timedelta(days=6)).isoformat()
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "submit")
    assert "fund_id" in failed.value.fields
    assert bid.status == "draft"


def test_cannot_submit_before_the_fund_opens(make):
    fund = make.fund(opens_on=today() + timedelta(days=1))
    bid = make.application("draft", fund=fund)
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "submit")
    assert "fund_id" in failed.value.fields


def test_daily_rate_over_cap_refused(make):
    fund = make.fund(max_daily_rate_pence=300_00)
    with pytest.raises(ValidationFailed) as failed:
        make.application("draft", fund=fund, rate=300_01)
    assert "activities.0.daily_rate_pence" in failed.value.fields


def test_daily_rate_over_a_cap_lowered_after_saving_is_refused_at_submit(make):
    fund = make.fund(max_daily_rate_pence=300_00)
    bid = make.application("draft", fund=fund, rate=300_00)
    fund.max_daily_rate_pence = 299_99
    db.session.commit()
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "submit")
    assert "activities" in failed.value.fields
    assert bid.status == "draft"


def test_daily_rate_at_cap_accepted(make):
    fund = make.fund(max_daily_rate_pence=300_00)
    bid = make.application("draft", fund=fund, rate=300_00)
    make.act(bid, make.lead_of(bid), "submit")
    assert bid.status == "submitted"


def test_request_over_max_award_refused(make):
    fund = make.fund(max_award_pence=1_000_00)
    bid = make.application("draft", fund=fund, days="4", rate=250_01)  # 1,000.04
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "submit")
    assert "activities" in failed.value.fields


def test_request_at_max_award_accepted(make):
    fund = make.fund(max_award_pence=1_000_00)
    bid = make.application("draft", fund=fund, days="4", rate=250_00)
    make.act(bid, make.lead_of(bid), "submit")
    assert bid.status == "submitted"


def test_incomplete_bid_cannot_be_submitted(make):
    lead = make.headteacher()
    bid = applications.create_draft(lead, BidDetails(fund_id=make.fund().id, title="Just a title"))
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, lead, "submit")
    message = failed.value.fields["application"][0]
    for part in ("identified need", "priority area", "partner school", "activity", "measure"):
        assert part in message


def test_submit_needs_partner_endorsements_when_fund_requires_them(make):
    partner_school = make.school()
    fund = make.fund(requires_partner_endorsement=True)
    bid = make.application("draft", fund=fund, partner=partner_school)
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, make.lead_of(bid), "submit")
    assert partner_school.name in failed.value.fields["partners"][0]
    make.act(bid, make.headteacher(school=partner_school), "endorse")
    make.act(bid, make.lead_of(bid), "submit")
    assert bid.status == "submitted"


def test_submit_without_endorsement_when_fund_does_not_require_it(make):
    bid = make.application("draft", fund=make.fund(requires_partner_endorsement=False))
    make.act(bid, make.lead_of(bid), "submit")
    assert bid.status == "submitted"


def test_partner_endorses_once(make):
    partner_school = make.school()
    bid = make.application("draft", partner=partner_school)
    partner = make.headteacher(school=partner_school)
    make.act(bid, partner, "endorse")
    assert bid.partners[0].endorsed_by_id == partner.id
    with pytest.raises(InvalidTransition):
        make.act(bid, partner, "endorse")


def test_headteacher_of_a_school_not_in_the_bid_cannot_endorse_it(make):
    bid = make.application("draft")
    with pytest.raises(NotPermitted):
        make.act(bid, make.headteacher(), "endorse")


def test_submit_keeps_version_one(make):
    bid = make.application("submitted")
    assert bid.version == 1
    assert [v.version for v in bid.versions] == [1]
    assert bid.versions[0].snapshot["requested_pence"] == bid.requested_pence


def test_resubmit_bumps_version_and_keeps_earlier_version(make):
    bid = make.application("changes_requested")
    lead = make.lead_of(bid)
    applications.update_draft(lead, bid, BidDetails(title="Phonics partnership, revised"))
    make.act(bid, lead, "resubmit")
    assert bid.status == "submitted"
    assert bid.version == 2
    first, second = bid.versions
    assert (first.version, second.version) == (1, 2)
    assert first.snapshot["title"] == "Phonics partnership"
    assert second.snapshot["title"] == "Phonics partnership, revised"
    changes = applications.version_changes(first.snapshot, second.snapshot)
    assert changes == [("title", "Phonics partnership", "Phonics partnership, revised")]
    event = db.session.execute(
        select(Event).where(Event.application_id == bid.id, Event.action == "resubmit")
    ).scalar_one()
    assert event.payload["version"] == 2


def test_resubmit_checks_the_submit_rules_again(make):
    fund = make.fund(max_daily_rate_pence=300_00)
    bid = make.application("changes_requested", fund=fund)
    lead = make.lead_of(bid)
    applications.update_draft(lead, bid, BidDetails(activities=[activity("1", 300_00)]))
    fund.max_daily_rate_pence = 299_99
    db.session.commit()
    with pytest.raises(ValidationFailed) as failed:
        make.act(bid, lead, "resubmit")
    assert "activities" in failed.value.fields
    assert bid.version == 1


# ------------------------------------------------------------------ least privilege


def visible_ids(user) -> set[int]:
    return {a.id for a in db.session.execute(access.visible_applications(user)).scalars()}


def test_headteacher_cannot_see_other_schools_bids(make):
    partner_school = make.school()
    ours = make.application("submitted", partner=partner_school)
    theirs = make.application("submitted")
    lead, partner, stranger = make.lead_of(ours), make.headteacher(school=partner_school), make.headteacher()

    assert visible_ids(lead) == {ours.id}
    assert visible_ids(partner) == {ours.id}
    assert visible_ids(stranger) == set()
    with pytest.raises(NotFound):
        access.get_application(lead, theirs.reference)
    with pytest.raises(NotFound):
        access.get_application(stranger, ours.reference)
    assert access.get_application(partner, ours.reference) is ours


@pytest.mark.parametrize("role", ["liaison_officer", "finance", "auditor"])
def test_officers_and_auditors_see_every_bid(make, role):
    bids = {make.application("submitted").id, make.application("draft").id}
    assert visible_ids(make.user(role)) == bids


def test_administrator_sees_no_bids(make):
    bid = make.application("submitted")
    admin = make.user("admin")
    assert visible_ids(admin) == set()
    with pytest.raises(NotFound):
        access.get_application(admin, bid.reference)


def test_headteacher_cannot_see_another_schools_claims_or_payments(make):
    bid = make.application("approved")
    claim = make.claim(bid, state="paid")
    stranger = make.headteacher()
    with pytest.raises(NotFound):
        access.get_claim(stranger, claim.id)
    disbursement = db.session.execute(select(Disbursement)).scalar_one()
    with pytest.raises(NotFound):
        access.get_disbursement(stranger, disbursement.id)
    assert access.get_disbursement(make.lead_of(bid), disbursement.id) is disbursement
    assert access.get_claim(make.lead_of(bid), claim.id) is claim


def test_unknown_reference_is_not_found(make):
    with pytest.raises(NotFound):
        access.get_application(make.user("auditor"), "LSIF-2026-9999")
