"""The value-for-money report's ``outcomes``: did it work? Each measure of an awarded bid
against its target (the rule in :mod:`fundflow.services.measure_results`, as SQL), the liaison
officers' ratings of the reports, by priority area and by improvement driver."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, true, union_all

from ..extensions import db
from ..models import (
    DRIVER_LABELS,
    DRIVERS,
    RATINGS,
    Application,
    ImpactEvaluation,
    ImpactReport,
)
from ..services.measure_results import MEASURE_RESULTS, measure_results
from ..services.queries.aggregates import count_if, total
from ..workflow import AWARDED_STATUSES
from .value_scope import Scope
from .value_sql import json_items, normalised

#: How many priority areas the report lists (the most measures first).
TOP_PRIORITY_AREAS = 20
#: The results counted, as the report names them.
COUNTED_RESULTS = MEASURE_RESULTS


def decimal_text(value: Any) -> str | None:
    """A measure's figure as a plain decimal string without trailing zeros: "75", "2.5"."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def measures_of(application_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each bid's measures with their baseline, target, latest actual and result, in one query."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not application_ids:
        return found
    query = measure_results(application_ids)
    columns = query.selected_columns
    rows = db.session.execute(query.order_by(columns.application_id, columns.measure_id))
    for r in rows:
        found.setdefault(r.application_id, []).append(
            {
                "indicator": r.indicator,
                "unit": r.unit,
                "baseline": decimal_text(r.baseline),
                "target": decimal_text(r.target),
                "latest_actual": decimal_text(r.latest_actual),
                "result": r.result,
            }
        )
    return found


def _rating_counts(rating: Any) -> list[Any]:
    return [count_if(rating == name).label(f"rating_{name}") for name in RATINGS]


def _ratings(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, f"rating_{name}")) for name in RATINGS}


def _share(achieved: int, with_result: int) -> float | None:
    return round(achieved / with_result, 4) if with_result else None


def outcomes(scope: Scope, committed: int, bids: Any) -> dict[str, Any]:
    """``committed``: the report's committed money (for the cost per measure achieved);
    ``bids``: the awarded bids' figures (:func:`~.value_bids.awarded`: ``application_id``,
    ``committed_pence``, ``measures`` and each result's count), for the results and the
    money by priority area."""
    counts, area_rows = _results_in_all_and_by_area(scope, bids)
    evaluations = (
        select(ImpactEvaluation.rating, ImpactEvaluation.drivers, Application.priority_areas)
        .join(ImpactReport, ImpactReport.id == ImpactEvaluation.report_id)
        .join(Application, Application.id == ImpactReport.application_id)
        .where(*scope.bid_conditions())
        .cte("evaluations")
    )
    ratings, by_area, by_driver = _rated(evaluations, [r.key for r in area_rows])
    achieved = int(counts.achieved)
    with_result = int(counts.measures) - int(counts.no_result_yet)
    return {
        "measures": int(counts.measures),
        "with_result": with_result,
        **{name: int(getattr(counts, name)) for name in COUNTED_RESULTS},
        "share_achieved": _share(achieved, with_result),
        "cost_per_measure_achieved_pence": round(committed / achieved) if achieved else None,
        "ratings": _ratings(ratings),
        "by_priority_area": _by_priority_area(area_rows, by_area),
        "by_driver": _by_driver(by_driver),
    }


