"""The JSON API's routes (API.md). Each view parses, calls one service, and answers; the
services decide who may do what and raise the errors the API reports."""

from __future__ import annotations

from typing import Any

from flask import Response

from .. import reports
from ..downloads import pdf_download
from ..forms import client_address
from ..models import School, User
from ..reports.access import fund_or_404
from ..reports.dossier import dossier_filename, dossier_pdf
from ..reports.pdf import PDF
from ..reports.termly import termly_filename, termly_pdf
from ..services import access, admin, applications, auth, claims, impact, inbox, lifecycle, payments, schedule
from ..services.clock import today
from ..services.queries import api as queries
from ..services.queries import exceptions as exception_queries
from ..services.queries import inbox as inbox_queries
from ..services.terms import fund_term
from . import present
from . import schemas as s
from .core import CSV, ID, JSON, csv_response, operation

# --------------------------------------------------------------------------------------
# Tokens and the signed-in user
# --------------------------------------------------------------------------------------


@operation(
    "/tokens",
    "POST",
    summary="Exchange an email and password for a bearer token",
    tag="auth",
    body=s.TokenRequestSchema,
    response=s.TokenSchema(),
    status=201,
    errors=(401, 429),
    public=True,
)
def create_token(body: dict[str, Any]) -> dict[str, str]:
    """Failed attempts are throttled per account and per address (429)."""
    user = auth.authenticate(body["email"], body["password"], client_address())
    return {"token": auth.issue_token(user, "api")}


@operation("/me", "GET", summary="The user the token belongs to", tag="auth", response=s.MeSchema())
def me(user: User) -> Any:
    return present.me(user)


@operation(
    "/me/notifications",
    "GET",
    summary="Your messages, newest first, with how many are unread",
    tag="notifications",
    query=s.PageQuery,
    response=s.NotificationPageSchema(),
)
def list_notifications(user: User, query: dict[str, Any]) -> dict[str, Any]:
    pagination = inbox_queries.messages_page(user, query["page"], query["per_page"])
    listed = present.page(present.notifications(list(pagination.items)), pagination)
    return {**listed, "unread": inbox_queries.unread_count(user)}


@operation(
    f"/me/notifications/<{ID}:notification_id>/read",
    "POST",
    summary="Mark one of your messages read",
    tag="notifications",
    response=s.NotificationSchema(),
)
def read_notification(user: User, notification_id: int) -> Any:
    """Marking a message read again changes nothing; another person's message is not found (404)."""
    return present.notification(inbox.mark_read(user, notification_id))


# --------------------------------------------------------------------------------------
# Funds and schools
# --------------------------------------------------------------------------------------


@operation(
    "/funds",
    "GET",
    summary="List funds with their ledgers",
    tag="funds",
    query=s.PageQuery,
    response=s.FundPageSchema(),
)
def list_funds(user: User, query: dict[str, Any]) -> dict[str, Any]:
    pagination = queries.funds_page(user, query["page"], query["per_page"])
    return present.page(present.funds(list(pagination.items)), pagination)


@operation(
    f"/funds/<{ID}:fund_id>", "GET", summary="One fund with its ledger", tag="funds", response=s.FundSchema()
)
def get_fund(user: User, fund_id: int) -> Any:
    return present.fund(fund_or_404(fund_id, user))


@operation(
    "/funds",
    "POST",
    summary="Create a fund (admin)",
    tag="funds",
    body=s.FundInputSchema,
    response=s.FundSchema(),
    status=201,
    errors=(403,),
)
def create_fund(user: User, body: dict[str, Any]) -> Any:
    return present.fund(admin.create_fund(user, admin.FundInput(**body)))


@operation(
    "/schools",
    "GET",
    summary="List schools by nation and identifier",
    tag="schools",
    query=s.PageQuery,
    response=s.SchoolPageSchema(),
)
def list_schools(user: User, query: dict[str, Any]) -> dict[str, Any]:
    pagination = queries.schools_page(query["page"], query["per_page"])
    return present.page(list(pagination.items), pagination)


@operation(
    "/schools",
    "POST",
    summary="Add a school (admin); 409 when its nation has a school with that identifier",
    tag="schools",
    body=s.SchoolInputSchema,
    response=s.SchoolSchema(),
    status=201,
    errors=(403, 409),
)
def create_school(user: User, body: dict[str, Any]) -> School:
    return admin.create_school(user, admin.SchoolInput(**body))


# --------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------


