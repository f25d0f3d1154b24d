"""The value-for-money report's ``bought``: the days of staff release the awards fund, by
staff role and by school, the day rates against the fund's cap, and what each supported
school and each of its pupils cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, union_all

from ..extensions import db
from ..models import Activity, Application, ApplicationPartner, Fund, School
from ..workflow import AWARDED_STATUSES
from .value_bids import awarded
from .value_scope import Scope

#: How many staff roles and schools the report lists (the most days first).
TOP_STAFF_ROLES = 20
TOP_SCHOOLS = 25


def days_text(value: Any) -> str:
    """Days as a decimal string to the half day: "412.5"."""
    return str(Decimal(value or 0).quantize(Decimal("0.1")))


def bought(
    scope: Scope, fund: Fund | None, bids: Any, schools: dict[str, Any], committed: int
) -> dict[str, Any]:
    """``bids``: the bids' figures worked out once (:mod:`.value_bids`);
    ``schools``: :func:`~.value_targeting.school_figures` (the supported schools and their
    pupils); ``committed``: the report's committed money.
    Days funded, rates and staff roles are the awarded bids' planned activities; days
    claimed are on verified or paid claims."""
    by_role, activities = _activities(scope)
    claimed = db.session.execute(select(func.coalesce(func.sum(bids.c.claimed_days), 0))).scalar_one()
    by_school, schools_total = _by_school(_participants(awarded(bids)))
    supported = {"schools": schools["supported"], "pupils": schools["pupils"]}
    days, cost = Decimal(activities["days"] or 0), int(activities["cost"])
    return {
        "days_funded": days_text(days),
        "days_claimed": days_text(claimed),
        "by_staff_role": by_role,
        "by_school": by_school,
        "schools_total": schools_total,
        "average_day_rate_pence": round(cost / days) if days else None,
        "highest_day_rate_pence": activities["highest"],
        "day_rate_cap_pence": fund.max_daily_rate_pence if fund is not None else None,
        "activities_at_cap": activities["at_cap"],
        "supported_schools": supported["schools"],
        "pupils_in_supported_schools": supported["pupils"],
        "cost_per_supported_school_pence": round(committed / supported["schools"])
        if supported["schools"]
        else None,
        "cost_per_pupil_pence": round(committed / supported["pupils"]) if supported["pupils"] else None,
    }


def _activities(scope: Scope) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The awarded bids' planned activities by staff role (the most days first) and in all
    (``days``, ``cost``, the ``highest`` day rate, how many are ``at_cap``: at the fund's
    most), in one statement: the totals over every role are window sums of the roles'."""
    at_cap = case((Activity.daily_rate_pence >= Fund.max_daily_rate_pence, 1), else_=0)
    role_days = func.sum(Activity.days)
    over_all_roles = {
        "days": func.sum(role_days),
        "cost": func.sum(func.sum(Activity.cost_pence)),
        "highest": func.max(func.max(Activity.daily_rate_pence)),
        "at_cap": func.sum(func.sum(at_cap)),
    }
    rows = db.session.execute(
        select(
            Activity.staff_role,
            role_days.label("days"),
            func.sum(Activity.cost_pence).label("cost"),
            *(value.over().label(f"all_{name}") for name, value in over_all_roles.items()),
        )
        .join(Application, Application.id == Activity.application_id)
        .join(Fund, Fund.id == Application.fund_id)
        .where(*scope.bid_conditions(), Application.status.in_(AWARDED_STATUSES))
        .group_by(Activity.staff_role)
        .order_by(role_days.desc(), Activity.staff_role)
        .limit(TOP_STAFF_ROLES)
    ).all()
    first = rows[0] if rows else None
    every = {name: getattr(first, f"all_{name}") if first is not None else None for name in over_all_roles}
    roles = [{"staff_role": r.staff_role, "days": days_text(r.days), "cost_pence": int(r.cost)} for r in rows]
    return roles, {
        "days": every["days"] or 0,
        "cost": int(every["cost"] or 0),
        "highest": int(every["highest"]) if every["highest"] is not None else None,
        "at_cap": int(every["at_cap"] or 0),
    }


def _participants(bids: Any) -> Any:
    """Every school taking part in an awarded bid (``bids``: :func:`~.value_bids.awarded`):
    (application_id, school_id, role, and the bid's ``days`` and ``committed_pence``), the
    lead school with role "lead"."""
    partner = ApplicationPartner
    figures = (bids.c.days, bids.c.committed_pence)
    return union_all(
        select(bids.c.application_id, bids.c.lead_school_id.label("school_id"), literal("lead").label("role"))
        .add_columns(*figures)
        .select_from(bids),
        select(partner.application_id, partner.school_id, partner.role, *figures).join(
            bids, bids.c.application_id == partner.application_id
        ),
    ).subquery()


def _by_school(participants: Any) -> tuple[list[dict[str, Any]], int]:
    """The schools with the most days, each in each role it takes: its bids, and their days
    and committed money (each bid's whole, not shared out, from :func:`_participants`); and
    how many schools take part in all, in the same statement (each school's first role
    counted over every school and role, before the top are kept)."""
    p = participants.c
    grouped = (
        select(
            School.urn,
            School.nation,
            School.identifier,
            School.name,
            p.role,
            func.count(func.distinct(p.application_id)).label("bids"),
            func.coalesce(func.sum(p.days), 0).label("days"),
            func.coalesce(func.sum(p.committed_pence), 0).label("committed"),
            func.row_number().over(partition_by=School.id, order_by=p.role).label("nth_role"),
        )
        .join(School, School.id == p.school_id)
        .group_by(School.id, School.urn, School.nation, School.identifier, School.name, p.role)
        .subquery()
    )
    g = grouped.c
    schools = func.sum(case((g.nth_role == 1, 1), else_=0)).over()
    rows = db.session.execute(
        select(
            g.urn,
            g.nation,
            g.identifier,
            g.name,
            g.role,
            g.bids,
            g.days,
            g.committed,
            schools.label("schools"),
        )
        .order_by(g.days.desc(), g.urn, g.role)
        .limit(TOP_SCHOOLS)
    ).all()
    return [
        {
            "urn": r.urn,
            "nation": r.nation,
            "identifier": r.identifier,
            "name": r.name,
            "role": r.role,
            "bids": int(r.bids),
            "days": days_text(r.days),
            "committed_pence": int(r.committed),
        }
        for r in rows
    ], int(rows[0].schools) if rows else 0
