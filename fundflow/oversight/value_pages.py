"""The value-for-money page of a fund, its charts and its tables as CSV.

One page answers "what did this fund buy, and did it work?" from the report
(:func:`fundflow.reports.value_for_money`, aggregated in SQL): the money adding up, what it
bought, whether the measures were met, whether it reached the schools that need it most and
whether it was run well. Every chart and table on it takes the page's filters (``from``,
``to``, ``local_authority``, ``priority_area``, in the query string), so a link copied from
the page gives the same figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from flask import Response, abort, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField, ValidationError

from .. import reports
from ..downloads import csv_download
from ..fields import choices_of
from ..formatting import school_identifier, status_label
from ..forms import page_number, per_page
from ..models.impact import DRIVER_LABELS, RATING_LABELS, RATINGS
from ..models.school import identifier_label
from ..reports import charts, csvfile
from ..reports.value import value_for_money_rows
from ..reports.value_scope import options as value_options
from ..services import access
from ..services.measure_results import MEASURE_RESULT_LABELS
from ..services.queries.auditor import RowsPage
from .blueprint import bp

#: The query-string names of the filters, as the API spells them.
FILTER_ARGS = ("from", "to", "local_authority", "priority_area")
SCHOOL_ROLES = {"lead": "Lead school", "supporting": "Supporting school", "supported": "Supported school"}
#: What the page's template uses besides the report.
PAGE_HELPERS = {
    "charts": charts.CHARTS,
    "finding": charts.finding,
    "month_name": charts.month_name,
    "result_labels": MEASURE_RESULT_LABELS,
    "school_roles": SCHOOL_ROLES,
}


def _iso_date(field: StringField) -> None:
    text = (field.data or "").strip()
    if not text:
        field.data = ""
        return
    try:
        field.data = date.fromisoformat(text).isoformat()
    except ValueError:
        message = f"{field.label.text} must be a real date written as year-month-day, like 2026-09-01"
        raise ValidationError(message) from None
    # Data outside what a database date holds cannot be a bid's date either.
    if not 2000 <= int(field.data[:4]) <= 2100:
        raise ValidationError(f"{field.label.text} must be a date between the years 2000 and 2100")


class ValueFilterForm(FlaskForm):
    """Which bids and payments the page counts (a GET form)."""

    class Meta:
        csrf = False

    date_from = StringField(
        "From",
        name="from",
        widget=GovTextInput(),
        description="Bids sent and payments made on or after this date, like 2026-09-01",
    )
    date_to = StringField(
        "To", name="to", widget=GovTextInput(), description="Up to and including this date, like 2027-03-31"
    )
    local_authority = SelectField(
        "Local authority of the lead school", widget=GovSelect(), validate_choice=False
    )
    priority_area = SelectField("Priority area", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Show figures", widget=GovSubmitInput())

    def validate_date_from(self, field: StringField) -> None:
        _iso_date(field)

    def validate_date_to(self, field: StringField) -> None:
        _iso_date(field)
        if (
            field.data
            and self.date_from.data
            and not self.date_from.errors
            and field.data < self.date_from.data
        ):
            raise ValidationError("The date to must be the same as or after the date from")

    def offer(self, options: dict[str, Any]) -> None:
        """Fill the select boxes from the report's ``options``, and refuse a value they do
        not offer (a link edited by hand)."""
        areas = options.get("priority_areas", [])
        authorities = options.get("local_authorities", [])
        self.local_authority.choices = choices_of(
            [("", "All local authorities")] + [(a["code"], f"{a['name']} ({a['code']})") for a in authorities]
        )
        self.priority_area.choices = choices_of([("", "All priority areas")] + [(a, a) for a in areas])
        for field, allowed, noun in (
            (self.local_authority, {a["code"] for a in authorities}, "local authority"),
            (self.priority_area, set(areas), "priority area"),
        ):
            if field.data and field.data not in allowed:
                field.errors = [*field.errors, f"Choose a {noun} from the list"]
        self._errors = None  # WTForms keeps the errors it last listed

    def filters(self) -> dict[str, str]:
        """The filters as query-string arguments, leaving out the empty ones."""
        values = {
            "from": self.date_from.data,
            "to": self.date_to.data,
            "local_authority": self.local_authority.data,
            "priority_area": self.priority_area.data,
        }
        return {key: value for key, value in values.items() if value}


def _filter_args(filters: dict[str, str]) -> dict[str, Any]:
    """The query-string filters as the report's keyword arguments."""
    return {
        "date_from": date.fromisoformat(filters["from"]) if filters.get("from") else None,
        "date_to": date.fromisoformat(filters["to"]) if filters.get("to") else None,
        "local_authority": filters.get("local_authority") or None,
        "priority_area": filters.get("priority_area") or None,
    }


