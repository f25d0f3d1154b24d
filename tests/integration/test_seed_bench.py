"""``fundflow seed-bench``: bulk-loaded bids in every state whose audit chain verifies, whose
money adds up, and which the demo accounts can see."""

from __future__ import annotations

from sqlalchemy import func, select

from fundflow import bench_seed, demo_partnership
from fundflow.extensions import db
from fundflow.models import (
    RATINGS,
    Application,
    BackfillClaim,
    Disbursement,
    Event,
    ImpactEvaluation,
    ImpactResult,
    Measure,
    ScheduleItem,
    School,
    User,
)
from fundflow.services import access, audit
from fundflow.workflow import (
    APPLICATION_STATES,
    AWAITING_COUNTERSIGN_STATUSES,
    AWARDED_STATUSES,
    CLAIM_STATES,
    EDITABLE_STATUSES,
    IN_REVIEW_STATUSES,
    MET_SCHEDULE_STATUSES,
    SCHEDULE_STATES,
)
from tests import invariant_checks

from ..conftest import make_app


def _seed_and_check(count: int) -> None:
    result = bench_seed.seed_bench(count, rng_seed=13)
    db.session.remove()
    assert result.applications == count
    assert result.events >= 8 * count
    statuses = set(db.session.execute(select(Application.status).distinct()).scalars())
    assert statuses == set(APPLICATION_STATES)
    assert set(db.session.execute(select(BackfillClaim.status).distinct()).scalars()) == set(CLAIM_STATES)
    assert set(db.session.execute(select(ScheduleItem.status).distinct()).scalars()) == set(SCHEDULE_STATES)
    reversals = select(func.count(Disbursement.id)).where(Disbursement.reverses_id.is_not(None))
    assert db.session.execute(reversals).scalar_one() > 0
    report = audit.verify_chain()
    assert report.ok, report
    invariant_checks.commitments_within_budget()
    invariant_checks.money_within_claims_award_and_request()
    invariant_checks.running_figures_match()
    _check_the_impact_evidence_columns()


def _count(*where) -> int:
    return db.session.execute(select(func.count()).where(*where)).scalar_one()


def _check_the_impact_evidence_columns() -> None:
    """What the value-for-money view reads is filled, and varied enough to have a shape."""
    decided = Application.status.in_(AWARDED_STATUSES + AWAITING_COUNTERSIGN_STATUSES + ("rejected",))
    assert _count(decided, Application.decided_at.is_(None)) == 0
    undecided = Application.status.in_(EDITABLE_STATUSES + IN_REVIEW_STATUSES + ("withdrawn",))
    assert _count(undecided, Application.decided_at.is_not(None)) == 0
    assert _count(Application.decided_at < Application.submitted_at) == 0
    assert _count(School.pupils.is_(None)) == 0
    bands = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 101)]
    for low, high in bands:
        assert _count(School.fsm_percent >= low, School.fsm_percent < high) > 0, (low, high)
    assert set(db.session.execute(select(ImpactEvaluation.rating).distinct()).scalars()) == set(RATINGS)
    drivers = {tuple(d) for d in db.session.execute(select(ImpactEvaluation.drivers)).scalars()}
    assert len(drivers) > 2
    result = select(func.count()).select_from(ImpactResult).join(Measure)
    actual, base, target = ImpactResult.actual, Measure.baseline, Measure.target
    up, down = target >= base, target < base
    reached = (up & (actual >= target)) | (down & (actual <= target))
    moved = (up & (actual > base)) | (down & (actual < base))
    assert db.session.execute(result.where(reached)).scalar_one() > 0
    assert db.session.execute(result.where(~reached, moved)).scalar_one() > 0
    assert db.session.execute(result.where(~moved)).scalar_one() > 0
    late = ScheduleItem.status.in_(MET_SCHEDULE_STATUSES), ScheduleItem.completed_on > ScheduleItem.due_on
    assert _count(*late) > 0
    months = select(func.count(Disbursement.paid_on.distinct()))
    assert db.session.execute(months).scalar_one() > 5


def _visible_count(email: str) -> int:
    user = db.session.execute(select(User).where(User.email == email)).scalar_one()
    query = access.visible_applications(user).subquery()
    return db.session.execute(select(func.count()).select_from(query)).scalar_one()


def _run_twice(count: int) -> None:
    _seed_and_check(count)
    demo_bids = 43  # the demo council's bids over its two fund years
    assert _visible_count("headteacher@demo.test") > 11  # the demo's 11, plus bulk bids
    assert _visible_count("partner@demo.test") > 9
    assert _visible_count("liaison@demo.test") == count + demo_bids
    events = db.session.execute(select(func.count(Event.id))).scalar_one()
    _seed_and_check(count)
    assert _visible_count("auditor@demo.test") == 2 * count + demo_bids
    assert db.session.execute(select(func.count(Event.id))).scalar_one() > events
    references = db.session.execute(select(func.count(Application.reference.distinct()))).scalar_one()
    partnership = _visible_count("liaison@partnership.demo.test")  # its bids: the bench's are the council's
    assert partnership == len(demo_partnership.BIDS)
    assert references == 2 * count + demo_bids + partnership


def test_seed_bench_on_sqlite(app):
    _run_twice(120)


def test_seed_bench_on_postgres(pg_app):
    _run_twice(500)


def test_seed_bench_cli_prints_what_it_loaded(runner):
    result = runner.invoke(args=["fundflow", "seed-bench", "--applications", "30"])
    assert result.exit_code == 0, result.output
    assert "Seeded 30 bids" in result.output
    db.session.remove()
    assert audit.verify_chain().ok


def test_seed_bench_refuses_in_production_mode():
    app = make_app(ENV_NAME="production")
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["fundflow", "seed-bench", "--applications", "10"])
        assert result.exit_code == 1
        assert "production" in result.stderr
        assert db.session.execute(select(func.count(Application.id))).scalar_one() == 0
        db.session.remove()
        db.drop_all()
