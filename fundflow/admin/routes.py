"""Administration: users and their roles, schools (one at a time or from a GIAS file) and
funds with their rules. Administrators take no part in decisions or payments, so nothing
here touches a bid, a claim or a payment; users are deactivated, never deleted."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from .. import set_password_links
from ..auth.decorators import restrict_blueprint
from ..forms import attempt, page_number, per_page, submit_form
from ..models import User
from ..services import access, admin, auth, gias, ledger
from ..services import outbox as outbox_service
from ..services.errors import NotFound
from ..services.queries import admin as queries
from ..services.queries import outbox as delivery
from ..services.queries.funds import all_funds
from .forms import (
    IDENTIFIER_HINTS,
    ConcernForm,
    FundForm,
    ImportForm,
    RetryEmailForm,
    SchoolForm,
    SchoolSearchForm,
    SetPasswordLinkForm,
    SignOutEverywhereForm,
    UserEditForm,
    UserForm,
    yes,
    yes_no,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(bp, "admin")


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge) -> Response:
    """A file over the upload limit is cut off before any view runs: say so on the page."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    flash(
        f"The file must be smaller than {limit} MB. Nothing was imported. "
        "Import the national file from the command line instead.",
        "error",
    )
    return redirect(request.path)


# ------------------------------------------------------------------------------- users


@bp.get("/")
def users():
    return render_template(
        "admin/users.html", pagination=queries.users(current_user, page_number(), per_page())
    )


@bp.route("/users/new", methods=["GET", "POST"])
def create_user() -> ResponseReturnValue:
    form = UserForm()
    outcome = submit_form(form, lambda _: admin.create_user_with_link(current_user, form.user_input()))
    if outcome.done:
        user, token = outcome.value
        return _to_link_page(user, token, created=True)
    return render_template("admin/user_form.html", form=form, user=None), outcome.status


def _to_link_page(user: User, token: str, *, created: bool) -> Response:
    """Post-redirect-get: a form sent twice lands on the same page (the form guard records
    where the first went) instead of making a second account or link."""
    set_password_links.keep(user, token, created=created)
    return redirect(url_for("admin.set_password_link", user_id=user.id), 303)


@bp.get("/users/<int:user_id>/set-password-link")
def set_password_link(user_id: int) -> ResponseReturnValue:
    """The one-time link, shown once (only its hash is kept), to pass on to the person; after
    that, the way to make a new one."""
    user = queries.get_user(current_user, user_id)
    new = set_password_links.take([user])
    page = render_template(
        "admin/user_link.html",
        user=user,
        created=bool(new and new.created),
        link=new.url if new else None,
        hours=current_app.config["SET_PASSWORD_LINK_HOURS"],
        link_form=SetPasswordLinkForm(),
    )
    return page, {"Cache-Control": "no-store"}


