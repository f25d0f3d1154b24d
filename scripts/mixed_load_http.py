"""Mixed load over HTTP: many API clients acting in ONE fund at the same moment, against
fundflow served by gunicorn on a throwaway PostgreSQL database.

    .venv/bin/python scripts/mixed_load_http.py --database-url postgresql+psycopg://…/scratch

It EMPTIES that database, builds the bids each round needs through the services, issues
API tokens, starts gunicorn (4 workers), then releases ``--per-kind`` clients of each kind
at once: create and submit a bid, start a review, approve, countersign, verify a claim, pay
a claim. Every request is one the rules allow, so every answer should be 2xx; it prints the
count of requests and of answers by class, and exits non-zero on any 5xx.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def build_round(make, fund, officer, second, finance, per_kind: int, issue_token) -> list[tuple]:
    """(kind, token, method, path, body) for every client of one round."""
    jobs: list[tuple] = []
    tokens = {u.id: issue_token(u) for u in (officer, second, finance)}
    for _ in range(per_kind):
        lead = make.headteacher()
        details = dataclasses.asdict(make.details(fund, make.school()))
        for activity in details["activities"]:
            activity["days"] = float(activity["days"])
        for measure in details["measures"]:
            measure["baseline"], measure["target"] = float(measure["baseline"]), float(measure["target"])
        jobs.append(("create_and_submit", issue_token(lead), "POST", "/api/v1/applications", details))
    for state, kind, token in (
        ("submitted", "start_review", tokens[officer.id]),
        ("under_review", "approve", tokens[officer.id]),
        ("awaiting_countersign", "countersign", tokens[second.id]),
    ):
        for _ in range(per_kind):
            bid = make.application(state, fund=fund, liaison=officer)
            path = f"/api/v1/applications/{bid.reference}/actions"
            jobs.append((kind, token, "POST", path, {"action": kind}))
    for _ in range(per_kind):
        bid = make.application("approved", fund=fund, liaison=officer, second_liaison=second)
        claim = make.claim(bid)
        jobs.append(
            (
                "verify",
                tokens[officer.id],
                "POST",
                f"/api/v1/claims/{claim.id}/actions",
                {"action": "verify", "comment": ""},
            )
        )
    for n in range(per_kind):
        bid = make.application("approved", fund=fund, liaison=officer, second_liaison=second)
        claim = make.claim(bid, state="verified", liaison=officer)
        body = {
            "amount_pence": claim.amount_pence,
            "paid_on": claim.verified_at.date().isoformat(),
            "reference": f"LOAD-{claim.id}-{n}",
        }
        jobs.append(("pay", tokens[finance.id], "POST", f"/api/v1/claims/{claim.id}/disbursements", body))
    return jobs


def run_job(
    base: str, job: tuple, barrier: threading.Barrier, statuses: Counter, lock: threading.Lock
) -> None:
    kind, token, method, path, body = job
    barrier.wait()
    status, answer = call(base, token, method, path, body)
    answers = [status]
    if kind == "create_and_submit" and status == 201:
        submit = f"/api/v1/applications/{answer['reference']}/actions"
        answers.append(call(base, token, "POST", submit, {"action": "submit"})[0])
    with lock:
        for answer in answers:
            statuses[f"{answer // 100}xx"] += 1
            statuses[f"{kind} {answer}"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    from fundflow import create_app
    from fundflow.extensions import db
    from fundflow.services import auth
    from tests.factories import Factory

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": args.database_url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=args.database_url, FUNDFLOW_ENV="development")
    with app.app_context():
        db.drop_all()
        db.create_all()
        make = Factory()
        fund = make.fund(budget_pence=10_000_000_00, countersign_threshold_pence=1_000_00)
        officer, second, finance = make.liaison(), make.liaison(), make.user("finance")
        rounds = [
            build_round(make, fund, officer, second, finance, args.per_kind, auth.issue_token)
            for _ in range(args.rounds)
        ]
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        statuses: Counter = Counter()
        lock = threading.Lock()
        started = time.perf_counter()
        for jobs in rounds:
            barrier = threading.Barrier(len(jobs))
            threads = [
                threading.Thread(target=run_job, args=(base, j, barrier, statuses, lock)) for j in jobs
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(v for k, v in statuses.items() if k.endswith("xx"))
    print(f"{total} requests in {elapsed:.1f} s, {len(rounds[0])} at once per round")
    for key in sorted(statuses):
        print(f"  {key}: {statuses[key]}")
    return 1 if statuses.get("5xx") else 0


if __name__ == "__main__":
    sys.exit(main())
