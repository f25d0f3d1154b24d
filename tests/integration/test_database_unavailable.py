"""While the database cannot be reached (PostgreSQL restarting, a network blip), fundflow
answers 503 with ``Retry-After`` — the API in its JSON error shape, the site with a GOV.UK
"service unavailable" page rendered without the database — never a 500 or a bare text page."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import exc as sa_exc

from fundflow.errors import is_database_unavailable
from tests.conftest import make_app


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_without_database():
    """An app pointed at a PostgreSQL port where nothing listens."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{unused_port()}/fundflow?connect_timeout=2"
    app = make_app(url)
    yield app
    with app.app_context():
        from fundflow.extensions import db

        db.engine.dispose()


@pytest.fixture
def signed_in_client(client, auth, make):
    """A signed-in browser, then the database goes away: every statement fails as a dropped
    connection does. The page must not look the user up to say so."""
    from sqlalchemy import event

    from fundflow.extensions import db

    auth.login(make.user("headteacher", "liaison_officer", "auditor", school=make.school()))
    db.session.remove()

    def connection_lost(*_args, **_kwargs):
        raise sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("server closed the connection"))

    event.listen(db.engine, "before_cursor_execute", connection_lost)
    yield client
    event.remove(db.engine, "before_cursor_execute", connection_lost)


@pytest.mark.parametrize("url", ["/headteacher/", "/liaison/", "/auditor/", "/"])
def test_pages_answer_503_with_a_gov_uk_page_while_the_database_is_down(signed_in_client, url):
    response = signed_in_client.get(url)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.mimetype == "text/html"
    page = response.text
    assert "<title>Sorry, the service is unavailable – fundflow</title>" in page
    assert '<h1 class="govuk-heading-l">Sorry, the service is unavailable</h1>' in page
    assert "govuk-template" in page and "govuk-header" in page


def test_sign_in_answers_503_while_the_database_is_down(app_without_database):
    response = app_without_database.test_client().post(
        "/sign-in", data={"email": "head@example.org", "password": "secret"}
    )
    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in response.text


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/v1/applications", None),
        ("GET", "/api/v1/me", None),
        ("POST", "/api/v1/tokens", {"email": "head@example.org", "password": "secret"}),
        ("POST", "/api/v1/applications", {"fund_id": 1, "title": "Phonics"}),
    ],
)
def test_the_api_answers_503_in_its_error_shape_while_the_database_is_down(
    app_without_database, method, url, body
):
    client = app_without_database.test_client()
    response = client.open(url, method=method, json=body, headers={"Authorization": "Bearer abc"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is unavailable for a moment. Try again in a few seconds.",
        }
    }


def test_pages_that_need_no_database_still_work_while_it_is_down(app_without_database):
    response = app_without_database.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200


def test_a_broken_query_is_still_a_500_not_an_outage(client, app, make, monkeypatch):
    """Only connection-type failures are 503: a programming error stays a 500 (and logged)."""
    from fundflow.services import auth

    def broken(*_args, **_kwargs):
        raise sa_exc.ProgrammingError("SELECT nonsense", {}, Exception("syntax error"))

    monkeypatch.setattr(auth, "user_for_token", broken)
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


class _PgError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("pg")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("08006", True),  # connection failure
        ("57P01", True),  # admin shutdown: PostgreSQL restarting
        ("57P03", True),  # cannot connect now: starting up
        ("53300", True),  # too many connections
        ("40P01", True),  # deadlock the retries did not clear
        (None, True),  # no SQLSTATE at all: the connection never opened
        ("54001", False),  # statement too complex: a bug, not an outage
    ],
)
def test_which_operational_errors_count_as_the_database_being_unavailable(sqlstate, transient):
    error = sa_exc.OperationalError("SELECT 1", {}, _PgError(sqlstate))
    assert is_database_unavailable(error) is transient


def test_sqlite_busy_is_unavailable_but_a_misuse_is_not():
    import sqlite3

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    misuse = sqlite3.OperationalError("cannot start a transaction within a transaction")
    misuse.sqlite_errorname = "SQLITE_ERROR"
    assert is_database_unavailable(sa_exc.OperationalError("BEGIN", {}, busy))
    assert not is_database_unavailable(sa_exc.OperationalError("BEGIN", {}, misuse))


def test_a_lost_connection_counts_as_unavailable():
    assert is_database_unavailable(sa_exc.InterfaceError("SELECT 1", {}, Exception("closed")))
    assert is_database_unavailable(sa_exc.DisconnectionError("gone"))
    assert not is_database_unavailable(ValueError("no"))
