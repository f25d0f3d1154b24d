"""Jinja filters for money, dates and labels, so templates hold no arithmetic."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from .dates import long_date
from .models import DRIVER_LABELS, RATING_LABELS, ROLE_LABELS, SCHEDULE_KIND_LABELS
from .models.school import STATUS_LABELS as SCHOOL_STATES
from .models.school import identifier_label
from .services.parsing import pounds
from .workflow import (
    APPLICATION_LIFECYCLE,
    APPLICATION_OPERATIONS_LIFECYCLE,
    APPLICATION_STATES,
    CLAIM_LIFECYCLE,
    CLAIM_OPERATIONS_LIFECYCLE,
    CLAIM_STATES,
    REPORT_LIFECYCLE,
    SCHEDULE_LIFECYCLE,
    SCHEDULE_STATES,
    Action,
    Lifecycle,
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


def school_identifier(school: Any, *, start: bool = False) -> str:
    """A school's identifier labelled by its nation ("URN 137101", "SEED code 8412345"),
    from a School or a bid version's partner (older versions keep only ``urn``)."""
    if isinstance(school, dict):
        nation, identifier = school.get("nation") or "england", school.get("identifier") or school.get("urn")
    else:
        nation, identifier = school.nation, school.identifier
    return identifier_label(nation, identifier, start=start)


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
    "mark_submitted": "{what} received",
    "waive": "{what} waived",
    "reschedule": "{what} due date changed",
}
#: What a schedule item is called in an audit entry's heading, by its kind.
SCHEDULE_EVENT_NOUNS = {**SCHEDULE_KIND_LABELS, "claim_deadline": "Claim deadline"}
#: A met item reads as what happened: a report came in, a claim deadline was kept.
SCHEDULE_MET_WORDS = {"claim_deadline": "{what} met"}

#: The lifecycles (status moves, then operations) that declare the actions recorded about
#: each kind of record. An audit entry's heading is made from the declared action's label.
TRAIL_LIFECYCLES: dict[str, tuple[Lifecycle, ...]] = {
    "application": (APPLICATION_LIFECYCLE, APPLICATION_OPERATIONS_LIFECYCLE),
    "claim": (CLAIM_LIFECYCLE, CLAIM_OPERATIONS_LIFECYCLE, APPLICATION_OPERATIONS_LIFECYCLE),
    "impact_report": (REPORT_LIFECYCLE, APPLICATION_OPERATIONS_LIFECYCLE),
    "review": (APPLICATION_OPERATIONS_LIFECYCLE,),
    "schedule_item": (SCHEDULE_LIFECYCLE,),
}
#: Events whose action is recorded under another name than the one declared: a payment is
#: the claim's ``pay`` (in full or in part), a reversal its ``reverse_payment``.
RECORDED_AS: dict[str, str] = {
    "record_disbursement": "record_payment",
    "reverse_disbursement": "reverse_payment",
    "evaluate_impact_report": "evaluate",
}
#: The past form of each verb the lifecycles' labels start with ("Reject claim" → "Claim
#: rejected"); a verb not listed takes "ed".
PAST_TENSE = {
    "submit": "submitted",
    "resubmit": "resubmitted",
    "withdraw": "withdrawn",
    "cancel": "cancelled",
    "verify": "verified",
    "countersign": "countersigned",
}
#: Headings the rule above would word badly, by (subject type, action).
EVENT_WORDS: dict[tuple[str, str], str] = {
    ("application", "decline_endorsement"): "Endorsement declined",
    ("application", "close"): "Bid closed",
    ("application", "create"): "Bid started",
    ("application", "submit_impact_report"): "Impact report sent",
    ("impact_report", "submit_impact_report"): "Impact report sent",
    ("impact_report", "evaluate_impact_report"): "Impact report evaluated",
    ("review", "review"): "Review recorded",
}
#: Headings of the events no lifecycle declares: accounts, schools, funds and imports.
OTHER_EVENT_LABELS: dict[str, str] = {
    "create_fund": "Fund created",
    "create_organisation": "Organisation created",
    "update_fund": "Fund rules changed",
    "create_school": "School added",
    "update_school": "School's causing-concern marker changed",
    "import_schools": "Schools imported from Get Information about Schools",
    "create_user": "Account created",
    "update_user": "Account changed",
    "issue_set_password_link": "Set-password link sent",
    "request_password_reset": "Password reset asked for",
    "change_password": "Password changed",
    "set_password": "Password set",
    "sign_out_everywhere": "Signed out everywhere",
    "issue_token": "API token issued",
    "revoke_token": "API token revoked",
    "revoke_tokens": "API tokens revoked",
    "make_calendar_link": "Calendar link made",
    "turn_off_calendar_link": "Calendar link turned off",
}


def past_tense_label(label: str) -> str:
    """An action's button words as what happened: "Reject claim" → "Claim rejected",
    "Request changes" → "Changes requested"."""
    verb, _, rest = label.partition(" ")
    past = PAST_TENSE.get(verb.lower()) or verb.lower() + ("d" if verb.endswith("e") else "ed")
    if not rest:
        return past.capitalize()
    rest = rest.removeprefix("a ").removeprefix("the ")
    return f"{rest[:1].upper()}{rest[1:]} {past}"


