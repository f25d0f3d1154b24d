"""The liaison officer's pages: the work queue, a bid and its decisions, claims to verify and
impact reports to evaluate. Views parse the request, call one service, and render; who may
do what is decided by the services and read, for buttons, from ``allowed_actions``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.decorators import restrict_blueprint
from ..fields import choices_of, row_id
from ..formatting import action_button_classes, day, money
from ..forms import attempt, page_number, per_page, submit_form
from ..models import Application, BackfillClaim, ScheduleItem
from ..models.schedule import SCHEDULE_KIND_LABELS
from ..services import access, claims, impact, lifecycle, reviews, schedule
from ..services.applications import kept_versions
from ..services.clock import today
from ..services.errors import NotPermitted
from ..services.ledger import application_money, claim_paid_pence, ledger
from ..services.queries import liaison as queries
from ..services.queries.schedule import schedule_for
from ..services.terms import CADENCES
from ..workflow import APPLICATION_STATES, SCHEDULE_LIFECYCLE, supporting_schools
from .forms import (
    CLAIM_DECISIONS,
    ApproveForm,
    CancelForm,
    ClaimDecisionForm,
    CountersignForm,
    EvaluationForm,
    QueueFilterForm,
    RejectForm,
    RequestChangesForm,
    RescheduleItemForm,
    ReviewForm,
    WaiveItemForm,
)

bp = Blueprint("liaison", __name__, url_prefix="/liaison")
restrict_blueprint(bp, "liaison_officer")

#: How each liaison action is reached from a bid page: by a POST button or a page of its own.
ACTION_VIEWS: dict[str, tuple[str, str]] = {
    "start_review": ("post", "liaison.start_review"),
    "approve": ("get", "liaison.decide"),
    "request_changes": ("get", "liaison.decide"),
    "reject": ("get", "liaison.decide"),
    "countersign": ("get", "liaison.countersign"),
    "finish_delivery": ("post", "liaison.finish_delivery"),
    "close": ("post", "liaison.close"),
    "cancel": ("get", "liaison.cancel"),
}
DECISION_FORMS = {"approve": ApproveForm, "request_changes": RequestChangesForm, "reject": RejectForm}
#: A liaison officer's moves on a monitoring schedule item: the link's words and its page.
SCHEDULE_ITEM_VIEWS: dict[str, tuple[str, str]] = {
    "waive": ("Waive", "liaison.waive_item"),
    "reschedule": ("Change due date", "liaison.reschedule_item"),
}


# ------------------------------------------------------------------------------ helpers


def _bid(reference: str) -> Application:
    return access.get_application(current_user, reference)


def _back_to(application: Application):
    return redirect(url_for("liaison.application", reference=application.reference))


def _perform(application: Application, request: lifecycle.ActionInput) -> Application:
    return lifecycle.perform(application, current_user, request)


def _render(template: str, form: Any, status: int = 200, **context: Any):
    if status == 200 and form is not None and form.errors:
        status = 422
    return render_template(template, form=form, **context), status


def _actions(record: Application | BackfillClaim) -> list[str]:
    """The liaison officer's actions the signed-in user may fire on a bid or a claim now:
    the workflow's answer on the stored facts, the same as the API's ``allowed_actions``."""
    own = (
        queries.LIAISON_CLAIM_ACTIONS
        if isinstance(record, BackfillClaim)
        else queries.LIAISON_APPLICATION_ACTIONS
    )
    return [a for a in lifecycle.available_actions(record, current_user) if a in own]


def _action_buttons(application: Application) -> list[dict[str, str]]:
    buttons = []
    for name in _actions(application):
        if name not in ACTION_VIEWS:
            continue
        method, endpoint = ACTION_VIEWS[name]
        kwargs = {"reference": application.reference}
        if endpoint == "liaison.decide":
            kwargs["action"] = name
        buttons.append(
            {
                "name": name,
                "method": method,
                "href": url_for(endpoint, **kwargs),
                "classes": action_button_classes(name),
            }
        )
    return buttons


# ---------------------------------------------------------------------------- the queue


def _tabs(view: queries.QueuePage) -> list[dict[str, Any]]:
    """The queue's tabs and their links, which keep the fund and search filters."""
    return [
        {
            **vars(t),
            "count_label": t.count_label,
            "href": url_for("liaison.queue", section=t.key, **view.kept),
        }
        for t in view.tabs
    ]


