"""Impact: the school reports results against its measures; a liaison officer evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import (
    DRIVERS,
    RATINGS,
    REPORT_KINDS,
    Application,
    ImpactEvaluation,
    ImpactReport,
    ImpactResult,
    User,
    utcnow,
)
from ..workflow import REPORT_LIFECYCLE, GuardContext
from ..workflow import REPORTABLE_STATUSES as REPORTABLE_STATUSES  # re-exported: pages import it
from . import audit, evidence, schedule
from .applications import rows_of_bid
from .clock import today
from .errors import Problems
from .firing import fire, operate_on_bid, require_role
from .parsing import clean_text, to_decimal
from .unit_of_work import lock, retrying, transaction

#: Longest report narrative and evaluation comment (characters); the forms and API say the same.
NARRATIVE_MAX = 20_000
COMMENT_MAX = 10_000


@dataclass(frozen=True)
class ResultInput:
    measure_id: int
    actual: Decimal | float | int | str


@dataclass(frozen=True)
class ReportInput:
    kind: str
    narrative: str
    results: list[ResultInput]
    evidence: evidence.Upload | None = None


@dataclass(frozen=True)
class EvaluationInput:
    rating: str
    drivers: list[str]
    comment: str = ""


def _report_content(
    application: Application, data: ReportInput, problems: Problems
) -> tuple[str, list[ImpactResult]]:
    """The report's narrative and results, checked (reads only); problems go on ``problems``."""
    if data.kind not in REPORT_KINDS:
        problems.add("kind", "Choose interim or final")
    elif data.kind == "final" and _has_final_report(application):
        problems.add("kind", "This bid already has its final report: send an interim report instead")
    narrative = clean_text(data.narrative)
    if not narrative:
        problems.add("narrative", "Describe what happened and what changed")
    elif len(narrative) > NARRATIVE_MAX:
        problems.add("narrative", f"Use {NARRATIVE_MAX:,} characters or fewer")
    measures = {m.id: m for m in application.measures}
    results: list[ImpactResult] = []
    seen: set[int] = set()
    if not isinstance(data.results, list) or not data.results:
        problems.add("results", "Give a result for at least one measure")
    else:
        for i, item in enumerate(data.results):
            measure_id = item.measure_id
            actual = to_decimal(item.actual)
            if measure_id not in measures:
                problems.add(f"results.{i}.measure_id", "That measure is not part of this bid")
            elif measure_id in seen:
                problems.add(f"results.{i}.measure_id", "Give each measure once")
            if actual is None or abs(actual) >= Decimal("1e10"):
                problems.add(f"results.{i}.actual", "Enter the actual value as a number")
            if measure_id in measures and measure_id not in seen and actual is not None:
                results.append(ImpactResult(measure_id=measure_id, actual=actual))
            seen.add(measure_id)
        missing = [m.indicator for m_id, m in measures.items() if m_id not in seen]
        if data.kind == "final" and missing:
            problems.add("results", "A final report gives every measure: " + ", ".join(missing))
    return narrative, results


def check_report(application: Application, data: ReportInput) -> None:
    """Raise :class:`ValidationFailed` with every problem :func:`submit_report` would find in
    what was typed, saving nothing (a form with its own errors shows these as well)."""
    evidence.validate_with_evidence(lambda problems: _report_content(application, data, problems))


@retrying
def submit_report(user: User, application: Application, data: ReportInput) -> ImpactReport:
    """The lead headteacher reports results, one per measure, while approved or monitoring."""
    with transaction():
        application, _ = operate_on_bid(user, application, "submit_impact_report")
        (narrative, results), stored = evidence.validate_with_evidence(
            lambda problems: _report_content(application, data, problems), data.evidence, user
        )
        answered = schedule.item_for_report(application.id, data.kind)  # locked before the chain
        report = ImpactReport(
            application_id=application.id,
            kind=data.kind,
            narrative=narrative,
            status=REPORT_LIFECYCLE.initial,
            submitted_by_id=user.id,
            evidence=stored,
            results=results,
        )
        db.session.add(report)
        db.session.flush()
        if answered is not None:  # its Event first: the report's is the bid's latest
            schedule.meet([answered], user, today(), report)
        audit.record(
            user,
            "submit_impact_report",
            report,
            transition=(None, report.status),
            payload={
                "kind": report.kind,
                "results": [{"measure_id": r.measure_id, "actual": str(r.actual)} for r in results],
            },
        )
    return report


@retrying
def evaluate_report(user: User, report: ImpactReport, data: EvaluationInput) -> ImpactEvaluation:
    """A liaison officer with no link to the schools rates the report and its drivers."""
    require_role(REPORT_LIFECYCLE, "evaluate", user)
    problems = Problems()
    if data.rating not in RATINGS:
        problems.add("rating", "Choose achieved, partly achieved or not achieved")
    drivers = data.drivers if isinstance(data.drivers, list) else None
    if drivers is None or any(d not in DRIVERS for d in drivers):
        problems.add("drivers", "Choose from collaboration, practitioner_knowledge, practice_change")
        drivers = []
    comment = clean_text(data.comment)
    if len(comment) > COMMENT_MAX:
        problems.add("comment", f"Use {COMMENT_MAX:,} characters or fewer")
    problems.raise_if_any()
    with transaction():
        lock(Application, report.application_id)
        report = lock(ImpactReport, report.id)
        ctx = GuardContext(record=report, user=user, today=today())
        from_status, to_status = fire(REPORT_LIFECYCLE, "evaluate", ctx)
        evaluation = ImpactEvaluation(
            report_id=report.id,
            evaluator_id=user.id,
            rating=data.rating,
            drivers=[d for d in DRIVERS if d in drivers],
            comment=comment,
            evaluated_at=utcnow(),
        )
        db.session.add(evaluation)
        db.session.flush()
        audit.record(
            user,
            "evaluate_impact_report",
            report,
            transition=(from_status, to_status),
            payload={"rating": evaluation.rating, "drivers": evaluation.drivers, "comment": comment},
        )
    return evaluation


def _has_final_report(application: Application) -> bool:
    """Whether the bid already has a final report (read under the application's row lock,
    so two final reports sent at once cannot both pass)."""
    found = db.session.execute(
        select(ImpactReport.id)
        .where(ImpactReport.application_id == application.id, ImpactReport.kind == "final")
        .limit(1)
    ).first()
    return found is not None


def reports_for(application: Application) -> list[ImpactReport]:
    return rows_of_bid(ImpactReport, application.id, ImpactReport.id)
