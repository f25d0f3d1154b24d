"""Which schools may bid into which funds (issue 15).

A fund names the local authorities whose schools may bid. A school is in a council by its
GSS code; English schools from the GIAS list carry no GSS code, only their local
authority's name (``la_name``, e.g. "Slough"), so for them the name is compared instead,
ignoring case. A fund naming no local authority takes bids from any school (funds made
before organisations named their councils), and a school whose council is not known (no
GSS code, no local authority name: a record made by hand before schools carried them) may
bid into any fund rather than be turned away for a gap in its record.

The same rule is written twice, once in Python for one school and one fund and once as SQL
for a list of funds; ``tests/integration/test_eligibility.py`` checks they agree.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, not_, or_, select, true

from ..models import Fund, LocalAuthority, School, fund_local_authorities


def school_may_bid(school: School, fund: Fund) -> bool:
    """Whether ``school`` may lead or join a bid into ``fund``."""
    councils = fund.local_authorities
    if not councils:
        return True
    if school.gss_code:
        return school.gss_code.upper() in {c.gss_code for c in councils}
    name = (school.la_name or "").strip().lower()
    return not name or name in {c.name.strip().lower() for c in councils}


def open_to_school_condition(school: School) -> ColumnElement[bool]:
    """An SQL condition on :class:`Fund` true for the funds ``school`` may bid into, for a
    ``select(Fund).where(...)``."""
    named = select(fund_local_authorities.c.fund_id).where(fund_local_authorities.c.fund_id == Fund.id)
    councils = (
        select(fund_local_authorities.c.fund_id)
        .join(LocalAuthority, LocalAuthority.id == fund_local_authorities.c.local_authority_id)
        .where(fund_local_authorities.c.fund_id == Fund.id)
    )
    if school.gss_code:
        match = councils.where(LocalAuthority.gss_code == school.gss_code.upper())
    else:
        name = (school.la_name or "").strip().lower()
        if not name:
            return true()
        match = councils.where(func.lower(func.trim(LocalAuthority.name)) == name)
    return or_(not_(named.exists()), match.exists())
