"""What an administrator manages: funds and their rules, schools, users and their roles.
Administrators take no part in decisions or payments."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import (
    ROLES,
    ROLES_WITHOUT_ORGANISATION,
    Application,
    Fund,
    LocalAuthority,
    Organisation,
    School,
    SetPasswordLink,
    User,
    UserRole,
    utcnow,
)
from ..models.user import NO_PASSWORD
from . import access, audit, organisations, school_identifiers, school_lookup
from .errors import Conflict, InvalidTransition, NotFound, NotPermitted, Problems, ValidationFailed
from .parsing import clean_text, text_field, to_date
from .sessions import end_access, hash_token
from .terms import CADENCES
from .unit_of_work import lock, retrying, transaction

URN_PATTERN = re.compile(r"^\d{6}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FINANCIAL_YEAR = re.compile(r"^\d{4}-\d{2}$")
MIN_PASSWORD = 12


def require_admin(user: User | None) -> None:
    """Only admins manage; ``None`` is the shell (the CLI acts as the system)."""
    if user is not None and not user.has_role("admin"):
        raise NotPermitted("Only an administrator can do this")


def require_manages(actor: User | None, user: User) -> None:
    """An organisation's administrator manages only its staff and its schools' headteachers:
    anyone else's account is "not found" to them."""
    require_admin(actor)
    if not access.manages_user(actor, user):
        raise NotFound(f"No user {user.id}")


def in_actors_organisation(actor: User | None, data: UserInput) -> UserInput:
    """Staff an organisation's administrator adds work for that organisation: naming
    another is refused, naming none means theirs. The shell may name any."""
    if actor is None or actor.organisation_id is None:
        return data
    own = db.session.get(Organisation, actor.organisation_id)
    if data.organisation_slug and data.organisation_slug.strip().lower() != own.slug:
        raise ValidationFailed({"organisation": ["You can add staff to your own organisation only"]})
    staff = any(role not in ROLES_WITHOUT_ORGANISATION for role in data.roles or [])
    return replace(data, organisation_slug=own.slug if staff else None)


# ------------------------------------------------------------------------------- funds


@dataclass(frozen=True)
class FundInput:
    name: str
    financial_year: str
    budget_pence: int
    opens_on: date | str
    closes_on: date | str
    max_daily_rate_pence: int
    max_award_pence: int | None = None
    countersign_threshold_pence: int | None = None
    requires_partner_endorsement: bool = False
    #: The last day of delivery (claims may cover days up to it); after ``closes_on``.
    #: Left out, it is a year after the fund closes.
    delivery_ends_on: date | str | None = None
    #: When awards send interim impact reports (a key of ``terms.CADENCES``).
    report_cadence: str = "termly"
    #: The final report is due this many whole weeks after a bid's last measure.
    final_report_weeks: int = 6
    #: Backfill is claimed within this many whole weeks of each activity's end.
    claim_deadline_weeks: int = 4
    #: The GSS codes of the member councils whose schools may bid, each one of the fund's
    #: organisation's; none given: every member council of the organisation.
    local_authorities: tuple[str, ...] = ()


#: The whole-week limits of a fund's monitoring schedule settings.
FINAL_REPORT_WEEKS = (0, 52)
CLAIM_DEADLINE_WEEKS = (0, 26)


def _weeks(problems: Problems, name: str, value: Any, limits: tuple[int, int]) -> int | None:
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(name, f"Enter a whole number of weeks from {low} to {high}")
        return None
    return value


