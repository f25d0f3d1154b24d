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

The funder is the fund's organisation (its 360Giving funder identifier and its name: a
partnership publishes as itself, not as the deployment's first council).

Beyond the required fields each grant carries what 360Giving's quality checks look for: the
recipient's location and the grant's ``beneficiaryLocation`` (the lead school's council: the
fund's member council with the school's GSS code, else the one its local authority is named
after, as in :mod:`fundflow.reports.value_councils`, else the local authority as its
nation's list names it; its GSS code as ``geoCode`` where known; none is invented, and a
Northern Irish school's is left blank, as its list names no council), the grant programme (the fund), planned
dates (the bid's activities, else the fund's dates), the bid's priority areas as
classifications, ``dateModified`` (the bid's latest audit Event) and ``dataSource`` (the
fund's page on this service). An award of £0 is no grant and is left out, and a
description never just repeats the title. Each recipient school is named by its nation's
register (``School.giving360_id``: GB-EDU-, GB-WALEDU-, GB-SCOTEDU-, GB-NIEDU-).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Activity, Application, Event, Fund, LocalAuthority, School
from ..models.school import giving360_id
from ..services import ledger
from ..services.errors import Conflict
from ..services.notifications import page_path, service_url
from ..workflow import AWARDED_STATUSES
from . import csvfile
from .access import fund_or_404
from .value_councils import council_of_lead_school

log = logging.getLogger(__name__)

#: The official schema files, inside the installed package.
SCHEMA_DIR = resources.files("fundflow") / "data" / "360giving"
GRANT_SCHEMA = "360-giving-schema.json"
PACKAGE_SCHEMA = "360-giving-package-schema.json"

CURRENCY = "GBP"

# Text goes out verbatim (no spreadsheet-formula guard): 360Giving's converter must read the
# CSV back to exactly the JSON package, and a need written as "- bullet" lists is common.
#: The vocabulary of the grants' classifications: the priority areas bids name.
PRIORITY_AREA_VOCABULARY = "fundflow priority area"

CSV_COLUMNS = (
    ("Identifier", lambda g: g["id"]),
    ("Title", lambda g: g["title"]),
    ("Description", lambda g: g["description"]),
    ("Currency", lambda g: g["currency"]),
    ("Amount Applied For", lambda g: _amount(g["amountAppliedFor"])),
    ("Amount Awarded", lambda g: _amount(g["amountAwarded"])),
    ("Amount Disbursed", lambda g: _amount(g["amountDisbursed"])),
    ("Award Date", lambda g: g["awardDate"]),
    ("Planned Dates:0:Start Date", lambda g: g["plannedDates"][0]["startDate"]),
    ("Planned Dates:0:End Date", lambda g: g["plannedDates"][0]["endDate"]),
    ("Recipient Org:0:Identifier", lambda g: g["recipientOrganization"][0]["id"]),
    ("Recipient Org:0:Name", lambda g: g["recipientOrganization"][0]["name"]),
    ("Recipient Org:0:Location:0:Name", lambda g: _location(g).get("name", "")),
    ("Recipient Org:0:Location:0:Description", lambda g: _location(g).get("description", "")),
    ("Recipient Org:0:Location:0:Geographic Code", lambda g: _location(g).get("geoCode", "")),
    ("Recipient Org:0:Location:0:Geographic Code Type", lambda g: _location(g).get("geoCodeType", "")),
    ("Beneficiary Location:0:Name", lambda g: _beneficiaries(g).get("name", "")),
    ("Beneficiary Location:0:Country Code", lambda g: _beneficiaries(g).get("countryCode", "")),
    ("Beneficiary Location:0:Geographic Code", lambda g: _beneficiaries(g).get("geoCode", "")),
    ("Beneficiary Location:0:Geographic Code Type", lambda g: _beneficiaries(g).get("geoCodeType", "")),
    ("Funding Org:0:Identifier", lambda g: g["fundingOrganization"][0]["id"]),
    ("Funding Org:0:Name", lambda g: g["fundingOrganization"][0]["name"]),
    ("Grant Programme:0:Code", lambda g: g["grantProgramme"][0]["code"]),
    ("Grant Programme:0:Title", lambda g: g["grantProgramme"][0]["title"]),
    ("Last Modified", lambda g: g["dateModified"]),
    ("Data Source", lambda g: g["dataSource"]),
)
#: Per classification (the CSV has as many sets as the grant with the most).
CLASSIFICATION_COLUMNS = (("Vocabulary", "vocabulary"), ("Code", "code"), ("Title", "title"))


def _location(grant: dict[str, Any]) -> dict[str, Any]:
    return (grant["recipientOrganization"][0].get("location") or [{}])[0]


def _beneficiaries(grant: dict[str, Any]) -> dict[str, Any]:
    return (grant.get("beneficiaryLocation") or [{}])[0]


def _csv_header(classifications: int) -> list[str]:
    return [title for title, _ in CSV_COLUMNS] + [
        f"Classifications:{n}:{title}" for n in range(classifications) for title, _ in CLASSIFICATION_COLUMNS
    ]


def _csv_row(grant: dict[str, Any], classifications: int) -> list[str]:
    given = grant.get("classifications", [])
    return [cell(grant) for _, cell in CSV_COLUMNS] + [
        given[n][key] if n < len(given) else ""
        for n in range(classifications)
        for _, key in CLASSIFICATION_COLUMNS
    ]


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
            Application.priority_areas,
            Application.requested_pence,
            Application.awarded_pence,
            Application.approved_on,
            Application.updated_at,
            School.nation,
            School.identifier,
            School.name,
            School.la_name,
            School.la_code,
            School.gss_code,
            council_of_lead_school().label("council_id"),
        )
        .join(School, School.id == Application.lead_school_id)
        .where(
            Application.fund_id == fund.id,
            Application.status.in_(AWARDED_STATUSES),
            Application.approved_on.is_not(None),
            Application.awarded_pence > 0,  # an award of £0 is no grant
        )
        .order_by(Application.approved_on, Application.reference)
        .execution_options(yield_per=BATCH)
    )
    funder = {"id": fund.organisation.funder_id, "name": fund.organisation.name}
    councils = {a.id: a for a in fund.local_authorities}
    programme = {"code": f"{config['GRANTNAV_PREFIX']}fund-{fund.id}", "title": fund.name}
    source = service_url() + page_path("auditor.ledger", fund_id=fund.id)
    fund_dates = (fund.opens_on, fund.delivery_ends_on or fund.closes_on)
    for rows in result.partitions():
        ids = [r.id for r in rows]
        money, dates, modified = ledger.application_money(ids), _planned_dates(ids), _last_events(ids)
        for r in rows:
            start, end = dates.get(r.id, (None, None))
            recipient: dict[str, Any] = {"id": giving360_id(r.nation, r.identifier), "name": r.name}
            location = _local_authority(r, councils.get(r.council_id))
            if location:
                recipient["location"] = [location]
            grant = {
                "id": f"{config['GRANTNAV_PREFIX']}{r.reference}",
                "title": r.title,
                "description": _description(r.title, r.need, fund.name),
                "currency": CURRENCY,
                "amountAppliedFor": _pounds(r.requested_pence),
                "amountAwarded": _pounds(r.awarded_pence),
                "amountDisbursed": _pounds(money[r.id][1]),
                "awardDate": r.approved_on.isoformat(),
                "plannedDates": [
                    {
                        "startDate": (start or fund_dates[0]).isoformat(),
                        "endDate": max(end or fund_dates[1], start or fund_dates[0]).isoformat(),
                    }
                ],
                "recipientOrganization": [recipient],
                **({"beneficiaryLocation": [_beneficiary_location(location)]} if location else {}),
                "fundingOrganization": [dict(funder)],
                "grantProgramme": [dict(programme)],
                "dateModified": _date_time(modified.get(r.id) or r.updated_at),
                "dataSource": source,
            }
            areas = _classifications(r.priority_areas)
            if areas:
                grant["classifications"] = areas
            yield grant


