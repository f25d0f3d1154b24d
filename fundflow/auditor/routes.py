"""Auditor pages: read everything, change nothing. Every view here is a GET; the only form
that posts on these pages is the sign-out button in the page header."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import reports
from ..auth.decorators import restrict_blueprint, role_required
from ..downloads import csv_download, json_download, transparency_download
from ..fields import choices_of, chosen_id, fund_choices
from ..formatting import claim_status_label, status_label
from ..forms import page_number, per_page
from ..models import Fund
from ..services import access, ledger
from ..services.clock import today
from ..services.queries import auditor as queries
from ..services.queries.funds import all_funds
from ..workflow import APPLICATION_STATES
from .forms import ApplicationFilterForm

bp = Blueprint("auditor", __name__, url_prefix="/auditor")
# Read-only pages. Liaison officers must show value for money and finance publishes
# payments, so both may read them too (API.md gives all three the same reports and files);
# checking the audit chain stays with auditors, as in the API.
restrict_blueprint(bp, "auditor", "liaison_officer", "finance")

HASH_SHOWN = 12


AUDIT_PAGES = [
    ("auditor.applications", "Applications"),
    ("auditor.funds", "Funds, ledgers and exports"),
    ("auditor.transparency", "Transparency CSV"),
    ("auditor.verify", "Check the audit trail"),
]


@bp.context_processor
def audit_pages() -> dict[str, Any]:
    """The section links this person may open (the chain check is for auditors only)."""
    pages = [p for p in AUDIT_PAGES if p[0] != "auditor.verify" or current_user.has_role("auditor")]
    return {"audit_pages": pages}


def event_status_label(event, status: str | None) -> str:
    if status is None:
        return "—"
    return claim_status_label(status) if event.subject_type == "claim" else status_label(status)


def short_hash(value: str | None) -> str:
    return (value or "")[:HASH_SHOWN] + "…"


def _report_fund(fund_id: int) -> Fund:
    """The fund a report or export is about, once the user may see reports."""
    reports.require_report_access(current_user)
    return access.get_fund(current_user, fund_id)


@bp.get("/")
def applications():
    funds = all_funds(current_user)
    form = ApplicationFilterForm(request.args)
    form.status.choices = choices_of([("", "Any status"), *APPLICATION_STATES.items()])
    form.fund_id.choices = fund_choices(funds, blank="All funds")
    status = form.status.data if form.status.data in APPLICATION_STATES else None
    fund_id = chosen_id(form.fund_id.data)
    pagination, money_by_id = queries.applications(current_user, status, fund_id, page_number(), per_page())
    return render_template(
        "auditor/applications.html",
        form=form,
        pagination=pagination,
        money_by_id=money_by_id,
        filters={"status": status, "fund_id": fund_id},
    )


@bp.get("/bids/<reference>")
def application(reference: str):
    record = queries.application_record(access.get_application(current_user, reference))
    return render_template(
        "auditor/application.html",
        record=record,
        application=record.application,
        event_status_label=event_status_label,
        short_hash=short_hash,
    )


@bp.get("/funds")
def funds():
    funds = all_funds(current_user)
    ids = [f.id for f in funds]
    return render_template(
        "auditor/funds.html",
        funds=funds,
        ledgers=ledger.ledgers(ids),
        report_counts=queries.report_counts(ids, today()),
    )


@bp.get("/funds/<int:fund_id>", endpoint="ledger")
def ledger_page(fund_id: int):
    fund = _report_fund(fund_id)
    page, rows_per_page = page_number(), per_page()
    # totals over every bid and one page of rows; the report carries the fund's ledger too
    vfm = reports.value_summary(fund.id, page, rows_per_page)
    rows = queries.RowsPage(vfm["rows"], vfm["total"], page, rows_per_page)
    return render_template("auditor/ledger.html", fund=fund, ledger=vfm["fund"], vfm=vfm, pagination=rows)


@bp.get("/verify")
@role_required("auditor")
def verify():
    return render_template("auditor/verify.html", report=reports.verify_audit_chain(current_user))


@bp.get("/funds/<int:fund_id>/360giving.json")
def grants_360_json(fund_id: int):
    fund = _report_fund(fund_id)
    return json_download(reports.grants_360_json_chunks(fund.id), f"360giving-fund-{fund.id}.json")


@bp.get("/funds/<int:fund_id>/360giving.csv")
def grants_360_csv(fund_id: int):
    fund = _report_fund(fund_id)
    return csv_download(reports.grants_360_csv_chunks(fund.id), f"360giving-fund-{fund.id}.csv")


@bp.get("/funds/<int:fund_id>/audit-trail.csv")
def audit_trail_csv(fund_id: int):
    fund = _report_fund(fund_id)
    return csv_download(
        reports.audit_trail_chunks(fund.id, viewer=current_user._get_current_object()),
        f"audit-trail-fund-{fund.id}.csv",
    )


@bp.get("/transparency")
def transparency():
    return transparency_download("auditor/transparency.html")
