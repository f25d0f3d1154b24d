"""The auditor's funds list counts, per fund, the impact reports on its awards' schedules
that came in on time, late, not at all (overdue and still owed) and that were waived — in
one grouped query, whatever the number of funds — and the auditor's bid page shows the
schedule."""

from __future__ import annotations

import re
from datetime import timedelta

from fundflow.extensions import db
from fundflow.services import impact, schedule
from fundflow.services.clock import as_of, today
from fundflow.services.queries.auditor import ReportCounts, report_counts
from fundflow.services.queries.schedule import schedule_for


def send_report(make, app, kind: str = "interim") -> None:
    impact.submit_report(
        make.lead_of(app),
        app,
        impact.ReportInput(
            kind=kind,
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in app.measures],
        ),
    )


def award_with_two_interims(make, fund):
    """An award approved today with interim reports due in 20 and 40 days."""
    app = make.application("under_review", fund=fund)
    officer = make.liaison()
    dates = [(today() + timedelta(days=n)).isoformat() for n in (20, 40)]
    make.act(app, officer, "approve", report_dates=dates)
    return app


def counts_row(page: str, fund_name: str) -> list[str]:
    """The four numbers in the fund's row of the schedule table."""
    table = page[page.index("monitoring schedules</caption>") :]
    row = table[table.index(f">{fund_name}</th>") :]
    row = row[: row.index("</tr>")]
    return re.findall(r'numeric">(\d+)</td>', row)


def test_reports_are_counted_on_time_late_missing_and_waived(app, client, auth, make):
    fund = make.fund(report_cadence="set_by_officer")
    kept = award_with_two_interims(make, fund)
    send_report(make, kept)  # today: meets the report due in 20 days, on time
    with as_of(today() + timedelta(days=45)):
        send_report(make, kept)  # 5 days after the report due in 40 days: late
    waived = award_with_two_interims(make, fund)
    officer = make.liaison()
    for item in schedule_for(waived.id):
        if item.kind != "claim_deadline":
            schedule.waive(officer, item, "School closed")  # two interims and the final report
    missing = award_with_two_interims(make, fund)  # nothing sent
    other_fund = make.fund()
    make.application("approved", fund=other_fund)
    db.session.commit()

    later = today() + timedelta(days=60)  # both interim dates passed, final reports not yet due
    counts = report_counts([fund.id, other_fund.id], later)
    assert counts[fund.id] == ReportCounts(on_time=1, late=1, missing=2, waived=3)
    assert counts[other_fund.id].on_time == counts[other_fund.id].late == 0

    app.config["FUNDFLOW_TODAY"] = later.isoformat()
    auth.login(make.user("auditor"))
    page = client.get("/auditor/funds").text
    assert counts_row(page, fund.name) == ["1", "1", "2", "3"]
    assert missing.reference not in page  # counts, not bids


def test_claim_deadlines_are_not_counted_as_reports(make):
    fund = make.fund(report_cadence="set_by_officer")
    app = make.application("approved", fund=fund)
    deadlines = [i for i in schedule_for(app.id) if i.kind == "claim_deadline"]
    assert deadlines
    long_after = max(i.due_on for i in schedule_for(app.id)) + timedelta(days=1)
    assert report_counts([fund.id], long_after)[fund.id] == ReportCounts(missing=1)  # the final report


def test_a_rescheduled_report_counts_against_its_new_date(make):
    fund = make.fund(report_cadence="set_by_officer")
    app = award_with_two_interims(make, fund)
    first = next(i for i in schedule_for(app.id) if i.kind == "interim_report")
    schedule.reschedule(make.liaison(), first, today() + timedelta(days=90), "Term dates moved")
    assert report_counts([fund.id], today() + timedelta(days=30))[fund.id] == ReportCounts()


def test_funds_list_runs_the_same_queries_for_2_or_10_funds(client, auth, make, count_queries):
    def funds_with_awards(n: int) -> None:
        for _ in range(n):
            fund = make.fund()
            make.application("approved", fund=fund)

    funds_with_awards(2)
    auth.login(make.user("auditor"))
    client.get("/auditor/funds")  # warm: both measured pages start from the same state
    db.session.commit()
    with count_queries() as few:
        assert client.get("/auditor/funds").status_code == 200
    funds_with_awards(8)
    db.session.commit()
    with count_queries() as many:
        assert client.get("/auditor/funds").status_code == 200
    assert len(many) == len(few), "\n".join(many)


def test_auditor_bid_page_shows_the_monitoring_schedule(client, auth, make):
    bid = make.application("approved")
    final = next(i for i in schedule_for(bid.id) if i.kind == "final_report")
    schedule.waive(make.liaison(), final, "Merged with another award")
    auth.login(make.user("auditor"))
    page = client.get(f"/auditor/bids/{bid.reference}").text
    assert 'href="#schedule"' in page and "Monitoring schedule" in page
    assert "Final impact report" in page and "Merged with another award" in page
    assert "/liaison/schedule/" not in page  # read only
