"""The termly report for the Schools Forum: one fund, one term of the school year.

Six parts, each aggregated in SQL in a fixed number of statements (eight in all, however many
bids, payments or reports the fund has):

* the fund's position at the end of the term: budget, committed, paid and available, as
  the ledger stood then. Paid counts the payments made by the term's last day; committed
  follows the ledger's rule (:mod:`fundflow.services.ledger`) with each bid's status as
  it was at the end of the term, read from the audit trail (every status change has its
  event, and the audit check insists on it). For a term not yet over that is the ledger
  as it is now;
* decisions made in the term (``applications.decided_at`` in it), by how each stands now:
  awarded, waiting for countersignature, or turned down;
* spend in the term: payments made (``paid_on``) in it, and reversals;
* outcomes reported in the term: impact reports evaluated in it, their ratings, and the
  measures they gave results for (achieved, part-way, not achieved; the rule of
  :mod:`fundflow.services.impact`);
* impact reports overdue at the end of the term (or today, for a term not yet over):
  due before then and not sent or waived by then;
* control exceptions in the term (:mod:`fundflow.services.queries.exceptions`), counted by
  kind, with the first 20;
* for a fund of more than one council (a partnership's), the term's awards, spend and
  results by the member council of each bid's lead school (one more statement; the rule of
  :mod:`fundflow.reports.value_councils`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..models import (
    SCHEDULE_KIND_LABELS,
    Application,
    BackfillClaim,
    Disbursement,
    Event,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    ImpactResult,
    Measure,
    ScheduleItem,
    School,
)
from ..models.impact import RATINGS
from ..services.measure_results import MEASURE_RESULT_LABELS, MEASURE_RESULTS, measure_result_sql
from ..services.queries import exceptions as exception_queries
from ..services.queries.aggregates import count_if, sum_if, total
from ..services.queries.auditor import REPORT_ITEM_KINDS
from ..services.terms import Term
from ..workflow import (
    AWAITING_COUNTERSIGN_STATUSES,
    AWARDED_STATUSES,
    COMMITTED_AT_AWARD,
    COMMITTED_AT_PAID,
    MET_SCHEDULE_STATUSES,
    OPEN_SCHEDULE_STATUSES,
    WAIVED_SCHEDULE_STATUSES,
)
from .pdf import html_to_pdf
from .value_councils import OTHER, council_of_lead_school

#: How many overdue reports and exceptions the report lists (it counts them all).
LISTED = 20


@dataclass(frozen=True)
class Position:
    """The fund's money at ``as_of``: budget = committed + available."""

    as_of: date
    #: True when the term is over: the figures are the ledger as it stood on its last day.
    at_term_end: bool
    budget_pence: int
    committed_pence: int
    paid_pence: int
    awaiting_countersignature_pence: int

    @property
    def available_pence(self) -> int:
        return self.budget_pence - self.committed_pence

    @property
    def still_to_pay_pence(self) -> int:
        return self.committed_pence - self.paid_pence


@dataclass(frozen=True)
class Decisions:
    """Bids decided in the term, by how the decision stands now."""

    awarded: int = 0
    awarded_pence: int = 0
    requested_by_awarded_pence: int = 0
    awaiting_countersignature: int = 0
    awaiting_countersignature_pence: int = 0
    turned_down: int = 0
    turned_down_requested_pence: int = 0

    @property
    def total(self) -> int:
        return self.awarded + self.awaiting_countersignature + self.turned_down


@dataclass(frozen=True)
class Spend:
    payments: int = 0
    paid_pence: int = 0
    reversals: int = 0
    reversed_pence: int = 0  # a positive amount: what the reversals took back
    schools_paid: int = 0

    @property
    def net_pence(self) -> int:
        return self.paid_pence - self.reversed_pence


@dataclass(frozen=True)
class Outcomes:
    reports_evaluated: int
    ratings: dict[str, int]
    #: Results given in the reports evaluated in the term, by ``MEASURE_RESULTS`` (no "no result yet").
    measures: dict[str, int]

    @property
    def measures_reported(self) -> int:
        return sum(self.measures.values())


@dataclass(frozen=True)
class OverdueReport:
    reference: str
    title: str
    kind: str
    due_on: date
    days_overdue: int


@dataclass(frozen=True)
class CouncilTerm:
    """One member council's term: awards decided in it, net spend in it and the results the
    reports evaluated in it gave, for the bids its schools lead."""

    name: str
    gss_code: str | None
    awarded: int = 0
    awarded_pence: int = 0
    spent_pence: int = 0
    measures_reported: int = 0
    achieved: int = 0


