"""The one way an application changes state: :func:`perform`.

It locks the application row, checks role, controls and guards through the workflow
definition, applies the action's effects, and writes the new state with its Event in the
same transaction. The web pages, the JSON API and the CLI all come through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Application,
    BackfillClaim,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    User,
    utcnow,
)
from ..workflow import (
    APPLICATION_LIFECYCLE,
    CLAIM_LIFECYCLE,
    COMMITTED_AT_AWARD,
    OUTSTANDING_CLAIM_STATUSES,
    GuardContext,
    UnknownAction,
    allowed_actions,
)
from . import audit, schedule, school_lookup
from .applications import keep_version
from .clock import today
from .errors import ValidationFailed
from .firing import fire
from .ledger import application_money, claim_paid_pence, claims_by_application, ledger
from .unit_of_work import lock, retrying, transaction


@dataclass(frozen=True)
class ActionInput:
    action: str
    comment: str = ""
    awarded_pence: int | None = None
    conditions: str = ""
    #: Interim report dates (ISO) set when approving a bid of a "set_by_officer" fund.
    report_dates: tuple[str, ...] | list[str] | None = None


@retrying
def perform(application: Application, user: User, request: ActionInput) -> Application:
    """Fire ``request.action`` on ``application`` as ``user``; one transaction, one Event."""
    try:
        APPLICATION_LIFECYCLE.action(request.action)
    except UnknownAction as exc:
        raise ValidationFailed(
            {"action": [f"Choose one of: {', '.join(exc.known)}"]}, code="unknown_action"
        ) from None
    comment = (request.comment or "").strip()
    if len(comment) > 10_000 or len(request.conditions or "") > 10_000:
        raise ValidationFailed({"comment": ["Use 10,000 characters or fewer"]})
    awarded = request.awarded_pence
    if awarded is not None and (isinstance(awarded, bool) or not isinstance(awarded, int)):
        raise ValidationFailed({"awarded_pence": ["Enter the award as a whole number of pence"]})

    report_dates = _report_dates(request)
    with transaction():
        application = lock(Application, application.id)
        ctx = GuardContext(record=application, user=user, today=today(), comment=comment)
        if request.action == "approve":
            ctx.awarded_pence = awarded if awarded is not None else application.requested_pence
            schedule.check_officer_dates(application, report_dates)
            application.interim_report_dates = report_dates
        if request.action in ("approve", "countersign"):
            lock(Fund, application.fund_id)
            ctx.available_pence = ledger(application.fund_id).available_pence
        if request.action == "finish_delivery":
            ctx.outstanding_claims = _count_claims(application, OUTSTANDING_CLAIM_STATUSES)
        if request.action == "close":
            facts = action_facts([application.id])[application.id]
            ctx.final_report_evaluated = facts["final_report_evaluated"]
            ctx.final_report_waived = facts["final_report_waived"]
            ctx.reports_awaiting_evaluation = facts["reports_awaiting_evaluation"]
        # claims, then schedule items, are locked before the audit chain (unit_of_work's order)
        outstanding = _lock_outstanding_claims(application) if request.action == "cancel" else []
        owed = _lock_owed_items(application, request.action)

        from_status, to_status = fire(APPLICATION_LIFECYCLE, request.action, ctx)
        payload = _apply_effects(application, user, request.action, ctx, request.conditions)
        if comment:
            payload["comment"] = comment
        # what the award owed is settled first, so the action's own Event is the bid's latest
        if request.action == "cancel":
            schedule.waive_all(owed, user, f"Award cancelled: {comment}", ctx.today)
        if request.action == "finish_delivery":
            schedule.meet(owed, user, ctx.today)
        if request.action == "close":
            schedule.waive_all(owed, user, "Not needed: the bid was closed", ctx.today)
        audit.record(user, request.action, application, transition=(from_status, to_status), payload=payload)
        if request.action == "cancel":
            _reject_outstanding_claims(application, user, comment, outstanding)
    return application


def _report_dates(request: ActionInput) -> list[str] | None:
    """The officer's interim report dates, checked (approving only; None when not given)."""
    if request.action != "approve" or request.report_dates is None:
        return None
    if isinstance(request.report_dates, str) or not isinstance(request.report_dates, list | tuple):
        raise ValidationFailed({"report_dates": ["Give the report dates as a list of YYYY-MM-DD dates"]})
    return schedule.officer_dates(request.report_dates, today()) or None


