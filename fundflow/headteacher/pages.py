"""What the headteacher's pages show about a bid: the school's part, the next step, the
task list. Who may do what comes from :mod:`fundflow.workflow` (its lifecycle actions and
its operations: edit, claim, report), so nothing here decides a rule; it only chooses words
and links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from ..dates import long_date
from ..formatting import money
from ..models import Application, ApplicationPartner, ScheduleItem, User
from ..services.clock import today
from ..workflow import (
    APPLICATION_LIFECYCLE,
    APPLICATION_OPERATIONS_LIFECYCLE,
    NOT_YET_LATE_SCHEDULE_STATUSES,
    GuardContext,
    complete,
)

#: Actions confirmed on their own page (submit and resubmit go through "check your answers").
CONFIRMED_ACTIONS = ("endorse", "decline_endorsement", "withdraw", "finish_delivery")
#: Of those, the ones sent with a written reason (the workflow's ``needs_comment``).
REASONED_ACTIONS = tuple(a for a in CONFIRMED_ACTIONS if APPLICATION_LIFECYCLE.actions[a].needs_comment)

#: The bid actions a headteacher fires, read from the lifecycle: the ones these pages offer.
HEADTEACHER_ACTIONS = tuple(
    a.name
    for a in APPLICATION_LIFECYCLE.actions.values()
    if {"lead_headteacher", "partner_headteacher"} & set(a.actors)
)


def own_actions(actions: list[str]) -> list[str]:
    """Of the actions the workflow allows (``services.lifecycle.actions_for``), the ones a
    headteacher's page offers; a liaison officer's own actions are on the liaison pages."""
    return [a for a in actions if a in HEADTEACHER_ACTIONS]


def may(operation: str, application: Application, user: User) -> bool:
    """Whether the workflow would accept ``operation`` (``edit``, ``create_claim``,
    ``submit_impact_report``) from ``user`` now: the check the service makes when firing it."""
    ctx = GuardContext(record=application, user=user, today=today())
    return APPLICATION_OPERATIONS_LIFECYCLE.may(operation, ctx)


def can_edit(application: Application, user: User) -> bool:
    """Whether to offer the task list; :func:`applications.update_draft` fires ``edit``."""
    return may("edit", application, user)


def can_claim(application: Application, user: User) -> bool:
    """Whether to offer "claim backfill"; :func:`claims.create_claim` fires ``create_claim``."""
    return may("create_claim", application, user)


def can_report(application: Application, user: User) -> bool:
    """Whether to offer "report impact"; :func:`impact.submit_report` fires ``submit_impact_report``."""
    return may("submit_impact_report", application, user)


def school_part(application: Application, user: User) -> str:
    """Lead, Supporting or Supported: the user's school's part in the bid."""
    if application.lead_school_id == user.school_id:
        return "Lead"
    for partner in application.partners:
        if partner.school_id == user.school_id:
            return partner.role.capitalize()
    return "—"


@dataclass(frozen=True)
class NextStep:
    text: str
    href: str | None = None


def declined_partners(application: Application) -> list[ApplicationPartner]:
    """The partner schools whose headteachers declined to endorse the bid (and have not
    endorsed it since)."""
    return [p for p in application.partners if p.declined]


def declined_text(partner: ApplicationPartner) -> str:
    """The words for a declined partner: Chalvey Grove declined to endorse: <their reason>."""
    return f"{partner.school.name} declined to endorse: {partner.declined_reason}"


def _own_partner(application: Application, user: User) -> ApplicationPartner | None:
    return next((p for p in application.partners if p.school_id == user.school_id), None)


def next_step(application: Application, user: User, actions: list[str]) -> NextStep:
    """What the user's school needs to do next on this bid, from its allowed actions."""
    ref = application.reference
    if "endorse" in actions:
        endorse = url_for("headteacher.action", reference=ref, action="endorse")
        own = _own_partner(application, user)
        if own is not None and own.declined:
            return NextStep("Nothing: your school declined. Endorse it if you change your mind", endorse)
        return NextStep("Endorse this bid", endorse)
    if can_edit(application, user) and declined_partners(application):
        return NextStep(
            "A partner school declined to endorse: change the partners",
            url_for("headteacher.task_list", reference=ref),
        )
    if "resubmit" in actions:
        return NextStep("Answer the reviewer’s comments", url_for("headteacher.task_list", reference=ref))
    if "submit" in actions:
        return NextStep("Complete the tasks and submit", url_for("headteacher.task_list", reference=ref))
    if can_claim(application, user):
        return NextStep("Claim backfill", url_for("headteacher.new_claim", reference=ref))
    if can_report(application, user):
        return NextStep("Report impact", url_for("headteacher.new_report", reference=ref))
    waiting = {
        "submitted": "Wait for a liaison officer to review it",
        "under_review": "Wait for the liaison officer’s decision",
        "awaiting_countersign": "Wait for a second liaison officer to countersign",
        "changes_requested": "Wait for the lead school to answer the reviewer",
        "draft": "Wait for the lead school to submit it",
        "approved": "Nothing: the lead school claims the backfill",
        "monitoring": "Nothing: the lead school reports impact",
    }
    return NextStep(waiting.get(application.status, "Nothing"))


