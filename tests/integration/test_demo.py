"""``seed-demo``'s two fund years: last year's fund over and closed, this year's live, with
bids in every state and outcomes varied enough that every chart of the value-for-money view
has a shape; and both funds publish valid 360Giving files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from fundflow import demo, demo_partnership, reports
from fundflow.extensions import db
from fundflow.models import (
    RATINGS,
    Activity,
    Application,
    BackfillClaim,
    Disbursement,
    Event,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    Organisation,
    ScheduleItem,
    School,
    User,
)
from fundflow.reports import giving360
from fundflow.services import audit, eligibility
from fundflow.services.clock import today
from fundflow.workflow import (
    APPLICATION_STATES,
    AWAITING_COUNTERSIGN_STATUSES,
    MET_SCHEDULE_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    WAIVED_SCHEDULE_STATUSES,
)


@pytest.fixture
def seeded(app):
    demo.seed()
    db.session.commit()
    return app


def _funds() -> tuple[Fund, Fund]:
    """The first organisation's (the English council's) two funds."""
    slough = select(Fund).join(Organisation).where(Organisation.slug == "slough").order_by(Fund.id)
    current, previous = db.session.execute(slough).scalars().all()
    return current, previous


def _scalar(query):
    return db.session.execute(query).scalar_one()


def test_the_demo_holds_last_years_closed_fund_and_this_years_live_one(seeded):
    current, previous = _funds()
    opens, closes, year = demo.financial_year(today())
    assert (current.opens_on, current.closes_on, current.financial_year) == (opens, closes, year)
    assert previous.opens_on == date(opens.year - 1, 4, 1)
    assert previous.delivery_ends_on == date(opens.year, 3, 31) and previous.closes_on < today()
    assert current.name.startswith("Slough School Improvement Fund")  # the first fund: the live one

    bids = _scalar(select(func.count(Application.id)))
    assert 40 <= bids <= 60
    assert set(db.session.execute(select(Application.status).distinct()).scalars()) == set(APPLICATION_STATES)
    last_year = dict(
        db.session.execute(
            select(Application.status, func.count())
            .where(Application.fund_id == previous.id)
            .group_by(Application.status)
        ).all()
    )
    assert set(last_year) <= {"closed", "cancelled", "rejected", "withdrawn"}
    assert last_year["closed"] > sum(last_year.values()) / 2
    assert audit.verify_chain().ok


def test_the_demo_has_outcomes_timeliness_and_money_with_a_shape(seeded):
    current, previous = _funds()
    assert set(db.session.execute(select(ImpactEvaluation.rating).distinct()).scalars()) == set(RATINGS)
    drivers = {d for ds in db.session.execute(select(ImpactEvaluation.drivers)).scalars() for d in ds}
    assert drivers == {"collaboration", "practitioner_knowledge", "practice_change"}

    def items(*where) -> int:
        return _scalar(select(func.count(ScheduleItem.id)).where(*where))

    met = ScheduleItem.status.in_(MET_SCHEDULE_STATUSES)
    assert items(met, ScheduleItem.completed_on <= ScheduleItem.due_on) > 0  # on time
    assert items(met, ScheduleItem.completed_on > ScheduleItem.due_on) > 0  # late
    assert items(ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES), ScheduleItem.due_on < today()) > 0
    assert items(ScheduleItem.status.in_(WAIVED_SCHEDULE_STATUSES)) > 0

    for fund in (current, previous):
        months = select(func.count(Disbursement.paid_on.distinct())).where(Disbursement.fund_id == fund.id)
        assert _scalar(months) >= 5, fund.name
    assert _scalar(select(func.count(Disbursement.id)).where(Disbursement.reverses_id.is_not(None))) >= 1
    decided = select(Application).where(Application.decided_at.is_not(None))
    waits = {(a.decided_at - a.submitted_at).days for a in db.session.execute(decided).scalars()}
    assert len(waits) > 5 and min(waits) >= 0  # decisions took varied, real-looking times
    claims = db.session.execute(select(BackfillClaim)).scalars().all()
    assert all(c.created_at.date() <= today() for c in claims)
    paid_claims = db.session.execute(
        select(BackfillClaim.created_at, func.min(Disbursement.paid_on))
        .join(Disbursement, Disbursement.claim_id == BackfillClaim.id)
        .where(Disbursement.amount_pence > 0)
        .group_by(BackfillClaim.id, BackfillClaim.created_at)
    ).all()
    assert all(paid_on >= made.date() for made, paid_on in paid_claims)


def test_the_demo_has_every_control_exception(seeded):
    overrides = select(Application).where(Application.override_note != "")
    assert "causing concern" in db.session.execute(overrides).scalars().one().override_note
    partial = Application.awarded_pence < Application.requested_pence
    assert _scalar(select(func.count(Application.id)).where(partial)) >= 2
    assert _scalar(select(func.count()).where(BackfillClaim.overlaps_claim_id.is_not(None))) >= 1
    current, _ = _funds()
    cap = select(func.count(Activity.id)).where(Activity.daily_rate_pence == current.max_daily_rate_pence)
    assert _scalar(cap) >= 1
    waiting = Application.status.in_(AWAITING_COUNTERSIGN_STATUSES)
    assert _scalar(select(func.count(Application.id)).where(waiting)) == 1
    # one bid of the council's monitoring impact: a browser test picks "the" demo bid in monitoring
    monitoring = Application.status == "monitoring", Application.fund_id.in_([f.id for f in _funds()])
    assert _scalar(select(func.count(Application.id)).where(*monitoring)) == 1


def test_the_demo_schools_span_two_authorities_and_every_free_school_meals_band(seeded):
    schools = db.session.execute(select(School)).scalars().all()
    assert len({s.la_code for s in schools}) >= 2
    assert all(s.pupils for s in schools)
    bands = {None if s.fsm_percent is None else min(int(s.fsm_percent // 10), 4) for s in schools}
    assert bands == {None, 0, 1, 2, 3, 4}


def test_both_demo_funds_publish_valid_360giving_files(seeded):
    for fund in _funds():
        package = reports.grants_360_package(fund.id)
        assert package["grants"], fund.name
        assert [e.message for e in giving360.package_validator().iter_errors(package)] == []
        authorities = {g["recipientOrganization"][0]["location"][0]["name"] for g in package["grants"]}
        assert authorities == {"Slough", "Windsor and Maidenhead"}
        assert all(g["title"] != g["description"] for g in package["grants"])


def test_the_demo_has_a_partnership_of_three_scottish_councils_with_its_own_staff_fund_and_bids(seeded):
    partnership = db.session.execute(
        select(Organisation).where(Organisation.slug == "partnership")
    ).scalar_one()
    assert partnership.funder_id.startswith("GB-LAS-") and partnership.term_calendar == "four_terms"
    councils = {a.gss_code: a.name for a in partnership.local_authorities}
    assert len(councils) == 3 and all(code.startswith("S12") for code in councils)

    staff = {
        f"{role}@partnership.demo.test": role_name
        for role, role_name in (
            ("liaison", "liaison_officer"),
            ("finance", "finance"),
            ("auditor", "auditor"),
            ("admin", "admin"),
        )
    }
    for email, role in staff.items():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert user.roles == [role] and user.organisation_id == partnership.id, email
        assert email in demo.ROLE_OF_ACCOUNT
    for email in ("admin@demo.test", "liaison@demo.test", "finance@demo.test", "auditor@demo.test"):
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert user.organisation_id not in (None, partnership.id), email

    schools = db.session.execute(select(School).where(School.nation == "scotland")).scalars().all()
    assert 6 <= len(schools) <= 9
    assert all(len(s.identifier) == 7 and s.identifier.isdigit() and s.urn is None for s in schools)
    assert {s.gss_code for s in schools} == set(councils)
    assert all(councils[s.gss_code] == s.la_name and s.pupils and s.fsm_percent is not None for s in schools)

    fund = db.session.execute(select(Fund).where(Fund.organisation_id == partnership.id)).scalar_one()
    assert fund.opens_on <= today() <= fund.closes_on
    assert {a.gss_code for a in fund.local_authorities} == set(councils)
    bids = db.session.execute(select(Application).where(Application.fund_id == fund.id)).scalars().all()
    assert 6 <= len(bids) <= 10
    assert all(b.reference.startswith(partnership.reference_prefix + "-") for b in bids)
    assert {"draft", "submitted", "under_review", "approved", "monitoring", "rejected"} <= {
        b.status for b in bids
    }
    approved = [b.id for b in bids if b.status == "approved"]
    paid = select(func.count(Disbursement.id)).join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
    assert _scalar(paid.where(BackfillClaim.application_id.in_(approved), Disbursement.amount_pence > 0)) >= 1
    monitoring = [b.id for b in bids if b.status == "monitoring"]
    assert (
        _scalar(select(func.count(ImpactReport.id)).where(ImpactReport.application_id.in_(monitoring))) >= 1
    )

    head = db.session.execute(
        select(User).where(User.email == "headteacher@partnership.demo.test")
    ).scalar_one()
    led = [b for b in bids if b.lead_school_id == head.school_id]
    assert len(led) > len(bids) / 2

    crossing = next(b for b in bids if b.title == demo_partnership.CROSS_COUNCIL_BID)
    partner_councils = {p.school.gss_code for p in crossing.partners}
    assert len(partner_councils) == 2 and crossing.lead_school.gss_code not in partner_councils

    # every demo bid, the council's too, is led by a school of one of its fund's councils
    everyone = db.session.execute(select(Application)).scalars().all()
    assert all(eligibility.school_may_bid(b.lead_school, b.fund) for b in everyone)
    assert all(b.lead_school.gss_code or b.lead_school.la_name for b in everyone)

    # its events are in its own chain, which verifies
    assert not db.session.execute(
        select(Event.id).where(Event.fund_id == fund.id, Event.organisation_id != partnership.id)
    ).first()
    assert audit.verify_chain(organisation_id=partnership.id).ok
