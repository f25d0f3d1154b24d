"""Firing a workflow action or operation from a service: the workflow's refusal becomes the
domain error the pages and the API map to 403, 409 or 422.

Every service that changes a record does lock → gather facts → :func:`fire` → effects →
Event; this is the one place a :class:`~fundflow.workflow.Refused` is translated.
"""

from __future__ import annotations

from typing import Any

from ..workflow import ACTOR_ROLES, GuardContext, Lifecycle, Refused
from .errors import InvalidTransition, NotPermitted, ValidationFailed


def fire(lifecycle: Lifecycle, action: str, ctx: GuardContext) -> tuple[str, str]:
    """Fire ``action`` on ``ctx.record``; return (from_status, to_status).

    A workflow refusal becomes the domain error callers map to 403/409/422.
    """
    try:
        return lifecycle.fire(action, ctx)
    except Refused as refused:
        if refused.kind == "forbidden":
            raise NotPermitted(str(refused)) from refused
        if refused.kind == "invalid_state":
            raise InvalidTransition(str(refused)) from refused
        raise ValidationFailed.from_pairs(refused.problems, code="guard_failed") from refused


def require_role(lifecycle: Lifecycle, action: str, user: Any) -> None:
    """Refuse (403) a person whose role is none of ``action``'s actors, in the action's own
    words, before their input is validated: firing checks the rest under the row lock."""
    declared = lifecycle.action(action)
    if not any(user.has_role(ACTOR_ROLES[kind]) for kind in declared.actors):
        raise NotPermitted(declared.not_actor or f"Your role may not {declared.label.lower()}")
