"""The value-for-money report's figures, each checked by hand on a small fund built for it,
on SQLite and (marked postgres) on PostgreSQL, where the JSON unnesting, month and median
SQL read differently."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from fundflow import reports
from fundflow.extensions import db
from fundflow.models import Application, ApplicationPartner, BackfillClaim, School
from fundflow.services import impact
from fundflow.services.clock import today
from fundflow.services.queries.auditor import report_counts
from tests.factories import Factory


def _school(make: Factory, *, pupils=None, fsm=None, la_code="871") -> School:
    school = make.school(la_code=la_code)
    db.session.execute(update(School).where(School.id == school.id).values(pupils=pupils, fsm_percent=fsm))
    db.session.commit()
    return school


def _report(make: Factory, bid: Application, actual: str, rating: str, drivers: list[str]) -> None:
    report = impact.submit_report(
        make.lead_of(bid),
        bid,
        impact.ReportInput(
            kind="interim",
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=m.id, actual=actual) for m in bid.measures],
        ),
    )
    impact.evaluate_report(make.liaison(), report, impact.EvaluationInput(rating=rating, drivers=drivers))


def _dates(bid: Application, submitted_days_ago: int, decided_after: int | None) -> None:
    submitted = datetime.combine(today() - timedelta(days=submitted_days_ago), time(10))
    decided = submitted + timedelta(days=decided_after) if decided_after is not None else None
    db.session.execute(
        update(Application).where(Application.id == bid.id).values(submitted_at=submitted, decided_at=decided)
    )
    db.session.commit()


def build() -> dict:
    """Five bids in one fund (budget £100,000, day-rate cap £500, countersignature from £1,500):

    * A approved £1,200 (4 days at £300), partner S1 supported (5% FSM, 200 pupils, causing
      concern), a 2-day claim of £600 paid, its measure at 80 (60 → 75: achieved);
    * B approved £2,000 (4 days at the £500 cap), lead in LA 999 (25% FSM, 300 pupils) supported,
      priority areas "early reading " and "Maths", its measure at 55 (not achieved);
    * C cancelled (£1,200 awarded, nothing paid: all released), lead with no FSM figure;
    * D awaiting countersignature, £2,400; E under review.
    """
    make = Factory()
    fund = make.fund(countersign_threshold_pence=1_500_00)
    s1 = _school(make, pupils=200, fsm=Decimal("5.0"))
    lead_b = _school(make, pupils=300, fsm=Decimal("25.0"), la_code="999")
    a = make.application("approved", fund=fund, partner=s1)
    db.session.execute(
        update(ApplicationPartner).where(ApplicationPartner.application_id == a.id).values(role="supported")
    )
    db.session.execute(update(School).where(School.id == s1.id).values(causing_concern=True))  # since
    b = make.application("approved", fund=fund, lead=make.headteacher(school=lead_b), rate=500_00)
    db.session.execute(
        update(Application).where(Application.id == b.id).values(priority_areas=["early reading ", "Maths"])
    )
    c = make.application("cancelled", fund=fund)
    d = make.application("awaiting_countersign", fund=fund, days="8")
    e = make.application("under_review", fund=fund)
    db.session.commit()
    claim = make.claim(a, amount_pence=600_00, days="2", state="paid")
    db.session.execute(
        update(BackfillClaim)
        .where(BackfillClaim.id == claim.id)
        .values(created_at=datetime.combine(today() - timedelta(days=5), time(9)))
    )
    _report(make, a, "80", "achieved", ["collaboration", "practice_change"])
    _report(make, b, "55", "not_achieved", ["practice_change"])
    for bid, ago, decided in ((a, 300, 10), (b, 270, 20), (c, 240, 30), (d, 210, 40), (e, 180, None)):
        _dates(bid, ago, decided)
    return {"fund": fund, "a": a, "b": b, "c": c, "d": d, "e": e, "s1": s1, "lead_b": lead_b}


def check_figures(world: dict) -> None:
    fund, a = world["fund"], world["a"]
    report = reports.value_for_money(fund.id)
    money = report["money"]
    assert money == {
        "budget_pence": 100_000_00,
        "awarded_pence": 1_200_00 + 2_000_00 + 1_200_00,
        "awaiting_countersignature_pence": 2_400_00,
        "committed_pence": 1_200_00 + 2_000_00,
        "paid_pence": 600_00,
        "still_to_pay_pence": 2_600_00,
        "released_pence": 1_200_00,
        "available_pence": 100_000_00 - 3_200_00,
        "spend_over_time": [
            {"month": today().strftime("%Y-%m"), "paid_pence": 600_00, "cumulative_paid_pence": 600_00}
        ],
    }
    assert money["budget_pence"] == money["committed_pence"] + money["available_pence"]
    assert money["awarded_pence"] == money["committed_pence"] + money["released_pence"]
    assert money["committed_pence"] == money["paid_pence"] + money["still_to_pay_pence"]
    assert money["committed_pence"] == report["fund"]["committed_pence"]  # the ledger's

    bought = report["bought"]
    assert bought["by_school"][0]["days"] == "4.0"
    assert {(s["urn"], s["role"]) for s in bought["by_school"]} >= {
        (world["s1"].urn, "supported"),
        (world["lead_b"].urn, "lead"),
    }
    del bought["by_school"]
    assert bought == {
        "days_funded": "12.0",
        "days_claimed": "2.0",
        "by_staff_role": [{"staff_role": "Deputy head", "days": "12.0", "cost_pence": 4_400_00}],
        "schools_total": 6,  # three leads, three partners
        "average_day_rate_pence": round(4_400_00 / 12),
        "highest_day_rate_pence": 500_00,
        "day_rate_cap_pence": 500_00,
        "activities_at_cap": 1,
        "supported_schools": 3,  # S1 (A), B's lead, C's lead
        "pupils_in_supported_schools": 500,
        "cost_per_supported_school_pence": round(3_200_00 / 3),
        "cost_per_pupil_pence": 3_200_00 // 500,
    }

    outcomes = report["outcomes"]
    none = {"achieved": 0, "partly_achieved": 0, "not_achieved": 0}
    assert outcomes == {
        "measures": 3,
        "with_result": 2,
        "achieved": 1,
        "part_way": 0,
        "not_achieved": 1,
        "no_result_yet": 1,
        "share_achieved": 0.5,
        "cost_per_measure_achieved_pence": 3_200_00,
        "ratings": {"achieved": 1, "partly_achieved": 0, "not_achieved": 1},
        "by_priority_area": [
            {
                "priority_area": "Early reading",
                "measures": 3,
                "achieved": 1,
                "part_way": 0,
                "not_achieved": 1,
                "share_achieved": 0.5,
                "ratings": {"achieved": 1, "partly_achieved": 0, "not_achieved": 1},
                "committed_pence": 1_200_00 + 2_000_00,  # every bid names it; A and B hold money
            },
            {
                "priority_area": "Maths",
                "measures": 1,
                "achieved": 0,
                "part_way": 0,
                "not_achieved": 1,
                "share_achieved": 0.0,
                "ratings": {"achieved": 0, "partly_achieved": 0, "not_achieved": 1},
                "committed_pence": 2_000_00,  # B's (it counts in both of its areas)
            },
        ],
        "by_driver": [
            {
                "driver": "collaboration",
                "label": "Collaboration",
                "reports": 1,
                "ratings": {**none, "achieved": 1},
            },
            {
                "driver": "practitioner_knowledge",
                "label": "Practitioner knowledge, understanding and confidence",
                "reports": 0,
                "ratings": none,
            },
            {
                "driver": "practice_change",
                "label": "Practice change",
                "reports": 2,
                "ratings": {"achieved": 1, "partly_achieved": 0, "not_achieved": 1},
            },
        ],
    }

    targeting = report["targeting"]
    bands = {b["band"]: b for b in targeting["by_fsm_band"]}
    assert list(bands) == ["Under 10%", "10% to 20%", "20% to 30%", "30% to 40%", "40% or more", "Not known"]
    assert bands["Under 10%"] == {
        "band": "Under 10%",
        "schools": 1,
        "committed_pence": 1_200_00,
        "share": 0.375,
    }
    assert bands["20% to 30%"] == {
        "band": "20% to 30%",
        "schools": 1,
        "committed_pence": 2_000_00,
        "share": 0.625,
    }
    assert bands["Not known"]["committed_pence"] == 0  # C holds nothing
    assert targeting["committed_pence"] == 3_200_00
    assert (targeting["to_schools_causing_concern_pence"], targeting["share_to_schools_causing_concern"]) == (
        1_200_00,
        0.375,
    )

    timeliness = report["timeliness"]
    counts = report_counts([fund.id], today())[fund.id]
    assert timeliness == {
        "median_days_to_decision": 25.0,  # 10, 20, 30, 40
        "median_days_claim_to_payment": 5.0,
        "decisions": 4,
        "payments": 1,
        "reports": {
            "on_time": counts.on_time,
            "late": counts.late,
            "overdue": counts.missing,
            "waived": counts.waived,
        },
    }

    rows = {r["reference"]: r for r in report["rows"]}
    assert rows[a.reference]["measures"] == [
        {
            "indicator": "Phonics pass rate",
            "unit": "%",
            "baseline": "60",
            "target": "75",
            "latest_actual": "80",
            "result": "achieved",
        }
    ]
    assert rows[world["e"].reference]["measures"][0]["result"] == "no_result_yet"
    assert report["options"] == {
        "local_authorities": [{"code": "871", "name": "871"}, {"code": "999", "name": "999"}],
        "priority_areas": ["Early reading", "Maths"],
    }
    assert report["filters"] == {
        "date_from": None,
        "date_to": None,
        "local_authority": None,
        "priority_area": None,
    }


def check_filters(world: dict) -> None:
    fund, b = world["fund"], world["b"]
    by_la = reports.value_for_money(fund.id, local_authority="999")
    assert [r["reference"] for r in by_la["rows"]] == [b.reference]
    assert by_la["money"]["awarded_pence"] == 2_000_00 and by_la["money"]["paid_pence"] == 0
    by_area = reports.value_for_money(fund.id, priority_area="  MATHS ")
    assert [r["reference"] for r in by_area["rows"]] == [b.reference]
    assert by_area["filters"]["priority_area"] == "MATHS"
    assert by_area["outcomes"]["measures"] == 1
    early = reports.value_for_money(fund.id, priority_area="early reading")
    assert early["total"] == 5

    window = reports.value_for_money(
        fund.id, date_from=today() - timedelta(days=280), date_to=today() - timedelta(days=230)
    )  # B and C submitted in it; A's payment (today) is not
    assert sorted(r["reference"] for r in window["rows"]) == sorted([b.reference, world["c"].reference])
    assert window["money"]["awarded_pence"] == 2_000_00 + 1_200_00
    assert window["money"]["committed_pence"] == 2_000_00
    assert window["money"]["paid_pence"] == 0 and window["money"]["spend_over_time"] == []
    assert window["timeliness"]["median_days_to_decision"] == 25.0  # 20, 30
    assert window["totals"]["applications"] == 2
    paid_up_to_yesterday = reports.value_for_money(fund.id, date_to=today() - timedelta(days=1))
    assert paid_up_to_yesterday["total"] == 5 and paid_up_to_yesterday["money"]["paid_pence"] == 0
    assert reports.value_for_money(fund.id, date_to=today())["money"]["paid_pence"] == 600_00


def test_every_figure_by_hand(app):
    check_figures(build())


def test_the_filters(app):
    check_filters(build())


def test_the_ledgers_summary_is_the_reports_own_figures_and_costs_less(app, count_queries):
    fund_id = build()["fund"].id
    with count_queries() as whole:
        report = reports.value_for_money(fund_id, 1, 2)
    with count_queries() as part:
        summary = reports.value_summary(fund_id, 1, 2)
    assert summary == {key: report[key] for key in summary}
    assert set(summary) == {"fund_id", "fund", "totals", "rows", "page", "per_page", "total", "money"}
    assert len(part) < len(whole) / 2


def test_the_rows_alone_are_the_reports_rows_read_in_batches(app, monkeypatch, count_queries):
    from fundflow.reports import value

    world = build()
    fund_id = world["fund"].id
    monkeypatch.setattr(value, "ROWS_BATCH", 2)  # five bids: three batches
    with count_queries() as statements:
        rows = list(value.value_for_money_rows(fund_id))
    assert rows == reports.value_for_money(fund_id)["rows"]
    selects = [s for s in statements if s.lstrip().startswith("SELECT")]
    assert len(selects) == 1 + 3, selects  # the one SELECT of the bids, then each batch's measures
    only_b = list(value.value_for_money_rows(fund_id, local_authority="999"))
    assert [r["reference"] for r in only_b] == [world["b"].reference]


@pytest.mark.postgres
def test_the_rows_alone_stream_on_postgresql(pg_app, monkeypatch):
    """A server-side cursor stays open while each batch's measures are read beside it."""
    from fundflow.reports import value

    world = build()
    fund_id = world["fund"].id
    monkeypatch.setattr(value, "ROWS_BATCH", 2)
    rows = list(value.value_for_money_rows(fund_id))
    assert [r["reference"] for r in rows] == sorted(world[k].reference for k in "abcde")
    assert rows == reports.value_for_money(fund_id)["rows"]


def test_from_after_to_is_refused(app):
    from fundflow.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        reports.value_for_money(None, date_from=today(), date_to=today() - timedelta(days=1))
    assert list(refused.value.fields) == ["to"]


@pytest.mark.postgres
def test_every_figure_and_filter_on_postgresql(pg_app):
    world = build()
    check_figures(world)
    check_filters(world)


def test_a_fixed_number_of_statements_for_5_and_50_bids(app, count_queries):
    make = Factory()
    fund = make.fund(countersign_threshold_pence=None)
    states = ("approved", "submitted", "monitoring", "cancelled")

    def statements_with(n: int) -> int:
        have = reports.value_for_money(fund.id)["total"]
        for i in range(have, n):
            bid = make.application(states[i % 4], fund=fund)
            if i % 4 == 0 and i % 8 == 0:
                make.claim(bid, state="paid")
        with count_queries() as statements:
            report = reports.value_for_money(fund.id, per_page=20, priority_area="Early reading")
        assert report["total"] == n
        return len(statements)

    assert statements_with(5) == statements_with(50)
