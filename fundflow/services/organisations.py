"""Organisations: a council, or a partnership of councils, that runs funds (issue 15).

An organisation has a short slug, its name, its 360Giving funder identifier, the prefix of
every bid reference it issues (unique, so references stay unique across organisations), its
school-term calendar and its member local authorities. The first organisation is today's
council, made from the settings (``FUNDER_ORG_*`` and ``REFERENCE_PREFIX``) by the migration
that introduced organisations, or by :func:`home_organisation` on a database built without
migrations (tests, a fresh demo)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import NATIONS_BY_GSS_LETTER, TERM_CALENDARS, LocalAuthority, Organisation, User
from ..models.user import NO_PASSWORD
from . import audit
from .errors import Conflict, NotFound, NotPermitted, Problems
from .parsing import text_field
from .unit_of_work import retrying, transaction

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
#: Slugs that are addresses of the service administrator's pages (/service/organisations/new).
RESERVED_SLUGS = frozenset({"new"})
#: The 360Giving register prefixes of UK councils: English, Welsh, Scottish, Northern Irish.
FUNDER_ID_PREFIXES = ("GB-LAE-", "GB-PLA-", "GB-LAS-", "GB-LANI-")
FUNDER_ID_PATTERN = re.compile(r"^(GB-LAE-|GB-PLA-|GB-LAS-|GB-LANI-)[A-Z0-9]{2,20}$")
REFERENCE_PREFIX_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
GSS_PATTERN = re.compile(r"^[ENSW]\d{8}$")

#: Councils named by GSS code that can be given by code alone; any other is given as
#: ``CODE=Name`` the first time.
KNOWN_LOCAL_AUTHORITIES = {
    "E06000039": "Slough",
    # the West Partnership (Glasgow and its neighbours)
    "S12000049": "Glasgow City",
    "S12000045": "East Dunbartonshire",
    "S12000011": "East Renfrewshire",
    "S12000018": "Inverclyde",
    "S12000050": "North Lanarkshire",
    "S12000038": "Renfrewshire",
    "S12000029": "South Lanarkshire",
    "S12000039": "West Dunbartonshire",
    # the Central South Consortium (Wales)
    "W06000013": "Bridgend",
    "W06000015": "Cardiff",
    "W06000024": "Merthyr Tydfil",
    "W06000016": "Rhondda Cynon Taf",
    "W06000014": "Vale of Glamorgan",
}
#: The local authority a known funder identifier is (for the first organisation).
COUNCIL_OF_FUNDER = {"GB-LAE-SLG": "E06000039"}


def require_service_admin(user: User | None) -> None:
    """Only a service administrator makes organisations; ``None`` is the shell."""
    if user is not None and not user.has_role("service_admin"):
        raise NotPermitted("Only a service administrator can do this")


def has_working_administrator(organisation: Organisation) -> bool:
    """Whether an active administrator of ``organisation`` has taken up their account (set
    their password)."""
    found = db.session.execute(
        select(User.id)
        .where(
            User.organisation_id == organisation.id,
            User.role_rows.any(role="admin"),
            User.active.is_(True),
            User.password_hash.not_like(NO_PASSWORD + "%"),
        )
        .limit(1)
    ).first()
    return found is not None


def check_first_administrator(actor: User | None, roles: list[str], slug: str | None) -> None:
    """A service administrator hands an organisation over by making its first administrator:
    an account with the ``admin`` role alone, of a named organisation, while none of its
    administrators has taken up their account. Until then another may be made (a mistyped
    address); after that the organisation's own administrators add its staff."""
    require_service_admin(actor)
    if list(roles or []) != ["admin"]:
        raise NotPermitted("A service administrator makes only an organisation's first administrator")
    organisation = by_slug(slug or "")
    if has_working_administrator(organisation):
        raise Conflict(
            f"{organisation.name} already has an administrator: they add its staff",
            code="organisation_has_administrator",
        )


def by_slug(slug: str) -> Organisation:
    organisation = db.session.execute(
        select(Organisation).where(Organisation.slug == (slug or "").strip().lower())
    ).scalar_one_or_none()
    if organisation is None:
        raise NotFound(f"No organisation {slug!r}: create it first with create-organisation")
    return organisation


def home_organisation() -> Organisation:
    """The first organisation (the lowest id); made from the settings if there is none yet,
    without an audit event (like the migration that makes it: it is the deployment's own
    identity, not anyone's action)."""
    organisation = db.session.execute(
        select(Organisation).order_by(Organisation.id).limit(1)
    ).scalar_one_or_none()
    if organisation is not None:
        return organisation
    config = current_app.config
    funder_id = config["FUNDER_ORG_ID"]
    organisation = Organisation(
        slug=config["FUNDER_ORG_SLUG"],
        name=config["FUNDER_ORG_NAME"],
        funder_id=funder_id,
        reference_prefix=config["REFERENCE_PREFIX"],
        term_calendar="four_terms" if funder_id.startswith("GB-LAS-") else "three_terms",
        audit_genesis=audit.GENESIS_HASH,
    )
    if funder_id in COUNCIL_OF_FUNDER:
        organisation.local_authorities = _local_authorities(Problems(), [COUNCIL_OF_FUNDER[funder_id]])
    db.session.add(organisation)
    db.session.flush()
    return organisation