@dataclass(frozen=True)
class TermlyReport:
    fund: Fund
    term: Term
    position: Position
    decisions: Decisions
    spend: Spend
    outcomes: Outcomes
    overdue_total: int
    overdue: list[OverdueReport]
    exception_counts: dict[str, int]
    exceptions: list[exception_queries.ControlException] = field(default_factory=list)
    #: Only for a fund of more than one council; empty otherwise.
    by_council: list[CouncilTerm] = field(default_factory=list)

    @property
    def exceptions_total(self) -> int:
        return sum(self.exception_counts.values())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def position(fund: Fund, term: Term, today: date) -> Position:
    """The ledger at the end of ``term`` in one statement: each bid's status then (its
    latest status event before the next day began) and its payments by then."""
    end = term.ends_on
    before = _midnight(end + timedelta(days=1))
    # each bid's latest status event by then, from the fund's own events in one index scan
    # (ranked, not joined back to the whole trail, which read every event of the chain)
    ranked = (
        select(
            Event.subject_id.label("application_id"),
            Event.to_status.label("status"),
            func.row_number().over(partition_by=Event.subject_id, order_by=Event.seq.desc()).label("nth"),
        )
        .where(
            Event.fund_id == fund.id,
            Event.subject_type == "application",
            Event.to_status.is_not(None),
            Event.at < before,
        )
        .subquery()
    )
    status_then = select(ranked.c.application_id, ranked.c.status).where(ranked.c.nth == 1).subquery()
    paid_then = (
        select(BackfillClaim.application_id, func.sum(Disbursement.amount_pence).label("paid"))
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .where(Disbursement.fund_id == fund.id, Disbursement.paid_on <= end)
        .group_by(BackfillClaim.application_id)
        .subquery()
    )
    paid = func.coalesce(paid_then.c.paid, 0)
    status = status_then.c.status
    row = db.session.execute(
        select(
            sum_if(status.in_(COMMITTED_AT_AWARD), Application.awarded_pence).label("awarded"),
            sum_if(status.in_(COMMITTED_AT_PAID), paid).label("settled"),
            total(paid).label("paid"),
            sum_if(status.in_(AWAITING_COUNTERSIGN_STATUSES), Application.awarded_pence).label("waiting"),
        )
        .select_from(Application)
        .outerjoin(status_then, status_then.c.application_id == Application.id)
        .outerjoin(paid_then, paid_then.c.application_id == Application.id)
        .where(Application.fund_id == fund.id)
    ).one()
    return Position(
        as_of=min(end, today),
        at_term_end=end < today,
        budget_pence=int(fund.budget_pence),
        committed_pence=int(row.awarded) + int(row.settled),
        paid_pence=int(row.paid),
        awaiting_countersignature_pence=int(row.waiting),
    )


def decisions(fund: Fund, term: Term) -> Decisions:
    """Bids whose (latest) decision was made in the term, one statement."""
    awarded = Application.status.in_(AWARDED_STATUSES)
    waiting = Application.status.in_(AWAITING_COUNTERSIGN_STATUSES)
    turned_down = ~awarded & ~waiting
    row = db.session.execute(
        select(
            count_if(awarded).label("awarded"),
            sum_if(awarded, Application.awarded_pence).label("awarded_pence"),
            sum_if(awarded, Application.requested_pence).label("asked_pence"),
            count_if(waiting).label("waiting"),
            sum_if(waiting, Application.awarded_pence).label("waiting_pence"),
            count_if(turned_down).label("turned_down"),
            sum_if(turned_down, Application.requested_pence).label("turned_down_pence"),
        ).where(
            Application.fund_id == fund.id,
            Application.decided_at >= _midnight(term.starts_on),
            Application.decided_at < _midnight(term.ends_on + timedelta(days=1)),
        )
    ).one()
    return Decisions(*(int(value) for value in row))


def spend(fund: Fund, term: Term) -> Spend:
    """Payments and reversals dated (``paid_on``) in the term, one statement."""
    reversal = Disbursement.reverses_id.is_not(None)
    row = db.session.execute(
        select(
            count_if(~reversal),
            sum_if(~reversal, Disbursement.amount_pence),
            count_if(reversal),
            -sum_if(reversal, Disbursement.amount_pence),
            func.count(func.distinct(case((~reversal, Disbursement.payee_school_id)))),
        ).where(
            Disbursement.fund_id == fund.id,
            Disbursement.paid_on >= term.starts_on,
            Disbursement.paid_on <= term.ends_on,
        )
    ).one()
    return Spend(*(int(value) for value in row))