def _description(title: str, need: str, fund_name: str) -> str:
    """The bid's need; never the title again (360Giving's quality check flags a description
    that repeats the title), so an empty or repeated need says what the grant is instead."""
    need = (need or "").strip()
    if need and need.casefold() != title.strip().casefold():
        return need
    return f"A school-to-school support award from {fund_name} for “{title.strip()}”."


def _local_authority(school: Any, council: LocalAuthority | None) -> dict[str, Any] | None:
    """The lead school's council (``school``: a row with ``nation``, ``la_name``,
    ``la_code``, ``gss_code``): the fund's member ``council`` it is in, named as the fund
    names it, with its GSS code as geoCode; else its local authority as its nation's list
    names it, with the GSS code the school carries (Welsh and Scottish councils, looked up
    from their names on import). A Northern Irish school's geoCode is left blank (its list
    names no council). GIAS's own DfE code is not a GSS code, so it is only described.
    None when nothing names the council."""
    name = council.name if council is not None else school.la_name.strip()
    if not name:
        return None
    location: dict[str, Any] = {"name": name}
    code = council.gss_code if council is not None else school.gss_code.strip()
    if code and school.nation != "northern_ireland":
        location["geoCode"] = code
        location["geoCodeType"] = "LAD"
    if school.la_code.strip():
        location["description"] = f"Local authority (DfE code {school.la_code.strip()})"
    return location


