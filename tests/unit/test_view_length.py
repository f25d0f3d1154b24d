"""Views stay thin: they parse the request, call a service through the one form adapter
(:func:`fundflow.forms.submit_form`, or :func:`fundflow.forms.attempt` for a button) and
render. A view that grows past 25 lines, or that catches the services' refusals itself,
has started doing another layer's work."""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

import fundflow
from fundflow.services import errors

PACKAGE = Path(fundflow.__file__).parent
ROUTE_MODULES = sorted(PACKAGE.glob("*/routes.py"))
LONGEST_VIEW = 25
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _is_view(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
        for d in node.decorator_list
    )


def view_lengths() -> dict[str, int]:
    """Every route view's length, from its ``def`` line to its last line."""
    lengths = {}
    for path in ROUTE_MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if _is_view(node):
                name = f"{path.relative_to(PACKAGE.parent)}:{node.name}"
                lengths[name] = node.end_lineno - node.lineno + 1
    return lengths


def test_the_route_modules_and_their_views_are_found():
    names = {p.parent.name for p in ROUTE_MODULES}
    assert {"admin", "api", "auth", "finance", "headteacher", "liaison", "main"} <= names
    assert len(view_lengths()) > 50


def test_no_view_is_longer_than_25_lines_and_most_are_short():
    lengths = view_lengths()
    median = statistics.median(lengths.values())
    print(f"views: {len(lengths)}, median {median} lines, longest {max(lengths.values())}")
    too_long = {name: n for name, n in lengths.items() if n > LONGEST_VIEW}
    assert not too_long, f"views over {LONGEST_VIEW} lines (median {median}): {too_long}"
    assert median <= 15, f"the median view is {median} lines"


def _caught(handler: ast.ExceptHandler) -> list[str]:
    kinds = handler.type
    if kinds is None:
        return []
    nodes = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    return [
        n.id if isinstance(n, ast.Name) else n.attr for n in nodes if isinstance(n, ast.Name | ast.Attribute)
    ]


def test_no_view_module_catches_a_service_refusal_itself():
    refusals = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.DomainError)
    }
    catching = []
    for path in ROUTE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                caught = [name for name in _caught(node) if name in refusals]
                if caught:
                    catching.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {caught}")
    assert not catching, f"views catching service refusals instead of using submit_form: {catching}"
