"""Migration a10b0c0d0010 moves today's (English) schools to nation + identifier, and back."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import text

from fundflow.extensions import db
from tests.conftest import make_app


def test_existing_schools_become_english_with_their_urn_as_identifier(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade(revision="a10b0c0d0009")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO schools (urn, name, phase, la_code, la_name, trust, establishment_type, "
                    "postcode, causing_concern, status, created_at, updated_at) VALUES ('110123', "
                    "'Upton Lea', '', '871', 'Slough', '', '', '', 0, 'open', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.upgrade(revision="a10b0c0d0010")
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT nation, identifier, urn, gss_code FROM schools")).one()
        assert tuple(row) == ("england", "110123", "110123", "")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO schools (nation, identifier, urn, name, phase, la_code, la_name, trust, "
                    "establishment_type, postcode, causing_concern, status, created_at, updated_at) VALUES "
                    "('wales', '6812345', NULL, 'Ysgol', '', '', '', '', '', '', 0, 'open', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.downgrade(revision="a10b0c0d0009")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT urn FROM schools")).scalars().all() == ["110123"]
        db.engine.dispose()
