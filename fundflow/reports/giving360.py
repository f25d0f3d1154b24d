"""360Giving Data Standard: one grant per award that became approved.

The JSON package validates against the standard's package schema (1.4); the CSV uses the
standard's column titles, so 360Giving's own converter (flatten-tool, ``--convert-titles``)
reads it back into the same package.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Application, School
from ..services import ledger
from . import csvfile
from .access import fund_or_404

#: Statuses of a bid whose award was made (a cancelled award was still awarded).
AWARDED_STATUSES = ("approved", "monitoring", "closed", "cancelled")
CURRENCY = "GBP"

# Text goes out verbatim (no spreadsheet-formula guard): 360Giving's converter must read the
# CSV back to exactly the JSON package, and a need written as "- bullet" lists is common.
CSV_COLUMNS = (
    ("Identifier", lambda g: g["id"]),
    ("Title", lambda g: g["title"]),
    ("Description", lambda g: g["description"]),
    ("Currency", lambda g: g["currency"]),
    ("Amount Applied For", lambda g: _amount(g["amountAppliedFor"])),
    ("Amount Awarded", lambda g: _amount(g["amountAwarded"])),
    ("Amount Disbursed", lambda g: _amount(g["amountDisbursed"])),
    ("Award Date", lambda g: g["awardDate"]),
    ("Recipient Org:0:Identifier", lambda g: g["recipientOrganization"][0]["id"]),
    ("Recipient Org:0:Name", lambda g: g["recipientOrganization"][0]["name"]),
    ("Funding Org:0:Identifier", lambda g: g["fundingOrganization"][0]["id"]),
    ("Funding Org:0:Name", lambda g: g["fundingOrganization"][0]["name"]),
    ("Grant Programme:0:Title", lambda g: g["grantProgramme"][0]["title"]),
)


def _pounds(pence: int | None) -> float:
    """360Giving amounts are numbers in pounds."""
    return int(pence or 0) / 100


def _amount(pounds: float) -> str:
    return csvfile.pounds(round(pounds * 100))


def grants_360(fund_id: int) -> list[dict[str, Any]]:
    """The fund's awards as 360Giving grants, oldest award first."""
    fund = fund_or_404(fund_id)
    config = current_app.config
    rows = db.session.execute(
        select(
            Application.id,
            Application.reference,
            Application.title,
            Application.need,
            Application.requested_pence,
            Application.awarded_pence,
            Application.approved_on,
            School.urn,
            School.name,
        )
        .join(School, School.id == Application.lead_school_id)
        .where(
            Application.fund_id == fund.id,
            Application.status.in_(AWARDED_STATUSES),
            Application.approved_on.is_not(None),
            Application.awarded_pence.is_not(None),
        )
        .order_by(Application.approved_on, Application.reference)
    ).all()
    money = ledger.application_money([r.id for r in rows])
    funder = {"id": config["FUNDER_ORG_ID"], "name": config["FUNDER_ORG_NAME"]}
    return [
        {
            "id": f"{config['GRANTNAV_PREFIX']}{r.reference}",
            "title": r.title,
            "description": r.need.strip() or r.title,
            "currency": CURRENCY,
            "amountAppliedFor": _pounds(r.requested_pence),
            "amountAwarded": _pounds(r.awarded_pence),
            "amountDisbursed": _pounds(money[r.id][1]),
            "awardDate": r.approved_on.isoformat(),
            "recipientOrganization": [{"id": f"GB-EDU-{r.urn}", "name": r.name}],
            "fundingOrganization": [dict(funder)],
            "grantProgramme": [{"title": fund.name}],
        }
        for r in rows
    ]


def grants_360_package(fund_id: int) -> dict[str, Any]:
    """A 360Giving package ``{"grants": [...]}`` of the fund's awards.

    The standard's schema asks for at least one grant: a fund with no award yet gives an
    empty list, which is the truth but not yet publishable.
    """
    return {"grants": grants_360(fund_id)}


def grants_360_csv(fund_id: int) -> str:
    """The same grants as a CSV with 360Giving's column titles."""
    grants = grants_360(fund_id)
    return csvfile.write(
        [title for title, _ in CSV_COLUMNS],
        ([cell(grant) for _, cell in CSV_COLUMNS] for grant in grants),
    )
