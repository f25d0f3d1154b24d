"""Write bench/RESULTS.md from the JSON the benchmark's steps leave in one directory.

    python bench/report.py machine --database-url postgresql://…/postgres --out DIR/machine.json \
        --when before|after
    python bench/report.py write --json DIR --out bench/RESULTS.md

``DIR`` holds machine.json and one ``n<N>/`` per size with setup.json (bench/run.sh),
load.json (bench/load.py) and statements.json (bench/count_statements.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

# The targets (issue 13, "Targets").
PAGE_SHARE_OF_SIGN_IN = 0.5
PAGE_P95_OVER_SIGN_IN = 3.0
PAGE_SLOWDOWN_FROM_1K = 1.5
TRANSITION_SHARE_OF_MINIMAL = 0.25
VALUE_FOR_MONEY_SECONDS = 0.5
VERIFY_SECONDS = 10.0
SEED_SECONDS = 120.0
TARGET_SIZE = 100_000

SIGN_IN = "/sign-in (the bar)"
HELLO = "hello-world (baseline app)"
MINIMAL = "minimal UPDATE + INSERT route (baseline app)"
PGBENCH = "pgbench: one UPDATE + one INSERT"
TRANSITION = "start_review over the API"
VALUE_FOR_MONEY = "API value for money (one call)"
#: Issue 14: the value-for-money view, the termly report and the exceptions each answer in
#: under half a second at 100,000 bids.
EVIDENCE_CALLS = (
    "value-for-money page (one call)",
    "termly report page (one call)",
    "API control exceptions (one call)",
)
EVIDENCE_SECONDS = 0.5


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def machine(database_url: str, out: Path, when: str) -> None:
    """Describe the machine (and its load average ``when``) into ``out``, merging with what is there."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    described = json.loads(out.read_text()) if out.exists() else {}
    described.update(
        {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "ram_gib": round(_ram_gib(), 1),
            "postgresql": version,
            "python": platform.python_version(),
            f"load_{when}": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            f"at_{when}": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
    )
    out.write_text(json.dumps(described, indent=1))


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, over: float | None) -> float | None:
    if value is None or not over:
        return None
    return value / over


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _load_sizes(directory: Path) -> list[dict]:
    sizes = []
    for sub in sorted(directory.glob("n*"), key=lambda p: int(p.name[1:])):
        if not (sub / "load.json").exists():
            continue
        run = json.loads((sub / "load.json").read_text())
        run["setup"] = json.loads((sub / "setup.json").read_text()) if (sub / "setup.json").exists() else {}
        statements = sub / "statements.json"
        run["statements"] = json.loads(statements.read_text()) if statements.exists() else {}
        run["by_name"] = {r["name"]: r for r in run["results"]}
        sizes.append(run)
    return sizes