@bp.get("/")
def queue():
    form = QueueFilterForm(request.args)
    form.validate()
    search = "" if form.q.errors else (form.q.data or "")
    filters = queries.QueueFilters(row_id(form.fund.data), form.status.data, search)
    view = queries.queue_page(current_user, request.args.get("section"), filters, page_number(), per_page())
    form.fund.choices = choices_of([("", "All funds")] + [(str(f.id), f.name) for f in view.funds])
    form.status.choices = choices_of(
        [("", "Any status")] + [(s, APPLICATION_STATES[s]) for s in view.section.statuses]
    )
    return render_template(
        "liaison/queue.html",
        form=form,
        section=view.section,
        tabs=_tabs(view),
        rows=view.rows,
        page=view.page,
        page_args={"section": view.section.key, "status": view.filters.status, **view.kept},
        filtered=view.filtered,
        total_label=view.total_label,
        today=view.today,
    )


# ----------------------------------------------------------------------------- a bid


@bp.get("/bids/<reference>")
def application(reference: str):
    return render_template("liaison/application.html", **_bid_page(_bid(reference)))


def _bid_page(application: Application) -> dict[str, Any]:
    """What the bid page shows: the bid, its buttons, money, reviews, claims and reports."""
    bid_claims = queries.claims_for(application)
    buttons = _action_buttons(application)
    people = queries.users_by_id([application.decided_by_id, application.countersigned_by_id])
    claimed, paid = application_money([application.id])[application.id]
    items = schedule_for(application.id)
    return dict(
        app=application,
        buttons=buttons,
        schedule=items,
        item_links=_item_links(items),
        can_review=any(b["name"] in ("approve", "request_changes") for b in buttons),
        barred=queries.cannot_act(application, current_user, today()),
        awaiting_other_officer=(
            application.status == "awaiting_countersign"
            and not any(b["name"] == "countersign" for b in buttons)
        ),
        fund_ledger=ledger(application.fund_id),
        claimed_pence=claimed,
        paid_pence=paid,
        reviews=reviews.reviews_for(application),
        claims=bid_claims,
        claim_paid=claim_paid_pence([c.id for c in bid_claims]),
        reports=impact.reports_for(application),
        versions=kept_versions(application),
        decided_by=people.get(application.decided_by_id),
        countersigned_by=people.get(application.countersigned_by_id),
    )


def _schedule_actions(item: ScheduleItem) -> list[str]:
    """The officer's moves on ``item`` the workflow allows the signed-in user now."""
    allowed = SCHEDULE_LIFECYCLE.allowed_actions(item, current_user, today())
    return [a for a in SCHEDULE_ITEM_VIEWS if a in allowed]


def _item_links(items: list[ScheduleItem]) -> dict[int, list[tuple[str, str]]] | None:
    """Each item's "Waive" and "Change due date" links; None when the officer may follow none."""
    links = {
        item.id: [
            (SCHEDULE_ITEM_VIEWS[a][0], url_for(SCHEDULE_ITEM_VIEWS[a][1], item_id=item.id))
            for a in _schedule_actions(item)
        ]
        for item in items
    }
    return links if any(links.values()) else None


@bp.route("/bids/<reference>/review", methods=["GET", "POST"])
def review(reference: str):
    application = _bid(reference)
    form = ReviewForm()
    outcome = submit_form(
        form, lambda _: reviews.record_review(current_user, application, form.review_input())
    )
    if outcome.done:
        flash(f"Your review of {application.reference} (version {application.version}) is saved", "success")
        return _back_to(application)
    return _render("liaison/review.html", form, outcome.status, app=application)


@bp.route("/bids/<reference>/decide/<action>", methods=["GET", "POST"])
def decide(reference: str, action: str):
    if action not in DECISION_FORMS:
        abort(404)
    application = _bid(reference)
    form = DECISION_FORMS[action]()
    if action == "approve" and request.method == "GET":
        form.awarded.data = application.requested_pence
    outcome = submit_form(form, lambda _: _perform(application, form.action_input(action)))
    if outcome.done:
        flash(_decision_message(application, action), "success")
        return _back_to(application)
    return _render(
        f"liaison/decide_{action}.html", form, outcome.status, **_decision_page(application, action)
    )


