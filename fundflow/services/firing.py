"""Firing a workflow action or operation from a service: the workflow's refusal becomes the
domain error the pages and the API map to 403, 409 or 422.

Every service that changes a record does lock → gather facts → :func:`fire` → effects →
Event; this is the one place a :class:`~fundflow.workflow.Refused` is translated.
"""

from __future__ import annotations

from typing import Any

from ..models import Application, User
from ..workflow import ACTOR_ROLES, APPLICATION_OPERATIONS_LIFECYCLE, GuardContext, Lifecycle, Refused
from .access import can_see, runs_fund, staff_organisation
from .clock import today
from .errors import InvalidTransition, NotFound, NotPermitted, ValidationFailed
from .unit_of_work import lock


def fire(lifecycle: Lifecycle, action: str, ctx: GuardContext) -> tuple[str, str]:
    """Fire ``action`` on ``ctx.record``; return (from_status, to_status).

    A workflow refusal becomes the domain error callers map to 403/409/422. Another
    organisation's record is "not found" first (:func:`require_visible`), whatever page or
    call led here: isolation holds in the service layer itself.
    """
    require_visible(ctx)
    try:
        return lifecycle.fire(action, ctx)
    except Refused as refused:
        if refused.kind == "forbidden":
            raise NotPermitted(str(refused)) from refused
        if refused.kind == "invalid_state":
            raise InvalidTransition(str(refused)) from refused
        raise ValidationFailed.from_pairs(refused.problems, code="guard_failed") from refused


def require_visible(ctx: GuardContext) -> None:
    """NotFound when ``ctx.user`` is council staff of another organisation than the one
    running the bid ``ctx.record`` is (or belongs to), and not a headteacher taking part in
    it: to them the record does not exist. Everyone else meets the workflow's own guards
    (a role that may not act is refused, 403). The scheduler's own actor (not a person)
    acts on every organisation's records."""
    if not isinstance(ctx.user, User) or staff_organisation(ctx.user) is None:
        return
    record = ctx.record
    application = record if isinstance(record, Application) else getattr(record, "application", None)
    if (
        application is not None
        and not can_see(ctx.user, application)
        and not runs_fund(ctx.user, application.fund)
    ):
        raise NotFound(f"No application {application.reference}")


def operate_on_bid(
    user: User, application: Application, operation: str
) -> tuple[Application, tuple[str, str]]:
    """Lock the bid's row (step 1 of the lock order) and fire ``operation`` of
    ``APPLICATION_OPERATIONS_LIFECYCLE`` on it: the start of every change made *within* a
    bid (editing it, reviewing it, claiming or reporting against it). Returns the locked
    bid and the (from_status, to_status) the operation went through."""
    locked = lock(Application, application.id)
    moved = fire(
        APPLICATION_OPERATIONS_LIFECYCLE, operation, GuardContext(record=locked, user=user, today=today())
    )
    return locked, moved


def require_role(lifecycle: Lifecycle, action: str, user: Any) -> None:
    """Refuse (403) a person whose role is none of ``action``'s actors, in the action's own
    words, before their input is validated: firing checks the rest under the row lock."""
    declared = lifecycle.action(action)
    if not any(user.has_role(ACTOR_ROLES[kind]) for kind in declared.actors):
        raise NotPermitted(declared.not_actor or f"Your role may not {declared.label.lower()}")
