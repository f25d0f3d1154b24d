"""The value-for-money report's ``targeting``: where the committed money goes, shared
equally across each bid's supported schools, by whether they are causing concern and by
their share of pupils eligible for free school meals (GIAS ``PercentageFSM``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, select, union_all

from ..extensions import db
from ..models import ApplicationPartner, School
from ..workflow import AWARDED_STATUSES

#: Free school meals bands, lowest first; a school without a figure is "Not known".
FSM_BANDS = (
    ("Under 10%", 0, 10),
    ("10% to 20%", 10, 20),
    ("20% to 30%", 20, 30),
    ("30% to 40%", 30, 40),
    ("40% or more", 40, None),
)
FSM_NOT_KNOWN = "Not known"


def beneficiaries(bids: Any) -> Any:
    """A subquery of each bid's supported schools, one row per (bid, school) with the bid's
    ``status`` and its ``share_pence``: its committed money split equally across them. A
    bid's supported schools are its partners marked ``supported``; when none is, the lead
    school (the partners support it). ``bids``: as for :func:`school_figures`."""
    partner = ApplicationPartner
    schools = case((bids.c.supported_partners > 0, bids.c.supported_partners), else_=1)
    share = (cast(bids.c.committed_pence, Float) / schools).label("share_pence")
    supported = (
        select(partner.application_id.label("application_id"), partner.school_id.label("school_id"))
        .add_columns(bids.c.status, share)
        .join(bids, bids.c.application_id == partner.application_id)
        .where(partner.role == "supported")
    )
    lead = select(bids.c.application_id, bids.c.lead_school_id, bids.c.status, share).where(
        bids.c.supported_partners == 0
    )
    return union_all(supported, lead).subquery()


def fsm_band(percent: Any) -> Any:
    """The band of a free school meals percentage column, as SQL."""
    return case(
        *(
            (and_(percent >= low, percent < high) if high is not None else percent >= low, literal(label))
            for label, low, high in FSM_BANDS
        ),
        else_=literal(FSM_NOT_KNOWN),
    )


def school_figures(bids: Any) -> dict[str, Any]:
    """What the bids' supported schools receive, in one statement: by free school meals band
    (``bands``: band -> schools holding money and their ``pence``), ``concern`` (the money to
    schools causing concern), and the schools the awarded bids support with their pupils
    (``supported``, ``pupils``, where GIAS gives a number). ``bids``: the per-bid money (a
    table or subquery with ``application_id, status, committed_pence, supported_partners,
    lead_school_id``: :mod:`.value_bids`).
    Each school is summed first, so that each is counted once."""
    shares = beneficiaries(bids)
    holding = shares.c.share_pence > 0
    per_school = (
        select(
            shares.c.school_id,
            func.sum(case((holding, shares.c.share_pence))).label("pence"),
            func.max(case((holding, 1), else_=0)).label("holding"),
            func.max(case((shares.c.status.in_(AWARDED_STATUSES), 1), else_=0)).label("awarded"),
        )
        .group_by(shares.c.school_id)
        .subquery()
    )
    band = fsm_band(School.fsm_percent).label("band")
    rows = db.session.execute(
        select(
            band,
            func.sum(per_school.c.holding).label("schools"),
            func.sum(per_school.c.pence).label("pence"),
            func.sum(case((School.causing_concern.is_(True), per_school.c.pence))).label("concern"),
            func.sum(per_school.c.awarded).label("supported"),
            func.sum(case((per_school.c.awarded == 1, School.pupils))).label("pupils"),
        )
        .join(School, School.id == per_school.c.school_id)
        .group_by(band)
    ).all()
    return {
        "bands": {r.band: {"schools": int(r.schools or 0), "pence": r.pence or 0} for r in rows},
        "concern": sum(r.concern or 0 for r in rows),
        "supported": sum(int(r.supported or 0) for r in rows),
        "pupils": sum(int(r.pupils or 0) for r in rows),
    }


def targeting(schools: dict[str, Any], committed: int) -> dict[str, Any]:
    """``schools``: :func:`school_figures`; ``committed``: the report's committed money (the
    sum of the shares)."""

    def share(pence: int) -> float | None:
        return round(pence / committed, 4) if committed else None

    bands = []
    for label in [b[0] for b in FSM_BANDS] + [FSM_NOT_KNOWN]:
        found = schools["bands"].get(label, {"schools": 0, "pence": 0})
        pence = round(found["pence"])
        bands.append(
            {"band": label, "schools": found["schools"], "committed_pence": pence, "share": share(pence)}
        )
    to_concern = round(schools["concern"])
    return {
        "committed_pence": committed,
        "to_schools_causing_concern_pence": to_concern,
        "share_to_schools_causing_concern": share(to_concern),
        "by_fsm_band": bands,
    }