def _pence(problems: Problems, name: str, value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.add(name, "Enter an amount in pence, more than 0")
        return None
    if value > 10**13:
        problems.add(name, "That amount is too large")
        return None
    return value


def _validated_fund(data: FundInput) -> dict[str, Any]:
    problems = Problems()
    values = {
        "name": text_field(problems, "name", data.name, required=True, limit=200),
        "financial_year": clean_text(data.financial_year),
        "budget_pence": _pence(problems, "budget_pence", data.budget_pence),
        "opens_on": to_date(data.opens_on),
        "closes_on": to_date(data.closes_on),
        "max_daily_rate_pence": _pence(problems, "max_daily_rate_pence", data.max_daily_rate_pence),
        "max_award_pence": _pence(problems, "max_award_pence", data.max_award_pence, optional=True),
        "countersign_threshold_pence": _pence(
            problems, "countersign_threshold_pence", data.countersign_threshold_pence, optional=True
        ),
        "requires_partner_endorsement": data.requires_partner_endorsement,
        "report_cadence": data.report_cadence,
        "final_report_weeks": _weeks(
            problems, "final_report_weeks", data.final_report_weeks, FINAL_REPORT_WEEKS
        ),
        "claim_deadline_weeks": _weeks(
            problems, "claim_deadline_weeks", data.claim_deadline_weeks, CLAIM_DEADLINE_WEEKS
        ),
    }
    if not isinstance(values["report_cadence"], str) or values["report_cadence"] not in CADENCES:
        problems.add("report_cadence", "Choose when awards send interim reports")
    if not FINANCIAL_YEAR.match(values["financial_year"]):
        problems.add("financial_year", "Enter the financial year like 2026-27")
    if values["opens_on"] is None:
        problems.add("opens_on", "Enter the opening date as YYYY-MM-DD")
    if values["closes_on"] is None:
        problems.add("closes_on", "Enter the closing date as YYYY-MM-DD")
    elif values["opens_on"] and values["closes_on"] < values["opens_on"]:
        problems.add("closes_on", "The fund must close on or after it opens")
    values["delivery_ends_on"] = _delivery_end(problems, data.delivery_ends_on, values["closes_on"])
    if not isinstance(values["requires_partner_endorsement"], bool):
        problems.add("requires_partner_endorsement", "Answer yes or no")
    budget, max_award = values["budget_pence"], values["max_award_pence"]
    if budget and max_award and max_award > budget:
        problems.add("max_award_pence", "The largest award cannot be more than the budget")
    problems.raise_if_any()
    return values


def check_fund(data: FundInput) -> None:
    """Raise :class:`ValidationFailed` with every problem :func:`create_fund` or
    :func:`update_fund` would find in ``data``, saving nothing (a fund form with its own
    errors shows these as well)."""
    _validated_fund(data)


def _delivery_end(problems: Problems, value: Any, closes_on: date | None) -> date | None:
    """The end of the delivery period: after the fund closes (a year after, when not given)."""
    if value is None or value == "":
        if closes_on and closes_on.year >= date.max.year:
            problems.add("delivery_ends_on", "Enter the end of the delivery period, after the fund closes")
            return None
        return a_year_after(closes_on) if closes_on else None
    day = to_date(value)
    if day is None:
        problems.add("delivery_ends_on", "Enter the end of the delivery period as YYYY-MM-DD")
    elif closes_on and day <= closes_on:
        problems.add("delivery_ends_on", "The delivery period must end after the fund closes")
    return day


def a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + timedelta(days=365)


def _fund_payload(fund: Fund) -> dict[str, Any]:
    payload = {f.name: getattr(fund, f.name) for f in fields(FundInput) if f.name != "local_authorities"}
    payload["local_authorities"] = [authority.gss_code for authority in fund.local_authorities]
    return payload


def _fund_councils(problems: Problems, organisation: Organisation, codes: Any) -> list[LocalAuthority]:
    """The councils whose schools may bid into a fund of ``organisation``: those named by
    GSS code, each one of its member councils; none named, every member council (stored, so
    a council joining the organisation later does not silently widen an existing fund)."""
    members = {authority.gss_code: authority for authority in organisation.local_authorities}
    if isinstance(codes, str) or not isinstance(codes, list | tuple):
        problems.add("local_authorities", "Give the councils as a list of GSS codes, like S12000049")
        return []
    chosen: list[LocalAuthority] = []
    for code in codes:
        authority = members.get(code.strip().upper() if isinstance(code, str) else "")
        if authority is None:
            names = ", ".join(f"{a.name} ({a.gss_code})" for a in organisation.local_authorities)
            problems.add(
                "local_authorities",
                f"{str(code)[:20]!r} is not a member council of {organisation.name}: choose from {names}",
            )
        elif authority not in chosen:
            chosen.append(authority)
    return sorted(chosen, key=lambda a: a.name) or list(organisation.local_authorities)


def member_councils(user: User | None) -> list[LocalAuthority]:
    """The member councils of the organisation ``user`` administers (the first
    organisation for the shell), by name: the councils a fund form offers."""
    return list(_organisation_of(user).local_authorities)


def _organisation_of(user: User | None) -> Organisation:
    if user is not None and user.organisation_id is not None:
        return db.session.get(Organisation, user.organisation_id)
    return organisations.home_organisation()


@retrying
def create_fund(user: User | None, data: FundInput, organisation: Organisation | None = None) -> Fund:
    """A fund of ``organisation``: by default the admin's own (the first organisation for the
    shell), taking bids from every one of its member councils' schools."""
    require_admin(user)
    fund = Fund(**_validated_fund(data))
    with transaction():
        if organisation is None:
            organisation = _organisation_of(user)
        problems = Problems()
        councils = _fund_councils(problems, organisation, data.local_authorities)
        problems.raise_if_any()
        fund.organisation = organisation
        fund.local_authorities = councils
        db.session.add(fund)
        db.session.flush()
        audit.record(user, "create_fund", fund, payload=_fund_payload(fund))
    return fund


def fund_has_bids(fund: Fund) -> bool:
    return (
        db.session.execute(
            select(func.count(Application.id)).where(Application.fund_id == fund.id)
        ).scalar_one()
        > 0
    )


@retrying
def update_fund(user: User | None, fund: Fund, data: FundInput) -> Fund:
    """Rules change only while nobody has bid: a bid is judged by the rules it was made under."""
    require_admin(user)
    values = _validated_fund(data)
    with transaction():
        fund = lock(Fund, fund.id)
        if fund_has_bids(fund):
            raise InvalidTransition("The fund's rules cannot change once schools have bid")
        problems = Problems()
        councils = _fund_councils(problems, fund.organisation, data.local_authorities)
        problems.raise_if_any()
        for name, value in values.items():
            setattr(fund, name, value)
        fund.local_authorities = councils
        audit.record(user, "update_fund", fund, payload=_fund_payload(fund))
    return fund


# ------------------------------------------------------------------------------ schools


@dataclass(frozen=True)
class SchoolInput:
    """A school as an admin, the API or an import gives it. English schools may be given by
    ``urn`` alone (as before); the other nations by ``nation`` and ``identifier``."""

    urn: str | None = None
    name: str = ""
    phase: str = ""
    la_code: str = ""
    la_name: str = ""
    trust: str = ""
    establishment_type: str = ""
    postcode: str = ""
    causing_concern: bool = False
    nation: str = "england"
    identifier: str | None = None
    gss_code: str = ""


GSS_PATTERN = re.compile(r"^[ENSW]\d{8}$")


def _identity(problems: Problems, data: SchoolInput) -> dict[str, Any]:
    """The school's nation, its normalised identifier and (English schools) its URN."""
    nation = school_identifiers.nation_of(data.nation if isinstance(data.nation, str) else "")
    if nation is None:
        problems.add("nation", "Choose England, Wales, Scotland or Northern Ireland")
        return {}
    urn = clean_text(data.urn) if isinstance(data.urn, str) else str(data.urn or "")
    given = clean_text(data.identifier) if isinstance(data.identifier, str) else str(data.identifier or "")
    field = "identifier" if given or nation != "england" else "urn"
    if nation == "england" and urn and given and urn != given:
        problems.add("identifier", "An English school's identifier is its URN: give one, or make them match")
        return {}
    if nation != "england" and urn:
        problems.add("urn", "Only English schools have a URN: give the school's identifier instead")
        return {}
    try:
        identifier = school_identifiers.normalise(nation, given or urn)
    except school_identifiers.InvalidIdentifier as exc:
        problems.add(field, str(exc))
        return {}
    return {"nation": nation, "identifier": identifier, "urn": identifier if nation == "england" else None}


def validate_school(data: SchoolInput) -> dict[str, Any]:
    problems = Problems()
    values = _identity(problems, data)
    gss_code = clean_text(data.gss_code).upper() if isinstance(data.gss_code, str) else ""
    if gss_code and not GSS_PATTERN.match(gss_code):
        problems.add(
            "gss_code", "Enter the local authority's 9-character GSS code, like W06000015, or leave it blank"
        )
    values |= {
        "name": text_field(problems, "name", data.name, required=True, limit=200),
        "phase": text_field(problems, "phase", data.phase or "", required=False, limit=60),
        "la_code": text_field(problems, "la_code", data.la_code or "", required=False, limit=10),
        "la_name": text_field(problems, "la_name", data.la_name or "", required=False, limit=120),
        "trust": text_field(problems, "trust", data.trust or "", required=False, limit=200),
        "establishment_type": text_field(
            problems, "establishment_type", data.establishment_type or "", required=False, limit=120
        ),
        "postcode": text_field(problems, "postcode", data.postcode or "", required=False, limit=12),
        "causing_concern": data.causing_concern,
        "gss_code": gss_code,
    }
    if not isinstance(data.causing_concern, bool):
        problems.add("causing_concern", "Answer yes or no")
    problems.raise_if_any()
    return values


@retrying
def create_school(user: User | None, data: SchoolInput) -> School:
    require_admin(user)
    values = validate_school(data)
    nation, identifier = values["nation"], values["identifier"]
    taken = select(School.id).where(School.nation == nation, School.identifier == identifier)
    if db.session.execute(taken).first():
        if nation == "england":
            raise Conflict(f"A school with URN {identifier} already exists", code="duplicate_urn")
        name = school_identifiers.IDENTIFIER_NAMES[nation]
        raise Conflict(f"A school with {name} {identifier} already exists", code="duplicate_school")
    school = School(**values)
    with transaction():
        db.session.add(school)
        db.session.flush()
        audit.record(
            user,
            "create_school",
            school,
            payload={
                "urn": school.urn,
                "nation": school.nation,
                "identifier": school.identifier,
                "name": school.name,
                "causing_concern": school.causing_concern,
            },
        )
    return school


@retrying
def set_causing_concern(user: User | None, school: School, causing_concern: bool) -> School:
    require_admin(user)
    with transaction():
        school.causing_concern = bool(causing_concern)
        audit.record(
            user,
            "update_school",
            school,
            payload={"urn": school.urn, "causing_concern": school.causing_concern},
        )
    return school


def school_by_urn(urn: str) -> School:
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        raise NotFound(f"No school with URN {urn}")
    return school


def school_by_id(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound(f"No school {school_id}")
    return school


# -------------------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserInput:
    email: str
    name: str
    roles: list[str]
    #: None: the person sets their own with a one-time link (:func:`create_user_with_link`).
    password: str | None = None
    school_urn: str | None = None
    #: The person's school by its id: any nation's school (``school_urn`` names English ones).
    school_id: int | None = None
    #: The person's school as an admin types it: its identifier in any nation (with
    #: ``school_nation`` when the number fits schools in two nations) or its exact name.
    school: str | None = None
    school_nation: str | None = None
    #: The slug of the organisation a member of council staff works for; None: the first
    #: organisation (headteachers and service administrators belong to none).
    organisation_slug: str | None = None


def _validated_roles(problems: Problems, roles: list[str], school: School | None) -> list[str]:
    chosen = []
    for role in roles or []:
        if role not in ROLES:
            problems.add("roles", f"{role!r} is not a role; choose from {', '.join(ROLES)}")
        elif role not in chosen:
            chosen.append(role)
    if not chosen:
        problems.add("roles", "Choose at least one role")
    if "admin" in chosen and ({"liaison_officer", "finance"} & set(chosen)):
        problems.add(
            "roles", "An administrator takes no part in decisions or payments: not with liaison or finance"
        )
    if "service_admin" in chosen and len(chosen) > 1:
        problems.add("roles", "A service administrator sees no bids: give them no other role")
    if "headteacher" in chosen and school is None:
        problems.add(
            "school_urn", "A headteacher belongs to a school: give its URN, school number, SEED code or name"
        )
    return chosen


def _school_for(
    problems: Problems,
    urn: str | None,
    school_id: int | None = None,
    school: str | None = None,
    nation: str | None = None,
) -> School | None:
    """The person's school, named any of the ways :class:`UserInput` allows; ``None`` when
    none is given (or with a problem, when the one given names no single school)."""
    named = school_lookup.SchoolNamed(school_id, school, nation, urn)
    if school_id is None and not (school or "").strip() and not (urn or "").strip():
        return None
    fields = {"identifier": "school", "nation": "school_nation", "urn": "school_urn"}
    found = school_lookup.find(problems, named, fields=fields, by_name=True)
    return found.school if found else None


def _organisation_for(problems: Problems, slug: str | None, roles: list[str]) -> Organisation | None:
    """Council staff work for one organisation (the first when none is named); headteachers
    and service administrators for none."""
    slug = (slug or "").strip()
    staff = any(role not in ROLES_WITHOUT_ORGANISATION for role in roles)
    if not staff:
        if slug:
            problems.add("organisation", "Only council staff belong to an organisation")
        return None
    if not slug:
        return organisations.home_organisation()
    try:
        return organisations.by_slug(slug)
    except NotFound as exc:
        problems.add("organisation", exc.message)
        return None


def check_password(problems: Problems, password: str, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        problems.add(field, f"Use a password of at least {MIN_PASSWORD} characters")
    elif len(password) > 200:
        problems.add(field, "Use a password of 200 characters or fewer")


def hash_password(password: str) -> str:
    """Werkzeug's hash (scrypt by default; tests choose a faster method in config)."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def normalise_email(email: Any) -> str:
    return email.strip().lower() if isinstance(email, str) else ""


def _new_user(data: UserInput) -> User:
    """A checked, unsaved User; without a password when ``data.password`` is None."""
    problems = Problems()
    email = normalise_email(data.email)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        problems.add("email", "Enter an email address like name@school.org.uk")
    name = text_field(problems, "name", data.name, required=True, limit=200)
    school = _school_for(problems, data.school_urn, data.school_id, data.school, data.school_nation)
    roles = _validated_roles(problems, data.roles, school)
    organisation = _organisation_for(problems, data.organisation_slug, roles)
    if data.password is not None:
        check_password(problems, data.password)
    problems.raise_if_any()
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict(f"There is already an account for {email}", code="duplicate_email")
    return User(
        email=email,
        name=name,
        # No password yet: a marker no password hash matches, so nothing signs in with it.
        password_hash=(
            hash_password(data.password) if data.password is not None else NO_PASSWORD + secrets.token_hex(8)
        ),
        school_id=school.id if school else None,
        school=school,
        organisation_id=organisation.id if organisation else None,
        role_rows=[UserRole(role=r) for r in roles],
    )


def _add_user(actor: User | None, user: User) -> None:
    """Inside a transaction: save ``user`` and record its creation."""
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "create_user",
        user,
        payload={
            "email": user.email,
            "roles": user.roles,
            **(school_lookup.audit_words(user.school) if user.school else {"school_urn": None}),
        },
    )


@retrying
def create_user(actor: User | None, data: UserInput) -> User:
    """An account with the password given (the command line's ``create-user --password``)."""
    require_admin(actor)
    user = _new_user(in_actors_organisation(actor, data))
    with transaction():
        _add_user(actor, user)
    return user


@retrying
def create_user_with_link(actor: User | None, data: UserInput) -> tuple[User, str]:
    """An account without a password, and the secret of its one-time set-password link,
    for the administrator to pass on: nobody but the person ever knows their password. A
    service administrator makes only an organisation's first administrator
    (:func:`organisations.check_first_administrator`)."""
    if actor is not None and actor.has_role("service_admin"):
        organisations.check_first_administrator(actor, data.roles, data.organisation_slug)
    else:
        require_admin(actor)
        data = in_actors_organisation(actor, data)
    user = _new_user(replace(data, password=None))
    with transaction():
        _add_user(actor, user)
        token = _new_set_password_link(actor, user)
    return user, token


@retrying
def issue_set_password_link(actor: User | None, user: User) -> str:
    """A fresh set-password link for an existing account (a new starter who lost theirs, or a
    forgotten password); any earlier link stops working. Returns the link's secret."""
    require_manages(actor, user)
    if not user.active:
        raise InvalidTransition("Reactivate the account before making a set-password link")
    with transaction():
        token = _new_set_password_link(actor, user)
    return token


def _new_set_password_link(actor: User | None, user: User) -> str:
    """Inside a transaction: replace ``user``'s set-password link and email it to them (the
    outbox); only its hash is kept."""
    db.session.execute(delete(SetPasswordLink).where(SetPasswordLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=current_app.config["SET_PASSWORD_LINK_HOURS"])
    db.session.add(
        SetPasswordLink(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
    )
    audit.record(
        actor,
        "issue_set_password_link",
        user,
        payload={"email": user.email, "expires_at": expires_at.isoformat(timespec="seconds")},
    )
    from .auth import send_set_password_email  # here: auth imports this module

    send_set_password_email(user, token)
    return token


@retrying
def update_user(
    actor: User | None,
    user: User,
    *,
    roles: list[str],
    active: bool,
    school_urn: str | None = None,
    school: str | None = None,
    school_nation: str | None = None,
) -> User:
    """Change roles, school or active flag. Users are never deleted. The school is named by
    an English URN (``school_urn``) or, in any nation, by ``school`` (see :class:`UserInput`)."""
    require_manages(actor, user)
    problems = Problems()
    school = _school_for(problems, school_urn, None, school, school_nation)
    chosen = _validated_roles(problems, roles, school)
    if actor is not None and actor.id == user.id and (not active or "admin" not in chosen):
        problems.add("roles", "You cannot remove your own administrator access")
    problems.raise_if_any()
    before = {"roles": user.roles, "active": user.active, "school_id": user.school_id}
    with transaction():
        user.role_rows = [UserRole(role=r) for r in chosen]
        user.school_id = school.id if school else None
        ended = {}
        if user.active and not active:
            # Deactivating signs them out everywhere and revokes their API tokens, so
            # reactivating the account later does not bring old sessions or tokens back.
            ended = end_access(user)
            db.session.execute(delete(SetPasswordLink).where(SetPasswordLink.user_id == user.id))
        user.active = bool(active)
        audit.record(
            actor,
            "update_user",
            user,
            payload={
                "email": user.email,
                "before": before,
                "after": {"roles": chosen, "active": user.active, "school_id": user.school_id},
                **ended,
            },
        )
    return user
