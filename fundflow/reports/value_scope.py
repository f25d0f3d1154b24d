"""Which bids and payments the value-for-money report covers: a fund (or all), bids
submitted in a date range, led from a local authority, naming a priority area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select, true

from ..extensions import db
from ..models import Application, School
from ..services.errors import ValidationFailed
from ..workflow import AWARDED_STATUSES
from .value_sql import json_items, normalised


@dataclass(frozen=True)
class Scope:
    fund_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    local_authority: str | None = None
    priority_area: str | None = None
    #: The ids of the funds the report may cover (an organisation's); None: any.
    within: Select | None = None

    @classmethod
    def of(
        cls,
        fund_id: int | None,
        date_from: date | None,
        date_to: date | None,
        local_authority: str | None,
        priority_area: str | None,
        *,
        within: Select | None = None,
    ) -> Scope:
        """The filters as given, blanks read as "any"; ``date_from`` after ``date_to`` is a
        validation failure on ``to``."""
        if date_from is not None and date_to is not None and date_from > date_to:
            raise ValidationFailed({"to": ["The end date must be the same as or after the start date"]})
        return cls(
            fund_id,
            date_from,
            date_to,
            (local_authority or "").strip() or None,
            " ".join((priority_area or "").split()) or None,
            within,
        )

    def bid_conditions(self) -> list[Any]:
        """Conditions on ``Application`` for the bids covered (submitted ones only)."""
        conditions: list[Any] = [Application.submitted_at.is_not(None)]
        if self.fund_id is not None:
            conditions.append(Application.fund_id == self.fund_id)
        if self.within is not None:
            conditions.append(Application.fund_id.in_(self.within))
        if self.date_from is not None:
            conditions.append(Application.submitted_at >= datetime.combine(self.date_from, time.min))
        if self.date_to is not None:
            conditions.append(
                Application.submitted_at < datetime.combine(self.date_to + timedelta(days=1), time.min)
            )
        if self.local_authority is not None:
            in_authority = select(School.id).where(School.la_code == self.local_authority)
            conditions.append(Application.lead_school_id.in_(in_authority))
        if self.priority_area is not None:
            area = json_items(Application.priority_areas)
            named = normalised(area.c.value) == self.priority_area.lower()
            conditions.append(exists(select(true()).select_from(area).where(named)))
        return conditions

    def bid_ids(self) -> Select:
        """The ids of the bids covered, for ``IN``."""
        return select(Application.id).where(*self.bid_conditions())

    def awarded_ids(self) -> Select:
        """The ids of the bids covered whose award was made."""
        return self.bid_ids().where(Application.status.in_(AWARDED_STATUSES))

    def paid_conditions(self, paid_on: Any) -> list[Any]:
        """Conditions on a payment date column for the payments covered."""
        conditions = []
        if self.date_from is not None:
            conditions.append(paid_on >= self.date_from)
        if self.date_to is not None:
            conditions.append(paid_on <= self.date_to)
        return conditions

    def echo(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "local_authority": self.local_authority,
            "priority_area": self.priority_area,
        }


#: The most choices each filter offers.
OPTIONS_LIMIT = 200


def options(fund_id: int | None, within: Select | None = None) -> dict[str, Any]:
    """The local authorities (of lead schools) and priority areas the fund's submitted bids
    have (every fund's without one), for choosing filters: at most :data:`OPTIONS_LIMIT`
    of each, in order. Priority areas that differ only in case or spaces are one."""
    submitted = Scope(fund_id, within=within).bid_conditions()
    authorities = db.session.execute(
        select(School.la_code, func.max(School.la_name))
        .join(Application, Application.lead_school_id == School.id)
        .where(*submitted, School.la_code != "")
        .group_by(School.la_code)
        .order_by(School.la_code)
        .limit(OPTIONS_LIMIT)
    )
    area = json_items(Application.priority_areas)
    key = normalised(area.c.value)
    areas = db.session.execute(
        select(func.min(func.trim(area.c.value)))
        .select_from(Application)
        .join(area, true())
        .where(*submitted, key != "")
        .group_by(key)
        .order_by(key)
        .limit(OPTIONS_LIMIT)
    ).scalars()
    return {
        "local_authorities": [{"code": code, "name": name or code} for code, name in authorities],
        "priority_areas": list(areas),
    }
