"""Finding the school a person or an API client names: by its id, by its nation and official
identifier, by an English school's URN, or (where a form allows it) by its exact name.

Welsh school numbers, Scottish SEED codes and Northern Irish DE references can all be
written as seven digits, so an identifier given without its nation may fit schools in two
nations: that is a problem asking for the nation, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import School
from ..models.school import IDENTIFIER_NAMES, NATION_LABELS, NATIONS
from . import school_identifiers
from .errors import Problems

URN_PATTERN = re.compile(r"^\d{6}$")
#: What to type, for a message: every nation's identifier.
ANY_IDENTIFIER = "URN, school number, SEED code or DE reference number"


@dataclass(frozen=True)
class SchoolNamed:
    """How a school was named; ``None`` or blank parts were not given."""

    school_id: int | None = None
    identifier: str | None = None
    nation: str | None = None
    urn: str | None = None


@dataclass(frozen=True)
class Found:
    """The school named, and the input field that named it (where later problems go)."""

    school: School
    field: str


def _text(value: object) -> str:
    return "".join(str(value).split()) if value is not None else ""


def _names(nations: list[str]) -> str:
    """ "school number or SEED code" for the nations given, each name once."""
    names = list(dict.fromkeys(IDENTIFIER_NAMES[n] for n in nations))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def find(
    problems: Problems,
    named: SchoolNamed,
    prefix: str = "",
    *,
    fields: dict[str, str] | None = None,
    by_name: bool = False,
) -> Found | None:
    """The one school ``named`` names, or ``None`` with its problems added to ``problems``
    under ``prefix`` + the input field (``partners.0.identifier``). ``fields`` renames the
    input fields (``{"identifier": "school"}``); ``by_name`` lets the identifier box take the
    school's exact name as well."""
    names = {"school_id": "school_id", "identifier": "identifier", "nation": "nation", "urn": "urn"}
    names |= fields or {}
    before = len(problems.pairs)
    found: list[Found] = []
    if named.school_id is not None:
        found.append(_by_id(problems, prefix + names["school_id"], named.school_id))
    if _text(named.identifier):
        found.append(_by_identifier(problems, prefix, names, named, by_name))
    elif _text(named.nation) and school_identifiers.nation_of(named.nation) is None:
        problems.add(prefix + names["nation"], "Choose England, Wales, Scotland or Northern Ireland")
    if _text(named.urn):
        found.append(_by_urn(problems, prefix + names["urn"], _text(named.urn)))
    if len(problems.pairs) > before:
        return None
    if not found:
        problems.add(prefix + names["identifier"], f"Enter the school's {ANY_IDENTIFIER}")
        return None
    if len({f.school.id for f in found if f is not None}) > 1:
        problems.add(
            prefix + found[0].field,
            "The id, identifier and URN given name different schools: name it one way",
        )
        return None
    return found[0]


def _by_id(problems: Problems, field: str, school_id: object) -> Found | None:
    whole = isinstance(school_id, int) and not isinstance(school_id, bool)
    school = db.session.get(School, school_id) if whole else None
    if school is None:
        problems.add(field, f"No school with id {school_id}")
        return None
    return Found(school, field.rpartition(".")[2])


def _by_urn(problems: Problems, field: str, urn: str) -> Found | None:
    if not URN_PATTERN.match(urn):
        problems.add(field, "Enter a 6-digit URN")
        return None
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        problems.add(field, f"No school with URN {urn}")
        return None
    return Found(school, field.rpartition(".")[2])


def _by_identifier(
    problems: Problems, prefix: str, names: dict[str, str], named: SchoolNamed, by_name: bool
) -> Found | None:
    field, nation_field = prefix + names["identifier"], prefix + names["nation"]
    short = names["identifier"]
    text = " ".join(str(named.identifier).split())
    if _text(named.nation):
        nation = school_identifiers.nation_of(named.nation)
        if nation is None:
            problems.add(nation_field, "Choose England, Wales, Scotland or Northern Ireland")
            return None
        try:
            identifier = school_identifiers.normalise(nation, text)
        except school_identifiers.InvalidIdentifier as exc:
            if by_name:
                return _by_exact_name(problems, field, text, f"{exc}, or the school's full name", nation)
            problems.add(field, str(exc))
            return None
        school = db.session.execute(
            select(School).where(School.nation == nation, School.identifier == identifier)
        ).scalar_one_or_none()
        if school is None:
            problems.add(
                field, f"No school in {NATION_LABELS[nation]} with {IDENTIFIER_NAMES[nation]} {identifier}"
            )
            return None
        return Found(school, short)
    fits = {
        n: school_identifiers.normalise(n, text)
        for n in NATIONS
        if school_identifiers.problem(n, text) is None
    }
    if not fits:
        wanted = (
            "Enter the school's URN (6 digits), school number or SEED code (7 digits), or DE "
            "reference number (like 123-4567)"
        )
        if by_name:
            return _by_exact_name(problems, field, text, f"{wanted}, or its full name")
        problems.add(field, wanted)
        return None
    schools = list(
        db.session.execute(
            select(School).where(
                or_(*(and_(School.nation == n, School.identifier == i) for n, i in fits.items()))
            )
        ).scalars()
    )
    schools.sort(key=lambda s: NATIONS.index(s.nation))
    if not schools:
        problems.add(field, f"No school with {_names(list(fits))} {text}")
        return None
    if len(schools) > 1:
        where = _and_list([NATION_LABELS[s.nation] for s in schools])
        problems.add(nation_field, f"Schools in {where} have the number {text}: choose the school's nation")
        return None
    return Found(schools[0], short)


def _by_exact_name(
    problems: Problems, field: str, text: str, wanted: str, nation: str | None = None
) -> Found | None:
    """The school called ``text`` (any case); ``wanted`` (what to type) when none is."""
    query = select(School).where(func.lower(School.name) == text.lower()).limit(2)
    if nation is not None:
        query = query.where(School.nation == nation)
    schools = list(db.session.execute(query).scalars())
    if len(schools) > 1:
        problems.add(field, f"More than one school is called “{text}”: enter its {ANY_IDENTIFIER} instead")
    elif not schools:
        problems.add(field, wanted)
    return Found(schools[0], field.rpartition(".")[2]) if len(schools) == 1 else None


def audit_words(
    school: School, urn_key: str = "school_urn", label_key: str = "school"
) -> dict[str, str | None]:
    """What an audit entry records of a school it names: its URN under ``urn_key`` (as
    entries always have) and, for a school outside England (which has no URN), its identifier
    named by its nation under ``label_key`` ("SEED code 8412345")."""
    words: dict[str, str | None] = {urn_key: school.urn}
    if school.urn is None:
        words[label_key] = school.identifier_label
    return words
