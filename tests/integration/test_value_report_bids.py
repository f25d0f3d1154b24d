"""The value-for-money report gathers each bid's kept figures once per report, into a
temporary table (fundflow/reports/value_bids.py) that every aggregate reads; the table lives
only as long as the report, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from fundflow import reports
from fundflow.extensions import db
from fundflow.reports import value_bids

from .test_value_for_money_figures import build


def _temporary_tables() -> list[str]:
    return inspect(db.session.connection()).get_temp_table_names()


def check_the_report_leaves_no_table_and_runs_twice_in_one_transaction() -> None:
    fund_id = build()["fund"].id
    first = reports.value_for_money(fund_id, 1, 2)
    assert value_bids.TABLE_NAME not in _temporary_tables()
    # The same transaction (a page that asks again after a filter is refused) builds it anew.
    again = reports.value_for_money(fund_id, 1, 2)
    assert again == first
    assert value_bids.TABLE_NAME not in _temporary_tables()


def test_the_report_leaves_no_table_and_runs_twice_in_one_transaction(app):
    check_the_report_leaves_no_table_and_runs_twice_in_one_transaction()


@pytest.mark.postgres
def test_the_report_leaves_no_table_and_runs_twice_in_one_transaction_on_postgresql(pg_app):
    check_the_report_leaves_no_table_and_runs_twice_in_one_transaction()


def test_the_report_reads_each_bids_kept_figures_not_its_reviews_and_results(app, count_queries):
    """Reviews and the measures' results are summed into each bid's kept running figures
    (fundflow/services/bid_figures.py): the report reads those once into the table, never
    the reviews, and the measures only for the page of rows shown."""
    fund_id = build()["fund"].id
    with count_queries() as statements:
        reports.value_for_money(fund_id, 1, 2)
    creates = [s for s in statements if s.lstrip().upper().startswith("CREATE TEMPORARY TABLE")]
    assert len(creates) == 1, creates
    for table, reads in (("FROM reviews", 0), ("FROM measures", 1), ("JOIN bid_figures", 2)):
        reading = [s for s in statements if table in s]
        assert len(reading) == reads, (table, [s[:120] for s in reading])
