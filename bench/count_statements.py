"""SQL statements for one request of each benchmark target, on the benchmark's database.

    python bench/count_statements.py --database-url postgresql+psycopg://…/bench_n \
        --targets DIR/targets.json --out DIR/statements.json

Runs fundflow (and bench/baseline_app.py) in-process with Flask's test client and counts the
statements SQLAlchemy sends (``before_cursor_execute``; the driver's BEGIN and COMMIT are not
counted). Pages and list calls are requested twice and the second is counted, as a warm
worker would serve it; one-call targets are counted once; the transition is counted on a
second submitted bid, the first one warming up. Run it after bench/load.py: it fires one or
two more transitions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import ACCOUNTS, PASSWORD  # noqa: E402


@contextmanager
def counting(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def fundflow_counts(database_url: str, targets: list[dict]) -> dict[str, int]:
    from fundflow import create_app
    from fundflow.extensions import db
    from fundflow.models import Application
    from fundflow.workflow import APPLICATION_LIFECYCLE

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False})
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    # No app context is held around the requests: each request gets its own, and its own
    # session, as in a served worker (a shared session would answer from its identity map).
    clients = {}
    for role, email in ACCOUNTS.items():
        client = app.test_client()
        answer = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        if answer.status_code != 302:
            raise SystemExit(f"signing in as {email} answered {answer.status_code}")
        clients[role] = client
    api = app.test_client()
    tokens = {}
    for role in ("liaison", "auditor"):
        answer = api.post("/api/v1/tokens", json={"email": ACCOUNTS[role], "password": PASSWORD})
        tokens[role] = answer.get_json()["token"]
    sources = list(APPLICATION_LIFECYCLE.actions["start_review"].sources)
    for target in targets:
        if target["kind"] == "baseline":
            continue
        who = target["who"]
        client = clients.get(who, api)
        headers = {"Authorization": f"Bearer {tokens[who[4:]]}"} if who.startswith("api:") else {}
        if target["kind"] == "transition":
            with app.app_context():
                refs = db.session.scalars(
                    select(Application.reference).where(Application.status.in_(sources)).limit(2)
                ).all()
            if not refs:
                continue
            for ref in refs:
                with counting(engine) as statements:
                    answer = client.post(
                        target["path"].format(reference=ref),
                        data=target["body"],
                        headers=headers,
                        content_type="application/json",
                    )
            if answer.status_code != 200:
                raise SystemExit(f"{target['name']} on {ref} answered {answer.status_code}")
            counts[target["name"]] = len(statements)
            continue
        repeat = 1 if target["kind"] == "single" else 2
        for _ in range(repeat):
            with counting(engine) as statements:
                answer = client.get(target["path"], headers=headers)
                answer.get_data()
        if answer.status_code != 200:
            raise SystemExit(f"{target['name']}: {target['path']} answered {answer.status_code}")
        counts[target["name"]] = len(statements)
    engine.dispose()
    return counts


def baseline_counts(database_url: str, targets: list[dict]) -> dict[str, int]:
    os.environ["DATABASE_URL"] = database_url
    import baseline_app

    app = baseline_app.create_app()
    counts = {}
    with app.app_context():
        engine = baseline_app.db.engine
    client = app.test_client()
    for target in targets:
        if target["kind"] != "baseline":
            continue
        for _ in range(2):
            with counting(engine) as statements:
                client.open(target["path"], method=target["method"])
        counts[target["name"]] = len(statements)
    engine.dispose()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    targets = json.loads(args.targets.read_text())
    counts = fundflow_counts(args.database_url, targets) | baseline_counts(args.database_url, targets)
    counts["pgbench: one UPDATE + one INSERT"] = 2
    args.out.write_text(json.dumps(counts, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
