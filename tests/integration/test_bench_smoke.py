"""The benchmark's smoke run: ``bench/run.sh --sizes 200 --seconds 2`` end to end (seed, serve
with gunicorn, wrk, the transition client, pgbench, statement counts, the report) on the test
PostgreSQL server, into a temporary results file that must hold a row of numbers per target."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[0-9][0-9,]*(\.[0-9]+)?"

pytestmark = pytest.mark.postgres


def _server_url(url: str) -> str:
    """The test database's server, without the database (the benchmark makes its own)."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url).rsplit("/", 1)[0]


def test_bench_smoke_run_writes_a_row_of_numbers_per_target(tmp_path: Path) -> None:
    url = postgres_url()
    if os.environ.get("FUNDFLOW_BENCH_SMOKE") != "1":
        pytest.skip("the benchmark smoke run takes 1-2 minutes: set FUNDFLOW_BENCH_SMOKE=1 to run it")
    output = tmp_path / "RESULTS.md"
    raw = tmp_path / "json"
    env = dict(os.environ, BENCH_KEEP_JSON=str(raw))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        ["bash", "bench/run.sh", "--sizes", "200", "--seconds", "2", "--output", str(output)]
        + ["--postgres-url", _server_url(url)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    check_results(output.read_text(), json.loads((raw / "n200" / "targets.json").read_text()))


def check_results(text: str, targets: list[dict]) -> None:
    """Every target has a row of numbers (the first row of its name), none with failed requests."""
    assert len(targets) >= 15
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    rows: dict[str, str] = {}
    for line in lines:  # the first row of a name is its measurement (the targets table repeats it)
        rows.setdefault(line.split(" | ")[0].removeprefix("| "), line)
    for target in targets:
        row = rows.get(target["name"])
        assert row is not None, f"no row for {target['name']}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        if target["kind"] == "single":
            assert cells[1] == "200" and re.fullmatch(NUMBER + " ms", cells[3]), row
        else:
            assert re.fullmatch(NUMBER, cells[1]) and float(cells[1].replace(",", "")) > 0, row
            assert all(re.fullmatch(NUMBER, c) for c in cells[2:5]), row
            assert cells[-1] == "0 / 0", f"failed requests: {row}"
        assert re.fullmatch(r"[0-9]+", cells[-2] if target["kind"] != "single" else cells[-1]), row
    assert "pgbench: one UPDATE + one INSERT" in rows
    assert "## The machine" in text and "## The issue's targets" in text
