"""The headteacher's pages: their school's bids, drafting a bid as a task list, sending it,
answering change requests, endorsing a partner's bid, claiming backfill, reporting impact.

Views are thin: they read the form, call one service and render. What may happen is decided
by the services and :mod:`fundflow.workflow`; a refusal comes back as a
:class:`DomainError` and is shown on the page with the GOV.UK error summary.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ..auth.decorators import restrict_blueprint
from ..formatting import action_label, money
from ..forms import Outcome, page_number, per_page, submit_form
from ..models import Application
from ..services import access, applications, claims, impact, lifecycle
from ..services.applications import BidDetails, kept_versions, snapshot, version_changes
from ..services.clock import today
from ..services.ledger import application_money
from ..services.queries import headteacher as headteacher_queries
from ..services.queries import schedule as schedule_queries
from ..workflow import GuardContext, complete
from . import pages
from .forms import (
    ActivitiesForm,
    ClaimForm,
    ConfirmForm,
    DeclarationForm,
    DeclineForm,
    MeasuresForm,
    NeedForm,
    PartnersForm,
    ReportForm,
    Rows,
    RowsForm,
    StartForm,
    upload_of,
)

bp = Blueprint("headteacher", __name__, url_prefix="/headteacher")
restrict_blueprint(bp, "headteacher")

SUCCESS = {
    "endorse": "You have endorsed bid {ref}",
    "decline_endorsement": "You have declined to endorse bid {ref}. The lead school has been told why",
    "withdraw": "Bid {ref} has been withdrawn",
    "finish_delivery": "Delivery of {ref} is finished. Any unspent award has gone back to the fund",
}


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge) -> Response:
    """A file far over the limit is cut off before any view runs: say so on the form."""
    limit = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    flash(f"The selected file must be smaller than {limit} MB. Nothing was saved.", "error")
    return redirect(request.path)


def _bid(reference: str) -> Application:
    """The bid, if the signed-in headteacher's school takes part in it (else 404)."""
    return access.get_application(current_user, reference, as_headteacher=True)


def _actions(application: Application) -> list[str]:
    """The headteacher's actions the signed-in user may fire on the bid now (as the API says)."""
    return pages.own_actions(lifecycle.available_actions(application, current_user))


def _perform(application: Application, action: str, comment: str = "") -> Application:
    """Fire one of the headteacher's lifecycle actions; ``comment`` is the reason, for the
    action that needs one (declining to endorse)."""
    return lifecycle.perform(application, current_user, lifecycle.ActionInput(action=action, comment=comment))


def _to_bid_page(application: Application, message: str) -> Response:
    """Send someone who cannot do this to the bid's page, saying why."""
    flash(message, "info")
    return redirect(url_for("headteacher.bid", reference=application.reference))


def _refuse_edit(application: Application) -> Response | None:
    """Send people who cannot change the bid to its page instead of an edit form."""
    if pages.can_edit(application, current_user):
        return None
    return _to_bid_page(
        application,
        "Only the lead school can change a bid, and only while it is a draft or changes are requested",
    )


# --------------------------------------------------------------------------------------
# Dashboard and starting a bid
# --------------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    pagination = headteacher_queries.dashboard_page(current_user, page_number(), per_page())
    actions = lifecycle.actions_for(pagination.items, current_user)
    due = schedule_queries.next_due(a.id for a in pagination.items)
    rows = []
    for application in pagination.items:
        own = pages.own_actions(actions[application.id])
        rows.append(
            {
                "app": application,
                "part": pages.school_part(application, current_user),
                "next": pages.next_step(application, current_user, own),
                "href": pages.bid_home(application, current_user),
                "due": pages.next_due(due.get(application.id)),
            }
        )
    return render_template("headteacher/dashboard.html", rows=rows, pagination=pagination)


