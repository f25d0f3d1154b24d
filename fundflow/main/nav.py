"""The service navigation: one link per area the signed-in person's roles open."""

from __future__ import annotations

from flask import current_app, request, url_for

NAV = [
    ("headteacher", "headteacher.dashboard", "Your bids"),
    ("liaison_officer", "liaison.queue", "Work queue"),
    ("finance", "finance.claims", "Payments"),
    ("auditor", "auditor.applications", "Audit"),
    ("admin", "admin.users", "Administration"),
]


def nav_for(user) -> list[dict]:
    items = []
    for role, endpoint, text in NAV:
        if user.has_role(role) and endpoint in current_app.view_functions:
            href = url_for(endpoint)
            prefix = "/" + endpoint.split(".", 1)[0]
            items.append({"href": href, "text": text, "active": request.path.startswith(prefix)})
    return items
