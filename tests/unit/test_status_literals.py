"""Statuses are named once, in :mod:`fundflow.workflow`: no other module of the app assigns a
status literal to a record's ``status`` or passes one as ``status=`` (or ``from_status=`` /
``to_status=``) when it creates a record or its Event. The moves come from firing a lifecycle
and new records start in the lifecycle's ``initial`` state; reports and queries compare
against the named sets (``COUNTED_CLAIM_STATUSES`` and the like)."""

from __future__ import annotations

import ast
from pathlib import Path

from fundflow.workflow import APPLICATION_STATES, CLAIM_STATES, REPORT_STATES, SCHEDULE_STATES

PACKAGE = Path(__file__).resolve().parents[2] / "fundflow"
WORKFLOW = PACKAGE / "workflow.py"
STATUS_KEYWORDS = {"status", "from_status", "to_status"}
LIFECYCLE_STATUSES = set(APPLICATION_STATES) | set(CLAIM_STATES) | set(REPORT_STATES) | set(SCHEDULE_STATES)


def _status_literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LIFECYCLE_STATUSES:
        return node.value
    return None


def status_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each status literal assigned to ``.status`` or passed as a status keyword."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = _status_literal(node.value) if node.value is not None else None
            if value and any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                found.append((node.lineno, f".status = {value!r}"))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in STATUS_KEYWORDS and (value := _status_literal(keyword.value)):
                    found.append((keyword.value.lineno, f"{keyword.arg}={value!r}"))
    return found


def _literal_set(node: ast.AST) -> bool:
    """A lifecycle status written out: ``"paid"`` or ``("verified", "paid")``."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(_status_literal(e) for e in node.elts)
    return _status_literal(node) is not None


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "status"


def status_comparisons(source: str) -> list[int]:
    """Lines comparing a ``.status`` with a status written out (``==``, ``in``, ``.in_(…)``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and _is_status(node.left):
            if any(_literal_set(c) for c in node.comparators):
                found.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "in_"
            and _is_status(node.func.value)
            and any(_literal_set(a) for a in node.args)
        ):
            found.append(node.lineno)
    return found


def test_the_comparison_scan_finds_statuses_written_out():
    source = (
        'if claim.status == "paid": pass\n'
        'if application.status not in ("draft", "changes_requested"): pass\n'
        'query.where(BackfillClaim.status.in_(("verified", "paid")))\n'
        "query.where(BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES))\n"
        "if application.status in EDITABLE_STATUSES: pass\n"
    )
    assert status_comparisons(source) == [1, 2, 3]


def test_services_and_reports_compare_statuses_only_against_named_sets():
    paths = [*sorted((PACKAGE / "services").glob("*.py")), *sorted((PACKAGE / "reports").rglob("*.py"))]
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in paths
        for line in status_comparisons(path.read_text(encoding="utf-8"))
    ]
    assert offences == [], "compare against a set named in fundflow/workflow.py:\n" + "\n".join(offences)


def test_the_scan_finds_a_status_literal_assigned_or_passed_at_creation():
    source = (
        'report.status = "evaluated"\n'
        'claim = BackfillClaim(status="pending")\n'
        'audit.record_event(from_status="submitted", to_status="evaluated")\n'
    )
    assert [text for _, text in status_literals(source)] == [
        ".status = 'evaluated'",
        "status='pending'",
        "from_status='submitted'",
        "to_status='evaluated'",
    ]


def test_the_scan_lets_named_sets_and_lifecycle_states_through():
    source = (
        "claim = BackfillClaim(status=CLAIM_LIFECYCLE.initial)\n"
        "query.where(BackfillClaim.status.in_(COUNTED_CLAIM_STATUSES))\n"
        "audit.record_event(from_status=from_status, to_status=claim.status)\n"
        'school.status = "open"\n'
    )
    assert status_literals(source) == []


def test_no_status_literal_is_assigned_or_passed_at_creation_outside_the_workflow():
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != WORKFLOW
        for line, text in status_literals(path.read_text(encoding="utf-8"))
    ]
    assert offences == [], "name the status in fundflow/workflow.py:\n" + "\n".join(offences)
