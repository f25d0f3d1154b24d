"""The lifecycle of a bid and of a backfill claim, declared once, as data.

Everything that decides *whether an action may happen* lives here: the states, the actions
with their sources and destinations, who may fire each, and the guards. Guards are pure
predicates over a :class:`GuardContext`; they return ``None`` when satisfied or a
``(field, message)`` pair saying what is wrong. The services gather the facts a guard needs
(for example the fund's available money, read under a row lock) and fire through
:func:`fire`, which drives a ``transitions`` machine built from these tables.

Guards come in three kinds, because callers must tell them apart:

* ``controls`` — who may act (conflict of interest, four eyes, segregation of duties).
  Failing one is *forbidden* (HTTP 403).
* ``preconditions`` — the record is not in a shape where the action makes sense now (a
  partner that has already endorsed). Failing one is a *conflict* (HTTP 409).
* ``guards`` — the request or the data does not meet a rule (no comment, over budget).
  Failing one is a *validation failure* (HTTP 422) with a message per field.

``allowed_actions`` uses state, actor, controls and preconditions: the buttons a person
sees. Guards are only checked when the action is fired, with the person's input.

Besides the bid's and the claim's lifecycles, the impact report has its own small machine
(``REPORT_LIFECYCLE``: submitted → evaluated), and the operations that change a record
without moving it — editing a draft, recording a review, claiming backfill, reporting impact,
recording or reversing a payment — are declared the same way (``APPLICATION_OPERATIONS``,
``CLAIM_OPERATIONS``). Every action's checks are the condition on its ``transitions``
transitions: :meth:`Lifecycle.may` asks the machine's ``may_<action>()`` whether it could
fire, :meth:`Lifecycle.check` says why not, and :meth:`Lifecycle.fire` moves the record
through a ``LockedMachine``. The sets of statuses services, queries and reports look for
(``EDITABLE_STATUSES``, ``COUNTED_CLAIM_STATUSES`` …) are named here too, once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from transitions.extensions import LockedMachine

from .dates import long_date

# --------------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------------

APPLICATION_STATES: dict[str, str] = {
    "draft": "Draft",
    "submitted": "Submitted",
    "under_review": "Under review",
    "changes_requested": "Changes requested",
    "awaiting_countersign": "Awaiting countersignature",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "monitoring": "Monitoring impact",
    "closed": "Closed",
    "cancelled": "Cancelled",
}

CLAIM_STATES: dict[str, str] = {
    "pending": "Waiting for verification",
    "verified": "Verified, to be paid",
    "paid": "Paid",
    "rejected": "Rejected",
}

#: An impact report's own small machine: sent by the lead school, then evaluated.
REPORT_STATES: dict[str, str] = {
    "submitted": "Waiting for evaluation",
    "evaluated": "Evaluated",
}

#: Statuses in which an application's award is a commitment on the fund (its award) or in
#: which only what was actually paid counts. See :mod:`fundflow.services.ledger`.
COMMITTED_AT_AWARD = ("approved",)
COMMITTED_AT_PAID = ("monitoring", "closed", "cancelled")

# Named sets of statuses, each written once here; services, queries and reports import them
# rather than spelling the statuses out (tests/unit/test_status_literals.py keeps it so).

#: Statuses of a bid whose award was made (a cancelled award was still awarded).
AWARDED_STATUSES = COMMITTED_AT_AWARD + COMMITTED_AT_PAID
#: Statuses in which the lead headteacher may edit the bid.
EDITABLE_STATUSES = ("draft", "changes_requested")
#: Statuses of an award being delivered or monitored: the lead school reports impact.
IN_DELIVERY_STATUSES = ("approved", "monitoring")
REPORTABLE_STATUSES = IN_DELIVERY_STATUSES
#: Bids sent and waiting for, or in, review.
IN_REVIEW_STATUSES = ("submitted", "under_review")
#: Awards waiting for a second liaison officer.
AWAITING_COUNTERSIGN_STATUSES = ("awaiting_countersign",)
#: The one status in which claims are made, verified and paid.
CLAIMABLE_STATUSES = COMMITTED_AT_AWARD
#: Statuses in which a liaison officer records a structured review.
REVIEWABLE_STATUSES = ("under_review",)

#: Claims not yet settled: they stop delivery finishing, and cancelling rejects them.
OUTSTANDING_CLAIM_STATUSES = ("pending", "verified")
#: Claims that count against the award (verified or paid).
COUNTED_CLAIM_STATUSES = ("verified", "paid")
#: Claims not rejected: what has been claimed on the award.
LIVE_CLAIM_STATUSES = ("pending", "verified", "paid")
#: Claims waiting for a liaison officer to verify or reject them.
PENDING_CLAIM_STATUSES = ("pending",)
#: Claims verified and waiting for finance to pay them.
PAYABLE_CLAIM_STATUSES = ("verified",)
#: Impact reports waiting for a liaison officer's evaluation.
AWAITING_EVALUATION_STATUSES = ("submitted",)

#: A monitoring schedule item: a report or claim deadline an award owes by a date.
SCHEDULE_STATES: dict[str, str] = {
    "due": "Due",
    "late": "Late",
    "submitted": "Done",
    "waived": "Waived",
}
#: Schedule items still owed (due, or past their date).
OPEN_SCHEDULE_STATUSES = ("due", "late")
#: Schedule items settled: met or waived.
SETTLED_SCHEDULE_STATUSES = ("submitted", "waived")
#: Schedule items not yet past their date (``run-schedule`` marks them late once they are).
NOT_YET_LATE_SCHEDULE_STATUSES = ("due",)
#: Schedule items the award was let off.
WAIVED_SCHEDULE_STATUSES = ("waived",)
#: Schedule items met: the report was sent, or delivery finished.
MET_SCHEDULE_STATUSES = ("submitted",)

# --------------------------------------------------------------------------------------
# Actors: how a user relates to a record
# --------------------------------------------------------------------------------------

ACTOR_LABELS = {
    "lead_headteacher": "Headteacher of the lead school",
    "partner_headteacher": "Headteacher of a partner school",
    "liaison_officer": "Liaison officer",
    "finance": "Finance officer",
    "system": "fundflow, automatically",
}

#: The role an actor kind needs; the relationship to the record is checked on top.
ACTOR_ROLES = {
    "lead_headteacher": "headteacher",
    "partner_headteacher": "headteacher",
    "liaison_officer": "liaison_officer",
    "finance": "finance",
    "system": "system",
}


def _application_of(record: Any) -> Any:
    return getattr(record, "application", None) or record


def is_lead_headteacher(record: Any, user: Any) -> bool:
    """Whether ``user`` is the headteacher of the lead school of ``record`` (or its bid):
    the one test of "the lead school's headteacher", used by every action they fire."""
    application = _application_of(record)
    return (
        user.has_role("headteacher")
        and user.school_id is not None
        and user.school_id == application.lead_school_id
    )


def is_actor(kind: str, record: Any, user: Any) -> bool:
    """Whether ``user`` is a ``kind`` actor for ``record`` (an application, a claim or a report)."""
    if kind == "lead_headteacher":
        return is_lead_headteacher(record, user)
    if not user.has_role(ACTOR_ROLES[kind]):
        return False
    application = _application_of(record)
    if kind == "partner_headteacher":
        return user.school_id is not None and any(p.school_id == user.school_id for p in application.partners)
    return True


# --------------------------------------------------------------------------------------
# Guards: pure predicates
# --------------------------------------------------------------------------------------


@dataclass
class GuardContext:
    """The facts a guard looks at. Services fill in what the action needs."""

    record: Any
    user: Any
    today: date
    comment: str = ""
    awarded_pence: int | None = None
    available_pence: int | None = None
    verified_claims_pence: int = 0
    claim_paid_pence: int = 0
    outstanding_claims: int = 0
    final_report_evaluated: bool = False
    reports_awaiting_evaluation: int = 0
    #: A payment being recorded against a claim (``claim_paid_pence`` is paid on it so far).
    amount_pence: int | None = None
    #: The bid's final report was waived on its monitoring schedule.
    final_report_waived: bool = False
    #: A new due date for a schedule item being moved.
    due_on: date | None = None

    @property
    def application(self) -> Any:
        return _application_of(self.record)


Problem = tuple[str, str] | None
Guard = Callable[[GuardContext], Problem]


def not_conflicted(ctx: GuardContext) -> Problem:
    application = ctx.application
    if ctx.user.school_id is not None and ctx.user.school_id in application.school_ids():
        return ("action", "You cannot act on a bid in which your own school takes part")
    if ctx.user.id == application.created_by_id:
        return ("action", "You cannot act as reviewer on a bid you wrote")
    return None


def not_the_approver(ctx: GuardContext) -> Problem:
    if ctx.user.id == ctx.application.decided_by_id:
        return ("action", "A second liaison officer must countersign: you approved this award")
    return None


def did_not_decide(ctx: GuardContext) -> Problem:
    application = ctx.application
    if ctx.user.id in (application.decided_by_id, application.countersigned_by_id):
        return ("action", "You took part in deciding this award, so you cannot record its payments")
    return None


def not_yet_endorsed(ctx: GuardContext) -> Problem:
    for partner in ctx.application.partners:
        if partner.school_id == ctx.user.school_id and partner.endorsed_at is not None:
            return ("action", "Your school has already endorsed this bid")
    return None


def not_yet_declined(ctx: GuardContext) -> Problem:
    for partner in ctx.application.partners:
        if partner.school_id == ctx.user.school_id and partner.declined:
            return ("action", "Your school has already declined to endorse this bid")
    return None


def application_approved(ctx: GuardContext) -> Problem:
    if ctx.application.status != "approved":
        return ("action", "Claims can only be handled while the award is approved")
    return None


def fund_open(ctx: GuardContext) -> Problem:
    fund = ctx.application.fund
    if not fund.is_open_on(ctx.today):
        return (
            "fund_id",
            f"The fund takes bids from {long_date(fund.opens_on)} to {long_date(fund.closes_on)}",
        )
    return None


def complete(ctx: GuardContext) -> Problem:
    application = ctx.application
    missing = []
    if not application.title.strip():
        missing.append("a title")
    if not application.need.strip():
        missing.append("the identified need")
    if not application.priority_areas:
        missing.append("at least one priority area")
    if not application.partners:
        missing.append("at least one partner school")
    if not application.activities:
        missing.append("at least one activity")
    if not application.measures:
        missing.append("at least one measure")
    if missing:
        return ("application", "The bid is not complete: add " + ", ".join(missing))
    return None


def due_date_problem(
    due_on: date, follow_up_reason: str | None, today: date, delivery_ends_on: date | None
) -> str | None:
    """The rule for a measure's due date, written once: what is wrong with it, or None.

    A target falls due after today (a bid is sent later still) and by the end of the fund's
    delivery period, unless the measure states why it is followed up later: the liaison
    officer accepts that later date by approving the bid. Checked where the measure is typed
    (:mod:`fundflow.services.applications`) and again when the bid is sent
    (:func:`measures_due_in_delivery_period`).
    """
    if due_on <= today:
        return "The target must fall due after today"
    end = delivery_ends_on
    if end is not None and due_on > end and not (follow_up_reason or "").strip():
        return (
            f"The target must fall due by the end of the fund's delivery period, {long_date(end)}, "
            "or give the reason for a later follow-up"
        )
    return None


def daily_rate_problem(daily_rate_pence: int, max_daily_rate_pence: int) -> str | None:
    """The fund's cap on an activity's daily rate, written once: what is wrong, or None.
    Checked where the activity is typed and again when the bid is sent."""
    if daily_rate_pence > max_daily_rate_pence:
        return f"The fund pays at most £{max_daily_rate_pence / 100:,.2f} a day"
    return None


def _named(problems: list[tuple[str | None, str]]) -> str | None:
    """``(problem, name)`` pairs as one message: each problem with the names it applies to."""
    grouped: dict[str, list[str]] = {}
    for problem, name in problems:
        if problem:
            grouped.setdefault(problem, []).append(name)
    return "; ".join(f"{problem}: {', '.join(names)}" for problem, names in grouped.items()) or None


def measures_due_in_delivery_period(ctx: GuardContext) -> Problem:
    """Every measure meets :func:`due_date_problem` when the bid is sent."""
    end = ctx.application.fund.delivery_ends_on
    message = _named(
        [
            (due_date_problem(m.due_on, m.follow_up_reason, ctx.today, end), m.indicator)
            for m in ctx.application.measures
        ]
    )
    return ("measures", message) if message else None


def daily_rates_within_cap(ctx: GuardContext) -> Problem:
    """Every activity meets :func:`daily_rate_problem` when the bid is sent."""
    cap = ctx.application.fund.max_daily_rate_pence
    message = _named(
        [(daily_rate_problem(a.daily_rate_pence, cap), a.description) for a in ctx.application.activities]
    )
    return ("activities", message) if message else None


def within_max_award(ctx: GuardContext) -> Problem:
    limit = ctx.application.fund.max_award_pence
    if limit is not None and ctx.application.requested_pence > limit:
        return ("activities", f"The fund awards at most £{limit / 100:,.2f} a bid")
    return None


def endorsements_given(ctx: GuardContext) -> Problem:
    application = ctx.application
    if not application.fund.requires_partner_endorsement:
        return None
    waiting = [p.school.name for p in application.partners if p.endorsed_at is None]
    if waiting:
        return ("partners", "Partner schools must endorse the bid first: " + ", ".join(waiting))
    return None


def comment_given(ctx: GuardContext) -> Problem:
    if not (ctx.comment or "").strip():
        return ("comment", "Say what needs to change")
    return None


def reason_given(ctx: GuardContext) -> Problem:
    if not (ctx.comment or "").strip():
        return ("comment", "Give the reason")
    return None


def award_within_request(ctx: GuardContext) -> Problem:
    awarded, requested = ctx.awarded_pence, ctx.application.requested_pence
    if awarded is None or awarded <= 0:
        return ("awarded_pence", "The award must be more than £0")
    if awarded > requested:
        return ("awarded_pence", f"The award cannot be more than the £{requested / 100:,.2f} asked for")
    limit = ctx.application.fund.max_award_pence
    if limit is not None and awarded > limit:
        return ("awarded_pence", f"The fund awards at most £{limit / 100:,.2f} a bid")
    return None


def award_within_available(ctx: GuardContext) -> Problem:
    awarded = ctx.awarded_pence if ctx.awarded_pence is not None else ctx.application.awarded_pence
    if ctx.available_pence is None or awarded is None or awarded > ctx.available_pence:
        available = max(ctx.available_pence or 0, 0)
        return (
            "awarded_pence",
            f"The fund has only £{available / 100:,.2f} left to award",
        )
    return None


def supporting_school_override(ctx: GuardContext) -> Problem:
    """A school causing concern may be supported, but supporting needs an override note."""
    concerned = [s.name for s in supporting_schools(ctx.application) if s.causing_concern]
    if concerned and not (ctx.comment or "").strip():
        return (
            "comment",
            "Give an override note: a supporting school is causing concern (" + ", ".join(concerned) + ")",
        )
    return None


def no_claims_outstanding(ctx: GuardContext) -> Problem:
    if ctx.outstanding_claims:
        return ("action", "Verify and pay, or reject, every backfill claim first")
    return None


def final_report_evaluated(ctx: GuardContext) -> Problem:
    """The final report was evaluated, or the liaison officer waived it on the schedule."""
    if not (ctx.final_report_evaluated or ctx.final_report_waived):
        return ("action", "A final impact report must be submitted and evaluated (or waived) first")
    return None


def new_due_date_given(ctx: GuardContext) -> Problem:
    if ctx.due_on is None:
        return ("due_on", "Enter the new due date")
    if ctx.due_on < ctx.today:
        return ("due_on", "The new due date must be today or in the future")
    return None


def every_report_evaluated(ctx: GuardContext) -> Problem:
    if ctx.reports_awaiting_evaluation:
        count = ctx.reports_awaiting_evaluation
        reports = "report is" if count == 1 else "reports are"
        return ("action", f"Evaluate every impact report first: {count} {reports} waiting")
    return None


def claim_within_award(ctx: GuardContext) -> Problem:
    claim = ctx.record
    awarded = ctx.application.awarded_pence or 0
    if ctx.verified_claims_pence + claim.amount_pence > awarded:
        left = max(awarded - ctx.verified_claims_pence, 0)
        return ("amount_pence", f"Only £{left / 100:,.2f} of the award is left to verify")
    return None


def nothing_paid_on_claim(ctx: GuardContext) -> Problem:
    """A claim with money paid against it stays counted: reverse the payments to reject it."""
    if ctx.claim_paid_pence:
        return ("action", "Money has been paid against this claim: reverse the payment first")
    return None


#: Guards that look only at stored facts, not at what the person types: given those facts
#: (see ``services.lifecycle.action_facts``), ``allowed_actions`` leaves out what they refuse.
FACT_GUARDS = (no_claims_outstanding, final_report_evaluated, every_report_evaluated)


def supporting_schools(application: Any) -> list[Any]:
    """Partners marked supporting; the lead school when no partner is."""
    schools = [p.school for p in application.partners if p.role == "supporting"]
    return schools or [application.lead_school]


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    dest: str | None  # None: the action does not move the record (endorse)
    actors: tuple[str, ...]
    label: str
    controls: tuple[Guard, ...] = ()
    preconditions: tuple[Guard, ...] = ()
    guards: tuple[Guard, ...] = ()
    #: (condition, destination) pairs tried in order before ``dest``.
    routes: tuple[tuple[str, str], ...] = ()
    needs_comment: bool = False
    description: str = ""
    #: What a refusal says when the record is in none of ``sources`` (a general one if empty),
    #: and, by status, where that status needs its own words.
    wrong_state: str = ""
    wrong_state_by_status: tuple[tuple[str, str], ...] = ()
    #: What a refusal says to a person who is none of ``actors``. An action that names it
    #: checks who may act (actors, then controls) before the record's state.
    not_actor: str = ""

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple(d for _, d in self.routes) + ((self.dest,) if self.dest else ())

    def guard_names(self) -> list[str]:
        return [g.__name__ for g in (*self.controls, *self.preconditions, *self.guards)]


SUBMIT_GUARDS = (
    fund_open,
    complete,
    daily_rates_within_cap,
    within_max_award,
    measures_due_in_delivery_period,
    endorsements_given,
)

APPLICATION_ACTIONS: tuple[Action, ...] = (
    Action(
        "submit",
        ("draft",),
        "submitted",
        ("lead_headteacher",),
        "Submit bid",
        guards=SUBMIT_GUARDS,
        description="The lead headteacher sends the finished bid to the liaison officer.",
    ),
    Action(
        "endorse",
        ("draft", "submitted", "changes_requested"),
        None,
        ("partner_headteacher",),
        "Endorse bid",
        preconditions=(not_yet_endorsed,),
        description="A partner school's headteacher confirms their school's part in the bid.",
    ),
    Action(
        "decline_endorsement",
        ("draft", "submitted", "changes_requested"),
        None,
        ("partner_headteacher",),
        "Decline to endorse",
        preconditions=(not_yet_endorsed, not_yet_declined),
        guards=(reason_given,),
        needs_comment=True,
        description=(
            "A partner school's headteacher declines their school's part in the bid, saying "
            "why; the lead headteacher sees the reason and can change the partners."
        ),
    ),
    Action(
        "start_review",
        ("submitted",),
        "under_review",
        ("liaison_officer",),
        "Start review",
        controls=(not_conflicted,),
        description="A liaison officer with no link to the schools takes the bid for review.",
    ),
    Action(
        "request_changes",
        ("under_review",),
        "changes_requested",
        ("liaison_officer",),
        "Request changes",
        controls=(not_conflicted,),
        guards=(comment_given,),
        needs_comment=True,
        description="The liaison officer sends the bid back, saying what must change.",
    ),
    Action(
        "resubmit",
        ("changes_requested",),
        "submitted",
        ("lead_headteacher",),
        "Resubmit bid",
        guards=SUBMIT_GUARDS,
        description="The lead headteacher sends the changed bid back; it becomes a new version.",
    ),
    Action(
        "approve",
        ("under_review",),
        "approved",
        ("liaison_officer",),
        "Approve award",
        controls=(not_conflicted,),
        guards=(award_within_request, award_within_available, supporting_school_override),
        routes=(("needs_countersign", "awaiting_countersign"),),
        description=(
            "The liaison officer awards money within what was asked and what the fund has "
            "left. Awards at or over the fund's countersignature threshold wait for a second "
            "officer."
        ),
    ),
    Action(
        "countersign",
        ("awaiting_countersign",),
        "approved",
        ("liaison_officer",),
        "Countersign award",
        controls=(not_conflicted, not_the_approver),
        guards=(award_within_available,),
        description="A second, different liaison officer confirms a large award.",
    ),
    Action(
        "reject",
        ("under_review", "awaiting_countersign"),
        "rejected",
        ("liaison_officer",),
        "Reject bid",
        controls=(not_conflicted,),
        guards=(reason_given,),
        needs_comment=True,
        description="The liaison officer turns the bid down, giving the reason.",
    ),
    Action(
        "withdraw",
        ("draft", "submitted", "changes_requested"),
        "withdrawn",
        ("lead_headteacher",),
        "Withdraw bid",
        description="The lead headteacher takes the bid back before a decision.",
    ),
    Action(
        "finish_delivery",
        ("approved",),
        "monitoring",
        ("lead_headteacher", "liaison_officer"),
        "Finish delivery",
        guards=(no_claims_outstanding,),
        description=(
            "Support has been delivered and every claim settled; any unspent award goes "
            "back to the fund and impact is monitored."
        ),
    ),
    Action(
        "cancel",
        ("approved",),
        "cancelled",
        ("liaison_officer",),
        "Cancel award",
        controls=(not_conflicted,),
        guards=(reason_given,),
        needs_comment=True,
        description=(
            "The liaison officer stops the award, giving the reason; claims not yet paid are "
            "rejected and the unpaid award goes back to the fund."
        ),
    ),
    Action(
        "close",
        ("monitoring",),
        "closed",
        ("liaison_officer",),
        "Close",
        controls=(not_conflicted,),
        guards=(final_report_evaluated, every_report_evaluated),
        description=(
            "Once the final impact report and every other report sent are evaluated the "
            "liaison officer closes the record."
        ),
    ),
)

CLAIM_ACTIONS: tuple[Action, ...] = (
    Action(
        "verify",
        ("pending",),
        "verified",
        ("liaison_officer",),
        "Verify claim",
        controls=(not_conflicted,),
        preconditions=(application_approved,),
        guards=(claim_within_award,),
        description="A liaison officer checks the evidence; the claim can then be paid.",
    ),
    Action(
        "reject",
        ("pending", "verified"),
        "rejected",
        ("liaison_officer",),
        "Reject claim",
        controls=(not_conflicted,),
        preconditions=(nothing_paid_on_claim,),
        guards=(reason_given,),
        needs_comment=True,
        description="A liaison officer turns the claim down, giving the reason.",
    ),
    Action(
        "pay",
        ("verified",),
        "paid",
        ("finance",),
        "Record payment",
        controls=(did_not_decide,),
        preconditions=(application_approved,),
        description="Finance records the disbursement that pays the claim in full.",
    ),
    Action(
        "reverse_payment",
        ("paid",),
        "verified",
        ("finance",),
        "Reverse payment",
        controls=(did_not_decide,),
        description="Finance reverses a wrong payment; the claim is verified but unpaid again.",
    ),
)


def report_not_evaluated(ctx: GuardContext) -> Problem:
    """A report is evaluated once: a stored evaluation settles it whatever its status says."""
    if getattr(ctx.record, "evaluation", None) is not None:
        return ("action", "This report has already been evaluated")
    return None


REPORT_ACTIONS: tuple[Action, ...] = (
    Action(
        "evaluate",
        ("submitted",),
        "evaluated",
        ("liaison_officer",),
        "Evaluate report",
        controls=(not_conflicted,),
        preconditions=(report_not_evaluated,),
        wrong_state="This report has already been evaluated",
        not_actor="Only a liaison officer can evaluate impact",
        description="A liaison officer with no link to the schools rates the report and its drivers.",
    ),
)


def award_approved_for_payment(ctx: GuardContext) -> Problem:
    if ctx.application.status not in CLAIMABLE_STATUSES:
        return ("action", "Payments are only made while the award is approved")
    return None


def payment_within_unpaid(ctx: GuardContext) -> Problem:
    unpaid = ctx.record.amount_pence - ctx.claim_paid_pence
    if ctx.amount_pence is not None and ctx.amount_pence > unpaid:
        return ("amount_pence", f"Only £{unpaid / 100:,.2f} of this claim is unpaid")
    return None


SCHEDULE_ACTIONS: tuple[Action, ...] = (
    Action(
        "mark_late",
        ("due",),
        "late",
        ("system",),
        "Mark late",
        description="The due date passed with nothing sent: ``run-schedule`` marks the item late.",
    ),
    Action(
        "mark_submitted",
        OPEN_SCHEDULE_STATUSES,
        "submitted",
        ("lead_headteacher", "liaison_officer"),
        "Record as done",
        description=(
            "The report it asks for was sent (by the lead headteacher), or, for a claim "
            "deadline, delivery was finished and every claim settled."
        ),
    ),
    Action(
        "waive",
        OPEN_SCHEDULE_STATUSES,
        "waived",
        ("liaison_officer",),
        "Waive",
        controls=(not_conflicted,),
        guards=(reason_given,),
        needs_comment=True,
        not_actor="Only a liaison officer can waive a report or deadline",
        description=(
            "A liaison officer with no link to the schools lets the award off the item, giving "
            "the reason (cancelling an award waives what it still owed). A waived final report "
            "lets the bid close."
        ),
    ),
    Action(
        "reschedule",
        OPEN_SCHEDULE_STATUSES,
        "due",
        ("liaison_officer",),
        "Change due date",
        controls=(not_conflicted,),
        guards=(new_due_date_given, reason_given),
        needs_comment=True,
        not_actor="Only a liaison officer can change a due date",
        description="A liaison officer with no link to the schools moves the due date, giving the reason.",
    ),
)

# Operations: what people do to a record without moving it through its lifecycle (or, for
# a payment, before ``pay`` moves it). Declared like the actions — who, the state, controls,
# preconditions and guards — and fired the same way, so a service asks the workflow whether
# an operation may happen instead of checking by hand. They are kept apart from the
# lifecycles above, whose actions are the bid's and claim's status moves (the API's
# ``action`` choices, the README table and the diagrams).

APPLICATION_OPERATIONS: tuple[Action, ...] = (
    Action(
        "edit",
        EDITABLE_STATUSES,
        None,
        ("lead_headteacher",),
        "Edit bid",
        not_actor="Only the lead school's headteacher can edit this bid",
        wrong_state="The bid can only be edited while a draft or when changes are requested",
        description="The lead headteacher changes a draft, or a bid sent back for changes.",
    ),
    Action(
        "review",
        REVIEWABLE_STATUSES,
        None,
        ("liaison_officer",),
        "Review bid",
        controls=(not_conflicted,),
        not_actor="Only a liaison officer can review bids",
        wrong_state="A bid is reviewed while it is under review",
        description="A liaison officer with no link to the schools records the review checklist.",
    ),
    Action(
        "create_claim",
        CLAIMABLE_STATUSES,
        None,
        ("lead_headteacher",),
        "Claim backfill",
        not_actor="Only the lead school's headteacher can claim backfill",
        wrong_state="Claims are only accepted while the award is approved",
        description="The lead headteacher claims the cost of staff released to deliver support.",
    ),
    Action(
        "submit_impact_report",
        REPORTABLE_STATUSES,
        None,
        ("lead_headteacher",),
        "Report impact",
        not_actor="Only the lead school's headteacher can report impact",
        wrong_state="Impact is reported once the award is approved",
        description="The lead headteacher reports results against the bid's measures.",
    ),
)

CLAIM_OPERATIONS: tuple[Action, ...] = (
    Action(
        "record_payment",
        PAYABLE_CLAIM_STATUSES,
        None,
        ("finance",),
        "Record payment",
        controls=(did_not_decide,),
        preconditions=(award_approved_for_payment,),
        guards=(payment_within_unpaid,),
        not_actor="Only finance officers record payments",
        wrong_state="Only a verified claim can be paid",
        wrong_state_by_status=(("paid", "This claim has already been paid"),),
        description=(
            "Finance records money paid against a verified claim, in part or in full; the "
            "payment that settles the claim fires ``pay``."
        ),
    ),
    Action(
        "record_reversal",
        tuple(CLAIM_STATES),
        None,
        ("finance",),
        "Reverse a payment",
        controls=(did_not_decide,),
        not_actor="Only finance officers reverse payments",
        description=(
            "Finance reverses a wrong payment with a reason, whatever the claim's state; when "
            "the claim was paid in full, ``reverse_payment`` fires."
        ),
    ),
)

#: Routing conditions used by ``routes``: pure predicates over the context.
ROUTE_CONDITIONS: dict[str, Callable[[GuardContext], bool]] = {
    "needs_countersign": lambda ctx: (
        ctx.application.fund.countersign_threshold_pence is not None
        and (ctx.awarded_pence or 0) >= ctx.application.fund.countersign_threshold_pence
    ),
}


class Lifecycle:
    """One state machine definition: its states, its actions and a ``transitions`` machine."""

    def __init__(self, name: str, states: dict[str, str], actions: Iterable[Action], initial: str):
        self.name = name
        self.states = states
        self.actions = {a.name: a for a in actions}
        self.initial = initial
        # Subjects lent to requests (see ``_subject``): a deque pops and appends atomically,
        # and the machine's own lock guards adding subjects and firing on them.
        self._idle: deque[_Subject] = deque()
        self.machine = LockedMachine(
            model=None,
            states=list(states),
            transitions=self.machine_transitions(),
            initial=initial,
            auto_transitions=False,
            model_attribute="status",
            send_event=True,
        )

    def machine_transitions(self) -> list[dict[str, Any]]:
        """The ``transitions`` rows: routed destinations first, then the default. Every row
        carries the action's own condition (who, controls, preconditions, guards: see
        :meth:`passes`) and a routed row its routing condition too."""
        rows: list[dict[str, Any]] = []
        for action in self.actions.values():
            allowed = self._condition(action)
            for condition, dest in action.routes:
                rows.append(
                    {
                        "trigger": action.name,
                        "source": list(action.sources),
                        "dest": dest,
                        "conditions": [allowed, _route_condition(condition)],
                    }
                )
            rows.append(
                {
                    "trigger": action.name,
                    "source": list(action.sources),
                    "dest": action.dest,
                    "conditions": [allowed],
                }
            )
        return rows

    def _condition(self, action: Action) -> Callable[[Any], bool]:
        def condition(event: Any) -> bool:
            return self.passes(action, event.model)

        condition.__name__ = f"may_{action.name}"
        return condition

    def passes(self, action: Action, subject: _Subject) -> bool:
        """The condition on ``action``'s transitions. Firing: every check :meth:`check`
        makes. Asking which buttons to show: the actor, controls and preconditions, and the
        guards on stored facts (``FACT_GUARDS``) when those facts were gathered."""
        ctx = subject.ctx
        if subject.with_guards:
            try:
                self.check(action.name, ctx)
            except Refused:
                return False
            return True
        if not self.actor_kinds(action, ctx.record, ctx.user):
            return False
        fact_guards = [g for g in action.guards if g in FACT_GUARDS] if subject.with_fact_guards else []
        return not any(check(ctx) for check in (*action.controls, *action.preconditions, *fact_guards))

    @contextmanager
    def _subject(
        self, ctx: GuardContext, *, with_guards: bool = True, with_fact_guards: bool = False
    ) -> Iterator[_Subject]:
        """``ctx.record`` as a model of the machine for one request: ``may_<action>()`` and
        ``<action>()`` are bound onto a subject, never onto the SQLAlchemy row. Subjects stay
        in the machine and are lent out one per request at a time (binding a new model costs
        more than the checks themselves); there are never more than requests at once."""
        try:
            subject = self._idle.pop()
        except IndexError:
            subject = _Subject()
            self.machine.add_model(subject, initial=self.initial)
        subject.ctx, subject.with_guards, subject.with_fact_guards = ctx, with_guards, with_fact_guards
        try:
            yield subject
        finally:
            subject.ctx = None
            self._idle.append(subject)

    def action(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise UnknownAction(name, sorted(self.actions)) from None

    def actor_kinds(self, action: Action, record: Any, user: Any) -> list[str]:
        return [kind for kind in action.actors if is_actor(kind, record, user)]

    def allowed_actions(
        self, record: Any, user: Any, today: date | None = None, facts: dict[str, Any] | None = None
    ) -> list[str]:
        """Actions ``user`` could fire on ``record`` now: state, actor, controls and
        preconditions pass. Guards on what the person types are checked when firing; guards
        on stored facts (``FACT_GUARDS``) are checked here too when ``facts`` are given."""
        if user is None or not getattr(user, "active", False):
            return []
        if record.status not in self.states:
            return []
        ctx = GuardContext(record=record, user=user, today=today or date.today(), **(facts or {}))
        # only the actions leaving this state are worth asking the machine about
        leaving = [a.name for a in self.actions.values() if record.status in a.sources]
        if not leaving:
            return []
        with self._subject(ctx, with_guards=False, with_fact_guards=facts is not None) as subject:
            return [name for name in leaving if self._may(name, subject)]

    def _may(self, name: str, subject: _Subject) -> bool:
        """The machine's ``may_<name>()`` for an action leaving the subject's state, asked
        directly: every action has a default transition whose one condition is
        :meth:`passes` (a routed one only adds a condition to it), so that condition is the
        answer. Going through ``transitions`` (its lock and event objects) cost ten times the
        check itself, a fifth of a work-queue page."""
        return self.passes(self.actions[name], subject)

    def may(self, action_name: str, ctx: GuardContext) -> bool:
        """Whether ``action_name`` could fire now with these facts and this input (the
        machine's ``may_<action>()``); :meth:`check` says why not."""
        self.action(action_name)
        if ctx.record.status not in self.states:
            return False
        with self._subject(ctx) as subject:
            return bool(getattr(subject, f"may_{action_name}")())

    def check(self, action_name: str, ctx: GuardContext) -> Action:
        """Raise the right refusal if ``action_name`` may not fire; return the action."""
        action = self.action(action_name)
        if action.not_actor:
            if not self.actor_kinds(action, ctx.record, ctx.user):
                raise Refused("forbidden", [("action", action.not_actor)])
            _refuse_if("forbidden", action.controls, ctx)
            self._check_state(action, ctx)
        else:
            role_holders = [k for k in action.actors if ctx.user.has_role(ACTOR_ROLES[k])]
            if not role_holders:
                raise Refused("forbidden", [("action", f"Your role may not {action.label.lower()}")])
            self._check_state(action, ctx)
            if not self.actor_kinds(action, ctx.record, ctx.user):
                who = " or ".join(ACTOR_LABELS[k].lower() for k in action.actors)
                raise Refused("forbidden", [("action", f"Only the {who} may do this")])
            _refuse_if("forbidden", action.controls, ctx)
        _refuse_if("invalid_state", action.preconditions, ctx)
        _refuse_if("guard_failed", action.guards, ctx)
        return action

    def _check_state(self, action: Action, ctx: GuardContext) -> None:
        status = ctx.record.status
        if status not in action.sources:
            state = self.states.get(status, status).lower()
            message = (
                dict(action.wrong_state_by_status).get(status)
                or action.wrong_state
                or f"You cannot {action.label.lower()} while it is {state}"
            )
            raise Refused("invalid_state", [("action", message)])

    def fire(self, action_name: str, ctx: GuardContext) -> tuple[str, str]:
        """Check and move ``ctx.record``; return (from_status, to_status)."""
        action = self.check(action_name, ctx)  # the refusal, with its reasons
        from_status = ctx.record.status
        with self._subject(ctx) as subject:
            # The machine moves the subject, whose ``status`` is the record's column.
            fired = getattr(subject, action.name)()
        if not fired:  # the check above passed, so the conditions do too
            raise AssertionError(f"{self.name}: {action.name} passed its checks but did not fire")
        return from_status, ctx.record.status


class _Subject:
    """A ``transitions`` model standing for the record in hand (``ctx.record``): its
    ``status`` is the record's, and the transitions' conditions read ``ctx``.
    ``with_guards`` is False when only asking which actions to offer (guards on what a
    person types are checked when firing)."""

    def __init__(self) -> None:
        self.ctx: GuardContext | None = None
        self.with_guards = True
        self.with_fact_guards = False
        self._idle_status = ""

    @property
    def status(self) -> str:
        return self.ctx.record.status if self.ctx is not None else self._idle_status

    @status.setter
    def status(self, value: str) -> None:
        if self.ctx is None:  # joining the machine, between records
            self._idle_status = value
        elif self.ctx.record.status != value:
            self.ctx.record.status = value


def _refuse_if(kind: str, checks: Iterable[Guard], ctx: GuardContext) -> None:
    problems = [p for p in (check(ctx) for check in checks) if p]
    if problems:
        raise Refused(kind, problems)


def _route_condition(name: str) -> Callable[[Any], bool]:
    condition = ROUTE_CONDITIONS[name]

    def check(event: Any) -> bool:
        return condition(event.model.ctx)

    check.__name__ = name
    return check


class UnknownAction(Exception):
    def __init__(self, name: str, known: list[str]):
        super().__init__(f"Unknown action {name!r}")
        self.name = name
        self.known = known


class Refused(Exception):
    """An action may not fire. ``kind`` is forbidden, invalid_state or guard_failed."""

    def __init__(self, kind: str, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.kind = kind
        self.problems = problems


APPLICATION_LIFECYCLE = Lifecycle("application", APPLICATION_STATES, APPLICATION_ACTIONS, "draft")
CLAIM_LIFECYCLE = Lifecycle("claim", CLAIM_STATES, CLAIM_ACTIONS, "pending")
REPORT_LIFECYCLE = Lifecycle("impact report", REPORT_STATES, REPORT_ACTIONS, "submitted")
SCHEDULE_LIFECYCLE = Lifecycle("monitoring schedule item", SCHEDULE_STATES, SCHEDULE_ACTIONS, "due")
#: The operations, each on the states of the record it acts on (see ``APPLICATION_OPERATIONS``).
APPLICATION_OPERATIONS_LIFECYCLE = Lifecycle(
    "application operations", APPLICATION_STATES, APPLICATION_OPERATIONS, "draft"
)
CLAIM_OPERATIONS_LIFECYCLE = Lifecycle("claim operations", CLAIM_STATES, CLAIM_OPERATIONS, "pending")


def allowed_actions(
    record: Any, user: Any, today: date | None = None, facts: dict[str, Any] | None = None
) -> list[str]:
    """The actions ``user`` may fire on an application or a claim right now."""
    lifecycle = CLAIM_LIFECYCLE if hasattr(record, "period_start") else APPLICATION_LIFECYCLE
    return lifecycle.allowed_actions(record, user, today, facts)


def lifecycle_rows(lifecycle: Lifecycle = APPLICATION_LIFECYCLE) -> list[dict[str, str]]:
    """The lifecycle as plain rows (from, action, to, who, guards) for pages and the README."""
    rows = []
    for action in lifecycle.actions.values():
        states = lifecycle.states
        rows.append(
            {
                "from": ", ".join(action.sources),
                "from_labels": ", ".join(states[s] for s in action.sources),
                "to_labels": " or ".join(states[d] for d in action.destinations)
                if action.dest
                else "No change",
                "label": action.label,
                "action": action.name,
                "to": " or ".join(action.destinations) if action.dest else "(unchanged)",
                "who": " or ".join(ACTOR_LABELS[k] for k in action.actors),
                "guards": ", ".join(action.guard_names()) or "—",
                "description": action.description,
            }
        )
    return rows


__all__ = [
    "APPLICATION_LIFECYCLE",
    "APPLICATION_OPERATIONS_LIFECYCLE",
    "APPLICATION_STATES",
    "CLAIM_OPERATIONS_LIFECYCLE",
    "CLAIM_LIFECYCLE",
    "CLAIM_STATES",
    "REPORT_LIFECYCLE",
    "REPORT_STATES",
    "SCHEDULE_LIFECYCLE",
    "SCHEDULE_STATES",
    "Action",
    "GuardContext",
    "Lifecycle",
    "Refused",
    "UnknownAction",
    "allowed_actions",
    "lifecycle_rows",
]
