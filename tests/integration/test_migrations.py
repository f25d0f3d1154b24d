"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from fundflow.extensions import db
from tests.conftest import make_app


def differences() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_upgrade_on_a_fresh_sqlite_file_matches_the_models(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
        assert differences() == []
        db.engine.dispose()


def test_upgrade_twice_is_harmless(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.upgrade()
        assert differences() == []
        db.engine.dispose()


@pytest.mark.postgres
def test_upgrade_on_postgresql_matches_the_models(pg_app):
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    try:
        flask_migrate.upgrade()
        assert differences() == []
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
