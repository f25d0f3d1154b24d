"""Read-only queries behind the auditor's pages: whole records, their audit trail, and lists
that load related rows in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from ...extensions import db
from ...models import (
    Application,
    ApplicationVersion,
    BackfillClaim,
    Disbursement,
    Event,
    ImpactEvaluation,
    ImpactReport,
    Review,
    ScheduleItem,
    User,
)
from ...workflow import MET_SCHEDULE_STATUSES, OPEN_SCHEDULE_STATUSES, WAIVED_SCHEDULE_STATUSES
from ..access import in_organisation
from ..applications import kept_versions, rows_of_bid, version_changes
from ..ledger import application_money
from ..reviews import reviews_for
from .aggregates import count_if
from .paging import page_of
from .schedule import schedule_for


def applications(
    user: User, status: str | None, fund_id: int | None, page: int, per_page: int
) -> tuple[Pagination, dict[int, tuple[int, int]]]:
    """Every application of ``user``'s organisation (of one fund of it, if given), newest
    first, with (claimed, paid) for each."""
    query = (
        select(Application)
        .options(*(lazyload(getattr(Application, name)) for name in ("partners", "activities", "measures")))
        .order_by(Application.id.desc())
    )
    if status:
        query = query.where(Application.status == status)
    query = query.where(in_organisation(user, Application.fund_id, fund_id))
    pagination = page_of(query, page, per_page)
    return pagination, application_money(a.id for a in pagination.items)


class RowsPage(Pagination):
    """One page of rows already read (with the count over all pages), for the GOV.UK pager."""

    def __init__(self, items: list[Any], total: int, page: int, per_page: int) -> None:
        self._rows, self._total = items, total
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list[Any]:
        return self._rows

    def _query_count(self) -> int:
        return self._total


@dataclass
class VersionView:
    version: ApplicationVersion
    changes: list[tuple[str, Any, Any]]


@dataclass
class ClaimView:
    claim: BackfillClaim
    disbursements: list[Disbursement] = field(default_factory=list)

    @property
    def paid_pence(self) -> int:
        return sum(d.amount_pence for d in self.disbursements)


@dataclass
class ApplicationRecord:
    """Everything about one bid, for reading: what was asked, reviewed, decided, claimed,
    paid and achieved, and every event about it in order."""

    application: Application
    versions: list[VersionView]
    reviews: list[Review]
    claims: list[ClaimView]
    reports: list[ImpactReport]
    events: list[Event]
    claimed_pence: int
    paid_pence: int
    schedule: list[ScheduleItem] = field(default_factory=list)


def application_record(application: Application) -> ApplicationRecord:
    app_id = application.id
    version_views, previous = [], None
    for version in kept_versions(application):
        changes = version_changes(previous, version.snapshot) if previous is not None else []
        version_views.append(VersionView(version, changes))
        previous = version.snapshot
    claims = rows_of_bid(
        BackfillClaim,
        app_id,
        BackfillClaim.id,
        selectinload(BackfillClaim.evidence),
        selectinload(BackfillClaim.created_by),
        selectinload(BackfillClaim.verified_by),
    )
    claim_views = {c.id: ClaimView(c) for c in claims}
    if claim_views:
        for disbursement in db.session.execute(
            select(Disbursement)
            .where(Disbursement.claim_id.in_(list(claim_views)))
            .options(selectinload(Disbursement.recorded_by))
            .order_by(Disbursement.id)
        ).scalars():
            claim_views[disbursement.claim_id].disbursements.append(disbursement)
    reports = rows_of_bid(
        ImpactReport,
        app_id,
        ImpactReport.id,
        selectinload(ImpactReport.submitted_by),
        selectinload(ImpactReport.evaluation).selectinload(ImpactEvaluation.evaluator),
    )
    events = rows_of_bid(Event, app_id, Event.seq)
    claimed, paid = application_money([app_id])[app_id]
    return ApplicationRecord(
        application=application,
        versions=version_views,
        reviews=reviews_for(application),
        claims=list(claim_views.values()),
        reports=reports,
        events=events,
        claimed_pence=claimed,
        paid_pence=paid,
        schedule=schedule_for(app_id),
    )


#: The schedule items that are impact reports (claim deadlines are not reports).
REPORT_ITEM_KINDS = ("interim_report", "final_report")


@dataclass(frozen=True)
class ReportCounts:
    """How a fund's awards kept their impact report schedule: reports sent by their due
    date, sent after it, overdue and still not sent, and waived by a liaison officer."""

    on_time: int = 0
    late: int = 0
    missing: int = 0
    waived: int = 0


def report_tallies(today: date) -> list[Any]:
    """The four counts of :class:`ReportCounts`, in its order, as SQL aggregates over
    ``ScheduleItem`` rows (select them from report items, grouped as the caller needs)."""
    met = ScheduleItem.status.in_(MET_SCHEDULE_STATUSES)

    return [
        count_if(met & (ScheduleItem.completed_on <= ScheduleItem.due_on)),
        count_if(met & (ScheduleItem.completed_on > ScheduleItem.due_on)),
        count_if(ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES) & (ScheduleItem.due_on < today)),
        count_if(ScheduleItem.status.in_(WAIVED_SCHEDULE_STATUSES)),
    ]


def report_counts(fund_ids: Iterable[int], today: date) -> dict[int, ReportCounts]:
    """:class:`ReportCounts` for each fund, in one query grouped by fund. A report counts
    against its due date as it stands (after any change of date)."""
    ids = list(fund_ids)
    counts = {i: ReportCounts() for i in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(Application.fund_id, *report_tallies(today))
        .select_from(ScheduleItem)
        .join(Application, Application.id == ScheduleItem.application_id)
        .where(Application.fund_id.in_(ids), ScheduleItem.kind.in_(REPORT_ITEM_KINDS))
        .group_by(Application.fund_id)
    )
    for fund_id, on_time, late, missing, waived in rows:
        counts[fund_id] = ReportCounts(int(on_time), int(late), int(missing), int(waived))
    return counts