def _size_section(run: dict) -> list[str]:
    by_name = run["by_name"]
    hello = by_name.get(HELLO, {}).get("rps")
    sign_in = by_name.get(SIGN_IN, {}).get("rps")
    setup = run["setup"]
    lines = [
        f"## N = {run['size']:,} bids",
        "",
        f"{run['applications']:,} bids in the database ({run['submitted_bids']:,} submitted), "
        f"{setup.get('events', 0):,} audit events; seeded by `{setup.get('seeder', '?')}` in "
        f"{_n(setup.get('seed_seconds'))} s; `flask fundflow verify-audit` took "
        f"{_n(setup.get('verify_seconds'))} s (exit {setup.get('verify_exit', '?')}).",
        *(
            [
                f"Organisations on the deployment (bids each): {setup['organisations']}. "
                "The load runs as the first organisation's staff, so every list and report "
                "also applies the isolation between organisations.",
            ]
            if setup.get("organisations")
            else []
        ),
        "",
        "| target | req/s | p50 ms | p95 ms | p99 ms | share of hello-world | share of `/sign-in` "
        "| SQL statements | not 200 / errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    singles = []
    for result in run["results"]:
        if result.get("kind") == "single":
            singles.append(result)
            continue
        rps = result["rps"]
        lines.append(
            f"| {result['name']} | {_n(rps)} | {_n(result['p50_ms'])} | {_n(result['p95_ms'])} "
            f"| {_n(result['p99_ms'])} | {_pct(_ratio(rps, hello))} | {_pct(_ratio(rps, sign_in))} "
            f"| {run['statements'].get(result['name'], '—')} "
            f"| {result.get('non_2xx', 0)} / {result.get('errors', 0)} |"
        )
    transition = by_name.get(TRANSITION, {})
    if transition.get("ran_out_of_bids"):
        lines += [
            "",
            f"The transition ran out of submitted bids after {transition['requests']} requests "
            f"({_n(transition['seconds'])} s); its rate is over that time.",
        ]
    lines += [
        "",
        "One call each:",
        "",
        "| target | status | time to first byte | total time | bytes | SQL statements |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in singles:
        lines.append(
            f"| {result['name']} | {result['status']} | {_n(result['ttfb_ms'])} ms "
            f"| {_n(result['total_ms'])} ms "
            f"| {result['bytes']:,} | {run['statements'].get(result['name'], '—')} |"
        )
    minimal = by_name.get(MINIMAL, {}).get("rps")
    pgbench = by_name.get(PGBENCH, {}).get("rps")
    lines += [
        "",
        f"Transition vs the yardsticks: `start_review` {_n(transition.get('rps'))}/s is "
        f"{_pct(_ratio(transition.get('rps'), minimal))} of the minimal UPDATE + INSERT route "
        f"({_n(minimal)}/s) and {_pct(_ratio(transition.get('rps'), pgbench))} of pgbench "
        f"({_n(pgbench)} transactions/s); one transition sends "
        f"{run['statements'].get(TRANSITION, '—')} SQL statements, the minimal route "
        f"{run['statements'].get(MINIMAL, '—')}.",
        "",
    ]
    if transition.get("chain_lock_samples"):
        lines += [
            f"The audit chain's lock while transitions ran: sampled {transition['chain_lock_samples']:,} "
            f"times, on average {transition['busy_sessions_mean']:.1f} database sessions were busy in a "
            f"statement and {_pct(transition['chain_lock_wait_share'])} of them were waiting for the "
            "chain lock.",
            "",
        ]
    return lines


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def _targets_section(sizes: list[dict]) -> list[str]:
    run = sizes[-1]
    small = next((s for s in sizes if s["size"] == 1000), None)
    by_name = run["by_name"]
    sign_in = by_name.get(SIGN_IN, {})
    lines = [f"## The issue's targets, at N = {run['size']:,}", ""]
    if run["size"] < TARGET_SIZE:
        lines += [f"(The targets are set for {TARGET_SIZE:,} bids; this run's largest size is smaller.)", ""]
    lines += [
        f"Pages and list calls: ≥ {PAGE_SHARE_OF_SIGN_IN:.0%} of `/sign-in`'s req/s "
        f"({_n(sign_in.get('rps'))}), p95 ≤ {PAGE_P95_OVER_SIGN_IN:g}× `/sign-in`'s "
        f"({_n(sign_in.get('p95_ms'))} ms), req/s at 1,000 bids ≤ {PAGE_SLOWDOWN_FROM_1K:g}× "
        "req/s at this size.",
        "",
        "| page or call | share of `/sign-in` | p95 / `/sign-in` p95 | 1k req/s ÷ this req/s | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for result in run["results"]:
        if result.get("group") != "page":
            continue
        share = _ratio(result["rps"], sign_in.get("rps"))
        p95 = _ratio(result["p95_ms"], sign_in.get("p95_ms"))
        at_1k = small["by_name"].get(result["name"], {}).get("rps") if small else None
        slowdown = _ratio(at_1k, result["rps"]) if small is not run else None
        checks = [
            share >= PAGE_SHARE_OF_SIGN_IN if share is not None else None,
            p95 <= PAGE_P95_OVER_SIGN_IN if p95 is not None else None,
            slowdown <= PAGE_SLOWDOWN_FROM_1K if slowdown is not None else None,
        ]
        known = [c for c in checks if c is not None]
        verdict = _verdict(all(known) if known else None)
        lines.append(f"| {result['name']} | {_pct(share)} | {_n(p95, 2)}× | {_n(slowdown, 2)}× | {verdict} |")
    transition = _ratio(by_name.get(TRANSITION, {}).get("rps"), by_name.get(MINIMAL, {}).get("rps"))
    vfm = by_name.get(VALUE_FOR_MONEY, {}).get("total_ms")
    setup = run["setup"]
    lines += [
        "",
        "| target | figure | verdict |",
        "| --- | --- | --- |",
        f"| transitions ≥ {TRANSITION_SHARE_OF_MINIMAL:.0%} of the minimal UPDATE + INSERT route "
        f"| {_pct(transition)} | "
        f"{_verdict(transition >= TRANSITION_SHARE_OF_MINIMAL if transition is not None else None)} |",
        f"| value-for-money report < {VALUE_FOR_MONEY_SECONDS} s | {_n(vfm and vfm / 1000, 2)} s "
        f"| {_verdict(vfm / 1000 < VALUE_FOR_MONEY_SECONDS if vfm is not None else None)} |",
        f"| `verify-audit` over 1M events < {VERIFY_SECONDS:g} s | {_n(setup.get('verify_seconds'))} s over "
        f"{setup.get('events', 0):,} events | "
        f"{_verdict(setup['verify_seconds'] < VERIFY_SECONDS if 'verify_seconds' in setup else None)} |",
        f"| seeding {TARGET_SIZE:,} bids < {SEED_SECONDS:g} s | {_n(setup.get('seed_seconds'))} s for "
        f"{run['size']:,} (`{setup.get('seeder', '?')}`) "
        f"| {_verdict(setup['seed_seconds'] < SEED_SECONDS if 'seed_seconds' in setup else None)} |",
    ]
    for name in EVIDENCE_CALLS:
        took = by_name.get(name, {}).get("total_ms")
        lines.append(
            f"| {name.removesuffix(' (one call)')} < {EVIDENCE_SECONDS} s (issue 14) "
            f"| {_n(took and took / 1000, 2)} s "
            f"| {_verdict(took / 1000 < EVIDENCE_SECONDS if took is not None else None)} |"
        )
    lines.append("")
    return lines


def write(directory: Path, out: Path) -> None:
    described = json.loads((directory / "machine.json").read_text())
    sizes = _load_sizes(directory)
    if not sizes:
        raise SystemExit(f"no results under {directory}")
    first = sizes[0]
    lines = [
        "# fundflow benchmark results",
        "",
        f'Written by `bash bench/run.sh --sizes "{" ".join(str(s["size"]) for s in sizes)}" '
        f"--seconds {first['seconds']} --connections {first['connections']}` "
        f"({described.get('at_before', '?')} to {described.get('at_after', '?')}). "
        'Rerun it to refresh this file; see README "Benchmark" for what each row means.',
        "",
        "## The machine",
        "",
        "| CPU | cores | RAM | PostgreSQL | Python | load average before | load average after |",
        "| --- | ---: | ---: | --- | --- | --- | --- |",
        f"| {described['cpu']} | {described['cores']} | {described['ram_gib']} GiB "
        f"| {described['postgresql']} | {described['python']} "
        f"| {described.get('load_before', '?')} | {described.get('load_after', '?')} |",
        "",
        f"fundflow and the baseline app (bench/baseline_app.py) each served by gunicorn, 2 sync workers, "
        f"`FUNDFLOW_ENV=production`, on 127.0.0.1; the load generator (wrk with {first['connections']} "
        f"connections for {first['seconds']} s per target; the transition by a Python client with "
        f"{first['connections']} threads; pgbench with {first['connections']} clients) on the same machine, "
        "as is the throwaway PostgreSQL (fsync off). Pages are fetched with a signed-in session cookie, "
        "API calls with a bearer token. SQL statements: one request of each target counted in-process "
        "(bench/count_statements.py; BEGIN/COMMIT not counted).",
        "",
    ]
    for run in sizes:
        lines += _size_section(run)
    lines += _targets_section(sizes)
    out.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    described = commands.add_parser("machine")
    described.add_argument("--database-url", required=True)
    described.add_argument("--out", type=Path, required=True)
    described.add_argument("--when", choices=("before", "after"), required=True)
    written = commands.add_parser("write")
    written.add_argument("--json", type=Path, required=True)
    written.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "machine":
        machine(args.database_url, args.out, args.when)
    else:
        write(args.json, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
