"""Read-only queries behind the liaison officer's pages: the work queue (its sections,
filters, rows and tab counts, assembled by :func:`queue_page`), and the records shown on a
bid page. Nothing here changes data or decides who may
act: conflict of interest is read from :func:`fundflow.workflow.allowed_actions` (and, for
impact reports, from the same ``not_conflicted`` guard the impact service applies)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from ...extensions import db
from ...models import (
    Application,
    ApplicationPartner,
    BackfillClaim,
    Fund,
    ImpactReport,
    Measure,
    ScheduleItem,
    School,
    User,
)
from ...workflow import (
    APPLICATION_LIFECYCLE,
    AWAITING_COUNTERSIGN_STATUSES,
    AWAITING_EVALUATION_STATUSES,
    AWARDED_STATUSES,
    CLAIM_LIFECYCLE,
    CLAIMABLE_STATUSES,
    IN_DELIVERY_STATUSES,
    IN_REVIEW_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    PENDING_CLAIM_STATUSES,
    REPORTABLE_STATUSES,
    GuardContext,
    allowed_actions,
    not_conflicted,
)
from ..access import in_organisation
from ..clock import today as clock_today
from ..lifecycle import actions_for
from ..schedule import REMIND_BEFORE_DAYS
from .funds import all_funds
from .paging import counted, page_of


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    kind: str  # "application", "claim", "report" or "schedule" (a schedule item): what a row is
    #: Application statuses the section's rows can have; the status filter offers these.
    statuses: tuple[str, ...]
    empty: str
    #: The tab's short text and the words only screen readers hear after it.
    tab: str = ""
    tab_hidden: str = ""


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            "review",
            "To review",
            "application",
            IN_REVIEW_STATUSES,
            "There are no bids waiting for review.",
            "To review",
        ),
        Section(
            "countersign",
            "Awaiting countersignature",
            "application",
            AWAITING_COUNTERSIGN_STATUSES,
            "No awards are waiting for a countersignature.",
            "To countersign",
        ),
        Section(
            "claims",
            "Claims to verify",
            "claim",
            CLAIMABLE_STATUSES,
            "There are no claims to verify.",
            "Claims",
            "to verify",
        ),
        Section(
            "reports",
            "Reports to evaluate",
            "report",
            AWARDED_STATUSES,
            "There are no impact reports to evaluate.",
            "Reports",
            "to evaluate",
        ),
        Section(
            "overdue",
            "Reports overdue",
            "application",
            REPORTABLE_STATUSES,
            "No impact reports are overdue.",
            "Overdue",
            "reports",
        ),
        Section(
            "delivery",
            "Awards in delivery",
            "application",
            IN_DELIVERY_STATUSES,
            "No awards are being delivered or monitored.",
            "In delivery",
            "awards",
        ),
        Section(
            "due_soon",
            f"Due in the next {REMIND_BEFORE_DAYS} days",
            "schedule",
            IN_DELIVERY_STATUSES,
            f"No reports or claim deadlines you can act on are due in the next {REMIND_BEFORE_DAYS} days.",
            "Due soon",
            f"in the next {REMIND_BEFORE_DAYS} days",
        ),
        Section(
            "overdue_items",
            "Overdue",
            "schedule",
            IN_DELIVERY_STATUSES,
            "No reports or claim deadlines you can act on are overdue.",
            "Overdue items",
            "on award schedules",
        ),
    )
}

#: The actions a liaison officer fires, read from the lifecycle definitions.
LIAISON_APPLICATION_ACTIONS = tuple(
    a.name for a in APPLICATION_LIFECYCLE.actions.values() if "liaison_officer" in a.actors
)
LIAISON_CLAIM_ACTIONS = tuple(
    a.name for a in CLAIM_LIFECYCLE.actions.values() if "liaison_officer" in a.actors
)


@dataclass(frozen=True)
class QueueFilters:
    fund_id: int | None = None
    status: str | None = None
    search: str = ""


# ----------------------------------------------------------------------------- queue


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _school_matches(search: str) -> Any:
    """Applications in which a school whose name, URN or identifier matches ``search`` takes part, or
    whose reference matches it."""
    term = search.strip()
    schools = select(School.id).where(
        or_(School.name.ilike(_like(term), escape="\\"), School.urn == term, School.identifier == term)
    )
    partner = exists().where(
        ApplicationPartner.application_id == Application.id, ApplicationPartner.school_id.in_(schools)
    )
    return or_(
        Application.lead_school_id.in_(schools),
        partner,
        func.upper(Application.reference) == term.upper(),
    )


def _filtered(query: Select, section: Section, filters: QueueFilters, user: User | None) -> Select:
    if user is not None:  # the officer's organisation's bids only (of one fund of it, if chosen)
        query = query.where(in_organisation(user, Application.fund_id, filters.fund_id))
    elif filters.fund_id is not None:
        query = query.where(Application.fund_id == filters.fund_id)
    if filters.status:
        if filters.status in section.statuses:
            query = query.where(Application.status == filters.status)
        else:
            query = query.where(false())
    if filters.search.strip():
        query = query.where(_school_matches(filters.search))
    return query


def _overdue_since(today: date) -> Any:
    return (
        select(func.min(Measure.due_on))
        .where(Measure.application_id == Application.id, Measure.due_on < today)
        .correlate(Application)
        .scalar_subquery()
    )


def not_conflicted_with(user: User) -> ColumnElement[bool]:
    """Bids ``user`` is not conflicted on, as SQL: the ``not_conflicted`` guard of
    :mod:`fundflow.workflow` (their school does not take part, they did not write it), for
    lists that leave out what the officer may not act on."""
    conditions = [Application.created_by_id != user.id]
    if user.school_id is not None:
        partner = exists().where(
            ApplicationPartner.application_id == Application.id,
            ApplicationPartner.school_id == user.school_id,
        )
        conditions += [Application.lead_school_id != user.school_id, ~partner]
    return and_(*conditions)


def _schedule_items(section: Section, today: date, user: User | None) -> Select:
    """Open schedule items of awards in delivery, due in the coming days or overdue."""
    if section.key == "due_soon":
        when = ScheduleItem.due_on.between(today, today + timedelta(days=REMIND_BEFORE_DAYS))
    else:
        when = ScheduleItem.due_on < today
    query = (
        select(ScheduleItem)
        .join(Application, Application.id == ScheduleItem.application_id)
        .where(
            ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES), Application.status.in_(section.statuses), when
        )
        .order_by(ScheduleItem.due_on, ScheduleItem.id)
    )
    return query.where(not_conflicted_with(user)) if user is not None else query


def queue_statement(section_key: str, filters: QueueFilters, today: date, user: User | None = None) -> Select:
    """The SELECT for one section of the work queue, filtered and in working order: of
    ``user``'s organisation (every organisation's without a user: the shell). The schedule
    sections leave out the bids ``user`` is conflicted on."""
    section = SECTIONS[section_key]
    if section.kind == "schedule":
        query = _schedule_items(section, today, user)
    elif section.key in ("review", "countersign", "delivery"):
        query = select(Application).where(Application.status.in_(section.statuses))
        query = query.order_by(Application.submitted_at, Application.id)
    elif section.key == "claims":
        query = (
            select(BackfillClaim)
            .join(Application, Application.id == BackfillClaim.application_id)
            .where(BackfillClaim.status.in_(PENDING_CLAIM_STATUSES), Application.status.in_(section.statuses))
            .order_by(BackfillClaim.created_at, BackfillClaim.id)
        )
    elif section.key == "reports":
        query = (
            select(ImpactReport)
            .join(Application, Application.id == ImpactReport.application_id)
            .where(ImpactReport.status.in_(AWAITING_EVALUATION_STATUSES))
            .order_by(ImpactReport.created_at, ImpactReport.id)
        )
    else:  # overdue: a measure is past due and no final report has come in
        overdue_measure = exists().where(Measure.application_id == Application.id, Measure.due_on < today)
        final_report = exists().where(
            ImpactReport.application_id == Application.id, ImpactReport.kind == "final"
        )
        query = (
            select(Application)
            .where(Application.status.in_(section.statuses), overdue_measure, ~final_report)
            .order_by(_overdue_since(today), Application.id)
        )
    return _filtered(query, section, filters, user)


#: The work queue counts each section's rows up to this many, then says "more than".
QUEUE_COUNT_LIMIT = 1000


def count_label(count: int) -> str:
    """A count as the queue shows it: "1,234", or "more than 1,000" past the limit."""
    return f"more than {QUEUE_COUNT_LIMIT:,}" if count > QUEUE_COUNT_LIMIT else f"{count:,}"


def section_counts(filters: QueueFilters, today: date, user: User | None = None) -> dict[str, int]:
    """How many rows each section has with these filters, each counted up to one more than
    :data:`QUEUE_COUNT_LIMIT`, all in one statement: the tabs cost the same with a
    hundred bids or a hundred thousand."""
    keys = list(SECTIONS)
    row = db.session.execute(
        select(
            *(
                counted(queue_statement(key, filters, today, user), QUEUE_COUNT_LIMIT).scalar_subquery()
                for key in keys
            )
        )
    ).one()
    return dict(zip(keys, (int(n) for n in row), strict=True))


def overdue_measures(application: Application, today: date) -> list[Measure]:
    """The measures of ``application`` whose due date has passed (from its loaded measures)."""
    return [m for m in application.measures if m.due_on < today]


@dataclass(frozen=True)
class QueueRow:
    """One row of a queue section: a bid, claim or impact report and the bid it is on."""

    item: Any
    application: Application
    #: The signed-in officer may not act on it (their school takes part).
    barred: bool
    #: Countersign: the actions the officer may fire; overdue: the measures past due.
    extra: Any = None


@dataclass(frozen=True)
class QueueTab:
    key: str
    label: str
    hidden: str
    count: int
    current: bool

    @property
    def count_label(self) -> str:
        return count_label(self.count)


@dataclass(frozen=True)
class QueuePage:
    """Everything the work queue shows for one section, page and set of filters."""

    section: Section
    filters: QueueFilters
    funds: list[Fund]
    rows: list[QueueRow]
    page: Pagination
    tabs: list[QueueTab]
    today: date

    @property
    def filtered(self) -> bool:
        return bool(self.filters.fund_id or self.filters.status or self.filters.search)

    @property
    def total_label(self) -> str:
        return count_label(self.page.total or 0)

    @property
    def kept(self) -> dict[str, Any]:
        """The filters every tab and page link keeps (tabs drop the status filter)."""
        return {"fund": self.filters.fund_id or None, "q": self.filters.search or None}


def queue_section(key: str | None) -> Section:
    """The section asked for; the review section for a missing or unknown key."""
    return SECTIONS.get(key or "", SECTIONS["review"])


def queue_page(
    user: User, section_key: str | None, filters: QueueFilters, page: int, per_page: int
) -> QueuePage:
    """One page of a work queue section for ``user``, with the other sections' counts.

    A status the section's rows cannot have is dropped from the filters. Rows, the funds for
    the filter and the counts come in a fixed number of queries, whatever the page size.
    """
    section = queue_section(section_key)
    search = filters.search.strip()
    status = filters.status if filters.status in section.statuses else None
    filters = QueueFilters(fund_id=filters.fund_id, status=status, search=search)
    now = clock_today()
    offered = all_funds(user)
    # Other tabs drop the status filter (their statuses differ), so count them without it;
    # this section's own count serves its pages too, unless a status narrows them.
    counts = section_counts(replace(filters, status=None), now, user)
    pagination = page_of(
        queue_statement(section.key, filters, now, user),
        page,
        per_page,
        count_up_to=QUEUE_COUNT_LIMIT,
        total=None if status else counts[section.key],
    )
    rows = _queue_rows(section, pagination.items, user, now)
    counts[section.key] = pagination.total
    tabs = [
        QueueTab(s.key, s.tab, s.tab_hidden, counts[s.key], s.key == section.key) for s in SECTIONS.values()
    ]
    return QueuePage(section, filters, offered, rows, pagination, tabs, now)


def _queue_rows(section: Section, items: list[Any], user: User, now: date) -> list[QueueRow]:
    actions = actions_for(items, user) if section.key == "countersign" else {}
    rows = []
    for item in items:
        application = item if isinstance(item, Application) else item.application
        if section.kind == "schedule":  # the bids the officer is conflicted on are left out
            barred, extra = False, None
        elif section.key == "overdue":
            barred = barred_by_conflict(application, user, now)
            extra: Any = overdue_measures(application, now)
        else:
            barred = cannot_act(item, user, now)
            extra = actions.get(application.id)
        rows.append(QueueRow(item=item, application=application, barred=barred, extra=extra))
    return rows


# ------------------------------------------------------------------ who may act (read)


def liaison_actions(record: Any, user: User) -> list[str]:
    """The liaison officer's actions ``user`` may fire on an application or claim now."""
    own = LIAISON_CLAIM_ACTIONS if isinstance(record, BackfillClaim) else LIAISON_APPLICATION_ACTIONS
    return [a for a in allowed_actions(record, user) if a in own]


