"""Who may see reports and exports, and the checks every report shares."""

from __future__ import annotations

from ..models import User
from ..services import access, audit
from ..services.access import get_fund
from ..services.errors import NotPermitted

#: Reports and exports cover every bid, so they are for the roles that see every bid.
REPORT_ROLES = access.SEE_ALL_ROLES
#: Checking the audit trail's hash chain is the auditor's job.
AUDIT_ROLES = ("auditor",)


def can_see_reports(user: User) -> bool:
    return access.sees_all_applications(user)


def require_report_access(user: User) -> None:
    """Liaison officers, finance and auditors; anyone else is refused (403)."""
    if not can_see_reports(user):
        raise NotPermitted("Only liaison officers, finance officers and auditors can see reports and exports")


def verify_audit_chain(user: User) -> audit.ChainReport:
    """The auditor checks the audit trail's hash chain."""
    if not any(user.has_role(role) for role in AUDIT_ROLES):
        raise NotPermitted("Only an auditor can verify the audit trail")
    return audit.verify_and_record(user.email)


fund_or_404 = get_fund  # the reports' name for it
