from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import apply_errors, client_address
from ..services import auth
from ..services.errors import AuthenticationFailed, Throttled, ValidationFailed
from .forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link can't send people elsewhere after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.password.data, client_address())
        except Throttled as exc:
            form.form_errors.append(exc.message)
            status = 429
        except AuthenticationFailed as exc:
            form.email.errors.append(exc.message)
            status = 401
        else:
            login_user(user)  # who is signed in shows at the top of every page
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    elif form.errors:
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/sign-out")
def logout():
    logout_user()
    flash("You have signed out", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            auth.change_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            login_user(current_user)  # the session version changed: keep this browser signed in
            flash("Your password has been changed. Other browsers have been signed out.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200