@dataclass(frozen=True)
class NextDue:
    """A bid's next monitoring item, as the dashboard says it."""

    text: str
    status: str
    late: bool


def next_due(item: ScheduleItem | None) -> NextDue | None:
    """The words for an item (Interim impact report due 12 December 2026), its status and
    whether it is late."""
    if item is None:
        return None
    late = item.status not in NOT_YET_LATE_SCHEDULE_STATUSES
    return NextDue(f"{item.kind_label} due {long_date(item.due_on)}", item.status, late)


def bid_home(application: Application, user: User) -> str:
    """Where a bid's link should go: its task list while the user can edit it."""
    endpoint = "headteacher.task_list" if can_edit(application, user) else "headteacher.bid"
    return url_for(endpoint, reference=application.reference)


#: A task with a partner school that declined to endorse the bid.
DECLINED_STATUS = {"tag": {"text": "Declined", "classes": "govuk-tag--red"}}


def _status(done: bool, *, blocked: bool = False) -> dict[str, Any]:
    if blocked:
        return {"text": "Cannot start yet", "classes": "govuk-task-list__status--cannot-start-yet"}
    if done:
        return {"text": "Completed"}
    return {"tag": {"text": "Incomplete", "classes": "govuk-tag--blue"}}


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def task_items(application: Application, user: User, actions: list[str]) -> list[dict[str, Any]]:
    """The task list rows (GOV.UK "complete multiple tasks"), each status from the data."""
    ref = application.reference
    partners, activities = application.partners, application.activities
    about_done = bool(application.title.strip() and application.need.strip() and application.priority_areas)
    partners_hint = (
        _count(len(partners), "partner school", "partner schools")
        if partners
        else "The schools that give or receive support"
    )
    declined = declined_partners(application)
    if declined:
        partners_hint = (
            ". ".join(declined_text(p) for p in declined)
            + ". Talk to the school: it can still endorse the bid. Or change the partner schools:"
            " remove the school, or name another in its place."
        )
    activities_hint = (
        f"{_count(len(activities), 'activity', 'activities')}, {money(application.requested_pence)} requested"
        if activities
        else "Who is released, for how many days, at what daily rate"
    )
    items = [
        {
            "title": {"text": "Need and priority areas"},
            "hint": {"text": "The bid’s title, the need it meets and the fund priorities it addresses"},
            "href": url_for("headteacher.edit_need", reference=ref),
            "status": _status(about_done),
        },
        {
            "title": {"text": "Partner schools"},
            "hint": {"text": partners_hint},
            "href": url_for("headteacher.edit_partners", reference=ref),
            "status": DECLINED_STATUS if declined else _status(bool(partners)),
        },
        {
            "title": {"text": "Activities and costs"},
            "hint": {"text": activities_hint},
            "href": url_for("headteacher.edit_activities", reference=ref),
            "status": _status(bool(activities)),
        },
        {
            "title": {"text": "Measures of impact"},
            "hint": {"text": "Indicators with a baseline, a target and a due date"},
            "href": url_for("headteacher.edit_measures", reference=ref),
            "status": _status(bool(application.measures)),
        },
    ]
    if application.fund.requires_partner_endorsement:
        endorsed = sum(1 for p in partners if p.endorsed)
        said_no = f" {len(declined)} declined: see partner schools." if declined else ""
        done = bool(partners) and endorsed == len(partners)
        items.append(
            {
                "title": {"text": "Endorsements from partner schools"},
                "hint": {
                    "text": f"{endorsed} of {_count(len(partners), 'partner school', 'partner schools')} "
                    f"endorsed.{said_no} Partner headteachers endorse the bid from their own dashboard."
                },
                "status": DECLINED_STATUS if declined else _status(done, blocked=not partners),
            }
        )
    ready = complete(GuardContext(record=application, user=user, today=today())) is None
    send = "resubmit" if "resubmit" in actions else "submit"
    items.append(
        {
            "title": {"text": "Check your answers and " + send},
            "href": url_for("headteacher.check_answers", reference=ref) if ready else None,
            "status": _status(False, blocked=not ready),
        }
    )
    return items