def _report(fund_id: int, filters: dict[str, str], page: int = 1, rows: int | None = 1) -> dict[str, Any]:
    return reports.value_for_money(fund_id, page, rows, **_filter_args(filters))


def read_filters(fund_id: int, page: int = 1, rows: int | None = 1) -> tuple[ValueFilterForm, dict[str, Any]]:
    """The page's filter form and the report they ask for. With a filter that is not right
    the form carries the errors and the report is the whole fund's (for the select boxes)."""
    form = ValueFilterForm(request.args)
    for field in (form.local_authority, form.priority_area):
        field.data = (field.data or "").strip()[:200]
    dates_ok = form.validate()
    report = _report(fund_id, form.filters() if dates_ok else {}, page, rows)
    form.offer(report["options"])
    if form.errors and dates_ok:
        report = _report(fund_id, {}, page, rows)
    return form, report


def _filters_or_400(fund_id: int) -> tuple[dict[str, str], dict[str, Any]]:
    """The filters and the report for a chart or a file; a filter that is not right is a 400."""
    form, report = read_filters(fund_id)
    if form.errors:
        abort(400)
    return form.filters(), report


@bp.get("/funds/<int:fund_id>/value-for-money", endpoint="value_for_money")
def value_for_money(fund_id: int):
    fund = access.get_fund(current_user, fund_id)
    page, rows = page_number(), per_page()
    form, report = read_filters(fund.id, page, rows)
    wrong = bool(form.errors)
    return render_template(
        "oversight/value_for_money.html",
        fund=fund,
        form=form,
        report=None if wrong else report,
        filters={} if wrong else form.filters(),
        pagination=RowsPage(report["rows"], report["total"], page, rows),
        **PAGE_HELPERS,
    ), (400 if wrong else 200)


@bp.get("/funds/<int:fund_id>/value-for-money/<chart>.svg", endpoint="value_for_money_chart")
def value_for_money_chart(fund_id: int, chart: str):
    fund = access.get_fund(current_user, fund_id)
    if chart not in charts.CHARTS:
        abort(404)
    svg = charts.chart_svg(chart, _filters_or_400(fund.id)[1])
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})


def _checked_filters_or_400(fund_id: int) -> dict[str, str]:
    """The filters of a file, checked against the choices the fund offers (without running
    the report); a filter that is not right is a 400."""
    form = ValueFilterForm(request.args)
    for field in (form.local_authority, form.priority_area):
        field.data = (field.data or "").strip()[:200]
    if not form.validate():
        abort(400)
    form.offer(value_options(fund_id))
    if form.errors:
        abort(400)
    return form.filters()


@bp.get("/funds/<int:fund_id>/value-for-money/<table>.csv", endpoint="value_for_money_csv")
def value_for_money_csv(fund_id: int, table: str):
    fund = access.get_fund(current_user, fund_id)
    if table not in CSV_TABLES:
        abort(404)
    filters = _checked_filters_or_400(fund.id)
    name = f"value-for-money-fund-{fund.id}-{table}.csv"
    if table == "bids":
        return csv_download(_bid_chunks(fund.id, filters), name)
    header, rows = CSV_TABLES[table](_report(fund.id, filters))
    return csv_download(csvfile.chunks(header, rows), name)


# --------------------------------------------------------------------------------------
# The tables as CSV: plain-English headers, amounts in pounds
# --------------------------------------------------------------------------------------

Rows = tuple[Sequence[str], list[Sequence[Any]]]