def possible_liaison_actions(record: Any) -> list[str]:
    """The liaison officer's actions that exist from the record's current status."""
    if isinstance(record, BackfillClaim):
        lifecycle, own = CLAIM_LIFECYCLE, LIAISON_CLAIM_ACTIONS
    else:
        lifecycle, own = APPLICATION_LIFECYCLE, LIAISON_APPLICATION_ACTIONS
    return [name for name in own if record.status in lifecycle.actions[name].sources]


def barred_by_conflict(application: Application, user: User, today: date) -> bool:
    """The ``not_conflicted`` guard itself, as the review and impact services apply it: for
    records that have no lifecycle action of their own (impact reports, overdue reports)."""
    return not_conflicted(GuardContext(record=application, user=user, today=today)) is not None


def cannot_act(record: Any, user: User, today: date) -> bool:
    """True when ``user`` may not act on ``record`` because their school takes part.

    For bids and claims: none of the liaison actions that exist from the record's status is
    allowed to them. Impact reports have no lifecycle action, so the guard is asked.
    """
    if isinstance(record, ImpactReport):
        return barred_by_conflict(record.application, user, today)
    possible = possible_liaison_actions(record)
    if not possible:
        return barred_by_conflict(record, user, today)
    return not liaison_actions(record, user)


# ----------------------------------------------------------------------- a bid's records


def claims_for(application: Application) -> list[BackfillClaim]:
    return list(
        db.session.execute(
            select(BackfillClaim)
            .where(BackfillClaim.application_id == application.id)
            # The bid is in the session already: not joined (and its parts not reloaded).
            .options(selectinload(BackfillClaim.evidence), lazyload(BackfillClaim.application))
            .order_by(BackfillClaim.period_start, BackfillClaim.id)
        ).scalars()
    )


def users_by_id(ids: list[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    # Shown by name: their roles are not needed.
    query = select(User).where(User.id.in_(wanted)).options(lazyload(User.role_rows))
    return {u.id: u for u in db.session.execute(query).scalars()}