def _bid_details(body: dict[str, Any]) -> applications.BidDetails:
    def items(name: str, kind: type) -> list | None:
        return [kind(**item) for item in body[name]] if name in body else None

    return applications.BidDetails(
        fund_id=body.get("fund_id"),
        title=body.get("title"),
        need=body.get("need"),
        priority_areas=body.get("priority_areas"),
        partners=items("partners", applications.PartnerInput),
        activities=items("activities", applications.ActivityInput),
        measures=items("measures", applications.MeasureInput),
    )


@operation(
    "/applications",
    "POST",
    summary="Start a bid (headteacher): a draft",
    tag="applications",
    body=s.ApplicationCreateSchema,
    response=s.ApplicationSchema(),
    status=201,
    errors=(403,),
)
def create_application(user: User, body: dict[str, Any]) -> Any:
    """``requested_pence`` is Σ days × daily rate, each activity's cost rounded to the penny once."""
    return present.application(applications.create_draft(user, _bid_details(body)), user)


@operation(
    "/applications",
    "GET",
    summary="List the bids this user may see",
    tag="applications",
    query=s.ApplicationListQuery,
    response=s.ApplicationPageSchema(),
)
def list_applications(user: User, query: dict[str, Any]) -> dict[str, Any]:
    pagination = queries.applications_page(
        user, query.get("status"), query.get("fund_id"), query["page"], query["per_page"]
    )
    return present.page(present.applications(list(pagination.items), user), pagination)


@operation(
    "/applications/<reference>",
    "GET",
    summary="One bid, by reference",
    tag="applications",
    response=s.ApplicationSchema(),
)
def get_application(user: User, reference: str) -> Any:
    """A bid this user may not see is not found (404), not forbidden."""
    return present.application(access.get_application(user, reference), user)


@operation(
    "/applications/<reference>",
    "PATCH",
    summary="Edit a bid (lead headteacher, while draft or changes requested)",
    tag="applications",
    body=s.ApplicationPatchSchema,
    response=s.ApplicationSchema(),
    errors=(403, 409),
)
def update_application(user: User, reference: str, body: dict[str, Any]) -> Any:
    """Each part given replaces what the bid had; parts left out are unchanged."""
    application = access.get_application(user, reference)
    return present.application(applications.update_draft(user, application, _bid_details(body)), user)


@operation(
    "/applications/<reference>/actions",
    "POST",
    summary="Fire a lifecycle action on a bid",
    tag="applications",
    body=s.ActionRequestSchema,
    response=s.ApplicationSchema(),
    errors=(403, 409),
)
def application_action(user: User, reference: str, body: dict[str, Any]) -> Any:
    """Answers with the bid in its new state. 403: the role or a control (conflict of
    interest, four eyes) forbids it; 409: not from the current state; 422: a guard failed."""
    application = access.get_application(user, reference)
    done = lifecycle.perform(application, user, lifecycle.ActionInput(**body))
    return present.application(done, user)


@operation(
    "/applications/<reference>/events",
    "GET",
    summary="The bid's audit trail, oldest first",
    tag="applications",
    response=s.EventSchema(many=True),
)
def application_events(user: User, reference: str) -> Any:
    return reports.application_events(access.get_application(user, reference))


# --------------------------------------------------------------------------------------
# Claims and payments
# --------------------------------------------------------------------------------------


@operation(
    "/applications/<reference>/claims",
    "POST",
    summary="Claim backfill (lead headteacher, while the award is approved)",
    tag="claims",
    body=s.ClaimCreateSchema,
    response=s.ClaimSchema(),
    status=201,
    errors=(403, 409),
)
def create_claim(user: User, reference: str, body: dict[str, Any]) -> Any:
    application = access.get_application(user, reference)
    return present.claim(claims.create_claim(user, application, claims.ClaimInput(**body)))


@operation(
    f"/claims/<{ID}:claim_id>/actions",
    "POST",
    summary="Verify or reject a claim (liaison officer)",
    tag="claims",
    body=s.ClaimActionSchema,
    response=s.ClaimSchema(),
    errors=(403, 409),
)
def claim_action(user: User, claim_id: int, body: dict[str, Any]) -> Any:
    claim = access.get_claim(user, claim_id)
    return present.claim(claims.decide_claim(user, claim, body["action"], body["comment"]))


@operation(
    f"/claims/<{ID}:claim_id>/disbursements",
    "POST",
    summary="Record a payment against a verified claim (finance)",
    tag="payments",
    body=s.DisbursementCreateSchema,
    response=s.DisbursementSchema(),
    status=201,
    errors=(403, 409),
)
def create_disbursement(user: User, claim_id: int, body: dict[str, Any]) -> Any:
    """409 when the payment reference is already used in the fund."""
    claim = access.get_claim(user, claim_id)
    return payments.record_disbursement(user, claim, payments.DisbursementInput(**body))