@bp.route("/bids/new", methods=["GET", "POST"])
def start():
    funds = headteacher_queries.funds_taking_bids(current_user)
    form = StartForm()
    form.fund.choices = [SelectChoice(str(f.id), f.name) for f in funds]
    outcome = submit_form(
        form,
        lambda details: applications.create_draft(current_user, details),
        form.details,
        lambda details: applications.check_details(None, details),
    )
    if outcome.done:
        reference = outcome.value.reference
        flash(f"Bid {reference} started. Complete each task, then submit it.", "success")
        return redirect(url_for("headteacher.task_list", reference=reference))
    return render_template("headteacher/start.html", form=form, funds=funds, today=today()), outcome.status


# --------------------------------------------------------------------------------------
# The task list and its tasks
# --------------------------------------------------------------------------------------


def _change_request(application: Application):
    if application.status != "changes_requested":
        return None
    return headteacher_queries.latest_change_request(application)


@bp.get("/bids/<reference>")
def task_list(reference: str):
    application = _bid(reference)
    if not pages.can_edit(application, current_user):
        return redirect(url_for("headteacher.bid", reference=reference))
    actions = _actions(application)
    return render_template(
        "headteacher/task_list.html",
        app=application,
        items=pages.task_items(application, current_user, actions),
        actions=actions,
        change_request=_change_request(application),
        has_versions=bool(application.versions),
    )


@bp.route("/bids/<reference>/need", methods=["GET", "POST"])
def edit_need(reference: str):
    application = _bid(reference)
    if request.method == "GET":
        if refused := _refuse_edit(application):
            return refused
        areas = "\n".join(application.priority_areas)
        form = NeedForm(data={"title": application.title, "need": application.need, "priority_areas": areas})
    else:
        form = NeedForm()
    outcome = _save_draft(form, application, form.details)
    if outcome.done:
        flash("Need and priority areas saved", "success")
        return redirect(url_for("headteacher.task_list", reference=reference))
    return render_template("headteacher/need.html", app=application, form=form), outcome.status


def _save_draft(
    form: FlaskForm,
    application: Application,
    read: Callable[[], Any],
    details: Callable[[Any], BidDetails] = lambda read_in: read_in,
) -> Outcome[Application]:
    """Send the form's input (``read``, as ``details`` turns it into the bid's details) to
    :func:`applications.update_draft`, or, when the form's own checks fail, to its read-only
    check, so every problem shows at once. ``read``'s result stays what the form adapter
    places errors by (a rows form's positions)."""
    return submit_form(
        form,
        lambda data: applications.update_draft(current_user, application, details(data)),
        read,
        lambda data: applications.check_details(application, details(data)),
    )


def _rows_details(list_name: str, rows: Rows) -> BidDetails:
    """The kept rows of a task page as the one list of the bid they change."""
    return BidDetails(**{list_name: rows.inputs})


def _rows_page(
    reference: str,
    form_class: type[RowsForm],
    template: str,
    saved_message: str,
):
    """A task page of repeating rows: "add another" re-renders with a blank row (no JS,
    nothing saved); "save" sends the kept rows to :func:`applications.update_draft`."""
    application = _bid(reference)
    name = form_class.list_name
    if request.method == "GET":
        if refused := _refuse_edit(application):
            return refused
        form = form_class(data=form_class.saved_data(application))
        return render_template(template, app=application, form=form, saved=True)
    form = form_class()
    if form.adding_another():
        return render_template(template, app=application, form=form.with_blank_row(), saved=False)
    outcome = _save_draft(form, application, form.build, partial(_rows_details, name))
    if not outcome.done:
        return render_template(template, app=application, form=form, saved=False), outcome.status
    flash(saved_message.format(total=money(outcome.value.requested_pence)), "success")
    if getattr(form, "recalculate", None) is not None and form.recalculate.data:
        return redirect(request.path)
    return redirect(url_for("headteacher.task_list", reference=reference))


@bp.route("/bids/<reference>/partners", methods=["GET", "POST"])
def edit_partners(reference: str):
    return _rows_page(reference, PartnersForm, "headteacher/partners.html", "Partner schools saved")