def _beneficiary_location(location: dict[str, Any]) -> dict[str, Any]:
    """Where the grant's beneficiaries are: the lead school's council, in the UK."""
    place = {"name": location["name"], "countryCode": "GB"}
    if "geoCode" in location:
        place.update(geoCode=location["geoCode"], geoCodeType=location["geoCodeType"])
    return place


def _classifications(areas: list[str] | None) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for area in areas or []:
        title = str(area).strip()
        code = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")
        if title and code and code not in seen:
            seen[code] = {"vocabulary": PRIORITY_AREA_VOCABULARY, "code": code, "title": title}
    return list(seen.values())


def _date_time(moment: datetime) -> str:
    """A stored naive-UTC time as the RFC 3339 date-time 360Giving asks for."""
    return moment.replace(microsecond=0, tzinfo=UTC).isoformat()


def _planned_dates(ids: list[int]) -> dict[int, tuple[date | None, date | None]]:
    """Each bid's first activity start and last activity end (one query per batch)."""
    rows = db.session.execute(
        select(Activity.application_id, func.min(Activity.starts_on), func.max(Activity.ends_on))
        .where(Activity.application_id.in_(ids))
        .group_by(Activity.application_id)
    )
    return {application_id: (start, end) for application_id, start, end in rows}


def _last_events(ids: list[int]) -> dict[int, datetime]:
    """When each bid's record last changed: its latest audit Event (one query per batch)."""
    rows = db.session.execute(
        select(Event.application_id, func.max(Event.at))
        .where(Event.application_id.in_(ids))
        .group_by(Event.application_id)
    )
    return {application_id: at for application_id, at in rows}


def _publishable(fund_id: int) -> tuple[int, Iterator[dict[str, Any]]]:
    """Check every grant of the fund now (raising :class:`GrantNotPublishable` before any
    byte is sent), then give the grants again, one at a time, for writing, with the largest
    number of classifications a grant has (the CSV's columns)."""
    most = 0
    for grant in iter_grants_360(fund_id):
        most = max(most, len(grant.get("classifications", [])))
    return most, iter_grants_360(fund_id)


def grants_360_csv_chunks(fund_id: int) -> Iterator[str]:
    """The 360Giving CSV in pieces, every grant checked before the first piece."""
    classifications, grants = _publishable(fund_id)
    return csvfile.chunks(
        _csv_header(classifications), (_csv_row(grant, classifications) for grant in grants)
    )


def grants_360_json_chunks(
    fund_id: int, dump: Callable[[dict[str, Any]], Any] = dict, sort_keys: bool = False
) -> Iterator[str]:
    """The 360Giving package in pieces, every grant checked before the first piece: the same
    text as ``json.dumps(grants_360_package(fund_id), indent=2, ensure_ascii=False)``.
    ``dump`` shapes each grant (the API passes its schema's)."""
    return _package_text(_publishable(fund_id)[1], dump, sort_keys)


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
