"""Reports and exports: value for money, 360Giving, the Transparency Code spending file,
the audit trail and payments. Read-only, aggregated in SQL; the site and the JSON API both
call these, after :func:`require_report_access` (liaison officers, finance, auditors)."""

from .access import (
    AUDIT_ROLES,
    REPORT_ROLES,
    can_see_reports,
    require_report_access,
    verify_audit_chain,
)
from .exports import (
    application_events,
    audit_trail_chunks,
    audit_trail_csv,
    payments_chunks,
    payments_csv,
    transparency_chunks,
    transparency_csv,
)
from .giving360 import (
    grants_360,
    grants_360_csv,
    grants_360_csv_chunks,
    grants_360_json_chunks,
    grants_360_package,
)
from .value import value_for_money, value_summary

__all__ = [
    "AUDIT_ROLES",
    "REPORT_ROLES",
    "application_events",
    "audit_trail_chunks",
    "audit_trail_csv",
    "can_see_reports",
    "grants_360",
    "grants_360_csv",
    "grants_360_csv_chunks",
    "grants_360_json_chunks",
    "grants_360_package",
    "payments_chunks",
    "payments_csv",
    "require_report_access",
    "transparency_chunks",
    "transparency_csv",
    "value_for_money",
    "value_summary",
    "verify_audit_chain",
]