@bp.route("/bids/<reference>/activities", methods=["GET", "POST"])
def edit_activities(reference: str):
    saved = "Activities saved. The total requested is {total}"
    return _rows_page(reference, ActivitiesForm, "headteacher/activities.html", saved)


@bp.route("/bids/<reference>/measures", methods=["GET", "POST"])
def edit_measures(reference: str):
    return _rows_page(reference, MeasuresForm, "headteacher/measures.html", "Measures saved")


@bp.route("/bids/<reference>/check", methods=["GET", "POST"])
def check_answers(reference: str):
    application = _bid(reference)
    if request.method == "GET" and (refused := _refuse_edit(application)):
        return refused
    actions = _actions(application)
    action = "resubmit" if "resubmit" in actions or application.status == "changes_requested" else "submit"
    form = DeclarationForm()
    outcome = submit_form(form, lambda _: _perform(application, action))
    if outcome.done:
        flash(f"Bid {application.reference} sent to the liaison officer", "success")
        return redirect(url_for("headteacher.submitted", reference=reference))
    problem = complete(GuardContext(record=application, user=current_user, today=today()))
    return render_template(
        "headteacher/check_answers.html",
        app=application,
        form=form,
        action=action,
        incomplete=problem[1] if problem else None,
        change_request=_change_request(application),
    ), outcome.status


@bp.get("/bids/<reference>/submitted")
def submitted(reference: str):
    application = _bid(reference)
    if application.status != "submitted":
        return redirect(url_for("headteacher.bid", reference=reference))
    return render_template("headteacher/submitted.html", app=application)


# --------------------------------------------------------------------------------------
# The whole bid, its versions and its actions
# --------------------------------------------------------------------------------------


@bp.get("/bids/<reference>/view")
def bid(reference: str):
    application = _bid(reference)
    actions = _actions(application)
    can_edit = pages.can_edit(application, current_user)
    kept = len(application.versions)
    claim_pages, paid = headteacher_queries.claims_page(application, 1, per_page())
    claimed_pence, paid_pence = application_money([application.id])[application.id]
    return render_template(
        "headteacher/bid.html",
        app=application,
        actions=actions,
        part=pages.school_part(application, current_user),
        can_edit=can_edit,
        can_claim=pages.can_claim(application, current_user),
        can_report=pages.can_report(application, current_user),
        change_request=_change_request(application),
        claims=claim_pages,
        paid=paid,
        claimed_pence=claimed_pence,
        paid_pence=paid_pence,
        reports=headteacher_queries.reports_page(application, 1, per_page()),
        has_versions=kept > 1 or (can_edit and kept > 0),
        schedule=headteacher_queries.award_schedule(application),
    )


@bp.get("/bids/<reference>/versions")
def versions(reference: str):
    application = _bid(reference)
    kept = kept_versions(application)
    comparisons = [
        {
            "title": f"Version {older.version} to version {newer.version}",
            "submitted_at": newer.submitted_at,
            "changes": version_changes(older.snapshot, newer.snapshot),
        }
        for older, newer in zip(kept, kept[1:], strict=False)
    ]
    comparisons.reverse()
    unsent = None
    if kept and pages.can_edit(application, current_user):
        unsent = version_changes(kept[-1].snapshot, snapshot(application))
    return render_template(
        "headteacher/versions.html", app=application, versions=kept, comparisons=comparisons, unsent=unsent
    )


