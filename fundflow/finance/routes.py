"""Finance pages: pay verified claims, reverse a wrong payment, list and export payments.

Who may pay what (segregation of duties, claim state, money left on the claim, unique
references) is decided by :mod:`fundflow.services.payments`; these views show its answer.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import reports
from ..auth.decorators import restrict_blueprint
from ..downloads import csv_download, transparency_download
from ..fields import chosen_id, fund_choices
from ..formatting import money
from ..forms import page_number, per_page, submit_form
from ..services import access, lifecycle, payments
from ..services.clock import today
from ..services.queries import finance as queries
from ..services.queries.funds import all_funds
from .forms import FundFilterForm, PaymentForm, ReverseForm

bp = Blueprint("finance", __name__, url_prefix="/finance")
restrict_blueprint(bp, "finance")


@bp.get("/")
def claims():
    pagination, paid = queries.claims_to_pay(current_user, page_number(), per_page())
    return render_template("finance/claims.html", pagination=pagination, paid=paid)


@bp.route("/claims/<int:claim_id>/pay", methods=["GET", "POST"])
def pay(claim_id: int):
    claim = access.get_claim(current_user, claim_id)
    unpaid = queries.unpaid_pence(claim)
    form = PaymentForm()
    if request.method == "GET":
        form.start(unpaid, today())
    outcome = submit_form(
        form,
        lambda data: payments.record_disbursement(current_user, claim, data),
        form.disbursement_input,
        lambda data: payments.check_disbursement(claim, data),
    )
    if outcome.done:
        paid = f"Payment {outcome.value.reference} of {money(outcome.value.amount_pence)} recorded"
        flash(f"{paid} for claim {claim.id} on {claim.application.reference}", "success")
        return redirect(url_for("finance.claims"))
    allowed = "pay" in lifecycle.available_actions(claim, current_user)
    return render_template(
        "finance/pay.html", form=form, claim=claim, unpaid=unpaid, allowed=allowed
    ), outcome.status


@bp.route("/payments/<int:disbursement_id>/reverse", methods=["GET", "POST"])
def reverse(disbursement_id: int):
    disbursement = access.get_disbursement(current_user, disbursement_id)
    form = ReverseForm()
    outcome = submit_form(
        form, lambda _: payments.reverse_disbursement(current_user, disbursement, form.reason.data)
    )
    if outcome.done:
        flash(
            f"Payment {disbursement.reference} of {money(disbursement.amount_pence)} reversed "
            f"({outcome.value.reference})",
            "success",
        )
        return redirect(url_for("finance.payments", fund_id=disbursement.fund_id))
    return render_template("finance/reverse.html", form=form, disbursement=disbursement), outcome.status


@bp.get("/payments", endpoint="payments")
def payments_list():
    funds = all_funds(current_user)
    form = FundFilterForm(request.args)
    form.fund_id.choices = fund_choices(funds, blank="All funds")
    fund_id = chosen_id(form.fund_id.data)
    pagination = queries.payments(current_user, fund_id, page_number(), per_page())
    totals = queries.payment_totals(current_user, fund_id)
    return render_template(
        "finance/payments.html",
        form=form,
        pagination=pagination,
        totals=totals,
        fund_id=fund_id,
        fund=next((f for f in funds if f.id == fund_id), None),
    )


@bp.get("/payments.csv")
def payments_csv():
    reports.require_report_access(current_user)
    fund_id = chosen_id(request.args.get("fund_id"))
    if fund_id is not None:
        access.get_fund(current_user, fund_id)  # another organisation's fund is not found
    name = f"payments-fund-{fund_id}.csv" if fund_id else "payments-all-funds.csv"
    return csv_download(reports.payments_chunks(fund_id, viewer=current_user._get_current_object()), name)


@bp.get("/transparency")
def transparency():
    return transparency_download("finance/transparency.html")
