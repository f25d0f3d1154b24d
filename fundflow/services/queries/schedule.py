"""Read queries for monitoring schedules: a bid's items, each bid's next item, and the
counts the liaison officer's queue and the auditor's funds list show."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ...extensions import db
from ...models import ScheduleItem
from ...workflow import OPEN_SCHEDULE_STATUSES


def schedule_for(application_id: int) -> list[ScheduleItem]:
    """Every item of one bid's schedule, in date order (a schedule has a handful)."""
    return list(
        db.session.execute(
            select(ScheduleItem)
            .where(ScheduleItem.application_id == application_id)
            .options(lazyload(ScheduleItem.application))  # the caller has the bid
            .order_by(ScheduleItem.due_on, ScheduleItem.id)
        ).scalars()
    )


def schedules_for(application_ids: Iterable[int]) -> dict[int, list[ScheduleItem]]:
    """Every item of each bid's schedule, by bid id and in date order, in one query (for a
    page of bids: the API's list of applications)."""
    ids = list(application_ids)
    found: dict[int, list[ScheduleItem]] = {i: [] for i in ids}
    if not ids:
        return found
    items = db.session.execute(
        select(ScheduleItem)
        .where(ScheduleItem.application_id.in_(ids))
        .options(lazyload(ScheduleItem.application))
        .order_by(ScheduleItem.application_id, ScheduleItem.due_on, ScheduleItem.id)
    ).scalars()
    for item in items:
        found[item.application_id].append(item)
    return found


def next_due(application_ids: Iterable[int]) -> dict[int, ScheduleItem]:
    """Each bid's earliest item still owed (due or late), by bid id, in one query."""
    ids = list(application_ids)
    if not ids:
        return {}
    items = db.session.execute(
        select(ScheduleItem)
        .where(ScheduleItem.application_id.in_(ids), ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES))
        .options(lazyload(ScheduleItem.application))  # the caller has the bids
        .order_by(ScheduleItem.application_id, ScheduleItem.due_on, ScheduleItem.id)
    ).scalars()
    found: dict[int, ScheduleItem] = {}
    for item in items:
        found.setdefault(item.application_id, item)
    return found
