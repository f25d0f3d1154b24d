"""Who hears what: the message each audited action sends, to whom, and what it says.

:func:`on_event` is called by :func:`fundflow.services.audit.record` for every event, in the
event's own transaction, so a message exists exactly when its action was committed. The
schedule's reminders (due soon, due today, overdue, escalated) are sent by
:mod:`fundflow.services.schedule` through :func:`reminder`.

Every message names the bid by reference and title and links to the page where the person
acts: liaison officers to the bid (or the countersignature), headteachers to their view of
the bid or its claims.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from ..dates import long_date
from ..extensions import db
from ..formatting import money
from ..models import Application, BackfillClaim, Notification, ScheduleItem, User
from ..workflow import AWAITING_COUNTERSIGN_STATUSES, CLAIM_LIFECYCLE, GuardContext, not_conflicted
from . import access
from .clock import today
from .notifications import Message, notify, page_path, users_with_role


def _named(application: Application) -> str:
    return f"{application.reference}, “{application.title or 'untitled bid'}”"


def lead_headteachers(application: Application) -> list[User]:
    return users_with_role("headteacher", school_ids=[application.lead_school_id])


def partner_headteachers(application: Application, *, only_unendorsed: bool = False) -> list[User]:
    schools = [p.school_id for p in application.partners if not (only_unendorsed and p.endorsed)]
    return users_with_role("headteacher", school_ids=schools)


def school_headteachers(application: Application) -> list[User]:
    """The lead school's headteachers and the partners'."""
    return lead_headteachers(application) + partner_headteachers(application)


def free_liaison_officers(application: Application, *, besides: int | None = None) -> list[User]:
    """Liaison officers who may act on the bid: the workflow's conflict-of-interest control
    (``not_conflicted``) passes for them, and (``besides``) not the officer who already acted."""
    day = today()
    return [
        officer
        for officer in users_with_role("liaison_officer", organisation_id=application.fund.organisation_id)
        if officer.id != besides and not_conflicted(GuardContext(application, officer, day)) is None
    ]


def _liaison_bid(application: Application) -> str:
    return page_path("liaison.application", reference=application.reference)


def _school_bid(application: Application) -> str:
    return page_path("headteacher.bid", reference=application.reference)


def _decision(
    kind: str, subject: str, body: str, endpoint: str = "headteacher.bid"
) -> Callable[[Application, User | None, dict], list]:
    """A decision the lead and partner headteachers hear about, linking to ``endpoint`` (the
    bid's page; its task list when the lead must change it, which shows partners the bid)."""

    def send(application: Application, actor: User | None, payload: dict) -> list:
        text = body.format(
            named=_named(application),
            comment=payload.get("comment", ""),
            award=money(application.awarded_pence),
            conditions=(f"\n\nConditions: {application.conditions}" if application.conditions else ""),
        )
        message = Message(
            kind,
            subject.format(ref=application.reference, title=application.title),
            text,
            page_path(endpoint, reference=application.reference),
            application.id,
        )
        return notify(school_headteachers(application), message)

    return send


def _submitted(application: Application, actor: User | None, payload: dict) -> list:
    again = "resubmitted" if application.version > 1 else "submitted"
    message = Message(
        "bid_submitted",
        f"Bid {application.reference} {again}: {application.title}",
        f"{application.lead_school.name} {again} bid {_named(application)}, asking for "
        f"{money(application.requested_pence)}. It is waiting for a liaison officer to start the review.",
        _liaison_bid(application),
        application.id,
    )
    return notify(free_liaison_officers(application), message)


def _approved(application: Application, actor: User | None, payload: dict) -> list:
    if application.status in AWAITING_COUNTERSIGN_STATUSES:
        message = Message(
            "countersign_needed",
            f"Countersign the award for {application.reference}: {application.title}",
            f"{actor.name if actor else 'A liaison officer'} approved {money(application.awarded_pence)} "
            f"for bid {_named(application)}. Awards this large need a second liaison officer: "
            "check the bid and countersign it or turn it down.",
            page_path("liaison.countersign", reference=application.reference),
            application.id,
        )
        return notify(free_liaison_officers(application, besides=actor.id if actor else None), message)
    return _award_made(application, actor, payload)


_award_made = _decision(
    "bid_approved",
    "Bid {ref} approved: {title}",
    "Bid {named} was approved with an award of {award}.{conditions}\n\nYou can now claim backfill "
    "for the staff you release, and report impact when your reports fall due.",
)


def _declined(application: Application, actor: User | None, payload: dict) -> list:
    school = actor.school.name if actor is not None and actor.school is not None else "A partner school"
    message = Message(
        "endorsement_declined",
        f"{school} declined to endorse {application.reference}",
        f"{school} declined to endorse bid {_named(application)}. They said: {payload.get('comment', '')}"
        "\n\nYou can change the bid's partners, or talk to the school and ask them to endorse it.",
        # the task list, where partners are changed (it shows the bid when it cannot be edited)
        page_path("headteacher.task_list", reference=application.reference),
        application.id,
    )
    return notify(lead_headteachers(application), message)


def _endorsement_requested(application: Application, actor: User | None, payload: dict) -> list:
    """Headteachers of partner schools named on the bid and not yet asked to endorse it."""
    asked = set(
        db.session.execute(
            select(Notification.user_id).where(
                Notification.application_id == application.id, Notification.kind == "endorsement_requested"
            )
        ).scalars()
    )
    waiting = [u for u in partner_headteachers(application, only_unendorsed=True) if u.id not in asked]
    message = Message(
        "endorsement_requested",
        f"Endorse bid {application.reference}: {application.title}",
        f"{application.lead_school.name} named your school as a partner on bid {_named(application)}. "
        "Check your school's part in it, then endorse the bid or decline, saying why.",
        _school_bid(application),
        application.id,
    )
    return notify(waiting, message)


APPLICATION_MESSAGES: dict[str, Callable[[Application, User | None, dict], list]] = {
    "create": _endorsement_requested,
    "edit": _endorsement_requested,
    "submit": _submitted,
    "resubmit": _submitted,
    "decline_endorsement": _declined,
    "request_changes": _decision(
        "changes_requested",
        "Changes requested to {ref}: {title}",
        "The liaison officer asked for changes to bid {named}:\n\n{comment}\n\n"
        "Change the bid and resubmit it.",
        "headteacher.task_list",
    ),
    "approve": _approved,
    "countersign": _award_made,
    "reject": _decision(
        "bid_rejected",
        "Bid {ref} turned down: {title}",
        "Bid {named} was turned down. The reason given:\n\n{comment}",
    ),
    "cancel": _decision(
        "award_cancelled",
        "Award cancelled for {ref}: {title}",
        "The award for bid {named} was cancelled. The reason given:\n\n{comment}\n\n"
        "Claims not yet paid were rejected; the rest of the award goes back to the fund.",
    ),
}

#: Where a claim is once paid in full. A payment is audited as "record_disbursement" (the
#: claim's ``pay`` fires only for the payment that settles it; a part payment leaves it verified).
PAID_IN_FULL = CLAIM_LIFECYCLE.action("pay").dest

CLAIM_MESSAGES: dict[str, tuple[str, str, str]] = {
    "verify": ("claim_verified", "verified", "Finance will now pay it."),
    "reject": ("claim_rejected", "rejected", "The reason given: {comment}"),
    "pay": ("claim_paid", "paid in full", "Check your school's accounts for the payment."),
}


def _claim_message(claim: BackfillClaim, action: str, payload: dict) -> list:
    kind, verb, after = CLAIM_MESSAGES[action]
    application = db.session.get(Application, claim.application_id)
    period = f"{long_date(claim.period_start)} to {long_date(claim.period_end)}"
    message = Message(
        kind,
        f"Backfill claim {verb} for {application.reference}",
        f"Your claim of {money(claim.amount_pence)} for {claim.staff_released} ({period}) on bid "
        f"{_named(application)} was {verb}. " + after.format(comment=payload.get("comment", "")),
        page_path("headteacher.claims_list", reference=application.reference),
        application.id,
    )
    return notify(lead_headteachers(application), message)


def _claim_to_pay(claim: BackfillClaim) -> list:
    """Finance officers who may pay it (none who took part in deciding the award)."""
    application = db.session.get(Application, claim.application_id)
    deciders = {application.decided_by_id, application.countersigned_by_id}
    message = Message(
        "claim_to_pay",
        f"Claim to pay for {application.reference}: {money(claim.amount_pence)}",
        f"A liaison officer verified {application.lead_school.name}'s claim of "
        f"{money(claim.amount_pence)} for {claim.staff_released} on bid {_named(application)}. "
        "Record the payment once it is made.",
        page_path("finance.pay", claim_id=claim.id),
        application.id,
    )
    finance = users_with_role("finance", organisation_id=application.fund.organisation_id)
    return notify([u for u in finance if u.id not in deciders], message)


def _payment_reversed(claim: BackfillClaim, actor: User | None, payload: dict) -> list:
    """The auditors (a reversal is a control exception) and the lead school's headteachers."""
    application = db.session.get(Application, claim.application_id)
    amount = money(abs(payload.get("amount_pence", 0)))
    text = (
        f"Payment {payload.get('reverses_reference', '')} of {amount} on bid {_named(application)} "
        f"was reversed by {actor.name if actor else 'finance'}. The reason given: {payload.get('reason', '')}"
    )
    subject = f"Payment reversed on {application.reference}: {amount}"
    written = []
    for recipients, page in (
        (users_with_role("auditor", organisation_id=application.fund.organisation_id), "auditor.application"),
        (lead_headteachers(application), "headteacher.claims_list"),
    ):
        link = page_path(page, reference=application.reference)
        written += notify(recipients, Message("payment_reversed", subject, text, link, application.id))
    return written


def email_failed(email: Any, error: str) -> list:
    """Tell the administrators, on the site only, that an email could not be sent."""
    message = Message(
        "email_failed",
        f"An email to {email.to_address} could not be sent",
        f"“{email.subject}” to {email.to_address} could not be sent: {error}. Check the address "
        "or the mail settings, then try it again from the email delivery page.",
        page_path("admin.outbox"),
        None,
    )
    admins = users_with_role("admin")
    person = db.session.get(User, email.user_id) if getattr(email, "user_id", None) is not None else None
    if person is not None:  # the administrators who manage the person's account, no others
        admins = [admin for admin in admins if access.manages_user(admin, person)]
    return notify(admins, message)


def on_event(actor: User | None, action: str, subject: Any, payload: dict[str, Any] | None) -> None:
    """Write the messages an audited action sends (nothing for most actions)."""
    payload = payload or {}
    if isinstance(subject, Application) and action in APPLICATION_MESSAGES:
        APPLICATION_MESSAGES[action](subject, actor, payload)
    elif isinstance(subject, BackfillClaim):
        if action == "record_disbursement" and subject.status == PAID_IN_FULL:
            action = "pay"
        if action in CLAIM_MESSAGES:
            _claim_message(subject, action, payload)
        if action == "verify":
            _claim_to_pay(subject)
        if action == "reverse_disbursement":
            _payment_reversed(subject, actor, payload)


# ----------------------------------------------------------------------------- reminders

REMINDERS: dict[str, tuple[str, str]] = {
    "due_soon": ("{what} due {when} for {ref}", "{what} for bid {named} is due on {date}."),
    "due_today": ("{what} due today for {ref}", "{what} for bid {named} is due today, {date}."),
    "overdue": (
        "{what} overdue for {ref}",
        "{what} for bid {named} was due on {date} and is {late} late.",
    ),
    "overdue_escalated": (
        "{what} {late} late for {ref}",
        "{what} for bid {named} was due on {date} and is {late} late. The school has been "
        "reminded each week. Contact the school, change the due date or waive it.",
    ),
}

_TO_DO = {
    "interim_report": "Send the report from the bid's page.",
    "final_report": "Send the final report from the bid's page.",
    "claim_deadline": "Claim any backfill still owed, then finish delivery.",
}


def reminder(item: ScheduleItem, kind: str, day: date) -> list:
    """Remind the lead headteachers of an item (or, escalated, the liaison officers)."""
    application = item.application
    late_days = (day - item.due_on).days
    subject, body = REMINDERS[kind]
    values = {
        "what": item.kind_label,
        "when": f"on {long_date(item.due_on)}",
        "ref": application.reference,
        "named": _named(application),
        "date": long_date(item.due_on),
        "late": f"{late_days} day{'s' if late_days != 1 else ''}",
    }
    text = body.format(**values)
    if kind == "overdue_escalated":
        message = Message(kind, subject.format(**values), text, _liaison_bid(application), application.id)
        return notify(free_liaison_officers(application), message)
    link = _school_bid(application)
    message = Message(kind, subject.format(**values), f"{text} {_TO_DO[item.kind]}", link, application.id)
    return notify(lead_headteachers(application), message)
