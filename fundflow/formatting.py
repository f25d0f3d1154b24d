"""Jinja filters for money, dates and labels, so templates hold no arithmetic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from .dates import long_date
from .models import DRIVER_LABELS, RATING_LABELS, ROLE_LABELS, SCHEDULE_KIND_LABELS
from .models.school import STATUS_LABELS as SCHOOL_STATES
from .services.parsing import pounds
from .workflow import (
    APPLICATION_LIFECYCLE,
    APPLICATION_STATES,
    CLAIM_LIFECYCLE,
    CLAIM_STATES,
    SCHEDULE_STATES,
)


def money(pence: int | None) -> str:
    """12345 → '£123.45'; None → '—'."""
    if pence is None:
        return "—"
    sign = "-" if pence < 0 else ""
    return f"{sign}£{pounds(abs(pence)):,}"


def day(value: date | datetime | None) -> str:
    """2025-11-02 → '2 November 2025'; None → '—'."""
    if value is None:
        return "—"
    return long_date(value)


def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return f"{long_date(value)} at {value:%H:%M} UTC"


def number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value).normalize():f}"
    return text


def status_label(status: str) -> str:
    return status_text(status, "application")


def claim_status_label(status: str) -> str:
    return status_text(status, "claim")


#: What an impact report's status says. Its colours are in :data:`TAG_COLOURS`.
REPORT_STATES: dict[str, str] = {"submitted": "Waiting for evaluation", "evaluated": "Evaluated"}
#: What a payment on the payments list says: paid, reversed later, or itself a reversal.
PAYMENT_STATES: dict[str, str] = {"paid": "Paid", "reversed": "Reversed", "reversal": "Reversal"}

#: The ONE place a status tag's colour is chosen: GOV.UK tag modifiers for every status of
#: an application, a claim, an impact report and a payment, used by every page through the
#: ``status_tag`` filter (``{{ app.status | status_tag }}``,
#: ``{{ claim.status | status_tag("claim") }}``). A tag always says its status in words; the
#: colour only repeats it (WCAG 1.4.1). Grey is for finished or inactive records, blue and
#: light blue for waiting on the council, orange for waiting on the school, yellow for
#: waiting on a second officer, turquoise for money or impact still moving, green for done
#: well, red for refused or stopped.
TAG_COLOURS: dict[str, dict[str, str]] = {
    "application": {
        "draft": "grey",
        "submitted": "blue",
        "under_review": "light-blue",
        "changes_requested": "orange",
        "awaiting_countersign": "yellow",
        "approved": "green",
        "rejected": "red",
        "withdrawn": "grey",
        "monitoring": "turquoise",
        "closed": "grey",
        "cancelled": "red",
    },
    "claim": {"pending": "blue", "verified": "turquoise", "paid": "green", "rejected": "red"},
    "report": {"submitted": "blue", "evaluated": "green"},
    "schedule": {"due": "blue", "late": "red", "submitted": "green", "waived": "grey"},
    "payment": {"paid": "green", "reversed": "red", "reversal": "grey"},
    # A school's GIAS status; an open school shows no tag at all.
    "school": {"closed": "grey", "proposed_to_close": "yellow", "proposed_to_open": "blue"},
}
_STATUS_LABELS: dict[str, dict[str, str]] = {
    "application": APPLICATION_STATES,
    "claim": CLAIM_STATES,
    "report": REPORT_STATES,
    "schedule": SCHEDULE_STATES,
    "payment": PAYMENT_STATES,
    "school": SCHOOL_STATES,
}


def status_text(status: str, kind: str = "application") -> str:
    """What a status of an ``application``, ``claim``, impact ``report`` or ``payment`` says."""
    return _STATUS_LABELS[kind].get(status, status.replace("_", " ").capitalize())


def tag_class(status: str, kind: str = "application") -> str:
    """``govuk-tag--green`` and so on: the tag colour of a status (grey when unknown)."""
    return f"govuk-tag--{TAG_COLOURS[kind].get(status, 'grey')}"


def status_tag(status: str, kind: str = "application") -> Markup:
    """The GOV.UK tag every page shows for a status: ``<strong class="govuk-tag
    govuk-tag--light-blue">Under review</strong>``."""
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(
        tag_class(status, kind), escape(status_text(status, kind))
    )


#: The ONE place an action button's look is chosen. Its words are the action's ``label`` in
#: :mod:`fundflow.workflow` (:func:`action_label`); its GOV.UK style is here. A button that
#: *offers* an action on a record's page takes the style below (primary when not listed);
#: the button that *confirms* it on the action's own page is a warning button for warning
#: actions and the page's primary button otherwise. Where the confirming button says more
#: than the label ("Yes, withdraw the bid"), :data:`CONFIRM_LABELS` holds the words.
ACTION_BUTTON_STYLES: dict[str, str] = {
    "submit": "secondary",  # beside "Change the bid", the bid page's main button
    "resubmit": "secondary",
    "request_changes": "secondary",
    "decline_endorsement": "secondary",  # beside "Endorse bid"
    "close": "secondary",
    "withdraw": "warning",
    "reject": "warning",
    "cancel": "warning",
    "reverse_payment": "warning",
}
CONFIRM_LABELS: dict[str, str] = {
    "withdraw": "Yes, withdraw the bid",
    "finish_delivery": "Yes, finish delivery",
}


#: How an audit entry about a monitoring schedule item reads, by its action.
SCHEDULE_EVENT_WORDS = {
    "mark_late": "{what} late",
    "mark_submitted": "{what} done",
    "waive": "{what} waived",
    "reschedule": "{what} due date changed",
}


def event_label(event: Any) -> str:
    """The heading of an audit entry: the action's label, or for a schedule item what
    happened to which item ("Final impact report waived")."""
    if event.subject_type == "schedule_item" and event.action in SCHEDULE_EVENT_WORDS:
        what = SCHEDULE_KIND_LABELS.get((event.payload or {}).get("kind"), "Monitoring schedule item")
        return SCHEDULE_EVENT_WORDS[event.action].format(what=what)
    return action_label(event.action, "claim" if event.subject_type == "claim" else "application")


def action_label(action: str, kind: str = "application") -> str:
    """The words on an action's button: "Approve award"; ``kind`` "claim" for claim actions."""
    lifecycle = CLAIM_LIFECYCLE if kind == "claim" else APPLICATION_LIFECYCLE
    if action in lifecycle.actions:
        return lifecycle.actions[action].label
    return action.replace("_", " ").capitalize()


def action_button_classes(action: str, *, confirming: bool = False) -> str:
    """The GOV.UK button modifier of an action's button ("" for a primary button)."""
    style = ACTION_BUTTON_STYLES.get(action, "")
    if confirming and style != "warning":
        style = ""
    return f"govuk-button--{style}" if style else ""


def action_button(action: str, kind: str = "application", *, confirming: bool = False) -> dict[str, str]:
    """``text`` and ``classes`` of an action's button, as GOV.UK button macros take them."""
    text = CONFIRM_LABELS.get(action) if confirming else None
    return {
        "text": text or action_label(action, kind),
        "classes": action_button_classes(action, confirming=confirming),
    }


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        day=day,
        moment=moment,
        number=number,
        status_label=status_label,
        claim_status_label=claim_status_label,
        status_tag=status_tag,
        action_label=action_label,
        event_label=event_label,
        action_button=action_button,
        role_label=lambda r: ROLE_LABELS.get(r, r),
        rating_label=lambda r: RATING_LABELS.get(r, r),
        driver_label=lambda d: DRIVER_LABELS.get(d, d),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
