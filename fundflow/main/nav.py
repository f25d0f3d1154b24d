"""The service navigation: one link per area the signed-in person's roles open, their
messages (with how many are unread), and the page each role lands on after signing in."""

from __future__ import annotations

from flask import current_app, g, request, url_for
from flask_login import current_user

from ..services.queries import inbox

NAV = [
    ("headteacher", "headteacher.dashboard", "Your bids"),
    ("liaison_officer", "liaison.queue", "Work queue"),
    ("finance", "finance.claims", "Payments"),
    ("auditor", "auditor.applications", "Audit"),
    ("liaison_officer", "auditor.funds", "Fund reports"),
    ("finance", "auditor.funds", "Fund reports"),
    ("admin", "admin.users", "Administration"),
    ("admin", "admin.outbox", "Email delivery"),
    ("service_admin", "service_admin.organisations", "Organisations"),
]

#: Areas with a link of their own inside another's (Email delivery is under /admin): the
#: current link on their pages, rather than the area around them.
SUB_AREAS = {"admin.outbox"}

#: Where each role lands after signing in, first match wins.
HOME_FOR_ROLE = [
    ("liaison_officer", "liaison.queue"),
    ("headteacher", "headteacher.dashboard"),
    ("finance", "finance.claims"),
    ("auditor", "auditor.applications"),
    ("admin", "admin.users"),
    ("service_admin", "service_admin.organisations"),
]


#: Where the request keeps the signed-in person's inbox summary (on ``g``).
INBOX_SUMMARY_KEY = "fundflow_inbox_summary"


def inbox_summary() -> inbox.InboxSummary | None:
    """The signed-in person's unread count and newest unread messages, read once per
    request (the menu and the messages panel share it); None when nobody is signed in.
    A Jinja global, so no view fetches it for the panel."""
    if not current_user.is_authenticated:
        return None
    if INBOX_SUMMARY_KEY not in g:
        setattr(g, INBOX_SUMMARY_KEY, inbox.summary(current_user))
    return g.get(INBOX_SUMMARY_KEY)


def _messages_item() -> dict:
    summary = inbox_summary()
    unread = summary.unread if summary is not None else 0
    return {
        "href": url_for("account.messages"),
        "text": f"Messages ({unread})" if unread else "Messages",
        "active": request.path.startswith(("/messages", "/account")),
    }


def nav_for(user) -> list[dict]:
    items: list[dict] = []
    for role, endpoint, text in NAV:
        if any(item["text"] == text for item in items) or (
            endpoint == "auditor.funds" and user.has_role("auditor")
        ):
            continue
        if user.has_role(role):
            href = url_for(endpoint)
            area = current_app.blueprints[endpoint.split(".", 1)[0]].url_prefix
            prefix = href if endpoint in SUB_AREAS else area
            items.append(
                {"href": href, "text": text, "active": request.path.startswith(prefix), "endpoint": endpoint}
            )
    if any(item["active"] and item["endpoint"] in SUB_AREAS for item in items):
        for item in items:  # on a sub-area's page only its own link is the current one
            item["active"] = item["endpoint"] in SUB_AREAS and request.path.startswith(item["href"])
    items.append(_messages_item())
    return [{key: value for key, value in item.items() if key != "endpoint"} for item in items]