def outcomes(fund: Fund, term: Term) -> Outcomes:
    """Impact reports evaluated in the term: their ratings (one statement) and the results
    they gave for each measure, judged by the one rule (another)."""
    in_term = (
        Application.fund_id == fund.id,
        ImpactEvaluation.evaluated_at >= _midnight(term.starts_on),
        ImpactEvaluation.evaluated_at < _midnight(term.ends_on + timedelta(days=1)),
    )
    rated = dict(
        db.session.execute(
            select(ImpactEvaluation.rating, func.count())
            .join(ImpactReport, ImpactReport.id == ImpactEvaluation.report_id)
            .join(Application, Application.id == ImpactReport.application_id)
            .where(*in_term)
            .group_by(ImpactEvaluation.rating)
        ).all()
    )
    result = measure_result_sql(Measure.baseline, Measure.target, ImpactResult.actual).label("result")
    judged = (
        select(result)
        .select_from(ImpactResult)
        .join(Measure, Measure.id == ImpactResult.measure_id)
        .join(ImpactReport, ImpactReport.id == ImpactResult.report_id)
        .join(ImpactEvaluation, ImpactEvaluation.report_id == ImpactReport.id)
        .join(Application, Application.id == ImpactReport.application_id)
        .where(*in_term)
        .subquery()
    )
    found = dict(db.session.execute(select(judged.c.result, func.count()).group_by(judged.c.result)).all())
    return Outcomes(
        reports_evaluated=sum(int(n) for n in rated.values()),
        ratings={r: int(rated.get(r, 0)) for r in RATINGS},
        measures={r: int(found.get(r, 0)) for r in MEASURE_RESULTS if r != "no_result_yet"},
    )


def overdue(fund: Fund, term: Term, today: date) -> tuple[int, list[OverdueReport]]:
    """Impact reports overdue at the end of the term (today, for a term not yet over): due
    before that day was out and neither sent nor waived by then. How many, and the
    :data:`LISTED` longest overdue, in one statement."""
    cutoff = min(term.ends_on + timedelta(days=1), today)
    settled = ScheduleItem.status.in_(MET_SCHEDULE_STATUSES + WAIVED_SCHEDULE_STATUSES)
    rows = db.session.execute(
        select(
            Application.reference,
            Application.title,
            ScheduleItem.kind,
            ScheduleItem.due_on,
            func.count().over().label("total"),
        )
        .select_from(ScheduleItem)
        .join(Application, Application.id == ScheduleItem.application_id)
        .where(
            Application.fund_id == fund.id,
            ScheduleItem.kind.in_(REPORT_ITEM_KINDS),
            ScheduleItem.due_on < cutoff,
            ScheduleItem.status.in_(OPEN_SCHEDULE_STATUSES)
            | and_(settled, ScheduleItem.completed_on >= cutoff),
        )
        .order_by(ScheduleItem.due_on, ScheduleItem.id)
        .limit(LISTED)
    ).all()
    last_day = cutoff - timedelta(days=1)
    items = [
        OverdueReport(r.reference, r.title, r.kind, _as_date(r.due_on), (last_day - _as_date(r.due_on)).days)
        for r in rows
    ]
    return (int(rows[0].total) if rows else 0), items


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def exceptions_in(fund: Fund, term: Term, today: date) -> tuple[dict[str, int], list[Any]]:
    """The control exceptions that happened in the term: every kind's count and the first
    :data:`LISTED` in time order."""
    return exception_queries.in_period(fund.id, term.starts_on, term.ends_on, today, LISTED)


