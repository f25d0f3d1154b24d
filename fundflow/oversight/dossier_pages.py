"""Each bid's dossier: one page, and the same as a PDF."""

from __future__ import annotations

from flask import Response, render_template, send_from_directory
from flask_login import current_user

from ..downloads import pdf_download
from ..reports.dossier import dossier_context, dossier_filename, dossier_pdf
from ..reports.pdf import STATIC_DIR
from ..services import access
from .blueprint import bp


@bp.get("/bids/<reference>/dossier")
def dossier(reference: str) -> str:
    application = access.get_application(current_user, reference)
    return render_template("oversight/dossier.html", **dossier_context(application))


@bp.get("/bids/<reference>/dossier.pdf", endpoint="dossier_pdf")
def dossier_pdf_download(reference: str) -> Response:
    application = access.get_application(current_user, reference)
    return pdf_download(dossier_pdf(application), dossier_filename(application))


@bp.get("/print.css")
def print_stylesheet() -> Response:
    """The print stylesheet the printable pages link (media="print"); the PDFs load it
    from the static files directly."""
    return send_from_directory(STATIC_DIR, "print.css", max_age=3600)
