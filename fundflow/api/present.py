"""What the API says about records beyond their own columns — money from the ledger and
the actions the user may fire — fetched in bulk for a whole page, never a query per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import Application, BackfillClaim, Fund, Notification, User
from ..services import ledger, lifecycle
from ..services.notifications import service_url
from ..services.queries import inbox as inbox_queries
from ..services.queries import schedule as schedule_queries


class Presented:
    """A record seen with a few extra attributes, for a schema to dump."""

    def __init__(self, record: Any, **extra: Any) -> None:
        self.__dict__["_record"] = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_record"], name)


def applications(records: Sequence[Application], user: User) -> list[Presented]:
    money = ledger.application_money([a.id for a in records])
    actions = lifecycle.actions_for(records, user)
    schedules = schedule_queries.schedules_for(a.id for a in records)
    return [
        Presented(
            a,
            claimed_pence=money[a.id][0],
            paid_pence=money[a.id][1],
            allowed_actions=actions[a.id],
            schedule=schedules[a.id],
        )
        for a in records
    ]


def application(record: Application, user: User) -> Presented:
    return applications([record], user)[0]


def funds(records: Sequence[Fund]) -> list[Presented]:
    books = ledger.ledgers([f.id for f in records])
    return [
        Presented(
            f,
            committed_pence=books[f.id].committed_pence,
            paid_pence=books[f.id].paid_pence,
            available_pence=books[f.id].available_pence,
        )
        for f in records
    ]


def fund(record: Fund) -> Presented:
    return funds([record])[0]


def claim(record: BackfillClaim) -> Presented:
    return Presented(record, paid_pence=ledger.claim_paid_pence([record.id])[record.id])


def notifications(records: Sequence[Notification]) -> list[Presented]:
    """Messages with the full address of their page and their bid's reference (one query)."""
    refs = inbox_queries.references(n.application_id for n in records)
    base = service_url()
    return [
        Presented(n, link=base + n.link, application_reference=refs.get(n.application_id)) for n in records
    ]


def notification(record: Notification) -> Presented:
    return notifications([record])[0]


def me(user: User) -> Presented:
    school = user.school
    return Presented(
        user,
        school_urn=school.urn if school is not None else None,
        school_nation=school.nation if school is not None else None,
        school_identifier=school.identifier if school is not None else None,
    )


def page(items: list[Any], pagination: Any) -> dict[str, Any]:
    return {
        "items": items,
        "page": pagination.page,
        "per_page": pagination.per_page,
        "total": pagination.total,
    }
