"""The termly report for the Schools Forum: terms parsed and checked against the fund, the
figures of a fund built by hand with actions in and out of the term, the page's errors,
and the same number of statements for 5 bids or 50."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date, datetime, time

import pytest
from flask import current_app

from fundflow.models import base
from fundflow.reports.termly import termly_filename, termly_report
from fundflow.services import ledger, payments, terms
from fundflow.services.errors import ValidationFailed

from ..factories import Factory


@contextmanager
def at(day: date):
    """Run services as if it were noon on ``day``: the service's date, and the times the
    services stamp (decisions, events, evaluations) with ``models.base.utcnow``."""
    saved = {k: current_app.config.get(k) for k in ("FUNDFLOW_TODAY", "FUNDFLOW_NOW")}
    moment = datetime.combine(day, time(12))
    current_app.config.update(FUNDFLOW_TODAY=day.isoformat(), FUNDFLOW_NOW=moment.isoformat())
    stamping = [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("fundflow") and getattr(m, "utcnow", None) is base.utcnow
    ]
    for module in stamping:
        module.utcnow = lambda: moment
    try:
        yield
    finally:
        for module in stamping:
            module.utcnow = base.utcnow
        current_app.config.update(saved)


# ----------------------------------------------------------------------------- terms


@pytest.mark.parametrize(
    ("code", "first", "last"),
    [
        ("2026-autumn", date(2026, 9, 1), date(2026, 12, 31)),
        ("2026-spring", date(2027, 1, 1), date(2027, 3, 31)),
        ("2026-summer", date(2027, 4, 1), date(2027, 8, 31)),
        (" 2028-SPRING ", date(2029, 1, 1), date(2029, 3, 31)),  # Feb 2029 has no 29th; March does
    ],
)
def test_a_term_is_its_dates(code, first, last):
    term = terms.parse_term(code)
    assert (term.starts_on, term.ends_on) == (first, last)
    assert terms.term_of(first) == term == terms.term_of(last)
    assert terms.parse_term(term.code) == term


@pytest.mark.parametrize(
    "text", ["", None, "2026", "2026-winter", "autumn-2026", "1999-autumn", "2026-autumn-x"]
)
def test_a_term_written_wrongly_is_refused(text):
    with pytest.raises(terms.BadTerm):
        terms.parse_term(text)


def test_edge_days_fall_in_the_right_term():
    assert terms.term_of(date(2026, 8, 31)).code == "2025-summer"
    assert terms.term_of(date(2026, 9, 1)).code == "2026-autumn"
    assert terms.term_of(date(2026, 12, 31)).code == "2026-autumn"
    assert terms.term_of(date(2027, 1, 1)).code == "2026-spring"
    assert terms.term_of(date(2027, 3, 31)).code == "2026-spring"
    assert terms.term_of(date(2027, 4, 1)).code == "2026-summer"
    assert terms.parse_term("2026-spring").label == "spring term 2027"


@pytest.fixture
def fund(make):
    return hand_built_fund(make)


def hand_built_fund(make):
    with at(date(2026, 8, 20)):
        return make.fund(
            financial_year="2026-27",
            opens_on=date(2026, 9, 1),
            closes_on=date(2027, 2, 28),
            delivery_ends_on=date(2027, 9, 30),
            countersign_threshold_pence=None,
        )


def test_a_funds_terms_run_from_its_financial_year_to_the_end_of_delivery(fund):
    # from 1 April 2026 (the financial year is wider than opening on 1 September) to 30 September 2027
    codes = [t.code for t in terms.fund_terms(fund)]
    assert codes == ["2025-summer", "2026-autumn", "2026-spring", "2026-summer", "2027-autumn"]
    for outside in ("2025-spring", "2027-spring"):
        with pytest.raises(ValidationFailed) as refused:
            terms.fund_term(fund, outside)
        assert "term" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        terms.fund_term(fund, "spring")
    assert refused.value.fields["term"] == ["Enter a term like 2026-autumn, 2026-spring or 2026-summer"]
    assert terms.default_term(fund, date(2030, 1, 1)).code == "2027-autumn"
    assert terms.default_term(fund, date(2020, 1, 1)).code == "2025-summer"
    assert terms.default_term(fund, date(2026, 11, 30)).code == "2026-autumn"
    assert termly_filename(fund, terms.parse_term("2026-autumn")).endswith("-2026-autumn-termly-report.pdf")


# ----------------------------------------------------------------------------- figures


@pytest.fixture
def story(make, fund):
    return tell_story(make, fund)


def tell_story(make, fund):
    """Autumn 2026: A awarded (£1,200), B turned down, £300 paid to A. Spring 2027: C awarded,
    £200 paid to A and the autumn payment reversed."""
    with at(date(2026, 10, 5)):
        a = make.application("approved", fund=fund, approved_on=date(2026, 10, 5))
    with at(date(2026, 10, 6)):
        make.application("rejected", fund=fund)
    with at(date(2026, 11, 10)):
        claim = make.claim(a, state="verified")
        finance = make.user("finance")
        autumn_payment = make.pay(claim, finance=finance, amount_pence=300_00)
    with at(date(2027, 1, 15)):
        make.application("approved", fund=fund, approved_on=date(2027, 1, 15))
        second = make.claim(a, state="verified", amount_pence=200_00)
        make.pay(second, finance=finance)
    with at(date(2027, 1, 20)):
        payments.reverse_disbursement(finance, autumn_payment, "Paid twice")
    return a


def test_the_autumn_report_counts_only_the_autumn(app, fund, story):
    check_autumn(fund, story)


def check_autumn(fund, story):
    report = termly_report(fund, terms.parse_term("2026-autumn"), date(2027, 2, 1))
    p = report.position
    assert p.at_term_end and p.as_of == date(2026, 12, 31)
    # the award made in spring is not committed at the end of autumn; the reversal came later
    assert (p.budget_pence, p.committed_pence, p.paid_pence) == (100_000_00, 1_200_00, 300_00)
    assert p.available_pence == 100_000_00 - 1_200_00
    d = report.decisions
    assert (d.awarded, d.awarded_pence) == (1, 1_200_00)
    assert (d.turned_down, d.turned_down_requested_pence) == (1, 1_200_00)
    assert d.awaiting_countersignature == 0
    s = report.spend
    assert (s.payments, s.paid_pence, s.reversals, s.reversed_pence, s.schools_paid) == (1, 300_00, 0, 0, 1)
    # the interim report due on 12 December was not sent by the end of term
    assert report.overdue_total == 1
    (item,) = report.overdue
    assert (item.reference, item.kind, item.due_on) == (story.reference, "interim_report", date(2026, 12, 12))
    assert item.days_overdue == 19
    # (exceptions are dated by rows' created_at, which the test's clock does not move)
    assert report.exceptions_total >= len(report.exceptions)


@pytest.mark.postgres
def test_the_figures_on_postgresql(pg_app):
    make = Factory()
    fund = hand_built_fund(make)
    story = tell_story(make, fund)
    check_autumn(fund, story)
    check_spring(fund)


def test_the_spring_report_and_the_ledger_now(app, fund, story):
    check_spring(fund)


def check_spring(fund):
    report = termly_report(fund, terms.parse_term("2026-spring"), date(2027, 2, 1))
    p = report.position
    assert not p.at_term_end and p.as_of == date(2027, 2, 1)
    now = ledger.ledger(fund.id)
    assert (p.committed_pence, p.paid_pence) == (now.committed_pence, now.paid_pence) == (2_400_00, 200_00)
    assert (report.decisions.awarded, report.decisions.turned_down) == (1, 0)
    s = report.spend
    assert (s.payments, s.paid_pence, s.reversals, s.reversed_pence) == (1, 200_00, 1, 300_00)
    assert s.net_pence == -100_00
    # a term before anything happened
    empty = termly_report(fund, terms.parse_term("2025-summer"), date(2027, 2, 1))
    assert (empty.position.committed_pence, empty.position.paid_pence, empty.decisions.total) == (0, 0, 0)
    assert empty.overdue_total == 0 and empty.exceptions_total == 0


# ----------------------------------------------------------------------------- the page


def test_the_page_shows_the_report_and_offers_the_funds_terms(client, auth, make, fund, story):
    auth.login(make.user("auditor"))
    page = client.get(f"/reports/funds/{fund.id}/termly?term=2026-autumn")
    assert page.status_code == 200
    text = page.text
    assert f"Schools Forum report: {fund.name}, autumn term 2026" in text
    assert "£1,200.00" in text and "Download as PDF" in text
    assert 'value="2027-autumn"' in text and 'value="2025-spring"' not in text


@pytest.mark.parametrize("term", ["2024-autumn", "autumn", "2026-autumn'><script>"])
def test_a_wrong_term_is_an_error_on_the_page(client, auth, make, fund, term):
    auth.login(make.user("liaison_officer"))
    page = client.get(f"/reports/funds/{fund.id}/termly", query_string={"term": term})
    assert page.status_code == 422
    assert "There is a problem" in page.text and "govuk-error-message" in page.text
    assert "<script>" not in page.text
    assert client.get(f"/reports/funds/{fund.id}/termly.pdf", query_string={"term": term}).status_code == 422


def test_the_report_reads_the_same_number_of_statements_for_5_or_50_bids(app, make, fund, count_queries):
    term = terms.parse_term("2026-autumn")
    made = []

    def statements_for(n: int) -> int:
        with at(date(2026, 10, 5)):
            while len(made) < n:
                bid = make.application("approved", fund=fund, approved_on=date(2026, 10, 5))
                make.pay(make.claim(bid, state="verified"))
                made.append(bid)
        with count_queries() as statements:
            report = termly_report(fund, term, date(2027, 2, 1))
        assert report.decisions.awarded == n and report.spend.payments == n
        return len(statements)

    assert statements_for(5) == statements_for(50)
