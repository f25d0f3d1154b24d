"""``seed-demo``'s two fund years: last year's fund over and closed, this year's live, with
bids in every state and outcomes varied enough that every chart of the value-for-money view
has a shape; and both funds publish valid 360Giving files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from fundflow import demo, reports
from fundflow.extensions import db
from fundflow.models import (
    RATINGS,
    Activity,
    Application,
    BackfillClaim,
    Disbursement,
    Fund,
    ImpactEvaluation,
    ScheduleItem,
    School,
)
from fundflow.reports import giving360
from fundflow.services import audit
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
    current, previous = db.session.execute(select(Fund).order_by(Fund.id)).scalars().all()
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
    # one bid monitoring impact: a browser test picks "the" demo bid in monitoring
    assert _scalar(select(func.count(Application.id)).where(Application.status == "monitoring")) == 1


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
