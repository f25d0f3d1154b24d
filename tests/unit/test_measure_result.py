"""The achievement rule: the Python function and the SQL CASE, built from one definition,
agree for every baseline, target and actual (hypothesis), on the database the tests use."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Numeric, literal, null, select

from fundflow.extensions import db
from fundflow.services.measure_results import MEASURE_RESULTS, measure_result, measure_result_sql

#: What a measure's columns hold: Numeric(14, 4).
values = st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)


def in_sql(baseline: Decimal, target: Decimal, actual: Decimal | None) -> str:
    def column(value: Decimal | None):
        return null() if value is None else literal(value, Numeric(14, 4))

    expression = measure_result_sql(column(baseline), column(target), column(actual))
    return db.session.execute(select(expression)).scalar_one()


@pytest.mark.parametrize(
    ("baseline", "target", "actual", "result"),
    [
        ("60", "75", "75", "achieved"),
        ("60", "75", "80", "achieved"),
        ("60", "75", "70", "part_way"),
        ("60", "75", "60", "not_achieved"),
        ("60", "75", "55", "not_achieved"),
        ("20", "10", "10", "achieved"),  # a fall is the aim (e.g. absence)
        ("20", "10", "5", "achieved"),
        ("20", "10", "15", "part_way"),
        ("20", "10", "20", "not_achieved"),
        ("20", "10", "25", "not_achieved"),
        ("50", "50", "50", "achieved"),  # hold steady
        ("50", "50", "49", "not_achieved"),
        ("60", "75", None, "no_result_yet"),
    ],
)
def test_the_rule_by_hand(app, baseline, target, actual, result):
    assert measure_result(baseline, target, actual) == result
    as_decimal = Decimal(actual) if actual is not None else None
    assert in_sql(Decimal(baseline), Decimal(target), as_decimal) == result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(baseline=values, target=values, actual=st.none() | values)
def test_python_and_sql_agree(app, baseline, target, actual):
    result = measure_result(baseline, target, actual)
    assert result in MEASURE_RESULTS
    assert in_sql(baseline, target, actual) == result


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(baseline=values, target=values)
def test_reaching_the_target_exactly_is_achieved_and_staying_put_is_not_part_way(app, baseline, target):
    assert measure_result(baseline, target, target) == "achieved"
    if baseline != target:
        assert measure_result(baseline, target, baseline) == "not_achieved"
        assert in_sql(baseline, target, baseline) == "not_achieved"