def percent(share: float | None) -> str:
    """A share (0..1) as a percentage with one decimal: 0.4567 → '45.7'; None → ''."""
    return "" if share is None else f"{share * 100:.1f}"


def _pounds(pence: int | None) -> str:
    return "" if pence is None else csvfile.pounds(pence)


def money_table(report: dict[str, Any]) -> Rows:
    m = report["money"]
    rows = [
        ("Budget", m["budget_pence"], "The fund's budget"),
        ("Awarded", m["awarded_pence"], "Awards made (committed plus released)"),
        (
            "Awaiting countersignature",
            m["awaiting_countersignature_pence"],
            "Awards waiting for a second signature, not yet counted as awarded or committed",
        ),
        ("Committed", m["committed_pence"], "What the awards hold of the budget (paid plus still to pay)"),
        ("Paid", m["paid_pence"], "Payments made, net of reversals"),
        ("Still to pay", m["still_to_pay_pence"], "Committed but not yet paid"),
        (
            "Released",
            m["released_pence"],
            "The unspent rest of finished or cancelled awards, back in the budget",
        ),
        ("Available", m["available_pence"], "Budget not committed (budget minus committed)"),
    ]
    return ["Figure", "Amount (£)", "What it means"], [(a, _pounds(b), c) for a, b, c in rows]


def spend_table(report: dict[str, Any]) -> Rows:
    rows = [
        (m["month"], _pounds(m["paid_pence"]), _pounds(m["cumulative_paid_pence"]))
        for m in report["money"]["spend_over_time"]
    ]
    return ["Month", "Paid in the month (£)", "Paid so far (£)"], rows


def staff_roles_table(report: dict[str, Any]) -> Rows:
    rows = [
        (csvfile.text(r["staff_role"]), r["days"], _pounds(r["cost_pence"]))
        for r in report["bought"]["by_staff_role"]
    ]
    return ["Staff role", "Days of release", "Cost (£)"], rows


def schools_table(report: dict[str, Any]) -> Rows:
    rows = [
        (
            csvfile.text(s["name"]),
            s["urn"],
            school_identifier(s),
            SCHOOL_ROLES.get(s["role"], s["role"]),
            s["bids"],
            s["days"],
            _pounds(s["committed_pence"]),
        )
        for s in report["bought"]["by_school"]
    ]
    return [
        "School",
        "URN",
        "School identifier",
        "Part in the bids",
        "Bids",
        "Days of release",
        "Committed (£)",
    ], rows


RATING_HEADERS = [f"Rated {RATING_LABELS[r].lower()} by the liaison officer" for r in RATINGS]


def outcomes_by_area_table(report: dict[str, Any]) -> Rows:
    areas = report["outcomes"]["by_priority_area"]
    with_money = any("committed_pence" in a for a in areas)  # when the report gives it
    rows = [
        (
            csvfile.text(a["priority_area"]),
            a["measures"],
            a["achieved"],
            a["part_way"],
            a["not_achieved"],
            percent(a["share_achieved"]),
            *(a["ratings"].get(r, 0) for r in RATINGS),
            *([_pounds(a.get("committed_pence"))] if with_money else []),
        )
        for a in areas
    ]
    header = [
        "Priority area",
        "Measures",
        "Achieved",
        "Part-way",
        "Not achieved",
        "Share achieved (%)",
        *RATING_HEADERS,
        *(["Committed (£)"] if with_money else []),
    ]
    return header, rows


def outcomes_by_driver_table(report: dict[str, Any]) -> Rows:
    rows = [
        (
            d.get("label") or DRIVER_LABELS.get(d["driver"], d["driver"]),
            d["reports"],
            *(d["ratings"].get(r, 0) for r in RATINGS),
        )
        for d in report["outcomes"]["by_driver"]
    ]
    return ["Improvement driver", "Impact reports rated", *RATING_HEADERS], rows


def targeting_table(report: dict[str, Any]) -> Rows:
    t = report["targeting"]
    rows: list[Sequence[Any]] = [
        (b["band"], b["schools"], _pounds(b["committed_pence"]), percent(b["share"]))
        for b in t["by_fsm_band"]
    ]
    rows.append(
        (
            "Schools causing concern (any share)",
            "",
            _pounds(t["to_schools_causing_concern_pence"]),
            percent(t["share_to_schools_causing_concern"]),
        )
    )
    return ["Free school meals share", "Schools", "Committed (£)", "Share of committed money (%)"], rows