def _decision_page(application: Application, action: str) -> dict[str, Any]:
    """What a decision page shows beside its form: the fund's money, concerns, the last review."""
    return dict(
        app=application,
        action=action,
        allowed=action in _actions(application),
        fund_ledger=ledger(application.fund_id),
        concerned=[s for s in supporting_schools(application) if s.causing_concern],
        latest_review=(reviews.reviews_for(application) or [None])[-1],
        plan=_schedule_plan(application) if action == "approve" else None,
    )


def _schedule_plan(application: Application) -> dict[str, Any]:
    """What the award's monitoring schedule will be if it is approved today."""
    fund = application.fund
    return dict(
        cadence=CADENCES.get(fund.report_cadence, fund.report_cadence),
        officer_sets_dates=fund.report_cadence == "set_by_officer",
        final_report_weeks=fund.final_report_weeks,
        claim_deadline_weeks=fund.claim_deadline_weeks,
        planned=[
            (SCHEDULE_KIND_LABELS[kind], due_on)
            for kind, due_on, _ in schedule.planned_items(application, today())
        ],
    )


def _decision_message(application: Application, action: str) -> str:
    ref = application.reference
    if action == "approve":
        if application.status == "awaiting_countersign":
            return (
                f"Award of {money(application.awarded_pence)} for {ref} recorded. "
                "A second liaison officer must countersign it before it is approved."
            )
        return f"{ref} approved with an award of {money(application.awarded_pence)}"
    if action == "request_changes":
        return f"Changes requested on {ref}. The lead headteacher can now change and resubmit it."
    return f"{ref} rejected. The schools can see your reason."


@bp.route("/bids/<reference>/countersign", methods=["GET", "POST"])
def countersign(reference: str):
    application = _bid(reference)
    form = CountersignForm()
    outcome = submit_form(form, lambda _: _perform(application, lifecycle.ActionInput(action="countersign")))
    if outcome.done:
        award = money(application.awarded_pence)
        flash(f"Award of {award} countersigned: {application.reference} is approved", "success")
        return _back_to(application)
    people = queries.users_by_id([application.decided_by_id])
    return _render(
        "liaison/countersign.html",
        form,
        outcome.status,
        app=application,
        actions=_actions(application),
        decided_by=people.get(application.decided_by_id),
        fund_ledger=ledger(application.fund_id),
    )


@bp.route("/bids/<reference>/cancel", methods=["GET", "POST"])
def cancel(reference: str):
    application = _bid(reference)
    form = CancelForm()
    outcome = submit_form(form, lambda _: _perform(application, form.action_input("cancel")))
    if outcome.done:
        message = "is cancelled. Unpaid money has gone back to the fund."
        flash(f"The award for {application.reference} {message}", "success")
        return _back_to(application)
    _, paid = application_money([application.id])[application.id]
    return _render(
        "liaison/cancel.html",
        form,
        outcome.status,
        app=application,
        action="cancel",
        allowed="cancel" in _actions(application),
        paid_pence=paid,
    )


def _fire(reference: str, action: str, message: Callable[[Application], str]):
    """A bid action with no input: POST, then back to the bid with a confirmation.

    A refusal because the officer may not act (their school takes part) is a 403 page;
    any other refusal comes back as a message on the bid page.
    """
    application = _bid(reference)
    outcome = attempt(
        lambda: _perform(application, lifecycle.ActionInput(action=action)), letting_through=(NotPermitted,)
    )
    if outcome.done:
        flash(message(application), "success")
    else:
        flash(f"{application.reference}: {outcome.message}", "error")
    return _back_to(application)


@bp.post("/bids/<reference>/start-review")
def start_review(reference: str):
    return _fire(reference, "start_review", lambda a: f"You have started reviewing {a.reference}")


@bp.post("/bids/<reference>/finish-delivery")
def finish_delivery(reference: str):
    return _fire(
        reference,
        "finish_delivery",
        lambda a: f"Delivery of {a.reference} is finished. Any unspent award has gone back to the fund.",
    )


