"""The service navigation: one link per area the signed-in person's roles open, and the
page each role lands on after signing in."""

from __future__ import annotations

from flask import request, url_for

NAV = [
    ("headteacher", "headteacher.dashboard", "Your bids"),
    ("liaison_officer", "liaison.queue", "Work queue"),
    ("finance", "finance.claims", "Payments"),
    ("auditor", "auditor.applications", "Audit"),
    ("liaison_officer", "auditor.funds", "Fund reports"),
    ("finance", "auditor.funds", "Fund reports"),
    ("admin", "admin.users", "Administration"),
]

#: Where each role lands after signing in, first match wins.
HOME_FOR_ROLE = [
    ("liaison_officer", "liaison.queue"),
    ("headteacher", "headteacher.dashboard"),
    ("finance", "finance.claims"),
    ("auditor", "auditor.applications"),
    ("admin", "admin.users"),
]


def nav_for(user) -> list[dict]:
    items: list[dict] = []
    for role, endpoint, text in NAV:
        if any(item["text"] == text for item in items) or (
            endpoint == "auditor.funds" and user.has_role("auditor")
        ):
            continue
        if user.has_role(role):
            href = url_for(endpoint)
            prefix = "/" + endpoint.split(".", 1)[0]
            items.append({"href": href, "text": text, "active": request.path.startswith(prefix)})
    return items
