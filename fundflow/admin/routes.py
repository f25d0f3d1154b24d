"""Administration: users and their roles, schools (one at a time or from a GIAS file) and
funds with their rules. Administrators take no part in decisions or payments, so nothing
here touches a bid, a claim or a payment; users are deactivated, never deleted."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ..auth.decorators import restrict_blueprint
from ..forms import page_number, per_page, show_error
from ..services import access, admin, audit_queries, finance_queries, gias, ledger
from ..services.errors import DomainError
from . import queries
from .forms import (
    ConcernForm,
    FundForm,
    ImportForm,
    SchoolForm,
    SchoolSearchForm,
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
    return render_template("admin/users.html", pagination=queries.users(page_number(), per_page()))


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = admin.create_user(
                current_user,
                admin.UserInput(
                    email=form.email.data,
                    name=form.name.data,
                    roles=form.roles.data or [],
                    password=form.password.data,
                    school_urn=(form.school_urn.data or "").strip() or None,
                ),
            )
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            flash(f"Account created for {user.name} ({user.email})", "success")
            return redirect(url_for("admin.users"))
    elif form.errors:
        status = 422
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = queries.get_user(user_id)
    form = UserEditForm()
    if request.method == "GET":
        form.roles.data = user.roles
        form.school_urn.data = user.school.urn if user.school else ""
        form.active.data = yes_no(user.active)
    status = 200
    if form.validate_on_submit():
        try:
            admin.update_user(
                current_user,
                user,
                roles=form.roles.data or [],
                school_urn=(form.school_urn.data or "").strip() or None,
                active=yes(form.active.data),
            )
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            state = "active" if user.active else "deactivated"
            flash(f"Account for {user.name} saved: {state}", "success")
            return redirect(url_for("admin.users"))
    elif form.errors:
        status = 422
    return render_template("admin/user_form.html", form=form, user=user), status


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
    status = 200
    if form.validate_on_submit():
        try:
            school = admin.create_school(
                current_user,
                admin.SchoolInput(
                    urn=form.urn.data.strip(),
                    name=form.name.data,
                    phase=form.phase.data or "",
                    la_code=form.la_code.data or "",
                    la_name=form.la_name.data or "",
                    trust=form.trust.data or "",
                    establishment_type=form.establishment_type.data or "",
                    postcode=form.postcode.data or "",
                    causing_concern=yes(form.causing_concern.data),
                ),
            )
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            flash(f"{school.name} (URN {school.urn}) added", "success")
            return redirect(url_for("admin.schools", q=school.urn))
    elif form.errors:
        status = 422
    return render_template("admin/school_form.html", form=form), status


@bp.route("/schools/<urn>", methods=["GET", "POST"])
def school(urn: str):
    school = admin.school_by_urn(urn)
    form = ConcernForm()
    if request.method == "GET":
        form.causing_concern.data = yes_no(school.causing_concern)
    status = 200
    if form.validate_on_submit():
        try:
            admin.set_causing_concern(current_user, school, yes(form.causing_concern.data))
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            if school.causing_concern:
                flash(f"{school.name} is now marked as causing concern", "success")
            else:
                flash(f"{school.name} is no longer marked as causing concern", "success")
            return redirect(url_for("admin.schools", q=school.urn))
    elif form.errors:
        status = 422
    return render_template("admin/school.html", form=form, school=school), status


@bp.route("/schools/import", methods=["GET", "POST"])
def import_schools():
    """Upload a GIAS CSV. The result is shown straight away rather than after a redirect:
    the list of bad rows can be long, and a signed-cookie session cannot carry it. Posting
    the same file again is harmless: schools are matched by URN and left unchanged."""
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = gias.import_schools(current_user, form.file.data.stream)
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            flash(
                f"Import finished: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.skipped_closed} closed skipped; "
                f"rows with errors: {len(result.errors)}",
                "success",
            )
            return render_template(
                "admin/import_result.html", result=result, filename=form.file.data.filename
            )
    elif form.errors:
        status = 422
    return render_template("admin/import.html", form=form), status


# ------------------------------------------------------------------------------- funds


@bp.get("/funds")
def funds():
    all_funds = finance_queries.funds()
    ids = [f.id for f in all_funds]
    return render_template(
        "admin/funds.html", funds=all_funds, ledgers=ledger.ledgers(ids), bids=audit_queries.bid_counts(ids)
    )


def _fund_input(form: FundForm) -> admin.FundInput:
    return admin.FundInput(
        name=form.name.data,
        financial_year=form.financial_year.data.strip(),
        budget_pence=form.budget.data,
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        max_daily_rate_pence=form.max_daily_rate.data,
        max_award_pence=form.max_award.data,
        countersign_threshold_pence=form.countersign_threshold.data,
        requires_partner_endorsement=yes(form.requires_partner_endorsement.data),
    )


@bp.route("/funds/new", methods=["GET", "POST"])
def create_fund():
    form = FundForm()
    status = 200
    if form.validate_on_submit():
        try:
            fund = admin.create_fund(current_user, _fund_input(form))
        except DomainError as exc:
            status = show_error(form, exc, FundForm.FIELD_MAP)
        else:
            flash(f"{fund.name} created", "success")
            return redirect(url_for("admin.funds"))
    elif form.errors:
        status = 422
    return render_template("admin/fund_form.html", form=form, fund=None, locked=False), status


@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
def edit_fund(fund_id: int):
    fund = access.get_fund(fund_id)
    form = FundForm()
    if request.method == "GET":
        form.name.data = fund.name
        form.financial_year.data = fund.financial_year
        form.budget.data = fund.budget_pence
        form.opens_on.data = fund.opens_on
        form.closes_on.data = fund.closes_on
        form.max_daily_rate.data = fund.max_daily_rate_pence
        form.max_award.data = fund.max_award_pence
        form.countersign_threshold.data = fund.countersign_threshold_pence
        form.requires_partner_endorsement.data = yes_no(fund.requires_partner_endorsement)
    status = 200
    if form.validate_on_submit():
        try:
            admin.update_fund(current_user, fund, _fund_input(form))
        except DomainError as exc:
            status = show_error(form, exc, FundForm.FIELD_MAP)
        else:
            flash(f"The rules of {fund.name} have been saved", "success")
            return redirect(url_for("admin.funds"))
    elif form.errors:
        status = 422
    locked = admin.fund_has_bids(fund)
    return render_template("admin/fund_form.html", form=form, fund=fund, locked=locked), status
