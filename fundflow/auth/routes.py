from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..forms import client_address, submit_form
from ..models import User
from ..services import auth
from ..services.errors import AuthenticationFailed, Throttled, ValidationFailed
from .forms import ChangePasswordForm, ForgottenPasswordForm, LoginForm, SetPasswordForm

bp = Blueprint("auth", __name__)

#: The signed device cookie (see fundflow/services/auth.py): sent only to the sign-in page.
DEVICE_COOKIE = "fundflow_device"


def _remember_device(response: Response, value: str) -> Response:
    config = current_app.config
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=config["DEVICE_COOKIE_DAYS"] * 86400,
        path=url_for("auth.login"),
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    return response


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link can't send people elsewhere after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    device = request.cookies.get(DEVICE_COOKIE)
    outcome = submit_form(
        form,
        lambda _: auth.authenticate(form.email.data, form.password.data, client_address(), device),
        catching=(Throttled, AuthenticationFailed),
    )
    if outcome.done:
        return _signed_in(outcome.value, device)
    return render_template("auth/login.html", form=form), outcome.status


def _signed_in(user: User, device: str | None) -> Response:
    """Start the server-side session, renew the device cookie and go where asked."""
    auth.start_session(user)
    login_user(user)  # who is signed in shows at the top of every page
    response = redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return _remember_device(response, auth.device_cookie_after_sign_in(user, device))


@bp.post("/sign-out")
def logout() -> Response:
    if current_user.is_authenticated:
        auth.end_session(current_user.session_token)
    logout_user()
    flash("You have signed out", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    outcome = submit_form(
        form,
        lambda _: auth.change_password(
            current_user,
            form.current_password.data,
            form.new_password.data,
            keep_session=current_user.session_token,
        ),
        catching=ValidationFailed,
    )
    if outcome.done:
        flash("Your password has been changed. Other browsers have been signed out.", "success")
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """The one-time link an administrator passed on: the person chooses their password."""
    # The secret is in the path: never let it leave in a Referer header.
    headers = {"Referrer-Policy": "no-referrer"}
    link = auth.link_for(token)
    if link is None:
        return render_template("auth/set_password_expired.html"), 404, headers
    form = SetPasswordForm()
    outcome = submit_form(
        form, lambda _: auth.set_password_with_link(token, form.new_password.data), catching=ValidationFailed
    )
    if outcome.done:
        if current_user.is_authenticated:  # whoever was signed in here signs out
            auth.end_session(current_user.session_token)
            logout_user()
        email = outcome.value.email
        flash(f"Your password has been set. Sign in with {email} and your new password.", "success")
        return redirect(url_for("auth.login"))
    page = render_template(
        "auth/set_password.html", form=form, user=link.user, resetting=auth.is_reset_link(link)
    )
    return page, 422 if form.errors else 200, headers


#: The address typed on "Forgotten your password?", kept in the signed session cookie for
#: the confirmation page that follows (the same page whether or not it has an account).
_RESET_ADDRESS = "fundflow.reset_address"


@bp.route("/forgotten-password", methods=["GET", "POST"])
def forgotten_password() -> ResponseReturnValue:
    """Ask for a reset link by email. Every accepted request gets the same redirect to the
    same page, whether or not the address has an account (or was throttled)."""
    form = ForgottenPasswordForm()
    outcome = submit_form(form, lambda _: auth.request_password_reset(form.email.data, client_address()))
    if outcome.done:
        session[_RESET_ADDRESS] = form.email.data.strip()[:254]
        return redirect(url_for("auth.forgotten_password_sent"), 303)
    return render_template("auth/forgotten_password.html", form=form), outcome.status


@bp.get("/forgotten-password/sent")
def forgotten_password_sent() -> str:
    return render_template("auth/forgotten_password_sent.html", email=session.get(_RESET_ADDRESS))
