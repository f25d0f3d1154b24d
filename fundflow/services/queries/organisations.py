"""Read-only queries behind the service administrator's pages: the organisations, how many
staff each has, its administrators, and the councils a new one may be made of. Nothing here
reads a bid, a claim or a payment: a service administrator sees none."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from ...extensions import db
from ...models import NATIONS_BY_GSS_LETTER, LocalAuthority, Organisation, User
from ..errors import NotFound
from ..organisations import KNOWN_LOCAL_AUTHORITIES
from ..school_identifiers import COUNCILS_FILE
from .paging import page_of

NATION_ORDER = ("england", "wales", "scotland", "northern_ireland")


@dataclass(frozen=True)
class Council:
    gss_code: str
    name: str
    nation: str


def organisations(page: int, per_page: int) -> Pagination:
    """Every organisation by name; its member councils select-in loaded."""
    return page_of(select(Organisation).order_by(Organisation.name, Organisation.id), page, per_page)


def staff_counts(organisation_ids: Iterable[int]) -> dict[int, int]:
    """How many active accounts work for each organisation: one GROUP BY."""
    ids = list(organisation_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.organisation_id, func.count(User.id))
        .where(User.organisation_id.in_(ids), User.active.is_(True))
        .group_by(User.organisation_id)
    ).all()
    counts = dict(rows)
    return {i: int(counts.get(i, 0)) for i in ids}


def organisation(slug: str) -> Organisation:
    found = db.session.execute(
        select(Organisation).where(Organisation.slug == (slug or "").strip().lower())
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No organisation {slug!r}")
    return found


def administrators(organisation_id: int) -> list[User]:
    """The organisation's administrators, active first, by name."""
    return list(
        db.session.execute(
            select(User)
            .where(User.organisation_id == organisation_id, User.role_rows.any(role="admin"))
            .order_by(User.active.desc(), User.name, User.id)
        ).scalars()
    )


@cache
def _listed_councils() -> tuple[Council, ...]:
    """The councils of fundflow/data/councils.csv and the ones named in code, once."""
    with COUNCILS_FILE.open(encoding="utf-8", newline="") as handle:
        listed = {row["gss_code"]: row["name"] for row in csv.DictReader(handle)}
    listed.update({code: name for code, name in KNOWN_LOCAL_AUTHORITIES.items() if code not in listed})
    return tuple(Council(code, name, NATIONS_BY_GSS_LETTER[code[0]]) for code, name in listed.items())


def known_councils() -> list[Council]:
    """The councils a new organisation may be made of without naming them: those listed,
    and any already stored; by nation, then name."""
    councils = {council.gss_code: council for council in _listed_councils()}
    for authority in db.session.execute(select(LocalAuthority)).scalars():
        councils[authority.gss_code] = Council(authority.gss_code, authority.name, authority.nation)
    return sorted(councils.values(), key=lambda c: (NATION_ORDER.index(c.nation), c.name, c.gss_code))
