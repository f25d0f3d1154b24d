"""The service administrator's pages: the organisations on the service, a new one, and its
first administrator, who then adds the organisation's own staff. Nothing here shows a bid,
a claim or a payment: a service administrator sees none."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import set_password_links
from ..auth.decorators import restrict_blueprint
from ..forms import page_number, per_page, submit_form
from ..services import admin
from ..services import organisations as organisation_service
from ..services.queries import organisations as queries
from .forms import FirstAdministratorForm, OrganisationForm

bp = Blueprint("service_admin", __name__, url_prefix="/service")
restrict_blueprint(bp, "service_admin")


@bp.get("/organisations")
def organisations():
    pagination = queries.organisations(page_number(), per_page())
    staff = queries.staff_counts(o.id for o in pagination.items)
    return render_template("service_admin/organisations.html", pagination=pagination, staff=staff)


@bp.route("/organisations/new", methods=["GET", "POST"])
def create_organisation() -> ResponseReturnValue:
    form = OrganisationForm().offer(queries.known_councils())
    outcome = submit_form(
        form,
        lambda data: organisation_service.create_organisation(current_user, **data),
        form.organisation_input,
        lambda data: organisation_service.check_organisation(**data),
    )
    if outcome.done:
        flash(f"{outcome.value.name} created. Now add its first administrator.", "success")
        return redirect(url_for("service_admin.organisation", slug=outcome.value.slug), 303)
    return render_template("service_admin/organisation_form.html", form=form), outcome.status


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
def organisation(slug: str) -> ResponseReturnValue:
    """The organisation, its administrators, and (once, after it was made) the one-time
    set-password link of the administrator just added."""
    found = queries.organisation(slug)
    form = FirstAdministratorForm()
    outcome = submit_form(
        form, lambda _: admin.create_user_with_link(current_user, form.user_input(found.slug))
    )
    if outcome.done:
        user, token = outcome.value
        set_password_links.keep(user, token, created=True)
        return redirect(url_for("service_admin.organisation", slug=found.slug), 303)
    administrators = queries.administrators(found.id)
    page = render_template(
        "service_admin/organisation.html",
        organisation=found,
        administrators=administrators,
        staff=queries.staff_counts([found.id])[found.id],
        new_link=set_password_links.take(administrators),
        open_to_first_administrator=not organisation_service.has_working_administrator(found),
        form=form,
    )
    return page, outcome.status, {"Cache-Control": "no-store"}