@bp.post("/users/<int:user_id>/set-password-link")
def new_set_password_link(user_id: int) -> Response:
    user = queries.get_user(current_user, user_id)
    if not SetPasswordLinkForm().validate_on_submit():
        flash("The request could not be checked. Try again.", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    outcome = attempt(lambda: admin.issue_set_password_link(current_user, user))
    if not outcome.done:
        flash(outcome.message, "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return _to_link_page(user, outcome.value, created=False)


@bp.post("/users/<int:user_id>/sign-out-everywhere")
def sign_out_everywhere(user_id: int) -> Response:
    user = queries.get_user(current_user, user_id)
    if SignOutEverywhereForm().validate_on_submit():
        ended = auth.sign_out_everywhere(current_user, user, keep_session=current_user.session_token)
        flash(
            f"{user.name} is signed out everywhere: {ended['sessions_ended']} signed-in browsers ended, "
            f"{ended['tokens_revoked']} API tokens revoked",
            "success",
        )
    else:
        flash("The request could not be checked. Try again.", "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> ResponseReturnValue:
    user = queries.get_user(current_user, user_id)
    form = UserEditForm()
    if request.method == "GET":
        form.fill(user)
    outcome = submit_form(form, lambda _: admin.update_user(current_user, user, **form.changes()))
    if outcome.done:
        flash(f"Account for {user.name} saved: {'active' if user.active else 'deactivated'}", "success")
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        link_form=SetPasswordLinkForm(),
        sign_out_form=SignOutEverywhereForm(),
    ), outcome.status


# ----------------------------------------------------------------------------- schools


@bp.get("/schools")
def schools():
    form = SchoolSearchForm(request.args)
    search = (form.q.data or "").strip()[:200]
    pagination = queries.schools(search, page_number(), per_page())
    return render_template("admin/schools.html", form=form, pagination=pagination, search=search)


@bp.route("/schools/new", methods=["GET", "POST"])
def create_school():
    form = SchoolForm()
    outcome = submit_form(form, lambda _: admin.create_school(current_user, form.school_input()))
    if outcome.done:
        school = outcome.value
        flash(f"{school.name} ({school.identifier_label}, {school.nation_label}) added", "success")
        return redirect(url_for("admin.school", school_id=school.id))
    return render_template(
        "admin/school_form.html", form=form, identifier_hints=IDENTIFIER_HINTS
    ), outcome.status


@bp.get("/schools/<urn>")
def school_by_urn(urn: str) -> Response:
    """Where an English school's page was before schools of every nation were kept: the
    school's page now, keyed by its id."""
    return redirect(url_for("admin.school", school_id=admin.school_by_urn(urn).id), 301)


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
def school(school_id: int):
    school = admin.school_by_id(school_id)
    form = ConcernForm()
    if request.method == "GET":
        form.causing_concern.data = yes_no(school.causing_concern)
    outcome = submit_form(
        form, lambda _: admin.set_causing_concern(current_user, school, yes(form.causing_concern.data))
    )
    if outcome.done:
        now = "now" if school.causing_concern else "no longer"
        flash(f"{school.name} is {now} marked as causing concern", "success")
        return redirect(url_for("admin.schools", q=school.name))
    return render_template("admin/school.html", form=form, school=school), outcome.status


@bp.route("/schools/import", methods=["GET", "POST"])
def import_schools():
    """Upload a GIAS CSV. The result is shown straight away rather than after a redirect:
    the list of bad rows can be long, and a signed-cookie session cannot carry it. Posting
    the same file again is harmless: schools are matched by URN and left unchanged."""
    form = ImportForm()
    outcome = submit_form(form, lambda _: gias.import_schools(current_user, form.file.data.stream))
    if not outcome.done:
        return render_template("admin/import.html", form=form), outcome.status
    result = outcome.value
    flash(
        f"Import finished: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.closed} closed "
        f"({len(result.newly_closed)} newly closed); rows with errors: {len(result.errors)}",
        "success",
    )
    return render_template("admin/import_result.html", result=result, filename=form.file.data.filename)


# ------------------------------------------------------------------------------- funds


@bp.get("/funds")
def funds():
    funds = all_funds(current_user)
    ids = [f.id for f in funds]
    return render_template(
        "admin/funds.html", funds=funds, ledgers=ledger.ledgers(ids), bids=queries.bid_counts(ids)
    )


@bp.route("/funds/new", methods=["GET", "POST"])
def create_fund():
    form = FundForm(councils=admin.member_councils(current_user))
    outcome = submit_form(
        form, lambda data: admin.create_fund(current_user, data), form.fund_input, admin.check_fund
    )
    if outcome.done:
        flash(f"{outcome.value.name} created", "success")
        return redirect(url_for("admin.funds"))
    return render_template("admin/fund_form.html", form=form, fund=None, locked=False), outcome.status


@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
def edit_fund(fund_id: int):
    fund = access.get_fund(current_user, fund_id)
    form = FundForm(councils=fund.organisation.local_authorities)
    if request.method == "GET":
        form.fill(fund)
    outcome = submit_form(
        form, lambda data: admin.update_fund(current_user, fund, data), form.fund_input, admin.check_fund
    )
    if outcome.done:
        flash(f"The rules of {fund.name} have been saved", "success")
        return redirect(url_for("admin.funds"))
    locked = admin.fund_has_bids(fund)
    return render_template("admin/fund_form.html", form=form, fund=fund, locked=locked), outcome.status


# ----------------------------------------------------------------------- email delivery


@bp.get("/email-delivery")
def outbox():
    """How the outbox stands, and the emails that could not be sent."""
    return render_template(
        "admin/outbox.html",
        counts=delivery.delivery_counts(current_user),
        pagination=delivery.failed_emails(current_user, page_number(), per_page()),
    )


@bp.post("/email-delivery/<int:email_id>/retry")
def retry_email(email_id: int) -> Response:
    if not RetryEmailForm().validate_on_submit():
        flash("The request could not be checked. Try again.", "error")
        return redirect(url_for("admin.outbox"))
    outcome = attempt(
        lambda: outbox_service.retry_failed(current_user, email_id), letting_through=(NotFound,)
    )
    if outcome.done:
        flash(f"The email to {outcome.value.to_address} is back in the queue for the next run", "success")
    else:
        flash(outcome.message, "error")
    return redirect(url_for("admin.outbox"))