def _rated(evaluations: Any, keys: list[str]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The evaluated reports' ratings in all (a row), in each of the priority areas ``keys``
    (the reports on the bids naming it, by key) and by improvement driver (the reports
    naming it, with how many ``reports``, by driver), in one statement: the evaluations
    (a CTE with ``rating``, ``drivers`` and the bid's ``priority_areas``) are read once for
    the three."""
    rating = evaluations.c.rating
    in_all = select(literal("all").label("part"), literal(None).label("name"), func.count().label("reports"))
    driver = json_items(evaluations.c.drivers)
    parts = [
        in_all.add_columns(*_rating_counts(rating)).select_from(evaluations),
        select(literal("driver"), driver.c.value, func.count(), *_rating_counts(rating))
        .select_from(evaluations)
        .join(driver, true())
        .group_by(driver.c.value),
    ]
    if keys:
        area = json_items(evaluations.c.priority_areas)
        key = normalised(area.c.value)
        parts.append(
            select(literal("area"), key, func.count(), *_rating_counts(rating))
            .select_from(evaluations)
            .join(area, true())
            .where(key.in_(keys))
            .group_by(key)
        )
    rows = db.session.execute(union_all(*parts)).all()
    found: dict[str, dict[str, Any]] = {"area": {}, "driver": {}}
    for r in rows:
        if r.part != "all":
            found[r.part][r.name] = r
    everything = next(r for r in rows if r.part == "all")
    return everything, found["area"], found["driver"]


def _results_in_all_and_by_area(scope: Scope, bids: Any) -> tuple[Any, list[Any]]:
    """The results of the awarded bids' measures in all (a row with ``measures`` and each
    result's count) and in the priority areas with the most measures (areas differing only
    in case or spaces are one; rows with ``key``, ``area``, the counts and ``committed``:
    the money the bids naming the area hold, a bid naming two areas counting in both), in
    one statement. The results are counted per bid once (``bids``); each bid then joins the
    areas it names (once each), so the JSON lists are read per bid, not per measure."""
    per_bid = bids
    area = json_items(Application.priority_areas)
    key = normalised(area.c.value)
    named = (
        select(
            Application.id.label("application_id"),
            key.label("key"),
            func.min(func.trim(area.c.value)).label("name"),
        )
        .select_from(Application)
        .join(area, true())
        .where(*scope.bid_conditions(), Application.status.in_(AWARDED_STATUSES), key != "")
        .group_by(Application.id, key)
        .subquery()
    )

    counted = [total(per_bid.c[name]).label(name) for name in ("measures", *COUNTED_RESULTS)]
    measured = total(per_bid.c.measures)
    areas = (
        select(
            named.c.key,
            func.min(case((per_bid.c.measures > 0, named.c.name))).label("area"),
            *counted,
            total(per_bid.c.committed_pence).label("committed"),
            func.row_number().over(order_by=(measured.desc(), named.c.key)).label("rank"),
        )
        .select_from(named)
        .outerjoin(per_bid, per_bid.c.application_id == named.c.application_id)
        .group_by(named.c.key)
        .having(measured > 0)
        .subquery()
    )
    in_all = select(
        literal(None).label("key"),
        literal(None).label("area"),
        *counted,
        literal(0).label("committed"),
        literal(0).label("rank"),
    ).select_from(per_bid)
    top = select(*areas.c).where(areas.c.rank <= TOP_PRIORITY_AREAS)
    rows = db.session.execute(union_all(in_all, top)).all()
    everything = next(r for r in rows if r.rank == 0)
    return everything, sorted((r for r in rows if r.rank != 0), key=lambda r: r.rank)


def _by_priority_area(rows: list[Any], rated: dict[str, Any]) -> list[dict[str, Any]]:
    """The top priority areas' rows (:func:`_results_in_all_and_by_area`) with their bids'
    report ratings (``rated``, by key: :func:`_rated`)."""
    areas = []
    for r in rows:
        with_result = int(r.measures) - int(r.no_result_yet)
        areas.append(
            {
                "priority_area": r.area,
                "measures": int(r.measures),
                "achieved": int(r.achieved),
                "part_way": int(r.part_way),
                "not_achieved": int(r.not_achieved),
                "share_achieved": _share(int(r.achieved), with_result),
                "ratings": _ratings(rated[r.key]) if r.key in rated else dict.fromkeys(RATINGS, 0),
                "committed_pence": int(r.committed),
            }
        )
    return areas


def _by_driver(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Each improvement driver (in the models' order): the evaluated reports naming it and
    their ratings (``found``, by driver: :func:`_rated`)."""
    return [
        {
            "driver": name,
            "label": DRIVER_LABELS[name],
            "reports": int(found[name].reports) if name in found else 0,
            "ratings": _ratings(found[name]) if name in found else dict.fromkeys(RATINGS, 0),
        }
        for name in DRIVERS
    ]
