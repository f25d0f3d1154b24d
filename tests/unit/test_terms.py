"""``terms.interim_dates``: when interim impact reports fall due, by the fund's cadence."""

from __future__ import annotations

from datetime import date, timedelta

from fundflow.services.terms import BEFORE_FINAL, CADENCES, SETTLING_IN, interim_dates

APPROVED = date(2026, 9, 1)
FINAL_DUE = date(2027, 9, 30)


def test_termly_reports_fall_before_christmas_easter_and_summer():
    assert interim_dates("termly", APPROVED, FINAL_DUE) == [
        date(2026, 12, 12),
        date(2027, 3, 27),
        date(2027, 7, 17),
    ]


def test_half_termly_reports_fall_before_each_half_term_and_each_holiday():
    assert interim_dates("half_termly", APPROVED, FINAL_DUE) == [
        date(2026, 10, 17),
        date(2026, 12, 12),
        date(2027, 2, 6),
        date(2027, 3, 27),
        date(2027, 5, 22),
        date(2027, 7, 17),
    ]


def test_no_interim_report_falls_in_the_first_four_weeks_of_an_award():
    # approved 2026-11-20: 2026-12-12 is only three weeks later
    assert interim_dates("termly", date(2026, 11, 20), FINAL_DUE) == [date(2027, 3, 27), date(2027, 7, 17)]


def test_no_interim_report_falls_in_the_four_weeks_before_the_final_report():
    # final report due 2027-08-10: 2027-07-17 is only three and a half weeks before it
    assert interim_dates("termly", APPROVED, date(2027, 8, 10)) == [date(2026, 12, 12), date(2027, 3, 27)]


def test_a_date_exactly_four_weeks_from_either_end_still_counts():
    term_date = date(2026, 12, 12)
    assert interim_dates("termly", term_date - SETTLING_IN, term_date + BEFORE_FINAL) == [term_date]


def test_a_date_a_day_inside_either_margin_does_not_count():
    term_date = date(2026, 12, 12)
    one_day = timedelta(days=1)
    assert interim_dates("termly", term_date - SETTLING_IN + one_day, FINAL_DUE)[0] != term_date
    assert term_date not in interim_dates("termly", APPROVED, term_date + BEFORE_FINAL - one_day)


def test_a_short_award_has_no_interim_reports():
    assert interim_dates("half_termly", APPROVED, APPROVED + timedelta(weeks=8)) == []


def test_a_final_report_due_before_the_settling_in_ends_gives_no_dates():
    assert interim_dates("termly", APPROVED, APPROVED + timedelta(days=10)) == []


def test_an_award_spanning_years_gets_each_years_dates_in_order():
    found = interim_dates("termly", date(2026, 1, 5), date(2028, 12, 31))
    assert found == sorted(found)
    # three in 2026 and 2027; Christmas 2028 is within four weeks of the final report
    assert len(found) == 8
    assert found[0] == date(2026, 3, 27)
    assert found[-1] == date(2028, 7, 17)


def test_dates_set_by_the_officer_give_no_computed_dates():
    assert interim_dates("set_by_officer", APPROVED, FINAL_DUE) == []


def test_every_cadence_is_described_for_the_fund_form():
    assert set(CADENCES) == {"termly", "half_termly", "set_by_officer"}
    assert all(CADENCES.values())
