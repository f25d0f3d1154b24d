"""A new set-password link, shown once to whoever made it. Between the POST that made it and
the page that shows it (post-redirect-get: a form sent twice lands on the same page instead
of making a second account), its secret waits in the signed session cookie, and is removed
when shown: only its hash is stored. The administrator's account pages and the service
administrator's first-administrator form share it (``partials/set_password_link.html``
shows it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, session, url_for

from .models import User

#: Where a new link waits in the session.
_NEW_LINK = "fundflow.new_set_password_link"


@dataclass(frozen=True)
class NewLink:
    user_id: int
    url: str
    #: Made with a new account (rather than for an existing one).
    created: bool
    #: How long the link works.
    hours: int


def keep(user: User, token: str, *, created: bool) -> None:
    """Keep ``user``'s new link (the secret ``token``) for the page that shows it."""
    session[_NEW_LINK] = {"user_id": user.id, "token": token, "created": created}


def take(users: Iterable[User]) -> NewLink | None:
    """The link waiting for one of ``users``, removed so that it is shown once; None when
    none waits for them (already shown, or never made here)."""
    waiting = session.get(_NEW_LINK)
    ids = {user.id for user in users}
    if not isinstance(waiting, dict) or waiting.get("user_id") not in ids:
        return None
    session.pop(_NEW_LINK)
    return NewLink(
        user_id=waiting["user_id"],
        url=url_for("auth.set_password", token=waiting["token"], _external=True),
        created=bool(waiting.get("created")),
        hours=current_app.config["SET_PASSWORD_LINK_HOURS"],
    )
