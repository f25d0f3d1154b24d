"""Route guards for the role blueprints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Signed out → sign-in page; signed in without any of ``roles`` → 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def restrict_blueprint(bp: Blueprint, *roles: str) -> None:
    """Every view of ``bp`` needs one of ``roles``: a route added later can't forget it."""

    @bp.before_request
    @role_required(*roles)
    def _check() -> None:
        return None
