"""Flask-Login wiring: session cookies for the site only."""

from __future__ import annotations

from flask import Flask

from ..extensions import login_manager
from ..models import User
from ..services import auth


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The signed cookie carries "<user id>:<session secret>"; the session must still be
        # live on the server, so signing out, a password change elsewhere or deactivation
        # ends it even for a copy of the cookie.
        row_id, _, token = user_id.partition(":")
        if not (row_id.isascii() and row_id.isdigit()) or len(row_id) > 12:
            return None
        return auth.user_for_session(int(row_id), token)