def by_council(fund: Fund, term: Term) -> list[CouncilTerm]:
    """The term by member council of the lead school, in one statement: every council of the
    fund (in name order), then "Other" when a submitted bid's lead school is in none."""
    start, after = _midnight(term.starts_on), _midnight(term.ends_on + timedelta(days=1))
    spent = (
        select(BackfillClaim.application_id, func.sum(Disbursement.amount_pence).label("pence"))
        .join(BackfillClaim, BackfillClaim.id == Disbursement.claim_id)
        .where(
            Disbursement.fund_id == fund.id,
            Disbursement.paid_on >= term.starts_on,
            Disbursement.paid_on <= term.ends_on,
        )
        .group_by(BackfillClaim.application_id)
        .subquery()
    )
    result = measure_result_sql(Measure.baseline, Measure.target, ImpactResult.actual)
    results = (
        select(
            ImpactReport.application_id,
            func.count().label("reported"),
            count_if(result == "achieved").label("achieved"),
        )
        .select_from(ImpactResult)
        .join(Measure, Measure.id == ImpactResult.measure_id)
        .join(ImpactReport, ImpactReport.id == ImpactResult.report_id)
        .join(ImpactEvaluation, ImpactEvaluation.report_id == ImpactReport.id)
        .where(ImpactEvaluation.evaluated_at >= start, ImpactEvaluation.evaluated_at < after)
        .group_by(ImpactReport.application_id)
        .subquery()
    )
    awarded_in_term = (
        Application.decided_at >= start,
        Application.decided_at < after,
        Application.status.in_(AWARDED_STATUSES),
    )
    per_bid = (
        select(
            council_of_lead_school().label("council_id"),
            case((and_(*awarded_in_term), 1), else_=0).label("awarded"),
            case((and_(*awarded_in_term), Application.awarded_pence), else_=0).label("awarded_pence"),
            spent.c.pence.label("spent"),
            results.c.reported,
            results.c.achieved,
        )
        .select_from(Application)
        .join(School, School.id == Application.lead_school_id)
        .outerjoin(spent, spent.c.application_id == Application.id)
        .outerjoin(results, results.c.application_id == Application.id)
        .where(Application.fund_id == fund.id, Application.submitted_at.is_not(None))
        .subquery()
    )
    c = per_bid.c
    figures = ("awarded", "awarded_pence", "spent", "reported", "achieved")
    found = {
        r.council_id: r
        for r in db.session.execute(
            select(c.council_id, *(total(c[name]).label(name) for name in figures)).group_by(c.council_id)
        )
    }
    councils: list[tuple[int | None, str, str | None]] = [
        (a.id, a.name, a.gss_code) for a in fund.local_authorities
    ]
    if None in found:
        councils.append((None, OTHER, None))
    rows = []
    for key, name, gss_code in councils:
        r = found.get(key)
        if r is None:
            rows.append(CouncilTerm(name, gss_code))
            continue
        rows.append(
            CouncilTerm(
                name,
                gss_code,
                awarded=int(r.awarded),
                awarded_pence=int(r.awarded_pence),
                spent_pence=int(r.spent),
                measures_reported=int(r.reported),
                achieved=int(r.achieved),
            )
        )
    return rows


def termly_report(fund: Fund, term: Term, today: date) -> TermlyReport:
    """Everything the termly report shows (the caller has checked the person may see it
    and that the term is one of the fund's: :func:`fundflow.services.terms.fund_term`)."""
    overdue_total, overdue_items = overdue(fund, term, today)
    counts, listed = exceptions_in(fund, term, today)
    return TermlyReport(
        fund=fund,
        term=term,
        position=position(fund, term, today),
        decisions=decisions(fund, term),
        spend=spend(fund, term),
        outcomes=outcomes(fund, term),
        overdue_total=overdue_total,
        overdue=overdue_items,
        exception_counts=counts,
        exceptions=listed,
        by_council=by_council(fund, term) if len(fund.local_authorities) > 1 else [],
    )


def termly_context(fund: Fund, term: Term, today: date) -> dict[str, Any]:
    """What the report's templates (page and PDF) are rendered with."""
    return {
        "report": termly_report(fund, term, today),
        "fund": fund,
        "term": term,
        "today": today,
        "exception_kinds": exception_queries.EXCEPTION_KINDS,
        "result_labels": MEASURE_RESULT_LABELS,
        "report_kinds": SCHEDULE_KIND_LABELS,
    }


def termly_pdf(fund: Fund, term: Term, today: date) -> bytes:
    """The report as a tagged PDF: the site's download and the API's answer both come from
    here, so they are the same document."""
    html = render_template("oversight/termly_pdf.html", **termly_context(fund, term, today))
    return html_to_pdf(html)


def slug(text: str) -> str:
    """A fund's name as a file name part: "Slough School Improvement Fund 2026-27" →
    "slough-school-improvement-fund-2026-27"."""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words)[:80].strip("-") or "fund"


def termly_filename(fund: Fund, term: Term) -> str:
    return f"{slug(fund.name)}-{term.code}-termly-report.pdf"
