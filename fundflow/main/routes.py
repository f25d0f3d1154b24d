from __future__ import annotations

import secrets
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from ..services import evidence as evidence_service
from ..workflow import APPLICATION_LIFECYCLE, APPLICATION_STATES, CLAIM_LIFECYCLE, lifecycle_rows
from .diagram import lifecycle_svg
from .nav import HOME_FOR_ROLE, nav_for

bp = Blueprint("main", __name__)

ROOT = Path(__file__).resolve().parents[2]
GOVUK_DIST = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def home_endpoint(user) -> str | None:
    for role, endpoint in HOME_FOR_ROLE:
        if user.has_role(role):
            return endpoint
    return None


@bp.app_context_processor
def navigation() -> dict:
    items = []
    if current_user.is_authenticated:
        items = nav_for(current_user)
    return {"nav_items": items, "cspNonce": csp_nonce()}


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    endpoint = home_endpoint(current_user)
    if endpoint:
        return redirect(url_for(endpoint))
    return render_template("main/index.html")


@bp.get("/how-the-fund-works")
def how_it_works():
    return render_template(
        "main/how_it_works.html",
        rows=lifecycle_rows(APPLICATION_LIFECYCLE),
        claim_rows=lifecycle_rows(CLAIM_LIFECYCLE),
        states=APPLICATION_STATES,
        diagram=lifecycle_svg("application"),
        claim_diagram=lifecycle_svg("claim"),
    )


def _public_page(template: str) -> str:
    """A page everyone may read, signed in or not, that names the team running the fund."""
    config = current_app.config
    return render_template(
        template,
        council=config["FUNDER_ORG_NAME"],
        team=config["CONTACT_TEAM"],
        contact_email=config["CONTACT_EMAIL"],
        contact_phone=config["CONTACT_PHONE"],
        data_protection_email=config["DATA_PROTECTION_EMAIL"],
    )


@bp.get("/accessibility")
def accessibility():
    return _public_page("main/accessibility.html")


@bp.get("/privacy")
def privacy():
    return _public_page("main/privacy.html")


@bp.get("/contact")
def contact():
    return _public_page("main/contact.html")


@bp.get("/how-the-fund-works/lifecycle.svg")
def lifecycle_diagram():
    return Response(lifecycle_svg("application"), mimetype="image/svg+xml")


@bp.get("/evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    """Download an evidence file, for anyone who may see the bid it belongs to."""
    item = evidence_service.get_evidence(current_user, evidence_id)
    return Response(
        item.data,
        mimetype=item.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{item.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get("/assets/app.css")
def stylesheet():
    return send_from_directory(ROOT / "fundflow" / "static", "app.css", max_age=3600)


@bp.get("/assets/init.js")
def init_js():
    return send_from_directory(ROOT / "fundflow" / "static", "init.js", max_age=3600)


@bp.get("/assets/<path:filename>")
def asset(filename: str):
    for folder in (GOVUK_DIST / "assets", GOVUK_DIST):
        if (folder / filename).is_file() and not filename.startswith("fonts/"):
            return send_from_directory(folder, filename, max_age=86400)
    abort(404)
