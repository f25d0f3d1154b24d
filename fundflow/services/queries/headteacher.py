"""Read-only queries for the headteacher's pages. Nothing here changes data.

Every query starts from :func:`access.visible_applications` or from an application the
caller already fetched through :func:`access.get_application`, so least privilege holds.
"""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from ...extensions import db
from ...models import Application, BackfillClaim, Event, Fund, ImpactReport, ScheduleItem, User
from ...workflow import AWARDED_STATUSES
from .. import eligibility
from ..access import visible_applications
from ..clock import today
from ..ledger import claim_paid_pence
from .paging import page_of
from .schedule import schedule_for


def dashboard_page(user: User, page: int, per_page: int) -> Pagination:
    """The bids ``user``'s school takes part in, newest change first.

    Partners (with their schools), the fund and the lead school come in a fixed number of
    queries; activities and measures are not needed on the dashboard, so not loaded.
    """
    query = (
        visible_applications(user, as_headteacher=True)
        .options(lazyload(Application.activities), lazyload(Application.measures))
        .order_by(Application.updated_at.desc(), Application.id.desc())
    )
    return page_of(query, page, per_page)


def funds_taking_bids(user: User) -> list[Fund]:
    """Funds ``user``'s school may bid into (whichever organisation runs them) that have not
    closed yet, soonest closing first (a draft may start before a fund opens; submitting
    checks that it is open)."""
    if user.school is None:
        return []
    open_to_school = eligibility.open_to_school_condition(user.school)
    return list(
        db.session.execute(
            select(Fund).where(Fund.closes_on >= today(), open_to_school).order_by(Fund.closes_on, Fund.name)
        ).scalars()
    )


def latest_change_request(application: Application) -> Event | None:
    """The liaison officer's most recent "request changes" event on this bid."""
    return db.session.execute(
        select(Event)
        .where(Event.application_id == application.id, Event.action == "request_changes")
        .order_by(Event.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def claims_page(application: Application, page: int, per_page: int) -> tuple[Pagination, dict[int, int]]:
    """One page of the bid's backfill claims and the net amount paid on each."""
    query = (
        select(BackfillClaim)
        .where(BackfillClaim.application_id == application.id)
        # The caller has the bid: take it from the session rather than joining it again
        # (a joined bid would select-in its partners, activities and measures once more).
        .options(selectinload(BackfillClaim.evidence), lazyload(BackfillClaim.application))
        .order_by(BackfillClaim.period_start.desc(), BackfillClaim.id.desc())
    )
    pagination = page_of(query, page, per_page)
    return pagination, claim_paid_pence(c.id for c in pagination.items)


def reports_page(application: Application, page: int, per_page: int) -> Pagination:
    """One page of the bid's impact reports with results and evaluations, newest first."""
    query = (
        select(ImpactReport)
        .where(ImpactReport.application_id == application.id)
        .options(selectinload(ImpactReport.evidence), lazyload(ImpactReport.application))
        .order_by(ImpactReport.id.desc())
    )
    return page_of(query, page, per_page)


def award_schedule(application: Application) -> list[ScheduleItem] | None:
    """The monitoring schedule of an award (approved, in monitoring, closed or cancelled),
    in date order; None for a bid not awarded, which has none to show."""
    if application.status not in AWARDED_STATUSES:
        return None
    return schedule_for(application.id)