def _local_authorities(problems: Problems, codes: Iterable[str]) -> list[LocalAuthority]:
    """The local authorities named, made on first use: ``CODE`` (one of
    :data:`KNOWN_LOCAL_AUTHORITIES`, or already stored) or ``CODE=Name``."""
    found: list[LocalAuthority] = []
    for given in codes:
        code, _, name = (given or "").partition("=")
        code, name = code.strip().upper(), name.strip()
        if not GSS_PATTERN.match(code):
            problems.add("local_authorities", f"{given!r} is not a GSS code like E06000039 or S12000049")
            continue
        authority = db.session.execute(
            select(LocalAuthority).where(LocalAuthority.gss_code == code)
        ).scalar_one_or_none()
        if authority is None:
            name = name or KNOWN_LOCAL_AUTHORITIES.get(code, "")
            if not name:
                problems.add("local_authorities", f"Name the council with GSS code {code}: give {code}=Name")
                continue
            authority = LocalAuthority(gss_code=code, name=name[:200], nation=NATIONS_BY_GSS_LETTER[code[0]])
            db.session.add(authority)
        if authority not in found:
            found.append(authority)
    return found


def _identity(
    problems: Problems, slug: str, name: str, funder_id: str, reference_prefix: str
) -> tuple[str, str, str, str]:
    """An organisation's slug, name, funder identifier and reference prefix, cleaned, with
    what is wrong with them added to ``problems``."""
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        problems.add("slug", "Use 2 to 40 lower-case letters, digits and hyphens, starting with a letter")
    elif slug in RESERVED_SLUGS:
        problems.add("slug", f"{slug!r} is kept for the service's own pages: choose another slug")
    name = text_field(problems, "name", name, required=True, limit=200)
    funder_id = (funder_id or "").strip().upper()
    if not FUNDER_ID_PATTERN.match(funder_id):
        problems.add(
            "funder_id",
            f"Give the 360Giving identifier of a council: {', '.join(FUNDER_ID_PREFIXES)} and its code",
        )
    reference_prefix = (reference_prefix or "").strip().upper()
    if not REFERENCE_PREFIX_PATTERN.match(reference_prefix):
        problems.add("reference_prefix", "Use 2 to 12 capital letters and digits, starting with a letter")
    return slug, name, funder_id, reference_prefix


def check_organisation(
    *,
    slug: str,
    name: str,
    funder_id: str,
    reference_prefix: str,
    local_authorities: Iterable[str],
    term_calendar: str | None = None,
) -> None:
    """The checks of :func:`create_organisation` that need no database, and write nothing:
    a form whose own checks failed shows these with them, in one pass."""
    problems = Problems()
    _identity(problems, slug, name, funder_id, reference_prefix)
    for given in local_authorities:
        if not GSS_PATTERN.match((given or "").partition("=")[0].strip().upper()):
            problems.add("local_authorities", f"{given!r} is not a GSS code like E06000039 or S12000049")
    if term_calendar is not None and term_calendar not in TERM_CALENDARS:
        problems.add("term_calendar", f"Choose one of {', '.join(TERM_CALENDARS)}")
    problems.raise_if_any()


@retrying
def create_organisation(
    actor: User | None,
    *,
    slug: str,
    name: str,
    funder_id: str,
    reference_prefix: str,
    local_authorities: Iterable[str],
    term_calendar: str | None = None,
) -> Organisation:
    """A new council or partnership. ``term_calendar`` None: four terms if every member
    council is Scottish, else three."""
    require_service_admin(actor)
    problems = Problems()
    slug, name, funder_id, reference_prefix = _identity(problems, slug, name, funder_id, reference_prefix)
    with transaction():
        authorities = _local_authorities(problems, local_authorities)
        if not authorities and not any(field == "local_authorities" for field, _ in problems.pairs):
            problems.add("local_authorities", "Name at least one member council by its GSS code")
        if term_calendar is None:
            scottish = authorities and all(a.nation == "scotland" for a in authorities)
            term_calendar = "four_terms" if scottish else "three_terms"
        if term_calendar not in TERM_CALENDARS:
            problems.add("term_calendar", f"Choose one of {', '.join(TERM_CALENDARS)}")
        problems.raise_if_any()
        if db.session.execute(select(Organisation.id).where(Organisation.slug == slug)).first():
            raise Conflict(f"There is already an organisation {slug!r}", code="duplicate_slug")
        taken = db.session.execute(
            select(Organisation.slug).where(Organisation.reference_prefix == reference_prefix)
        ).scalar_one_or_none()
        if taken is not None:
            raise Conflict(
                f"The reference prefix {reference_prefix} is {taken}'s: bid references must stay unique",
                code="duplicate_reference_prefix",
            )
        organisation = Organisation(
            slug=slug,
            name=name,
            funder_id=funder_id,
            reference_prefix=reference_prefix,
            term_calendar=term_calendar,
            local_authorities=authorities,
            audit_genesis=secrets.token_hex(32),
        )
        db.session.add(organisation)
        db.session.flush()
        audit.record(
            actor,
            "create_organisation",
            organisation,
            payload={
                "slug": slug,
                "name": name,
                "funder_id": funder_id,
                "reference_prefix": reference_prefix,
                "term_calendar": term_calendar,
                "local_authorities": [a.gss_code for a in authorities],
            },
        )
    return organisation
