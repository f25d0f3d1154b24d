"""Who may see reports and exports, and the checks every report shares."""

from __future__ import annotations

from ..extensions import db
from ..models import Fund, User
from ..services import access, audit
from ..services.errors import NotFound, NotPermitted

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
    """The auditor checks their organisation's audit hash chain (and only theirs)."""
    if not any(user.has_role(role) for role in AUDIT_ROLES):
        raise NotPermitted("Only an auditor can verify the audit trail")
    organisation_id = access.staff_organisation(user)
    if organisation_id is None:
        raise NotPermitted("Only an auditor of an organisation can verify its audit trail")
    return audit.verify_and_record(user.email, organisation_id)


def fund_or_404(fund_id: int, viewer: User | None = None) -> Fund:
    """The fund ``fund_id``: one ``viewer``'s organisation runs (:func:`access.get_fund`), or
    any fund when there is no viewer (the shell, which answers for the whole deployment)."""
    if viewer is not None:
        return access.get_fund(viewer, fund_id)
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(f"No fund {fund_id}")
    return fund