@bp.route("/bids/<reference>/actions/<action>", methods=["GET", "POST"])
def action(reference: str, action: str):
    """Confirm, then fire, one of the headteacher's lifecycle actions on the bid."""
    application = _bid(reference)
    if action in ("submit", "resubmit"):
        return redirect(url_for("headteacher.check_answers", reference=reference))
    if action not in pages.CONFIRMED_ACTIONS:
        abort(404)
    if request.method == "GET" and action not in _actions(application):
        return _to_bid_page(application, f"You cannot {action_label(action).lower()} now")
    form = DeclineForm() if action in pages.REASONED_ACTIONS else ConfirmForm()
    outcome = submit_form(form, lambda reason: _perform(application, action, reason), form.reason)
    if outcome.done:
        flash(SUCCESS[action].format(ref=application.reference), "success")
        return redirect(url_for("headteacher.bid", reference=reference))
    _claimed, paid = application_money([application.id])[application.id]
    part = pages.school_part(application, current_user)
    context = {"app": application, "action": action, "part": part, "paid_pence": paid}
    return render_template("headteacher/confirm_action.html", form=form, **context), outcome.status


# --------------------------------------------------------------------------------------
# Backfill claims
# --------------------------------------------------------------------------------------


@bp.get("/bids/<reference>/claims")
def claims_list(reference: str):
    application = _bid(reference)
    pagination, paid = headteacher_queries.claims_page(application, page_number(), per_page())
    claimed_pence, paid_pence = application_money([application.id])[application.id]
    return render_template(
        "headteacher/claims.html",
        app=application,
        claims=pagination,
        paid=paid,
        claimed_pence=claimed_pence,
        paid_pence=paid_pence,
        can_claim=pages.can_claim(application, current_user),
    )


@bp.route("/bids/<reference>/claims/new", methods=["GET", "POST"])
def new_claim(reference: str):
    application = _bid(reference)
    if request.method == "GET" and not pages.can_claim(application, current_user):
        return _to_bid_page(application, "The lead school can claim backfill while the award is approved")
    form = ClaimForm()
    outcome = submit_form(
        form,
        lambda data: claims.create_claim(current_user, application, data),
        form.claim_input,
        lambda data: claims.check_claim(application, data),
    )
    if outcome.done:
        amount = money(outcome.value.amount_pence)
        flash(f"Claim for {amount} sent. A liaison officer will check the evidence.", "success")
        return redirect(url_for("headteacher.claims_list", reference=reference))
    claimed_pence, _paid = application_money([application.id])[application.id]
    return render_template(
        "headteacher/claim_new.html", app=application, form=form, claimed_pence=claimed_pence
    ), outcome.status


# --------------------------------------------------------------------------------------
# Impact reports
# --------------------------------------------------------------------------------------


@bp.get("/bids/<reference>/reports")
def reports(reference: str):
    application = _bid(reference)
    return render_template(
        "headteacher/reports.html",
        app=application,
        reports=headteacher_queries.reports_page(application, page_number(), per_page()),
        can_report=pages.can_report(application, current_user),
    )


def _report_input(form: ReportForm, rows: Rows) -> impact.ReportInput:
    """The report typed, with a result for each measure given a value (``rows``)."""
    return impact.ReportInput(
        kind=form.kind.data or "",
        narrative=form.narrative.data or "",
        results=[impact.ResultInput(measure_id=m, actual=a) for m, a in rows.inputs],
        evidence=upload_of(form.evidence),
    )


@bp.route("/bids/<reference>/reports/new", methods=["GET", "POST"])
def new_report(reference: str):
    application = _bid(reference)
    if request.method == "GET" and not pages.can_report(application, current_user):
        return _to_bid_page(application, "The lead school reports impact once the award is approved")
    measures = list(application.measures)
    form = ReportForm()
    form.ensure_rows(len(measures))
    outcome = submit_form(
        form,
        lambda rows: impact.submit_report(current_user, application, _report_input(form, rows)),
        lambda: form.filled([m.id for m in measures]),
        lambda rows: impact.check_report(application, _report_input(form, rows)),
    )
    if outcome.done:
        flash(f"{outcome.value.kind.capitalize()} impact report sent for {application.reference}", "success")
        return redirect(url_for("headteacher.reports", reference=reference))
    return render_template(
        "headteacher/report_new.html", app=application, form=form, measures=measures
    ), outcome.status