def _lock_owed_items(application: Application, action: str) -> list:
    """What the award still owes that this action settles: everything when it is cancelled
    or closed (waived), the claim deadlines when delivery is finished (met)."""
    if action == "cancel":
        return schedule.lock_open_items(application.id)
    if action == "finish_delivery":
        return schedule.lock_open_items(application.id, ["claim_deadline"])
    if action == "close":
        return schedule.lock_open_items(application.id)
    return []


def _apply_effects(
    application: Application, user: User, action: str, ctx: GuardContext, conditions: str
) -> dict:
    """What an action changes besides the status; returns the Event payload."""
    payload: dict = {"version": application.version}
    if action == "submit":
        application.submitted_at = utcnow()
        keep_version(application)
        payload["requested_pence"] = application.requested_pence
    elif action == "resubmit":
        application.version += 1
        application.submitted_at = utcnow()
        keep_version(application)
        payload.update(version=application.version, requested_pence=application.requested_pence)
    elif action == "endorse":
        partner = next(p for p in application.partners if p.school_id == user.school_id)
        partner.endorsed_at = utcnow()
        partner.endorsed_by_id = user.id
        partner.declined_at = None
        partner.declined_reason = ""
        payload.update(school_lookup.audit_words(partner.school))
    elif action == "decline_endorsement":
        partner = next(p for p in application.partners if p.school_id == user.school_id)
        partner.declined_at = utcnow()
        partner.declined_reason = ctx.comment
        payload.update(school_lookup.audit_words(partner.school))
    elif action == "approve":
        application.awarded_pence = ctx.awarded_pence
        application.conditions = (conditions or "").strip()
        application.decided_by_id = user.id
        application.decided_at = utcnow()
        if ctx.comment:
            application.override_note = ctx.comment
        if application.status in COMMITTED_AT_AWARD:  # approved now, not waiting for a countersignature
            application.approved_on = ctx.today
        payload.update(
            awarded_pence=application.awarded_pence,
            conditions=application.conditions,
            available_pence=ctx.available_pence,
        )
        if application.interim_report_dates:
            payload["report_dates"] = application.interim_report_dates
        if application.status in COMMITTED_AT_AWARD:
            payload["schedule"] = schedule.create_schedule(application, ctx.today)
    elif action == "countersign":
        application.countersigned_by_id = user.id
        application.approved_on = ctx.today
        payload.update(awarded_pence=application.awarded_pence, available_pence=ctx.available_pence)
        payload["schedule"] = schedule.create_schedule(application, ctx.today)
    elif action == "reject":
        application.decided_at = utcnow()
        if application.awarded_pence is not None:
            payload["proposed_award_pence"] = application.awarded_pence
        application.awarded_pence = None
    elif action in ("finish_delivery", "cancel"):
        paid = ledger_paid(application)
        payload.update(
            awarded_pence=application.awarded_pence,
            paid_pence=paid,
            released_pence=(application.awarded_pence or 0) - paid,
        )
    return payload


def ledger_paid(application: Application) -> int:
    return application_money([application.id])[application.id][1]


def _count_claims(application: Application, statuses: tuple[str, ...]) -> int:
    return db.session.execute(
        select(func.count(BackfillClaim.id)).where(
            BackfillClaim.application_id == application.id, BackfillClaim.status.in_(statuses)
        )
    ).scalar_one()


def _lock_outstanding_claims(application: Application) -> list[BackfillClaim]:
    return list(
        db.session.execute(
            select(BackfillClaim)
            .where(
                BackfillClaim.application_id == application.id,
                BackfillClaim.status.in_(OUTSTANDING_CLAIM_STATUSES),
            )
            .order_by(BackfillClaim.id)
            # not the eager-joined tables (PostgreSQL refuses); NO KEY UPDATE as in unit_of_work
            .with_for_update(of=BackfillClaim, key_share=True)
        ).scalars()
    )


