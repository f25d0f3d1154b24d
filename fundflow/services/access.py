"""Who may see what (least privilege). Records a user may not see are "not found"."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select, false, select, union
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import (
    Application,
    ApplicationPartner,
    BackfillClaim,
    Disbursement,
    Fund,
    ImpactReport,
    ScheduleItem,
    User,
)
from .errors import NotFound

RowT = TypeVar("RowT", BackfillClaim, Disbursement, ImpactReport, ScheduleItem)

#: Roles that see every application: they review, pay or audit across schools.
SEE_ALL_ROLES = ("liaison_officer", "finance", "auditor")


def sees_all_applications(user: User) -> bool:
    return any(user.has_role(role) for role in SEE_ALL_ROLES)


def visible_applications(user: User, *, as_headteacher: bool = False) -> Select:
    """A SELECT of the applications ``user`` may see. ``as_headteacher`` limits it to bids
    their own school takes part in, whatever other roles they hold (a seconded headteacher
    is also a liaison officer, but their school's pages show their school's bids)."""
    query = select(Application)
    if sees_all_applications(user) and not as_headteacher:
        return query
    if user.has_role("headteacher") and user.school_id is not None:
        # a UNION of two index lookups, not "lead = s OR EXISTS (…)", which no index answers
        # and so reads every bid
        taking_part = union(
            select(Application.id).where(Application.lead_school_id == user.school_id),
            select(ApplicationPartner.application_id).where(ApplicationPartner.school_id == user.school_id),
        )
        return query.where(Application.id.in_(taking_part))
    return query.where(false())


def can_see(user: User, application: Application, *, as_headteacher: bool = False) -> bool:
    if sees_all_applications(user) and not as_headteacher:
        return True
    return (
        user.has_role("headteacher")
        and user.school_id is not None
        and user.school_id in application.school_ids()
    )


def get_application(user: User, reference: str, *, as_headteacher: bool = False) -> Application:
    """The bid ``reference`` if ``user`` may see it. Its partners, activities and measures load
    when first read: an action locks and reloads the bid whole anyway, so loading them here
    too would read them twice."""
    application = db.session.execute(
        select(Application)
        .where(Application.reference == reference)
        .options(*(lazyload(getattr(Application, name)) for name in ("partners", "activities", "measures")))
    ).scalar_one_or_none()
    if application is None or not can_see(user, application, as_headteacher=as_headteacher):
        raise NotFound(f"No application {reference}")
    return application


def _get_visible(
    user: User, model: type[RowT], row_id: int, what: str, application_of: Callable[[RowT], Application]
) -> RowT:
    """The ``model`` row ``row_id`` if the bid it belongs to is one ``user`` may see;
    otherwise NotFound, the same answer as for a row that does not exist."""
    row = db.session.get(model, row_id)
    if row is None or not can_see(user, application_of(row)):
        raise NotFound(f"No {what} {row_id}")
    return row


def get_claim(user: User, claim_id: int) -> BackfillClaim:
    return _get_visible(user, BackfillClaim, claim_id, "claim", lambda claim: claim.application)


def get_disbursement(user: User, disbursement_id: int) -> Disbursement:
    return _get_visible(user, Disbursement, disbursement_id, "disbursement", lambda d: d.claim.application)


def get_report(user: User, report_id: int) -> ImpactReport:
    return _get_visible(user, ImpactReport, report_id, "impact report", lambda report: report.application)


def get_schedule_item(user: User, item_id: int) -> ScheduleItem:
    return _get_visible(user, ScheduleItem, item_id, "schedule item", lambda item: item.application)


def get_fund(fund_id: int) -> Fund:
    """Funds are not secret (every role lists them): only a missing one is "not found"."""
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(f"No fund {fund_id}")
    return fund