def declared_action(subject_type: str, action: str) -> tuple[Lifecycle, Action] | None:
    """The lifecycle and action that declare an event's action, if one does."""
    name = RECORDED_AS.get(action, action)
    for lifecycle in TRAIL_LIFECYCLES.get(subject_type, ()):
        if name in lifecycle.actions:
            return lifecycle, lifecycle.actions[name]
    return None


def trail_label(
    subject_type: str, action: str, payload: dict[str, Any] | None = None, to_status: str | None = None
) -> str:
    """The heading of an audit entry from its columns (:func:`event_label` for an Event; the
    audit-trail CSV, which reads columns, calls this)."""
    if subject_type == "schedule_item" and action in SCHEDULE_EVENT_WORDS:
        kind = (payload or {}).get("kind")
        what = SCHEDULE_EVENT_NOUNS.get(kind, "Monitoring schedule item")
        words = SCHEDULE_MET_WORDS.get(kind) if action == "mark_submitted" else None
        return (words or SCHEDULE_EVENT_WORDS[action]).format(what=what)
    if (subject_type, action) in EVENT_WORDS:
        return EVENT_WORDS[subject_type, action]
    declared = declared_action(subject_type, action)
    if declared is not None:
        lifecycle, found = declared
        text = past_tense_label(found.label)
        if to_status in {dest for _, dest in found.routes}:
            text += f": {lifecycle.states[to_status].lower()}"
        return text
    if action in OTHER_EVENT_LABELS:
        return OTHER_EVENT_LABELS[action]
    return action.replace("_", " ").capitalize()


def event_label(event: Any) -> str:
    """The heading of an audit entry, from the lifecycle that declares its action and the
    kind of record it is about: a rejected claim reads "Claim rejected", a rejected bid "Bid
    rejected", a waived schedule item what was waived ("Final impact report waived")."""
    return trail_label(event.subject_type, event.action, event.payload, getattr(event, "to_status", None))


