"""Who may see what (least privilege). Records a user may not see are "not found"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, union
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import (
    Application,
    ApplicationPartner,
    BackfillClaim,
    Disbursement,
    Fund,
    ImpactReport,
    LocalAuthority,
    ScheduleItem,
    School,
    User,
    organisation_local_authorities,
)
from . import eligibility
from .errors import NotFound

RowT = TypeVar("RowT", BackfillClaim, Disbursement, ImpactReport, ScheduleItem)

#: Roles that see every application of their organisation: they review, pay or audit
#: across schools.
SEE_ALL_ROLES = ("liaison_officer", "finance", "auditor")
#: Council staff: they belong to one organisation and see only its records.
STAFF_ROLES = (*SEE_ALL_ROLES, "admin")


def sees_all_applications(user: User) -> bool:
    """True for liaison officers, finance and auditors: every bid *of their organisation*."""
    return any(user.has_role(role) for role in SEE_ALL_ROLES)


def is_staff(user: User) -> bool:
    return any(user.has_role(role) for role in STAFF_ROLES)


def staff_organisation(user: User) -> int | None:
    """The organisation whose records ``user`` sees as council staff; None when they see no
    organisation's (a headteacher, a service administrator, or staff of no organisation)."""
    return user.organisation_id if is_staff(user) else None


def organisation_funds(user: User) -> Select:
    """The ids of the funds ``user``'s organisation runs (none for someone of no organisation),
    as a subquery for ``fund_id IN (…)``: the one rule that keeps each organisation's
    records from every other's."""
    organisation_id = staff_organisation(user)
    query = select(Fund.id)
    if organisation_id is None:
        return query.where(false())
    return query.where(Fund.organisation_id == organisation_id)


def organisation_fund_ids(user: User) -> list[int]:
    """The ids of the funds ``user``'s organisation runs, read now (an organisation runs a
    handful): written into a statement as values, they let the planner see how many bids
    they keep, where a subquery leaves it guessing (and a guess of "half" picked slower
    plans for every list). A fund made later is not in it: it cannot be another's. Read
    once per request (a page's queue tabs ask eight times)."""
    organisation_id = staff_organisation(user)
    if not has_request_context():
        return list(db.session.execute(organisation_funds(user)).scalars())
    # kept with the request itself (``g`` can outlive it, in an app context pushed around it)
    kept = request.environ.setdefault("fundflow.organisation_fund_ids", {})
    if organisation_id not in kept:
        kept[organisation_id] = list(db.session.execute(organisation_funds(user)).scalars())
    return kept[organisation_id]


def in_organisation(user: User, fund_id_column: Any, fund_id: int | None = None) -> ColumnElement[bool]:
    """``fund_id_column`` (a ``fund_id``) kept to ``fund_id`` if given, and to the funds of
    ``user``'s organisation: another organisation's fund (or none) keeps nothing."""
    if fund_id is None:
        return fund_id_column.in_(organisation_fund_ids(user))
    fund = db.session.get(Fund, fund_id)
    return fund_id_column == fund_id if fund is not None and runs_fund(user, fund) else false()


def schools_of_organisation(organisation_id: int) -> Select:
    """The ids of the schools an organisation's staff look after: those in its member
    councils (by GSS code, or by council name for English schools, which carry none), those
    whose council is not known, and those taking part in its funds' bids (a partner may come
    from elsewhere)."""
    councils = (
        select(LocalAuthority.gss_code, LocalAuthority.name)
        .join(
            organisation_local_authorities,
            organisation_local_authorities.c.local_authority_id == LocalAuthority.id,
        )
        .where(organisation_local_authorities.c.organisation_id == organisation_id)
        .subquery()
    )
    bids = select(Application.id).where(
        Application.fund_id.in_(select(Fund.id).where(Fund.organisation_id == organisation_id))
    )
    return union(
        select(School.id).where(School.gss_code.in_(select(councils.c.gss_code))),
        select(School.id).where(
            School.gss_code == "", func.lower(School.la_name).in_(select(func.lower(councils.c.name)))
        ),
        # a school whose council is not known is no organisation's to turn away (as in
        # eligibility: any fund takes its bids)
        select(School.id).where(School.gss_code == "", School.la_name == ""),
        select(Application.lead_school_id).where(Application.id.in_(bids)),
        select(ApplicationPartner.school_id).where(ApplicationPartner.application_id.in_(bids)),
    )


def managed_users_condition(actor: User) -> ColumnElement[bool]:
    """The accounts an organisation's administrator manages, as a condition on
    :class:`User`: their organisation's staff, and the headteachers (of no organisation) of
    the schools it looks after (:func:`schools_of_organisation`). Nobody else's."""
    organisation_id = staff_organisation(actor)
    if organisation_id is None or not actor.has_role("admin"):
        return false()
    return or_(
        User.organisation_id == organisation_id,
        and_(User.organisation_id.is_(None), User.school_id.in_(schools_of_organisation(organisation_id))),
    )


def manages_user(actor: User | None, user: User) -> bool:
    """Whether ``actor`` (None: the shell) may manage ``user``'s account."""
    if actor is None:
        return True
    return (
        db.session.execute(select(User.id).where(User.id == user.id, managed_users_condition(actor))).first()
        is not None
    )


