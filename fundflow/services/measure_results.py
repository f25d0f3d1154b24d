"""Did a measure reach its target? One rule, read by Python (a result as it is reported)
and by SQL (every measure's result in a report), and the query for each measure's latest
result. A leaf module: the impact service, the running figures and the reports read it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select

from ..models import ImpactResult, Measure
from .queries.aggregates import count_if

#: What a measure's latest result says, in the order the value-for-money view shows them.
MEASURE_RESULTS = ("achieved", "part_way", "not_achieved", "no_result_yet")
MEASURE_RESULT_LABELS = {
    "achieved": "Achieved",
    "part_way": "Part-way",
    "not_achieved": "Not achieved",
    "no_result_yet": "No result yet",
}

#: The rule, written once over (baseline, target, actual) with the "all"/"any" of whichever
#: language reads it, so that :func:`measure_result` (Python values) and
#: :func:`measure_result_sql` (SQL columns) cannot drift apart. Checked in order; a measure
#: with a result that meets neither did not move toward its target.
#:
#: * achieved: the actual reached the target in the direction from baseline to target
#:   (a target at or above the baseline: actual ≥ target; below it: actual ≤ target);
#: * part-way: it moved from the baseline toward the target without reaching it.
_Rule = Callable[[Any, Any, Any, Callable[..., Any], Callable[..., Any]], Any]
MEASURE_RULES: tuple[tuple[str, _Rule], ...] = (
    (
        "achieved",
        lambda baseline, target, actual, all_, any_: any_(
            all_(target >= baseline, actual >= target), all_(target < baseline, actual <= target)
        ),
    ),
    (
        "part_way",
        lambda baseline, target, actual, all_, any_: any_(
            all_(target > baseline, actual > baseline), all_(target < baseline, actual < baseline)
        ),
    ),
)


def _all(*conditions: bool) -> bool:
    return all(conditions)


def _any(*conditions: bool) -> bool:
    return any(conditions)


def measure_result(
    baseline: Decimal | int | str, target: Decimal | int | str, actual: Decimal | int | str | None
) -> str:
    """One of :data:`MEASURE_RESULTS` for a measure and its latest actual (None: no result yet)."""
    if actual is None:
        return "no_result_yet"
    values = Decimal(baseline), Decimal(target), Decimal(actual)
    for result, rule in MEASURE_RULES:
        if rule(*values, _all, _any):
            return result
    return "not_achieved"


def measure_result_sql(baseline: Any, target: Any, actual: Any) -> ColumnElement[str]:
    """The same rule as :func:`measure_result`, as a SQL ``CASE`` over three columns (a NULL
    ``actual``: no result yet)."""
    return case(
        (actual.is_(None), "no_result_yet"),
        *((rule(baseline, target, actual, and_, or_), result) for result, rule in MEASURE_RULES),
        else_="not_achieved",
    )


def measure_results(application_ids: Any, *, described: bool = True) -> Select:
    """Each measure of the given bids with its latest actual (the newest result reported) and
    its result, as a query (``application_ids``: a subquery or list for ``IN``), with the
    columns ``measure_id, application_id, indicator, unit, baseline, target, latest_actual,
    result`` (without ``indicator`` and ``unit`` when not ``described``: for counting, they
    need not be carried through the numbering). Each measure's results are numbered newest
    first and the newest kept (one read of each table, no second join back to them)."""
    newest = func.row_number().over(partition_by=Measure.id, order_by=ImpactResult.id.desc()).label("newest")
    described_by = [Measure.indicator, Measure.unit] if described else []
    numbered = (
        select(
            Measure.id.label("measure_id"),
            Measure.application_id,
            *described_by,
            Measure.baseline,
            Measure.target,
            ImpactResult.actual.label("latest_actual"),
            newest,
        )
        .outerjoin(ImpactResult, ImpactResult.measure_id == Measure.id)
        .where(Measure.application_id.in_(application_ids))
        .subquery()
    )
    c = numbered.c
    return select(
        c.measure_id,
        c.application_id,
        *([c.indicator, c.unit] if described else []),
        c.baseline,
        c.target,
        c.latest_actual,
        measure_result_sql(c.baseline, c.target, c.latest_actual).label("result"),
    ).where(c.newest == 1)


def result_counts(result: Any) -> list[Any]:
    """``measures`` (how many rows) and how many have each of :data:`MEASURE_RESULTS`."""
    return [
        func.count().label("measures"),
        *(count_if(result == name).label(name) for name in MEASURE_RESULTS),
    ]