def timeliness_table(report: dict[str, Any]) -> Rows:
    t = report["timeliness"]
    reports_ = t["reports"]
    rows = [
        ("Median days from a bid being sent to its decision", t["median_days_to_decision"]),
        ("Decisions made", t["decisions"]),
        ("Median days from a claim to its payment", t["median_days_claim_to_payment"]),
        ("Claims paid", t["payments"]),
        ("Impact reports sent on time", reports_["on_time"]),
        ("Impact reports sent late", reports_["late"]),
        ("Impact reports overdue, not sent", reports_["overdue"]),
        ("Impact reports waived", reports_["waived"]),
    ]
    return ["Measure", "Value"], [(a, "" if b is None else b) for a, b in rows]


def councils_table(report: dict[str, Any]) -> Rows:
    """The figures by the member council of the lead school (a partnership fund's)."""
    rows = [
        (
            csvfile.text(c["name"]),
            c["gss_code"] or "",
            c["bids"],
            _pounds(c["awarded_pence"]),
            _pounds(c["committed_pence"]),
            _pounds(c["paid_pence"]),
            c["days"],
            c["achieved"],
            c["with_result"],
            c["measures"],
            percent(c["share_achieved"]),
        )
        for c in report.get("by_council", [])
    ]
    header = [
        "Member council of the lead school",
        "GSS code",
        "Bids",
        "Awarded (£)",
        "Committed (£)",
        "Paid (£)",
        "Days of release",
        "Measures achieved",
        "Measures with a result",
        "Measures",
        "Share achieved (%)",
    ]
    return header, rows


def measures_text(measures: list[dict[str, Any]]) -> str:
    """A bid's measures in one cell: 'Reading age: 7 to 8, latest 8.2 (Achieved); …'."""
    parts = []
    for m in measures:
        latest = m["latest_actual"] if m["latest_actual"] is not None else "none yet"
        unit = f" ({m['unit']})" if m.get("unit") else ""
        parts.append(
            f"{m['indicator']}{unit}: {m['baseline']} to {m['target']}, latest {latest}"
            f" ({MEASURE_RESULT_LABELS.get(m['result'], m['result'])})"
        )
    return csvfile.text("; ".join(parts))


BID_HEADER = [
    "Reference",
    "Title",
    "Lead school",
    "Lead school URN",
    "Lead school identifier",
    "Status",
    "Requested (£)",
    "Awarded (£)",
    "Committed (£)",
    "Paid (£)",
    "Supported schools",
    "Measures: baseline to target, latest result",
]


def bid_row(r: dict[str, Any]) -> Sequence[Any]:
    return (
        r["reference"],
        csvfile.text(r["title"]),
        csvfile.text(r["lead_school_name"]),
        r["lead_school_urn"],
        identifier_label(r["lead_school_nation"], r["lead_school_identifier"]),
        status_label(r["status"]),
        _pounds(r["requested_pence"]),
        _pounds(r["awarded_pence"]),
        _pounds(r["committed_pence"]),
        _pounds(r["paid_pence"]),
        r["supported_schools"],
        measures_text(r.get("measures", [])),
    )


def _bid_chunks(fund_id: int, filters: dict[str, str]) -> Iterator[str]:
    """Every bid's row, streamed: one SELECT read in batches, not the report per page."""
    rows = value_for_money_rows(fund_id, **_filter_args(filters))
    return csvfile.chunks(BID_HEADER, (bid_row(r) for r in rows))


CSV_TABLES = {
    "money": money_table,
    "spend-over-time": spend_table,
    "staff-roles": staff_roles_table,
    "schools": schools_table,
    "outcomes-by-priority-area": outcomes_by_area_table,
    "outcomes-by-driver": outcomes_by_driver_table,
    "targeting": targeting_table,
    "timeliness": timeliness_table,
    "councils": councils_table,
    "bids": None,
}