@bp.post("/bids/<reference>/close")
def close(reference: str):
    return _fire(reference, "close", lambda a: f"{a.reference} is closed")


# -------------------------------------------------------------------- schedule items


@bp.route("/schedule/<int:item_id>/waive", methods=["GET", "POST"])
def waive_item(item_id: int):
    item = access.get_schedule_item(current_user, item_id)
    form = WaiveItemForm()
    outcome = submit_form(form, lambda _: schedule.waive(current_user, item, form.comment.data or ""))
    if outcome.done:
        flash(f"{_item_name(item)} on {item.application.reference} is waived", "success")
        return _back_to(item.application)
    return _render("liaison/waive_item.html", form, outcome.status, **_item_page(item, "waive"))


@bp.route("/schedule/<int:item_id>/reschedule", methods=["GET", "POST"])
def reschedule_item(item_id: int):
    item = access.get_schedule_item(current_user, item_id)
    form = RescheduleItemForm()
    outcome = submit_form(
        form, lambda _: schedule.reschedule(current_user, item, form.due_on.data, form.comment.data or "")
    )
    if outcome.done:
        flash(f"{item.kind_label} on {item.application.reference} is now due {day(item.due_on)}", "success")
        return _back_to(item.application)
    return _render("liaison/reschedule_item.html", form, outcome.status, **_item_page(item, "reschedule"))


def _item_name(item: ScheduleItem) -> str:
    return f"{item.kind_label} due {day(item.due_on)}"


def _item_page(item: ScheduleItem, action: str) -> dict[str, Any]:
    """What a schedule item's page shows beside its form; the form only when allowed."""
    return dict(
        item=item,
        app=item.application,
        action=action,
        allowed=action in _schedule_actions(item),
        barred=queries.barred_by_conflict(item.application, current_user, today()),
    )


# ------------------------------------------------------------------------------ claims


@bp.route("/claims/<int:claim_id>", methods=["GET", "POST"])
def claim(claim_id: int):
    record = access.get_claim(current_user, claim_id)
    form = ClaimDecisionForm()
    outcome = submit_form(
        form, lambda _: claims.decide_claim(current_user, record, form.decision.data, form.comment.data or "")
    )
    if outcome.done:
        flash(_claim_message(record), "success")
        return redirect(url_for("liaison.claim", claim_id=record.id))
    return _render("liaison/claim.html", form, outcome.status, **_claim_page(record, form))


def _claim_message(record: BackfillClaim) -> str:
    if record.status == "verified":
        return f"Claim {record.id} verified: {money(record.amount_pence)} can now be paid"
    return f"Claim {record.id} rejected. The school can see your reason."


def _claim_page(record: BackfillClaim, form: ClaimDecisionForm) -> dict[str, Any]:
    """What the claim page shows beside its form; the form offers the decisions allowed now."""
    application = record.application
    allowed = _actions(record)
    form.decision.choices = choices_of(
        [(a, CLAIM_DECISIONS[a]) for a in allowed if a in CLAIM_DECISIONS] or list(CLAIM_DECISIONS.items())
    )
    claimed, paid = application_money([application.id])[application.id]
    return dict(
        claim=record,
        app=application,
        allowed=allowed,
        barred=queries.cannot_act(record, current_user, today()),
        claimed_pence=claimed,
        paid_pence=paid,
        claim_paid=claim_paid_pence([record.id])[record.id],
        per_day_pence=int(record.amount_pence / record.days) if record.days else None,
    )


# ----------------------------------------------------------------------- impact reports


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
def evaluate(report_id: int):
    report = access.get_report(current_user, report_id)
    form = EvaluationForm()
    outcome = submit_form(
        form, lambda _: impact.evaluate_report(current_user, report, form.evaluation_input())
    )
    if outcome.done:
        flash(f"Impact report {report.id} for {report.application.reference} is evaluated", "success")
        return redirect(url_for("liaison.evaluate", report_id=report.id))
    application = report.application
    results = {r.measure_id: r for r in report.results}
    return _render(
        "liaison/evaluate.html",
        form,
        outcome.status,
        report=report,
        app=application,
        rows=[(m, results.get(m.id)) for m in application.measures],
        barred=queries.cannot_act(report, current_user, today()),
    )
