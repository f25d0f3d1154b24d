"""The value-for-money report's ``by_council``: a partnership fund's money and outcomes by
the member council of each bid's lead school (issue 15), aggregated in SQL.

A school belongs to the fund's council whose GSS code it carries; failing that (English GIAS
schools carry none) to the fund's council whose name its local authority name is, ignoring
case; failing both, to "Other". The same rule serves the termly report
(:func:`council_of_lead_school`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select

from ..extensions import db
from ..models import Application, Fund, LocalAuthority, School, fund_local_authorities
from ..services.queries.aggregates import sum_if, total
from ..workflow import AWARDED_STATUSES
from .value_bought import days_text
from .value_scope import Scope

#: How the report names the lead schools that are in none of the fund's councils.
OTHER = "Other"


def council_of_lead_school(fund_id: Any = Application.fund_id) -> Any:
    """The id of the council (of the fund ``fund_id``, by default the bid's) that the lead
    school is in, as a correlated SQL expression over ``Application`` and ``School`` (join
    the school on ``Application.lead_school_id``); NULL when it is in none of them."""
    members = fund_local_authorities.c

    def member(*where: Any) -> Any:
        return (
            select(LocalAuthority.id)
            .join(fund_local_authorities, members.local_authority_id == LocalAuthority.id)
            .where(members.fund_id == fund_id, *where)
            .order_by(LocalAuthority.id)
            .limit(1)
            .scalar_subquery()
        )

    by_code = member(School.gss_code != "", LocalAuthority.gss_code == School.gss_code)
    by_name = member(func.lower(LocalAuthority.name) == func.lower(func.trim(School.la_name)))
    return func.coalesce(by_code, by_name)


def by_council(scope: Scope, bids: Any) -> list[dict[str, Any]]:
    """One row per council: ``gss_code`` (None for "Other"), ``name``, ``bids`` (submitted
    bids led from it), ``awarded_pence`` (awards made), ``committed_pence``, ``paid_pence``
    (net of reversals), ``days`` (days of release in the awarded bids' activities, a decimal
    string), ``measures`` (of awarded bids), ``with_result``, ``achieved`` and
    ``share_achieved`` (achieved ÷ with a result), in one statement. The rows add up to the
    report's ``totals`` (bids, awarded, committed, paid), ``bought.days_funded`` and
    ``outcomes`` (measures, achieved).

    ``bids``: the covered bids' figures, one row each (the report's table of them,
    :mod:`.value_bids`: ``application_id``, ``status``, ``awarded_pence``,
    ``committed_pence``, ``paid_pence``, ``lead_school_id``, and for awarded bids ``days``,
    ``measures``, ``achieved``, ``no_result_yet``). With a fund, every one of its councils is
    listed (in name order, with zeros when none of its schools leads a bid), then "Other"
    when a lead school is in none of them; without one, the councils that lead bids."""
    b = bids.c
    # summed per lead school (and fund) first, so each school's council is looked up once,
    # not once per bid
    keys = [b.lead_school_id] if scope.fund_id is not None else [b.lead_school_id, Application.fund_id]
    per_school = (
        select(
            *keys,
            func.count().label("bids"),
            sum_if(b.status.in_(AWARDED_STATUSES), b.awarded_pence).label("awarded"),
            *(
                total(b[name]).label(column)
                for name, column in (("committed_pence", "committed"), ("paid_pence", "paid"))
            ),
            *(total(b[name]).label(name) for name in ("days", "measures", "achieved", "no_result_yet")),
        )
        .select_from(bids)
        .group_by(*keys)
    )
    if scope.fund_id is None:
        per_school = per_school.join(Application, Application.id == b.application_id)
    per_school = per_school.subquery()
    s = per_school.c
    per_bid = (
        select(
            council_of_lead_school(literal(scope.fund_id) if scope.fund_id is not None else s.fund_id).label(
                "council_id"
            ),
            s.bids,
            s.awarded,
            s.committed,
            s.paid,
            s.days,
            s.measures,
            s.achieved,
            s.no_result_yet,
        )
        .select_from(per_school)
        .join(School, School.id == s.lead_school_id)
        .subquery()
    )
    c = per_bid.c
    rows = db.session.execute(
        select(
            c.council_id,
            LocalAuthority.gss_code,
            LocalAuthority.name,
            total(c.bids).label("bids"),
            *(total(c[name]).label(name) for name in ("awarded", "committed", "paid", "days")),
            *(total(c[name]).label(name) for name in ("measures", "achieved", "no_result_yet")),
        )
        .outerjoin(LocalAuthority, LocalAuthority.id == c.council_id)
        .group_by(c.council_id, LocalAuthority.gss_code, LocalAuthority.name)
    ).all()
    found = {r.council_id: r for r in rows}
    fund = db.session.get(Fund, scope.fund_id) if scope.fund_id is not None else None
    if fund is not None:
        councils = [(a.id, a.gss_code, a.name) for a in fund.local_authorities]
    else:
        named = (r for r in rows if r.council_id is not None)
        councils = sorted(((r.council_id, r.gss_code, r.name) for r in named), key=lambda a: (a[2], a[1]))
    listed = [_row(gss_code, name, found.get(council_id)) for council_id, gss_code, name in councils]
    if None in found:
        listed.append(_row(None, OTHER, found[None]))
    return listed


def _row(gss_code: str | None, name: str, r: Any) -> dict[str, Any]:
    measures = int(r.measures) if r is not None else 0
    achieved = int(r.achieved) if r is not None else 0
    with_result = measures - (int(r.no_result_yet) if r is not None else 0)
    return {
        "gss_code": gss_code,
        "name": name,
        "bids": int(r.bids) if r is not None else 0,
        "awarded_pence": int(r.awarded) if r is not None else 0,
        "committed_pence": int(r.committed) if r is not None else 0,
        "paid_pence": int(r.paid) if r is not None else 0,
        "days": days_text(Decimal(str(r.days)) if r is not None else 0),
        "measures": measures,
        "with_result": with_result,
        "achieved": achieved,
        "share_achieved": round(achieved / with_result, 4) if with_result else None,
    }