def _reject_outstanding_claims(
    application: Application, user: User, reason: str, claims: list[BackfillClaim]
) -> None:
    """Cancelling rejects the claims nobody has been paid for. A claim already part-paid
    stays as it is: that money was spent, and it counts on the fund as paid."""
    paid = claim_paid_pence([c.id for c in claims])
    for claim in claims:
        if paid[claim.id]:
            continue
        claim.decision_comment = f"Award cancelled: {reason}"
        ctx = GuardContext(
            record=claim, user=user, today=today(), comment=claim.decision_comment, claim_paid_pence=0
        )
        moved = fire(CLAIM_LIFECYCLE, "reject", ctx)
        rejected = {"amount_pence": claim.amount_pence, "comment": claim.decision_comment}
        audit.record(user, "reject", claim, transition=moved, payload=rejected)


def action_facts(application_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored facts ``workflow.FACT_GUARDS`` look at, for many applications in four
    queries: claims still outstanding, whether a final report has been evaluated (or
    waived on the schedule), and how many reports still wait for evaluation."""
    ids = list(application_ids)
    if not ids:
        return {}
    outstanding = claims_by_application(ids, OUTSTANDING_CLAIM_STATUSES, func.count(BackfillClaim.id))
    evaluated = set(
        db.session.execute(
            select(ImpactReport.application_id)
            .join(ImpactEvaluation, ImpactEvaluation.report_id == ImpactReport.id)
            .where(ImpactReport.application_id.in_(ids), ImpactReport.kind == "final")
        ).scalars()
    )
    waived = schedule.final_reports_waived(ids)
    awaiting = dict(
        db.session.execute(
            select(ImpactReport.application_id, func.count(ImpactReport.id))
            .outerjoin(ImpactEvaluation, ImpactEvaluation.report_id == ImpactReport.id)
            .where(ImpactReport.application_id.in_(ids), ImpactEvaluation.id.is_(None))
            .group_by(ImpactReport.application_id)
        ).all()
    )
    return {
        i: {
            "outstanding_claims": int(outstanding.get(i, 0)),
            "final_report_evaluated": i in evaluated,
            "final_report_waived": i in waived,
            "reports_awaiting_evaluation": int(awaiting.get(i, 0)),
        }
        for i in ids
    }


def claim_action_facts(claim_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored facts a claim action's preconditions look at, for many claims in one
    query: what has been paid against each (a claim with money paid cannot be rejected)."""
    return {i: {"claim_paid_pence": paid} for i, paid in claim_paid_pence(claim_ids).items()}


def actions_for(
    records: Sequence[Application] | Sequence[BackfillClaim], user: User | None
) -> dict[int, list[str]]:
    """What ``user`` may fire now on each record, by record id: the one answer the pages'
    buttons and the API's ``allowed_actions`` both show.

    The workflow decides; this gathers the stored facts it needs for every record at once
    (three queries for applications, one for claims, however many records), so actions the
    facts already rule out (finishing with a claim outstanding, closing before every report
    is evaluated, rejecting a claim with money paid) are never offered. Pass applications or
    claims, not both: their ids would clash.
    """
    records = list(records)
    if not records:
        return {}
    kinds = {type(r) for r in records}
    if len(kinds) > 1:
        raise TypeError("actions_for takes applications or claims, not both")
    if user is None or not getattr(user, "active", False):
        return {r.id: [] for r in records}
    ids = [r.id for r in records]
    facts = claim_action_facts(ids) if kinds == {BackfillClaim} else action_facts(ids)
    day = today()
    return {r.id: allowed_actions(r, user, day, facts[r.id]) for r in records}


def available_actions(record: Application | BackfillClaim, user: User) -> list[str]:
    """What ``user`` may fire on one application or claim now (see :func:`actions_for`)."""
    return actions_for([record], user)[record.id]
