"""The benchmark's yardsticks, NOT part of the product: a tiny Flask app on the same stack as
fundflow (Flask + Flask-SQLAlchemy + psycopg, the same engine options, served by gunicorn the
same way) with two routes:

- ``GET /hello``: answers a constant string, no database (what the stack costs at best);
- ``POST /write``: one UPDATE and one INSERT in one transaction (what the smallest write costs).

    DATABASE_URL=postgresql+psycopg://… gunicorn --workers 2 bench.baseline_app:app

Its two tables (``bench_counter``, ``bench_log``) live in the benchmark's database beside
fundflow's; pgbench's custom script (bench/pgbench_write.sql) uses the same tables.
"""

from __future__ import annotations

import os
import random

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

COUNTERS = 1000

db = SQLAlchemy()

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_counter (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS bench_log (id bigserial PRIMARY KEY, counter_id integer NOT NULL,"
    " at timestamptz NOT NULL DEFAULT now())",
    f"INSERT INTO bench_counter (id) SELECT g FROM generate_series(1, {COUNTERS}) g ON CONFLICT DO NOTHING",
)


def database_url() -> str:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}  # as config.Config
    db.init_app(app)

    @app.get("/hello")
    def hello() -> str:
        return "Hello, world!"

    @app.post("/write")
    def write() -> str:
        counter = random.randint(1, COUNTERS)
        db.session.execute(text("UPDATE bench_counter SET n = n + 1 WHERE id = :id"), {"id": counter})
        db.session.execute(text("INSERT INTO bench_log (counter_id) VALUES (:id)"), {"id": counter})
        db.session.commit()
        return "ok"

    return app


def create_schema(app: Flask) -> None:
    """Create the two tables and their rows (idempotent)."""
    with app.app_context():
        for statement in SCHEMA:
            db.session.execute(text(statement))
        db.session.commit()


app = create_app() if os.environ.get("DATABASE_URL") else None

if __name__ == "__main__":
    create_schema(create_app())