#: How each payload key reads in a sentence about an audit entry; ``{}`` is its value as
#: :func:`payload_value` writes it. Keys not listed read as their words ("Staff name: …").
PAYLOAD_WORDS: dict[str, str] = {
    "comment": "Comment: “{}”.",
    "reason": "Reason given: “{}”.",
    "awarded_pence": "Award: {}.",
    "proposed_award_pence": "The award proposed was {}.",
    "requested_pence": "Asked for {}.",
    "available_pence": "The fund had {} left to award.",
    "paid_pence": "Paid on the award: {}.",
    "released_pence": "Released back to the fund: {}.",
    "amount_pence": "Amount: {}.",
    "budget_pence": "Budget: {}.",
    "max_daily_rate_pence": "Highest day rate: {}.",
    "max_award_pence": "Largest award: {}.",
    "countersign_threshold_pence": "Awards of {} or more need a countersignature.",
    "conditions": "Conditions: “{}”.",
    "report_dates": "Impact reports due on {}.",
    "version": "Version {}.",
    "school_urn": "School URN {}.",
    "payee_urn": "Paid to the school with URN {}.",
    "urn": "URN {}.",
    "reference": "Reference {}.",
    "title": "Title: “{}”.",
    "name": "Name: {}.",
    "email": "Account: {}.",
    "roles": "Roles: {}.",
    "days": "{} days released.",
    "period_start": "From {}.",
    "period_end": "To {}.",
    "staff_name": "Staff member: {}.",
    "evidence_sha256": "Evidence file fingerprint (SHA-256) {}.",
    "overlaps_claim_id": "Overlaps claim {} on another bid: possible double funding.",
    "disbursement_id": "Payment number {}.",
    "reversal_id": "Reversal number {}.",
    "paid_on": "Paid on {}.",
    "reverses_reference": "Reverses payment {}.",
    "reverses_paid_on": "That payment was made on {}.",
    "due_on": "Due on {}.",
    "from_due_on": "Was due on {}.",
    "rating": "Rated: {}.",
    "drivers": "Improvement drivers: {}.",
    "eligible": "Eligible: {}.",
    "aligned_with_priorities": "Aligned with the fund's priorities: {}.",
    "supporting_school_has_capacity": "The supporting school has capacity: {}.",
    "value_for_money": "Value for money: {} out of 4.",
    "recommendation": "Recommendation: {}.",
    "causing_concern": "Causing concern: {}.",
    "requires_partner_endorsement": "Partner schools must endorse bids: {}.",
    "sessions_ended": "Sessions ended: {}.",
    "tokens_revoked": "API tokens revoked: {}.",
    "revoked": "API tokens revoked: {}.",
    "replaced": "Replaced an earlier link: {}.",
    "expires_at": "Expires {}.",
    "financial_year": "Financial year {}.",
    "opens_on": "Opens on {}.",
    "closes_on": "Closes on {}.",
    "delivery_ends_on": "Delivery ends on {}.",
    "report_cadence": "Interim reports: {}.",
    "final_report_weeks": "Final report due {} weeks after the last measure.",
    "newly_closed": "Newly closed: {}.",
    "local_authorities": "Councils (GSS codes): {}.",
    "slug": "Short name: {}.",
    "funder_id": "360Giving funder identifier {}.",
    "reference_prefix": "Bid references start {}.",
    "term_calendar": "School terms: {}.",
}
#: Keys that say nothing a heading has not said already.
PAYLOAD_SKIPPED = frozenset({"kind"})
#: A quotation that ends with its own full stop ends the sentence too.
_QUOTE_ENDS_SENTENCE = re.compile(r"([.!?…])”\.$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: Words in payload keys that read better as people write them.
KEY_WORDS = {"urn": "URN", "id": "ID", "sha256": "SHA-256", "vfm": "VFM", "api": "API"}


def payload_key_words(key: str) -> str:
    """A payload key as words: ``school_id`` → "School ID"."""
    words = [KEY_WORDS.get(word, word) for word in key.removesuffix("_pence").split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def payload_value(key: str, value: Any) -> str:
    """One payload value as words: pence in pounds, dates in full, yes or no, lists joined,
    records (a schedule, results, before and after) as phrases — never JSON."""
    if key.endswith("_pence") and isinstance(value, int) and not isinstance(value, bool):
        return money(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    if isinstance(value, date):
        return day(value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        return day(date.fromisoformat(value))
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        return moment(datetime.fromisoformat(value).replace(tzinfo=None))
    if key == "roles" and isinstance(value, list):
        return ", ".join(ROLE_LABELS.get(str(v), str(v)) for v in value)
    if key == "drivers" and isinstance(value, list):
        return ", ".join(DRIVER_LABELS.get(str(v), str(v)) for v in value)
    if key == "rating":
        return RATING_LABELS.get(str(value), str(value))
    if key == "recommendation":
        return action_label(str(value))
    if key == "report_cadence":
        return str(value).replace("_", " ")
    if isinstance(value, list):
        return "; ".join(_record_words(key, v) for v in value)
    if isinstance(value, dict):
        return _record_words(key, value)
    return str(value)


def _record_words(key: str, value: Any) -> str:
    """One record inside a payload (an item of a schedule, a measure's result, an account
    before a change) as a phrase."""
    if not isinstance(value, dict):
        return payload_value(key, value)
    if "kind" in value and "due_on" in value:
        what = SCHEDULE_KIND_LABELS.get(value["kind"], "Monitoring schedule item")
        return f"{what} due on {payload_value('due_on', value['due_on'])}"
    if "measure_id" in value:
        return f"measure {value['measure_id']}: {value.get('actual', 'none')}"
    return ", ".join(
        f"{_lower_first(payload_key_words(k))} {payload_value(k, v)}" for k, v in value.items() if k != "kind"
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def payload_sentences(payload: dict[str, Any] | None, subject_type: str = "") -> list[str]:
    """An audit entry's payload as sentences, in the order recorded: money in pounds, dates
    in words, no keys, JSON or snake_case. A schedule item's ``kind`` is in its heading."""
    sentences = []
    for key, value in (payload or {}).items():
        if key in PAYLOAD_SKIPPED and subject_type == "schedule_item":
            continue
        if value is None and not key.endswith("_pence") or value in ("", []):
            continue  # nothing said: no overlap, no conditions, no comment
        if key in ("before", "after") and isinstance(value, dict):
            sentences.append(f"{key.capitalize()}: {_record_words(key, value)}.")
            continue
        if key == "schedule":
            sentences.append(f"Monitoring schedule: {payload_value(key, value)}.")
            continue
        if key == "results":
            sentences.append(f"Results reported: {payload_value(key, value)}.")
            continue
        if key == "kind":
            sentences.append(f"{str(value).replace('_', ' ').capitalize()} report.")
            continue
        text = payload_value(key, value)
        if len(text) > 300:
            text = text[:299] + "…"
        words = PAYLOAD_WORDS.get(key)
        sentence = words.format(text) if words else f"{payload_key_words(key)}: {text}."
        sentences.append(_QUOTE_ENDS_SENTENCE.sub(r"\1”", sentence))
    return sentences


def event_sentences(event: Any) -> list[str]:
    """An audit entry's payload as sentences (see :func:`payload_sentences`)."""
    return payload_sentences(event.payload, event.subject_type)


def payload_sentence(payload: dict[str, Any] | None, subject_type: str = "") -> str:
    """:func:`payload_sentences` as one paragraph (the audit-trail CSV's column)."""
    return " ".join(payload_sentences(payload, subject_type))


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
        school_identifier=school_identifier,
        claim_status_label=claim_status_label,
        status_tag=status_tag,
        action_label=action_label,
        event_label=event_label,
        event_sentences=event_sentences,
        action_button=action_button,
        role_label=lambda r: ROLE_LABELS.get(r, r),
        rating_label=lambda r: RATING_LABELS.get(r, r),
        driver_label=lambda d: DRIVER_LABELS.get(d, d),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
