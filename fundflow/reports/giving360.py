"""360Giving Data Standard: one grant per award that became approved.

Every grant is validated against the official grant schema (shipped in
``fundflow/data/360giving/``, CC BY 4.0 by 360Giving) as it is produced, one at a time, so an
export can stream and still never publish a grant that does not meet the standard: the first
invalid grant stops the export with :class:`GrantNotPublishable`. A streamed file
(:func:`grants_360_csv_chunks`, :func:`grants_360_json_chunks`) validates every grant in a
first pass, before its first byte, so a refusal is still a whole 409 answer and never half a
file; the second pass, that writes it, validates again (a grant approved in between too).
The CSV uses the standard's column titles, so 360Giving's own converter (flatten-tool,
``--convert-titles``) reads it back into the same package.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Application, Fund, School
from ..services import ledger
from ..services.errors import Conflict
from ..workflow import AWARDED_STATUSES
from . import csvfile
from .access import fund_or_404

log = logging.getLogger(__name__)

#: The official schema files, inside the installed package.
SCHEMA_DIR = resources.files("fundflow") / "data" / "360giving"
GRANT_SCHEMA = "360-giving-schema.json"
PACKAGE_SCHEMA = "360-giving-package-schema.json"

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


class GrantNotPublishable(Conflict):
    """A grant failed the 360Giving schema: the export is refused rather than published wrong.

    Nothing the client sent is at fault, so this is not a 422; the records (or the funder
    settings) are in a state the standard cannot express, so it is a 409 that names the grant
    and what is wrong, for the people who can put it right."""

    code = "grant_not_publishable"

    def __init__(self, grant_id: str, problems: list[str]):
        self.grant_id = grant_id
        self.problems = problems
        super().__init__(
            f"Grant {grant_id} does not meet the 360Giving Data Standard, so nothing was exported: "
            + "; ".join(problems)
        )


def load_schema(name: str) -> dict[str, Any]:
    """One of the shipped 360Giving schema files, parsed."""
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def grant_validator() -> jsonschema_rs.Draft202012Validator:
    """A validator for one grant, formats checked (dates are ``oneOf`` a date-time format and
    a date pattern: without format checks both branches match and every date fails)."""
    return jsonschema_rs.Draft202012Validator(load_schema(GRANT_SCHEMA), validate_formats=True)


def package_validator() -> jsonschema_rs.Draft202012Validator:
    """A validator for a whole package. Its ``grants.items`` names the grant schema by the
    1.4.2 URL while the grant schema's own ``$id`` is the 1.4.3 one, so both are registered."""
    package, grant = load_schema(PACKAGE_SCHEMA), load_schema(GRANT_SCHEMA)
    referenced = package["properties"]["grants"]["items"]["$ref"]
    registry = jsonschema_rs.Registry(
        [(grant["$id"], grant), (referenced, grant)], draft=jsonschema_rs.Draft202012
    )
    return jsonschema_rs.Draft202012Validator(package, registry=registry, validate_formats=True)


def grant_problems(grant: dict[str, Any]) -> list[str]:
    """What is wrong with ``grant`` against the grant schema, for a person: ``[]`` if valid."""
    return [
        f"{'/'.join(str(p) for p in error.instance_path) or 'grant'}: {error.message}"
        for error in grant_validator().iter_errors(grant)
    ]


def validated(grants: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Pass each grant on once it validates; stop at the first that does not."""
    for grant in grants:
        problems = grant_problems(grant)
        if problems:
            log.error("360Giving export refused: grant %s is invalid: %s", grant.get("id"), problems)
            raise GrantNotPublishable(str(grant.get("id")), problems)
        yield grant


def grants_360(fund_id: int) -> list[dict[str, Any]]:
    """The fund's awards as 360Giving grants, oldest award first, each validated."""
    return list(iter_grants_360(fund_id))


def iter_grants_360(fund_id: int) -> Iterator[dict[str, Any]]:
    """The fund's awards as 360Giving grants, one at a time, each validated as it is made.

    The fund is looked up at once (an unknown fund is a 404 before anything is produced)."""
    fund = fund_or_404(fund_id)
    return validated(_grants(fund))


#: Awards read per round trip (and per query of their payments).
BATCH = 1000


def _grants(fund: Fund) -> Iterator[dict[str, Any]]:
    config = current_app.config
    result = db.session.execute(
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
        .execution_options(yield_per=BATCH)
    )
    funder = {"id": config["FUNDER_ORG_ID"], "name": config["FUNDER_ORG_NAME"]}
    for rows in result.partitions():
        money = ledger.application_money([r.id for r in rows])
        for r in rows:
            yield {
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


def _publishable(fund_id: int) -> Iterator[dict[str, Any]]:
    """Check every grant of the fund now (raising :class:`GrantNotPublishable` before any
    byte is sent), then give the grants again, one at a time, for writing."""
    for _ in iter_grants_360(fund_id):
        pass
    return iter_grants_360(fund_id)


def grants_360_csv_chunks(fund_id: int) -> Iterator[str]:
    """The 360Giving CSV in pieces, every grant checked before the first piece."""
    grants = _publishable(fund_id)
    return csvfile.chunks(
        [title for title, _ in CSV_COLUMNS],
        ([cell(grant) for _, cell in CSV_COLUMNS] for grant in grants),
    )


def grants_360_json_chunks(
    fund_id: int, dump: Callable[[dict[str, Any]], Any] = dict, sort_keys: bool = False
) -> Iterator[str]:
    """The 360Giving package in pieces, every grant checked before the first piece: the same
    text as ``json.dumps(grants_360_package(fund_id), indent=2, ensure_ascii=False)``.
    ``dump`` shapes each grant (the API passes its schema's)."""
    return _package_text(_publishable(fund_id), dump, sort_keys)


def _package_text(
    grants: Iterator[dict[str, Any]], dump: Callable[[dict[str, Any]], Any], sort_keys: bool
) -> Iterator[str]:
    opened = False
    for grant in grants:
        text = json.dumps(dump(grant), indent=2, ensure_ascii=False, sort_keys=sort_keys)
        # each grant sits two levels deep; JSON strings hold no raw newline, so every line
        # of the grant's text is shifted by the same four spaces
        yield ('{\n  "grants": [\n    ' if not opened else ",\n    ") + text.replace("\n", "\n    ")
        opened = True
    yield "\n  ]\n}" if opened else '{\n  "grants": []\n}'


def grants_360_package(fund_id: int) -> dict[str, Any]:
    """A 360Giving package ``{"grants": [...]}`` of the fund's awards.

    The standard's schema asks for at least one grant: a fund with no award yet gives an
    empty list, which is the truth but not yet publishable.
    """
    return {"grants": grants_360(fund_id)}


def grants_360_csv(fund_id: int) -> str:
    """The same grants as a CSV with 360Giving's column titles (the chunks, joined)."""
    return "".join(grants_360_csv_chunks(fund_id))
