"""Shared fixtures: an app on in-memory SQLite, a client, a CLI runner, factories, and a
PostgreSQL app when ``FUNDFLOW_TEST_POSTGRES_URL`` names a server."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import event

from config import TestConfig
from fundflow import create_app
from fundflow.extensions import db

from .factories import PASSWORD, Factory


def make_app(database_url: str = "sqlite://", **overrides):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    for key, value in overrides.items():
        setattr(Config, key, value)
    return create_app(Config)


@pytest.fixture(scope="session")
def _shared_app():
    """One app for the session: building an app costs more than a fresh schema."""
    app = make_app()
    forget_user_between_requests(app)
    return app


def forget_user_between_requests(app) -> None:
    """Tests keep one app context open across requests, so Flask reuses its ``g`` and
    Flask-Login's cached user would leak from one request into the next; in production
    every request has its own context."""
    from flask import g

    @app.teardown_request
    def _forget(_exc=None):
        g.pop("_login_user", None)


@pytest.fixture
def app(_shared_app):
    """The shared app with an empty in-memory database; config changes are undone after."""
    app = _shared_app
    saved = dict(app.config)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app) -> Factory:
    return Factory()


class Auth:
    """Sign a test client in and out as a given user."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = PASSWORD):
        return self.client.post("/sign-in", data={"email": user.email, "password": password})

    def logout(self):
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def count_queries(app):
    """Counts SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter


def postgres_url() -> str | None:
    url = os.environ.get("FUNDFLOW_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("FUNDFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail("FUNDFLOW_REQUIRE_POSTGRES=1 but FUNDFLOW_TEST_POSTGRES_URL is not set")
        pytest.skip("set FUNDFLOW_TEST_POSTGRES_URL to run the PostgreSQL tests")
    return url


@pytest.fixture
def pg_app():
    """An app on the throwaway PostgreSQL, with a fresh schema for each test."""
    app = make_app(postgres_url(), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 30, "max_overflow": 10})
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