@operation(
    f"/disbursements/<{ID}:disbursement_id>/reverse",
    "POST",
    summary="Reverse a payment with a reason (finance)",
    tag="payments",
    body=s.ReversalSchema,
    response=s.DisbursementSchema(),
    status=201,
    errors=(403, 409),
)
def reverse_disbursement(user: User, disbursement_id: int, body: dict[str, Any]) -> Any:
    """Answers with the reversal: a new, negative payment row; 409 (``invalid_state``) when
    the payment is itself a reversal or has already been reversed."""
    disbursement = access.get_disbursement(user, disbursement_id)
    return payments.reverse_disbursement(user, disbursement, body["reason"])


@operation(
    f"/claims/<{ID}:claim_id>/reversals",
    "POST",
    summary="Reverse a payment of this claim, named by reverses_id, with a reason (finance)",
    tag="payments",
    body=s.ClaimReversalSchema,
    response=s.DisbursementSchema(),
    status=201,
    errors=(403, 409),
)
def reverse_claim_payment(user: User, claim_id: int, body: dict[str, Any]) -> Any:
    """403 unless finance, whatever ``reverses_id`` names; 422 on ``reverses_id`` when it names
    no payment of this claim, a reversal, or a payment already reversed."""
    claim = access.get_claim(user, claim_id)
    return payments.reverse_payment_of_claim(user, claim, body["reverses_id"], body["reason"])


# --------------------------------------------------------------------------------------
# Impact
# --------------------------------------------------------------------------------------


@operation(
    "/applications/<reference>/impact-reports",
    "POST",
    summary="Report impact against the bid's measures (lead headteacher)",
    tag="impact",
    body=s.ImpactReportCreateSchema,
    response=s.ImpactReportSchema(),
    status=201,
    errors=(403, 409),
)
def create_impact_report(user: User, reference: str, body: dict[str, Any]) -> Any:
    application = access.get_application(user, reference)
    data = impact.ReportInput(
        kind=body["kind"],
        narrative=body["narrative"],
        results=[impact.ResultInput(**item) for item in body["results"]],
    )
    return impact.submit_report(user, application, data)


@operation(
    f"/impact-reports/<{ID}:report_id>/evaluation",
    "POST",
    summary="Evaluate an impact report (liaison officer)",
    tag="impact",
    body=s.EvaluationCreateSchema,
    response=s.EvaluationSchema(),
    status=201,
    errors=(403, 409),
)
def evaluate_impact_report(user: User, report_id: int, body: dict[str, Any]) -> Any:
    report = access.get_report(user, report_id)
    return impact.evaluate_report(user, report, impact.EvaluationInput(**body))


@operation(
    f"/schedule-items/<{ID}:item_id>/actions",
    "POST",
    summary="Waive a monitoring schedule item or change its due date (liaison officer)",
    tag="impact",
    body=s.ScheduleActionSchema,
    response=s.ScheduleItemSchema(),
    errors=(403, 409),
)
def schedule_item_action(user: User, item_id: int, body: dict[str, Any]) -> Any:
    """Both need a reason (``comment``); ``reschedule`` a new ``due_on`` (today or later). 403:
    not a liaison officer, or their school takes part in the bid; 409: the item is already
    met or waived."""
    item = access.get_schedule_item(user, item_id)
    if body["action"] == "waive":
        return schedule.waive(user, item, body["comment"])
    return schedule.reschedule(user, item, body["due_on"], body["comment"])


# --------------------------------------------------------------------------------------
# Reports, audit and exports (liaison officers, finance, auditors)
# --------------------------------------------------------------------------------------


@operation(
    "/reports/value-for-money",
    "GET",
    summary="Value for money: money, what it bought, outcomes, targeting, timeliness, one row per bid",
    tag="reports",
    query=s.ValueForMoneyQuery,
    response=s.ValueForMoneySchema(),
    errors=(403, 404, 422),
)
def value_for_money(user: User, query: dict[str, Any]) -> Any:
    """Totals and figures over every bid the filters keep; the per-bid rows one page at a time
    (`page`, `per_page` up to 500). `from` after `to` is 422 on `to`."""
    reports.require_report_access(user)
    return reports.value_for_money(
        query.get("fund_id"),
        query["page"],
        query["per_page"],
        date_from=query.get("date_from"),
        date_to=query.get("date_to"),
        local_authority=query.get("local_authority"),
        priority_area=query.get("priority_area"),
        viewer=user,
    )


