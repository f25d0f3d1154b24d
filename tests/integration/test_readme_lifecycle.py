"""The README's lifecycle table is the one ``fundflow.workflow`` runs, row by row.

Print the table to paste under the README's "The lifecycle" heading with ``python -c
"from tests.integration.test_readme_lifecycle import expected_markdown as m; print(m())"``
"""

from __future__ import annotations

import re
from pathlib import Path

from fundflow.workflow import lifecycle_rows

README = Path(__file__).resolve().parents[2] / "README.md"
COLUMNS = ("from", "action", "to", "who", "guards")
HEADING = re.compile(r"^#{1,6}\s+The lifecycle\s*$", re.IGNORECASE)


def expected_rows() -> list[tuple[str, ...]]:
    return [tuple(row[column] for column in COLUMNS) for row in lifecycle_rows()]


def expected_markdown() -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "| " + " | ".join("---" for _ in COLUMNS) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in expected_rows()]
    return "\n".join(lines)


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")]


def readme_table() -> tuple[list[str], list[tuple[str, ...]]] | None:
    """(header, rows) of the first table under the "The lifecycle" heading, if any."""
    if not README.exists():
        return None
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if HEADING.match(line)), None)
    if start is None:
        return None
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith("#"):
            break
        if line.lstrip().startswith("|"):
            table.append(line)
        elif table:
            break
    if len(table) < 2:
        return None
    header = _cells(table[0])
    rows = [tuple(_cells(line)) for line in table[2:]]
    return header, rows


def test_readme_lifecycle_table_matches_the_workflow():
    found = readme_table()
    assert found is not None, (
        "README.md needs a heading 'The lifecycle' followed by this table:\n\n" + expected_markdown()
    )
    header, rows = found
    assert [h.lower() for h in header] == list(COLUMNS)
    expected = expected_rows()
    for number, (written, actual) in enumerate(zip(rows, expected, strict=False), start=1):
        assert written == actual, f"README lifecycle row {number} differs from fundflow.workflow"
    assert len(rows) == len(expected), "README lifecycle table has a different number of rows"


def test_expected_markdown_has_one_row_per_action():
    assert expected_markdown().count("\n") == len(lifecycle_rows()) + 1