def funds_seen_by(viewer: User | None, fund_id_column: Any, fund_id: int | None) -> list[Any]:
    """Conditions keeping ``fund_id_column`` to the fund asked for (if any) within
    ``viewer``'s organisation (:func:`in_organisation`); without a viewer (the shell, which
    sees the whole deployment), to the fund asked for alone."""
    if viewer is not None:
        return [in_organisation(viewer, fund_id_column, fund_id)]
    return [fund_id_column == fund_id] if fund_id is not None else []


def funds_condition(user: User) -> ColumnElement[bool]:
    """The funds ``user`` sees, as a condition on :class:`Fund`: council staff, their
    organisation's; a headteacher, the funds their school may bid into (whichever
    organisation runs them) and those of the bids it takes part in; anyone else, none."""
    organisation_id = staff_organisation(user)
    if organisation_id is not None:
        return Fund.organisation_id == organisation_id
    if user.has_role("headteacher") and user.school is not None:
        taking_part = visible_applications(user, as_headteacher=True).with_only_columns(Application.fund_id)
        return or_(eligibility.open_to_school_condition(user.school), Fund.id.in_(taking_part))
    return false()


def visible_applications(user: User, *, as_headteacher: bool = False) -> Select:
    """A SELECT of the applications ``user`` may see. ``as_headteacher`` limits it to bids
    their own school takes part in, whatever other roles they hold (a seconded headteacher
    is also a liaison officer, but their school's pages show their school's bids). Staff see
    their own organisation's bids only."""
    query = select(Application)
    if sees_all_applications(user) and not as_headteacher:
        return query.where(in_organisation(user, Application.fund_id))
    if user.has_role("headteacher") and user.school_id is not None:
        # a UNION of two index lookups, not "lead = s OR EXISTS (…)", which no index answers
        # and so reads every bid
        taking_part = union(
            select(Application.id).where(Application.lead_school_id == user.school_id),
            select(ApplicationPartner.application_id).where(ApplicationPartner.school_id == user.school_id),
        )
        return query.where(Application.id.in_(taking_part))
    return query.where(false())


def runs_fund(user: User, fund: Fund) -> bool:
    """True if ``fund`` is run by ``user``'s organisation (``user`` being council staff)."""
    organisation_id = staff_organisation(user)
    return organisation_id is not None and fund.organisation_id == organisation_id


def can_see(user: User, application: Application, *, as_headteacher: bool = False) -> bool:
    if sees_all_applications(user) and not as_headteacher and runs_fund(user, application.fund):
        return True
    return (
        user.has_role("headteacher")
        and user.school_id is not None
        and user.school_id in application.school_ids()
    )


def get_application(user: User, reference: str, *, as_headteacher: bool = False) -> Application:
    """The bid ``reference`` if ``user`` may see it. Its partners, activities and measures load
    when first read: an action locks and reloads the bid whole anyway, so loading them here
    too would read them twice."""
    application = db.session.execute(
        select(Application)
        .where(Application.reference == reference)
        .options(*(lazyload(getattr(Application, name)) for name in ("partners", "activities", "measures")))
    ).scalar_one_or_none()
    if application is None or not can_see(user, application, as_headteacher=as_headteacher):
        raise NotFound(f"No application {reference}")
    return application


def _get_visible(
    user: User, model: type[RowT], row_id: int, what: str, application_of: Callable[[RowT], Application]
) -> RowT:
    """The ``model`` row ``row_id`` if the bid it belongs to is one ``user`` may see;
    otherwise NotFound, the same answer as for a row that does not exist."""
    row = db.session.get(model, row_id)
    if row is None or not can_see(user, application_of(row)):
        raise NotFound(f"No {what} {row_id}")
    return row


def get_claim(user: User, claim_id: int) -> BackfillClaim:
    return _get_visible(user, BackfillClaim, claim_id, "claim", lambda claim: claim.application)


def get_disbursement(user: User, disbursement_id: int) -> Disbursement:
    return _get_visible(user, Disbursement, disbursement_id, "disbursement", lambda d: d.claim.application)


def get_report(user: User, report_id: int) -> ImpactReport:
    return _get_visible(user, ImpactReport, report_id, "impact report", lambda report: report.application)


def get_schedule_item(user: User, item_id: int) -> ScheduleItem:
    return _get_visible(user, ScheduleItem, item_id, "schedule item", lambda item: item.application)


def get_fund(user: User, fund_id: int) -> Fund:
    """The fund ``fund_id`` if ``user`` may see it (:func:`funds_condition`): another
    organisation's fund is "not found" to council staff, the same answer as a fund that does
    not exist."""
    fund = db.session.get(Fund, fund_id)
    if fund is None or not (runs_fund(user, fund) or _headteacher_sees_fund(user, fund)):
        raise NotFound(f"No fund {fund_id}")
    return fund


def _headteacher_sees_fund(user: User, fund: Fund) -> bool:
    if staff_organisation(user) is not None or not user.has_role("headteacher") or user.school is None:
        return False
    if eligibility.school_may_bid(user.school, fund):
        return True
    taking_part = visible_applications(user, as_headteacher=True).where(Application.fund_id == fund.id)
    return db.session.execute(taking_part.with_only_columns(Application.id).limit(1)).first() is not None