@operation(
    "/reports/exceptions",
    "GET",
    summary="Control exceptions, newest first: overrides, partial awards, reversals, flagged claims…",
    tag="reports",
    query=s.ExceptionsQuery,
    response=s.ExceptionsPageSchema(),
    errors=(403, 404, 422),
)
def control_exceptions(user: User, query: dict[str, Any]) -> Any:
    """One page of a fund's control exceptions (every fund's without `fund_id`), each with
    its kind, the bid's reference, a sentence saying what happened and when."""
    reports.require_report_access(user)
    fund_id = query.get("fund_id")
    if fund_id is not None:
        fund_or_404(fund_id, user)
    kind, page, per_page = query.get("kind"), query["page"], query["per_page"]
    found = exception_queries.exceptions_page(fund_id, kind, page, per_page, today(), user)
    return {"items": found.items, "page": found.page, "per_page": found.per_page, "total": found.total}


@operation(
    "/audit/verify",
    "GET",
    summary="Check the audit trail's hash chain (auditor)",
    tag="reports",
    response=s.ChainReportSchema(),
    errors=(403,),
)
def verify_audit(user: User) -> Any:
    return reports.verify_audit_chain(user)


@operation(
    "/applications/<reference>/dossier.pdf",
    "GET",
    summary="A bid's dossier as a tagged PDF (PDF/UA), the same as the site's download",
    tag="reports",
    media_type=PDF,
    errors=(403, 404),
)
def application_dossier_pdf(user: User, reference: str) -> Response:
    """The whole record of the bid and its audit trail, each event checked against the chain."""
    reports.require_report_access(user)
    application = access.get_application(user, reference)
    return pdf_download(dossier_pdf(application), dossier_filename(application))


@operation(
    "/reports/termly.pdf",
    "GET",
    summary="The termly report of a fund for the Schools Forum, as a tagged PDF (PDF/UA)",
    tag="reports",
    query=s.TermlyReportQuery,
    media_type=PDF,
    errors=(403, 404, 422),
)
def termly_report_pdf(user: User, query: dict[str, Any]) -> Response:
    """The same document as the site's "Download as PDF". A term that is not right, or not
    one of the fund's, is 422 on `term`."""
    reports.require_report_access(user)
    fund = fund_or_404(query["fund_id"], user)
    term = fund_term(fund, query["term"])
    return pdf_download(termly_pdf(fund, term, today()), termly_filename(fund, term))


@operation(
    "/exports/360giving.json",
    "GET",
    summary="The fund's awards as a 360Giving package",
    tag="exports",
    query=s.RequiredFundQuery,
    response=s.GrantPackageSchema(),
    errors=(403, 404, 409),
)
def export_360_json(user: User, query: dict[str, Any]) -> Any:
    """Streamed: every grant is validated before the first byte, so a refusal is a 409."""
    reports.require_report_access(user)
    fund_id = query["fund_id"]
    fund_or_404(fund_id, user)
    chunks = reports.grants_360_json_chunks(fund_id, dump=s.GrantSchema().dump, sort_keys=True)
    return csv_response(chunks, f"360giving-fund-{fund_id}.json", mimetype=JSON)


@operation(
    "/exports/360giving.csv",
    "GET",
    summary="The fund's awards as 360Giving CSV",
    tag="exports",
    query=s.RequiredFundQuery,
    media_type=CSV,
    errors=(403, 404, 409),
)
def export_360_csv(user: User, query: dict[str, Any]) -> Response:
    reports.require_report_access(user)
    fund_id = fund_or_404(query["fund_id"], user).id
    return csv_response(reports.grants_360_csv_chunks(fund_id), f"360giving-fund-{fund_id}.csv")


@operation(
    "/exports/transparency.csv",
    "GET",
    summary="Payments at or over the threshold, Transparency Code layout",
    tag="exports",
    query=s.TransparencyQuery,
    media_type=CSV,
    errors=(403, 404),
)
def export_transparency(user: User, query: dict[str, Any]) -> Response:
    """Reversals are negative rows; ``from`` and ``to`` are inclusive payment dates."""
    reports.require_report_access(user)
    chunks = reports.transparency_chunks(
        query.get("fund_id"), query.get("date_from"), query.get("date_to"), viewer=user
    )
    return csv_response(chunks, "transparency.csv")


@operation(
    "/exports/audit-trail.csv",
    "GET",
    summary="Every event of the fund (or of all funds), in chain order",
    tag="exports",
    query=s.FundFilterQuery,
    media_type=CSV,
    errors=(403, 404),
)
def export_audit_trail(user: User, query: dict[str, Any]) -> Response:
    reports.require_report_access(user)
    return csv_response(reports.audit_trail_chunks(query.get("fund_id"), viewer=user), "audit-trail.csv")
