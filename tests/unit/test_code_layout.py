"""Where code lives: each role's pages stand on their own, pages and the API read through
``fundflow.services.queries`` rather than writing SQL, and every blueprint is served (one
that cannot be imported stops the app from starting instead of vanishing from the site)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fundflow
from fundflow import blueprints

PACKAGE = Path(fundflow.__file__).parent
#: The areas of the site that belong to one role (or, for the API, to its clients).
ROLE_AREAS = ("headteacher", "liaison", "finance", "auditor", "admin", "service_admin", "api")
#: Web-layer code: it parses requests and renders answers, and reads through the services.
WEB_LAYER = [*ROLE_AREAS, "auth", "main", "account", "oversight"]


def imported_modules(path: Path) -> set[str]:
    """The absolute names of the modules ``path`` imports, relative imports resolved."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def modules_of(area: str) -> list[Path]:
    return sorted((PACKAGE / area).glob("*.py"))


@pytest.mark.parametrize("area", ROLE_AREAS)
def test_no_role_area_imports_another_role_area(area):
    others = [f"fundflow.{other}" for other in ROLE_AREAS if other != area]
    crossing = [
        f"{path.name} imports {name}"
        for path in modules_of(area)
        for name in imported_modules(path)
        if any(name == other or name.startswith(other + ".") for other in others)
    ]
    assert crossing == []


def test_the_auditor_pages_share_downloads_with_finance_without_importing_it():
    names = set().union(*(imported_modules(path) for path in modules_of("auditor")))
    assert "fundflow.downloads" in names
    assert not any(name.startswith("fundflow.finance") for name in names)


@pytest.mark.parametrize("area", WEB_LAYER)
def test_pages_and_the_api_build_no_sql_of_their_own(area):
    """Queries a page or API list runs live in ``fundflow.services.queries``."""
    sql = [
        f"{path.name} imports {name}"
        for path in modules_of(area)
        for name in imported_modules(path)
        if name == "sqlalchemy" or name.startswith("sqlalchemy.") or name == "fundflow.extensions.db"
    ]
    assert sql == []


def test_read_query_modules_live_in_one_package():
    stray = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*queries*.py")
        if path.parent != PACKAGE / "services" / "queries"
    ]
    assert stray == []


def test_every_blueprint_is_served(app):
    assert set(app.blueprints) == {
        "main",
        "auth",
        "account",
        "headteacher",
        "liaison",
        "finance",
        "auditor",
        "oversight",
        "admin",
        "service_admin",
        "api",
    }
    assert len(blueprints.BLUEPRINTS) == len(app.blueprints)


def test_the_blueprint_list_imports_each_blueprint_directly_with_nothing_skipped():
    tree = ast.parse((PACKAGE / "blueprints.py").read_text(encoding="utf-8"))
    handlers = [node for node in ast.walk(tree) if isinstance(node, ast.Try)]
    dynamic = [
        node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "import_module"
    ]
    assert handlers == [] and dynamic == []
