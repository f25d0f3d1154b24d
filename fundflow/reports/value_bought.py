"""The value-for-money report's ``bought``: the days of staff release the awards fund, by
staff role and by school, the day rates against the fund's cap, and what each supported
school and each of its pupils cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, union_all

from ..extensions import db
from ..models import Activity, Application, ApplicationPartner, BackfillClaim, Fund, School
from ..workflow import AWARDED_STATUSES, COUNTED_CLAIM_STATUSES
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
    """``bids``: the awarded bids' money (a CTE with ``application_id``, ``committed_pence``);
    ``schools``: :func:`~.value_targeting.school_figures` (the supported schools and their
    pupils); ``committed``: the report's committed money.
    Days funded, rates and staff roles are the awarded bids' planned activities; days
    claimed are on verified or paid claims."""
    by_role, activities = _activities(scope)
    claimed = db.session.execute(
        select(func.coalesce(func.sum(BackfillClaim.days), 0)).where(
            BackfillClaim.application_id.in_(scope.bid_ids()),
            BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES),
        )
    ).scalar_one()
    participants = _participants(scope)
    schools_total = db.session.execute(
        select(func.count(func.distinct(participants.c.school_id)))
    ).scalar_one()
    supported = {"schools": schools["supported"], "pupils": schools["pupils"]}
    days, cost = Decimal(activities["days"] or 0), int(activities["cost"])
    return {
        "days_funded": days_text(days),
        "days_claimed": days_text(claimed),
        "by_staff_role": by_role,
        "by_school": _by_school(participants, bids, scope.awarded_ids()),
        "schools_total": int(schools_total),
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


def _participants(scope: Scope) -> Any:
    """Every school taking part in an awarded bid: (application_id, school_id, role), the
    lead school with role "lead"."""
    partner = ApplicationPartner
    awarded = [*scope.bid_conditions(), Application.status.in_(AWARDED_STATUSES)]
    return union_all(
        select(
            Application.id.label("application_id"),
            Application.lead_school_id.label("school_id"),
            literal("lead").label("role"),
        ).where(*awarded),
        select(partner.application_id, partner.school_id, partner.role)
        .join(Application, Application.id == partner.application_id)
        .where(*awarded),
    ).subquery()


def _by_school(participants: Any, bids: Any, awarded: Any) -> list[dict[str, Any]]:
    """The schools with the most days, each in each role it takes: its bids, and their days
    and committed money (each bid's whole, not shared out). The bids' figures are worked
    out once (a materialised CTE) before being joined to their schools."""
    bid_days = (
        select(Activity.application_id, func.sum(Activity.days).label("days"))
        .where(Activity.application_id.in_(awarded))
        .group_by(Activity.application_id)
        .subquery()
    )
    per_bid = (
        select(bids.c.application_id, bids.c.committed_pence, bid_days.c.days)
        .outerjoin(bid_days, bid_days.c.application_id == bids.c.application_id)
        .cte("bid_figures")
        .prefix_with("MATERIALIZED")
    )
    days = func.coalesce(func.sum(per_bid.c.days), 0)
    rows = db.session.execute(
        select(
            School.urn,
            School.name,
            participants.c.role,
            func.count(func.distinct(participants.c.application_id)).label("bids"),
            days.label("days"),
            func.coalesce(func.sum(per_bid.c.committed_pence), 0).label("committed"),
        )
        .join(School, School.id == participants.c.school_id)
        .join(per_bid, per_bid.c.application_id == participants.c.application_id)
        .group_by(School.id, School.urn, School.name, participants.c.role)
        .order_by(days.desc(), School.urn, participants.c.role)
        .limit(TOP_SCHOOLS)
    )
    return [
        {
            "urn": r.urn,
            "name": r.name,
            "role": r.role,
            "bids": int(r.bids),
            "days": days_text(r.days),
            "committed_pence": int(r.committed),
        }
        for r in rows
    ]
