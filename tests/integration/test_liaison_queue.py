"""The liaison officer's work queue: sections, conflict marks, filters, pagination, and no
query per row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.extensions import db
from fundflow.services import impact
from fundflow.services.clock import today

CONFLICT = "You cannot act on this: your school takes part"


def queue(client, **params):
    response = client.get("/liaison/", query_string=params)
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_queue_is_for_liaison_officers_only(client, auth, make):
    assert client.get("/liaison/").status_code == 302  # signed out → sign-in page
    auth.login(make.headteacher())
    assert client.get("/liaison/").status_code == 403
    assert client.get("/liaison/bids/LSIF-2026-0001").status_code == 403


def test_liaison_officer_lands_on_the_work_queue_after_sign_in(client, auth, make):
    auth.login(make.liaison())
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/liaison/")


def test_queue_lists_submitted_and_under_review_bids_to_review(client, auth, make):
    submitted = make.application("submitted")
    reviewing = make.application("under_review")
    draft = make.application("draft")
    approved = make.application("approved")
    auth.login(make.liaison())
    page = queue(client)
    assert submitted.reference in page and reviewing.reference in page
    assert draft.reference not in page and approved.reference not in page
    assert "To review (2)" in page


def test_queue_lists_awards_awaiting_countersignature(client, auth, make):
    waiting = make.application("awaiting_countersign")
    other = make.application("under_review")
    auth.login(make.liaison())
    page = queue(client, section="countersign")
    assert waiting.reference in page and other.reference not in page
    assert "To countersign (1)" in page


def test_approver_sees_that_another_officer_must_countersign(client, auth, make):
    officer = make.liaison()
    make.application("awaiting_countersign", liaison=officer)
    auth.login(officer)
    assert "You approved this: another officer must countersign" in queue(client, section="countersign")


def test_queue_lists_pending_claims_of_approved_bids(client, auth, make):
    app = make.application("approved")
    pending = make.claim(app, amount_pence=300_00)
    verified = make.claim(app, amount_pence=200_00, state="verified")
    auth.login(make.liaison())
    page = queue(client, section="claims")
    assert f"/liaison/claims/{pending.id}" in page
    assert f"/liaison/claims/{verified.id}" not in page
    assert "to verify</span> (1)" in page


def test_queue_lists_submitted_impact_reports_to_evaluate(client, auth, make):
    app = make.application("approved")
    lead = make.lead_of(app)
    report = impact.submit_report(
        lead,
        app,
        impact.ReportInput(
            kind="interim",
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=app.measures[0].id, actual="65")],
        ),
    )
    make.application("closed")  # its final report is evaluated: not listed
    auth.login(make.liaison())
    page = queue(client, section="reports")
    assert f"/liaison/reports/{report.id}" in page
    assert "to evaluate</span> (1)" in page


def test_queue_lists_bids_whose_measures_are_overdue_without_a_final_report(app, client, auth, make):
    late = make.application("approved")
    monitoring = make.application("monitoring")
    closed = make.application("closed")  # has its final report
    fresh = make.application("approved")
    # Move the clock past the first three bids' due dates, then add one due later.
    app.config["FUNDFLOW_TODAY"] = (today() + timedelta(days=100)).isoformat()
    fresh.measures[0].due_on = today() + timedelta(days=30)
    db.session.commit()
    auth.login(make.liaison())
    page = queue(client, section="overdue")
    assert late.reference in page and monitoring.reference in page
    assert closed.reference not in page and fresh.reference not in page
    assert "Phonics pass rate: due" in page


def test_queue_marks_bids_from_the_officers_own_school(client, auth, make):
    school = make.school()
    own = make.application("submitted", lead=make.headteacher(school=school))
    make.application("submitted")
    auth.login(make.liaison(school=school))
    page = queue(client)
    assert page.count(CONFLICT) == 1
    row = page.split(own.reference, 1)[1].split("</tr>", 1)[0]
    assert CONFLICT in row


def test_queue_marks_claims_and_reports_of_the_officers_own_school(client, auth, make):
    school = make.school()
    app = make.application("approved", partner=school)
    make.claim(app)
    impact.submit_report(
        make.lead_of(app),
        app,
        impact.ReportInput(
            kind="interim",
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=app.measures[0].id, actual="65")],
        ),
    )
    auth.login(make.liaison(school=school))
    assert CONFLICT in queue(client, section="claims")
    assert CONFLICT in queue(client, section="reports")


def test_queue_filters_by_fund(client, auth, make):
    fund_a, fund_b = make.fund(name="Fund Alpha"), make.fund(name="Fund Beta")
    in_a = make.application("submitted", fund=fund_a)
    in_b = make.application("submitted", fund=fund_b)
    auth.login(make.liaison())
    page = queue(client, fund=fund_a.id)
    assert in_a.reference in page and in_b.reference not in page
    assert "Clear filters" in page


def test_queue_filters_by_status(client, auth, make):
    submitted = make.application("submitted")
    reviewing = make.application("under_review")
    auth.login(make.liaison())
    page = queue(client, status="under_review")
    assert reviewing.reference in page and submitted.reference not in page
    assert "To review (1)" in page


def test_queue_ignores_a_status_that_does_not_belong_to_the_section(client, auth, make):
    bid = make.application("submitted")
    auth.login(make.liaison())
    page = queue(client, status="approved")
    assert bid.reference in page


def test_queue_searches_by_school_name_and_urn(client, auth, make):
    lead_school = make.school(name="Upton Lea Primary")
    partner = make.school(name="Chalvey Grove")
    match = make.application("submitted", lead=make.headteacher(school=lead_school), partner=partner)
    other = make.application("submitted")
    auth.login(make.liaison())
    for term in ("upton lea", "CHALVEY", partner.urn, lead_school.urn, match.reference):
        page = queue(client, q=term)
        assert match.reference in page, term
        assert other.reference not in page, term


def test_queue_search_treats_wildcards_literally(client, auth, make):
    make.application("submitted")
    auth.login(make.liaison())
    assert "There are no bids waiting for review" in queue(client, q="%")


def test_queue_paginates_twenty_a_page(client, auth, make):
    fund = make.fund()
    bids = [make.application("submitted", fund=fund) for _ in range(23)]
    auth.login(make.liaison())
    first = queue(client)
    assert sum(b.reference in first for b in bids) == 20
    assert "govuk-pagination" in first
    assert "Showing 1 to 20 of 23" in first
    second = queue(client, page=2)
    assert sum(b.reference in second for b in bids) == 3
    assert 'rel="prev"' in second
    # Oldest first: the first bid is on page one, the last on page two.
    assert bids[0].reference in first and bids[-1].reference in second


def test_queue_pagination_keeps_the_filters(client, auth, make):
    fund = make.fund()
    for _ in range(21):
        make.application("submitted", fund=fund)
    auth.login(make.liaison())
    page = queue(client, fund=fund.id)
    assert f"fund={fund.id}" in page.split("govuk-pagination", 1)[1]


def test_queue_copes_with_a_page_past_the_end_and_nonsense_input(client, auth, make):
    make.application("submitted")
    auth.login(make.liaison())
    assert "There are no bids" in queue(client, page=99)
    queue(client, page="x", fund="abc", section="nonsense", status="<b>")


def _seed(make, section: str, n: int, fund) -> None:
    for _ in range(n):
        if section == "review":
            make.application("submitted", fund=fund)
        elif section == "countersign":
            make.application("awaiting_countersign", fund=fund)
        elif section == "claims":
            make.claim(make.application("approved", fund=fund))
        elif section == "reports":
            app = make.application("approved", fund=fund)
            impact.submit_report(
                make.lead_of(app),
                app,
                impact.ReportInput(
                    kind="interim",
                    narrative="Going well.",
                    results=[impact.ResultInput(measure_id=app.measures[0].id, actual="65")],
                ),
            )
        else:
            make.application("approved", fund=fund)


@pytest.mark.parametrize("section", ["review", "countersign", "claims", "reports", "overdue"])
def test_queue_runs_the_same_number_of_queries_for_2_and_10_rows(
    app, client, auth, make, count_queries, section
):
    fund = make.fund(countersign_threshold_pence=1_000_00)
    officer = make.liaison()
    _seed(make, section, 2, fund)
    app.config["FUNDFLOW_TODAY"] = (today() + timedelta(days=100)).isoformat()
    auth.login(officer)
    db.session.commit()  # the test shares one session across requests: start each one cold
    with count_queries() as few:
        page = queue(client, section=section)
    assert "(2)" in page
    app.config["FUNDFLOW_TODAY"] = None
    _seed(make, section, 8, fund)
    app.config["FUNDFLOW_TODAY"] = (today() + timedelta(days=100)).isoformat()
    db.session.commit()
    with count_queries() as many:
        page = queue(client, section=section)
    assert "(10)" in page
    assert len(many) == len(few), "\n".join(many)


def test_status_filter_does_not_empty_the_other_tabs(client, auth, make):
    make.application("under_review")
    make.application("awaiting_countersign")
    auth.login(make.liaison())
    page = queue(client, status="submitted")
    assert "To review (0)" in page
    assert "To countersign (1)" in page


def test_awards_in_delivery_tab_lists_approved_and_monitoring_bids_with_their_award(client, auth, make):
    officer = make.liaison()
    approved = make.application("approved")
    monitoring = make.application("monitoring")
    draft = make.application("draft")
    auth.login(officer)
    page = client.get("/liaison/?section=delivery").get_data(as_text=True)
    assert approved.reference in page and monitoring.reference in page
    assert draft.reference not in page
    assert f"/liaison/bids/{approved.reference}" in page
