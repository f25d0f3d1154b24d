"""A person's private calendar feed (iCalendar, RFC 5545): their due dates and the
decisions waiting for them, for Outlook or any calendar that subscribes to a web address.

- A headteacher sees what the bids their school leads still owe (interim and final impact
  reports, last days to claim backfill), on the day each is due.
- A liaison officer sees the same for every bid they are not conflicted on, and, on
  today's date, each decision waiting for them: bids to review, awards to countersign
  (that they did not approve), claims to verify and impact reports to evaluate.
- Finance sees, on today's date, each verified claim waiting to be paid.

All events are all-day. Each has a stable UID, so a calendar that fetches the feed again
updates its events instead of adding copies; a decision waiting moves to each new day until
it is made, and then drops out. The feed is bounded: due dates from :data:`PAST_DAYS` days
ago to :data:`AHEAD_MONTHS` months ahead, and at most :data:`MAX_EVENTS` events, nearest
first. It is read with the link's secret alone (no sign-in), so it says only what the
link's owner may see.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, vDuration

from ..dates import long_date
from ..models import SCHEDULE_KIND_LABELS, User
from ..workflow import NOT_YET_LATE_SCHEDULE_STATUSES
from .clock import today as clock_today
from .errors import NotFound
from .notifications import page_path, service_url
from .queries import inbox as queries

MAX_EVENTS = 500
PAST_DAYS = 60
AHEAD_MONTHS = 18
CALENDAR_NAME = "fundflow: due dates and decisions"
PRODUCT_ID = "-//fundflow//School improvement fund calendar//EN"
#: How often a calendar should fetch the feed again (a hint; Outlook decides for itself).
REFRESH = timedelta(hours=4)


@dataclass(frozen=True)
class Entry:
    """One all-day event."""

    uid: str
    day: date
    summary: str
    description: str
    url: str


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _url(endpoint: str, **values: object) -> str:
    return service_url() + page_path(endpoint, **values)


def _named(reference: str, title: str) -> str:
    return f"{reference} {title}".strip()


def _due_entry(row: queries.DueRow, endpoint: str) -> Entry:
    label = SCHEDULE_KIND_LABELS[row.kind]
    what = label if row.kind == "claim_deadline" else f"{label} due"
    late = row.status not in NOT_YET_LATE_SCHEDULE_STATUSES
    url = _url(endpoint, reference=row.reference)
    description = f"{label} for bid {row.reference}, “{row.title}”: due on {long_date(row.due_on)}."
    if late:
        description += " It is late."
    return Entry(
        uid=f"schedule-item-{row.id}@fundflow",
        day=row.due_on,
        summary=f"{'Late: ' if late else ''}{what}: {_named(row.reference, row.title)}",
        description=f"{description}\n\n{url}",
        url=url,
    )


#: Each kind of decision waiting: its event's UID prefix, summary, what it waits for, and its page.
DECISIONS: dict[str, tuple[str, str, str, Callable[[queries.WaitingRow], str]]] = {
    "review": (
        "review",
        "Review bid",
        "waiting for a liaison officer's review",
        lambda row: _url("liaison.application", reference=row.reference),
    ),
    "countersign": (
        "countersign",
        "Countersign award",
        "waiting for a second liaison officer to countersign the award",
        lambda row: _url("liaison.countersign", reference=row.reference),
    ),
    "verify_claim": (
        "verify-claim",
        "Verify backfill claim",
        "has a backfill claim waiting to be verified",
        lambda row: _url("liaison.claim", claim_id=row.record_id),
    ),
    "evaluate_report": (
        "evaluate-report",
        "Evaluate impact report",
        "has an impact report waiting to be evaluated",
        lambda row: _url("liaison.evaluate", report_id=row.record_id),
    ),
    "pay_claim": (
        "pay-claim",
        "Pay backfill claim",
        "has a verified backfill claim waiting to be paid",
        lambda row: _url("finance.pay", claim_id=row.record_id),
    ),
}


def _decision_entry(row: queries.WaitingRow, day: date) -> Entry:
    prefix, summary, waiting, link = DECISIONS[row.kind]
    url = link(row)
    since = f"Waiting since {long_date(row.since)}." if row.since is not None else "Waiting."
    return Entry(
        uid=f"{prefix}-{row.record_id}@fundflow",
        day=day,
        summary=f"{summary}: {_named(row.reference, row.title)}",
        description=f"Bid {row.reference}, “{row.title}”, {waiting}. {since}\n\n{url}",
        url=url,
    )


def entries_for(user: User, day: date) -> list[Entry]:
    """What ``user``'s feed holds on ``day``: due dates and decisions for their roles,
    nearest first, at most :data:`MAX_EVENTS`."""
    start, end = day - timedelta(days=PAST_DAYS), months_after(day, AHEAD_MONTHS)
    found: list[Entry] = []
    if user.has_role("headteacher"):
        rows = queries.school_due_items(user, start, end, MAX_EVENTS)
        found += [_due_entry(row, "headteacher.bid") for row in rows]
    if user.has_role("liaison_officer"):
        found += [_decision_entry(row, day) for row in queries.liaison_decisions(user, MAX_EVENTS)]
        rows = queries.liaison_due_items(user, start, end, MAX_EVENTS)
        found += [_due_entry(row, "liaison.application") for row in rows]
    if user.has_role("finance"):
        found += [_decision_entry(row, day) for row in queries.claims_to_pay(user, MAX_EVENTS)]
    unique = {entry.uid: entry for entry in reversed(found)}  # the first of a UID wins
    return sorted(unique.values(), key=lambda entry: (entry.day, entry.uid))[:MAX_EVENTS]


def calendar(user: User, day: date | None = None, now: datetime | None = None) -> bytes:
    """``user``'s feed as iCalendar text (UTF-8)."""
    day = day or clock_today()
    stamp = now or datetime.now(UTC)
    feed = Calendar()
    feed.add("prodid", PRODUCT_ID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", CALENDAR_NAME)
    feed.add("x-wr-caldesc", f"Due dates and decisions waiting for {user.name}")
    feed.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(REFRESH))
    for entry in entries_for(user, day):
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + timedelta(days=1))
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        event.add("url", entry.url)
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        feed.add_component(event)
    return feed.to_ical()


def feed_for_link(token: str) -> bytes:
    """The feed behind a calendar link; a wrong, replaced or turned-off link is not found."""
    user = queries.calendar_owner(token)
    if user is None:
        raise NotFound("No such calendar")
    return calendar(user)
