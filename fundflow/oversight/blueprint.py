"""The oversight blueprint: every view needs a role that sees every bid (``REPORT_ROLES``)."""

from __future__ import annotations

from flask import Blueprint

from ..auth.decorators import restrict_blueprint
from ..reports.access import REPORT_ROLES

bp = Blueprint("oversight", __name__, url_prefix="/reports")
restrict_blueprint(bp, *REPORT_ROLES)
