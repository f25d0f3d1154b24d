"""Load one seeded, served fundflow and its yardsticks; write one JSON file per measurement.

Called by bench/run.sh once per size N (see README "Benchmark"):

    python bench/load.py --app-url http://127.0.0.1:P --baseline-url http://127.0.0.1:Q \
        --database-url postgresql+psycopg://…/bench_n --size N --seconds 15 --connections 16 --out DIR

It signs in once per role through the sign-in form (a ``requests.Session``: GET for the CSRF
token, POST) and hands the session cookie to wrk; API calls get a bearer token from
``POST /api/v1/tokens``. Every target is first fetched once and must answer 200 (a redirect to
the sign-in page would measure the wrong page). Then:

- wrk (``--latency``, bench/wrk_report.lua prints the numbers as JSON) on each page and list
  call, on ``/sign-in`` (no cookie), and on the baseline app's ``/hello`` and ``POST /write``;
- one timed call each of the value-for-money report and the audit-trail CSV (time to first
  byte, total time, bytes);
- the ``start_review`` transition by a Python client with ``--connections`` threads, each
  taking the next submitted bid from a shared list (wrk would need every reference in Lua);
  it stops when the time is up or the submitted bids run out;
- pgbench with the same number of clients on bench/pgbench_write.sql (one UPDATE + one INSERT
  per transaction, on the baseline app's tables).

``targets.json`` in DIR lists every target (path, who, method) for bench/count_statements.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "demo-password-123"
ACCOUNTS = {
    "liaison": "liaison@demo.test",
    "auditor": "auditor@demo.test",
    "finance": "finance@demo.test",
    "headteacher": "headteacher@demo.test",
}
PER_PAGE = 20
# Signed-in sessions are bound to the browser (Flask-Login's strong session protection hashes
# the address and User-Agent): every request of the benchmark sends the one it signed in with.
USER_AGENT = "fundflow-bench"
COUNTED_TRANSITIONS = 2
WARM_UP = 2  # requests before a target is measured, so both gunicorn workers have served it


@dataclass
class Target:
    """One thing to measure. ``who`` is a role of ACCOUNTS (a session cookie), ``api:<role>``
    (a bearer token) or empty (no sign-in); ``kind`` is wrk, single (one timed call),
    transition or baseline (a wrk run on the baseline app)."""

    name: str
    path: str
    who: str = ""
    kind: str = "wrk"
    method: str = "GET"
    body: str = ""
    group: str = "page"  # page (targets apply), yardstick, single, transition
    headers: dict[str, str] = field(default_factory=dict)


def sign_in(base: str, email: str) -> str:
    """The Cookie header of a browser session signed in as ``email``."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(f"{base}/sign-in", timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on /sign-in")
    answer = session.post(
        f"{base}/sign-in",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {email} answered {answer.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def api_token(base: str, email: str) -> str:
    answer = requests.post(f"{base}/api/v1/tokens", json={"email": email, "password": PASSWORD}, timeout=60)
    answer.raise_for_status()
    return answer.json()["token"]


#: Bids (``a``) of the first organisation's funds.
FIRST_ORGANISATION = (
    "a.fund_id IN (SELECT id FROM funds WHERE organisation_id = (SELECT min(id) FROM organisations))"
)


def discover(database_url: str) -> dict:
    """The fund with most bids, a bid in delivery with claims, and the submitted bids: all of
    the first organisation, whose staff the load signs in as (another organisation's bid is
    "not found" to them)."""
    from fundflow.workflow import APPLICATION_LIFECYCLE, IN_DELIVERY_STATUSES

    engine = create_engine(database_url)
    with engine.connect() as conn:
        fund_id = conn.execute(
            text(
                f"SELECT fund_id FROM applications a WHERE {FIRST_ORGANISATION}"
                " GROUP BY fund_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        bid = conn.execute(
            text(
                "SELECT a.reference FROM applications a JOIN backfill_claims c ON c.application_id = a.id"
                f" WHERE a.status = ANY(:s) AND {FIRST_ORGANISATION}"
                " GROUP BY a.id, a.reference ORDER BY count(*) DESC, a.id LIMIT 1"
            ),
            {"s": list(IN_DELIVERY_STATUSES)},
        ).scalar()
        if bid is None:
            last = text(
                f"SELECT reference FROM applications a WHERE {FIRST_ORGANISATION} ORDER BY id DESC LIMIT 1"
            )
            bid = conn.execute(last).scalar_one()
        submitted = (
            conn.execute(
                text(
                    "SELECT reference FROM applications a"
                    f" WHERE status = ANY(:s) AND {FIRST_ORGANISATION} ORDER BY id"
                ),
                {"s": list(APPLICATION_LIFECYCLE.actions["start_review"].sources)},
            )
            .scalars()
            .all()
        )
        total = conn.execute(text("SELECT count(*) FROM applications")).scalar_one()
        closes_on = conn.execute(
            text("SELECT closes_on FROM funds WHERE id = :fund"), {"fund": fund_id}
        ).scalar_one()
    engine.dispose()
    return {
        "fund_id": fund_id,
        "bid": bid,
        "submitted": list(submitted),
        "applications": total,
        "term": school_term(closes_on),
    }


def school_term(day: date) -> str:
    """The termly report's name for the school term holding ``day`` (``2026-autumn`` is
    September–December 2026, ``2026-spring`` January–March 2027, ``2026-summer`` April–August
    2027)."""
    if day.month >= 9:
        return f"{day.year}-autumn"
    return f"{day.year - 1}-{'spring' if day.month <= 3 else 'summer'}"


def targets_for(app: str, found: dict, api_total: int) -> list[Target]:
    late_html = max(1, math.ceil(found["applications"] / PER_PAGE))
    late_api = max(1, math.ceil(api_total / PER_PAGE))
    fund = found["fund_id"]
    return [
        Target("/sign-in (the bar)", "/sign-in", group="yardstick"),
        Target("liaison work queue", "/liaison/", "liaison"),
        Target("liaison bid page", f"/liaison/bids/{found['bid']}", "liaison"),
        Target("auditor fund ledger", f"/auditor/funds/{fund}", "auditor"),
        Target("auditor applications, page 1", "/auditor/?page=1", "auditor"),
        Target("auditor applications, last page", f"/auditor/?page={late_html}", "auditor"),
        Target("finance claims to pay", "/finance/", "finance"),
        Target("headteacher dashboard", "/headteacher/", "headteacher"),
        Target("API list of applications, page 1", "/api/v1/applications?page=1", "api:liaison"),
        Target(
            "API list of applications, last page",
            f"/api/v1/applications?page={late_api}",
            "api:liaison",
        ),
        Target("API value for money", f"/api/v1/reports/value-for-money?fund_id={fund}", "api:auditor"),
        Target(
            "API value for money (one call)",
            f"/api/v1/reports/value-for-money?fund_id={fund}",
            "api:auditor",
            kind="single",
            group="single",
        ),
        Target("value-for-money page", f"/reports/funds/{fund}/value-for-money", "auditor"),
        Target("control exceptions page", f"/reports/funds/{fund}/exceptions", "auditor"),
        Target("API control exceptions", f"/api/v1/reports/exceptions?fund_id={fund}", "api:auditor"),
        Target("bid dossier page", f"/reports/bids/{found['bid']}/dossier", "auditor"),
        Target(
            "API control exceptions (one call)",
            f"/api/v1/reports/exceptions?fund_id={fund}",
            "api:auditor",
            kind="single",
            group="single",
        ),
        Target(
            "value-for-money page (one call)",
            f"/reports/funds/{fund}/value-for-money",
            "auditor",
            kind="single",
            group="single",
        ),
        Target(
            "termly report page (one call)",
            f"/reports/funds/{fund}/termly?term={found['term']}",
            "auditor",
            kind="single",
            group="single",
        ),
        Target(
            "termly report PDF (one call)",
            f"/api/v1/reports/termly.pdf?fund_id={fund}&term={found['term']}",
            "api:auditor",
            kind="single",
            group="single",
        ),
        Target(
            "bid dossier PDF (one call)",
            f"/api/v1/applications/{found['bid']}/dossier.pdf",
            "api:auditor",
            kind="single",
            group="single",
        ),
        Target(
            "audit-trail CSV of the fund (one call)",
            f"/api/v1/exports/audit-trail.csv?fund_id={fund}",
            "api:auditor",
            kind="single",
            group="single",
        ),
        Target(
            "start_review over the API",
            "/api/v1/applications/{reference}/actions",
            "api:liaison",
            kind="transition",
            method="POST",
            body='{"action": "start_review"}',
            group="transition",
        ),
        Target("hello-world (baseline app)", "/hello", kind="baseline", group="yardstick"),
        Target(
            "minimal UPDATE + INSERT route (baseline app)",
            "/write",
            kind="baseline",
            method="POST",
            group="yardstick",
        ),
    ]


def run_wrk(url: str, headers: dict[str, str], method: str, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "120s", "--latency", "-s", str(HERE / "wrk_report.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = dict(os.environ, BENCH_METHOD=method)
    done = subprocess.run([*command, url], capture_output=True, text=True, env=env, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "requests": raw["requests"],
        "seconds": seconds_run,
        "rps": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"],
        "non_2xx": raw["status_errors"],
        "bytes_per_request": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
    }


def timed_call(base: str, path: str, headers: dict[str, str]) -> dict:
    """One GET: time to first byte of the body, total time, bytes (read in 64 KiB pieces)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    first = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
    first_byte = time.perf_counter() - started
    size = len(first)
    while chunk := response.read(65536):
        size += len(chunk)
    total = time.perf_counter() - started
    connection.close()
    return {
        "tool": "one call",
        "status": response.status,
        "ttfb_ms": first_byte * 1000,
        "total_ms": total * 1000,
        "bytes": size,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


class ChainLockSampler(threading.Thread):
    """Samples ``pg_stat_activity`` every 20 ms while the transitions run: of the database
    sessions busy in a statement, how many wait on the audit chain's advisory lock. The
    share says whether the one chain lock bounds the write rate."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(database_url, pool_size=1)
        self.stop = threading.Event()
        self.busy = self.waiting = self.samples = 0

    def run(self) -> None:
        query = text(
            "SELECT count(*) FILTER (WHERE state = 'active'),"
            " count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock'"
            " AND wait_event = 'advisory')"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as connection:
            while not self.stop.wait(0.02):
                busy, waiting = connection.execute(query).one()
                self.busy += busy
                self.waiting += waiting
                self.samples += 1
        self.engine.dispose()

    def report(self) -> dict:
        return {
            "chain_lock_samples": self.samples,
            "busy_sessions_mean": self.busy / self.samples if self.samples else 0.0,
            "chain_lock_wait_share": self.waiting / self.busy if self.busy else 0.0,
        }


def run_transitions(
    base: str,
    path: str,
    token: str,
    body: str,
    refs: list[str],
    seconds: int,
    threads: int,
    database_url: str,
):
    """``threads`` clients fire the transition, each on the next unused bid, until time or bids
    run out, while :class:`ChainLockSampler` watches the database."""
    work: queue.Queue[str] = queue.Queue()
    for ref in refs:
        work.put(ref)
    parts = urlsplit(base)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client() -> None:
        while time.perf_counter() < deadline:
            try:
                ref = work.get_nowait()
            except queue.Empty:
                return
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            started = time.perf_counter()
            connection.request("POST", path.format(reference=ref), body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            took = time.perf_counter() - started
            connection.close()
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    sampler = ChainLockSampler(database_url)
    sampler.start()
    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    return {
        **sampler.report(),
        "tool": f"Python client, {threads} threads",
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": 0,
        "non_2xx": sum(n for s, n in statuses.items() if s != 200),
        "statuses": {str(k): v for k, v in statuses.items()},
        "bids_available": len(refs),
        "ran_out_of_bids": work.empty() and elapsed < seconds * 0.95,
    }


def run_pgbench(libpq_url: str, seconds: int, clients: int, out: Path) -> dict:
    prefix = out / "pgbench_log"
    command = ["pgbench", "-n", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds)]
    command += ["-f", str(HERE / "pgbench_write.sql"), "-l", "--log-prefix", str(prefix), libpq_url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    tps = float(re.search(r"tps = ([0-9.]+)", done.stdout).group(1))
    latencies = []
    for log in out.glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1e6)
        log.unlink()
    return {
        "tool": f"pgbench, {clients} clients",
        "requests": len(latencies),
        "seconds": seconds,
        "rps": tps,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": 0,
        "non_2xx": 0,
    }


def libpq(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-url", required=True)
    parser.add_argument("--baseline-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    app = args.app_url

    found = discover(args.database_url)
    cookies = {role: sign_in(app, email) for role, email in ACCOUNTS.items()}
    tokens = {role: api_token(app, ACCOUNTS[role]) for role in ("liaison", "auditor")}

    def headers_of(who: str) -> dict[str, str]:
        if who.startswith("api:"):
            return {"User-Agent": USER_AGENT, "Authorization": f"Bearer {tokens[who[4:]]}"}
        return {"User-Agent": USER_AGENT, "Cookie": cookies[who]} if who else {"User-Agent": USER_AGENT}

    first = requests.get(f"{app}/api/v1/applications", headers=headers_of("api:liaison"), timeout=600)
    first.raise_for_status()
    targets = targets_for(app, found, first.json()["total"])
    (out / "targets.json").write_text(json.dumps([asdict(t) for t in targets], indent=1))

    results = []
    for number, target in enumerate(targets):
        base = args.baseline_url if target.kind == "baseline" else app
        headers = headers_of(target.who)
        print(f"    {target.name}", flush=True)
        if target.kind == "transition":
            refs = found["submitted"][:-COUNTED_TRANSITIONS]  # left for bench/count_statements.py
            result = run_transitions(
                app,
                target.path,
                tokens["liaison"],
                target.body,
                refs,
                args.seconds,
                args.connections,
                args.database_url,
            )
        else:
            if target.method == "GET":
                for _ in range(1 if target.kind == "single" else WARM_UP):  # every worker warm
                    check = requests.get(
                        base + target.path, headers=headers, allow_redirects=False, timeout=600
                    )
                    if check.status_code != 200:
                        raise SystemExit(
                            f"{target.name}: {target.path} answered {check.status_code}, not 200"
                        )
            if target.kind == "single":
                result = timed_call(base, target.path, headers)
            else:
                result = run_wrk(base + target.path, headers, target.method, args.seconds, args.connections)
        results.append({"order": number, **asdict(target), **result})
    print("    pgbench", flush=True)
    results.append(
        {
            "order": len(results),
            "name": "pgbench: one UPDATE + one INSERT",
            "group": "yardstick",
            "kind": "pgbench",
            **run_pgbench(libpq(args.database_url), args.seconds, args.connections, out),
        }
    )
    summary = {
        "size": args.size,
        "applications": found["applications"],
        "submitted_bids": len(found["submitted"]),
        "seconds": args.seconds,
        "connections": args.connections,
        "results": results,
    }
    (out / "load.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
