"""A person who cannot sign in asks for a one-time reset link by email ("Forgotten your
password?"). The answer never says whether the address has an account, requests are throttled,
and the link works once, for RESET_PASSWORD_LINK_MINUTES. New accounts' set-password links
are emailed too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Event, OutboundEmail, PasswordResetRequest, SetPasswordLink, utcnow
from fundflow.services import admin, auth
from tests.conftest import make_app
from tests.factories import PASSWORD, Factory

from .test_finance import csrf_token

NEW_PASSWORD = "a-brand-new-password"
LINK = re.compile(r"https?://[^/\s]+(/set-password/[A-Za-z0-9_-]+)")


def ask(client, email: str, address: str = "203.0.113.7"):
    """Send the "Forgotten your password?" form from a network address."""
    return client.post("/forgotten-password", data={"email": email}, environ_base={"REMOTE_ADDR": address})


def emails(kind: str = "reset_password") -> list[OutboundEmail]:
    return list(
        db.session.execute(select(OutboundEmail).where(OutboundEmail.kind == kind).order_by(OutboundEmail.id))
        .scalars()
        .all()
    )


def link_in(email: OutboundEmail) -> str:
    found = LINK.search(email.body)
    assert found, email.body
    return found.group(1)


def set_password(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"new_password": password, "confirm_password": password})


def sign_in(client, email: str, password: str) -> int:
    return client.post("/sign-in", data={"email": email, "password": password}).status_code


def count(model) -> int:
    return db.session.execute(select(func.count(model.id))).scalar_one()


@pytest.fixture
def admin_browser(app, make):
    administrator = make.user("admin")
    browser = app.test_client()
    assert sign_in(browser, administrator.email, PASSWORD) == 302
    return browser


def test_the_sign_in_page_links_to_the_forgotten_password_page(client):
    page = client.get("/sign-in")
    assert 'href="/forgotten-password">Forgotten your password?</a>' in page.text
    form = client.get("/forgotten-password")
    assert form.status_code == 200 and "Forgotten your password?" in form.text
    assert 'autocomplete="email"' in form.text


def test_a_known_and_an_unknown_address_get_the_same_answer(app, make):
    user = make.user("auditor")
    unknown = "nobody.here@example.test"
    answers = []
    for email in (user.email, unknown):
        client = app.test_client()
        response = ask(client, email)
        page = client.get(response.headers["Location"])
        answers.append(
            (response.status_code, response.headers["Location"], page.status_code, page.text, email)
        )
    (known_status, known_to, known_page, known_text, _), (status, to, page_status, text, _) = answers
    assert known_status == status == 303 and known_to == to and known_to.endswith("/forgotten-password/sent")
    assert known_page == page_status == 200
    assert known_text.replace(user.email, "ADDRESS") == text.replace(unknown, "ADDRESS")
    assert (
        "Check your email" in text
        and f'If <strong class="govuk-!-font-weight-bold">{unknown}</strong>' in text
    )
    assert [email.to_address for email in emails()] == [user.email]


def test_a_known_address_is_emailed_a_link_that_resets_the_password(app, make):
    user = make.user("auditor")
    person = app.test_client()
    ask(person, "  " + user.email.upper() + " ")  # typed with capitals and spaces
    (email,) = emails()
    assert email.to_address == user.email and email.user_id == user.id
    assert email.subject == "Reset your fundflow password"
    assert email.sensitive and email.status == "queued"
    assert f"Someone asked to reset the password for {user.email}" in email.body
    assert "The link works once, for 60 minutes." in email.body
    assert "If you did not ask to reset your password, ignore this email" in email.body
    path = link_in(email)
    assert email.body.count(path) == 1 and "http://localhost" + path in email.body

    page = person.get(path)
    assert page.status_code == 200 and '<h1 class="govuk-heading-l">Reset your password</h1>' in page.text
    assert "<title>Reset your password" in page.text
    assert set_password(person, path).status_code == 302
    assert sign_in(person, user.email, NEW_PASSWORD) == 302
    assert sign_in(app.test_client(), user.email, PASSWORD) == 401


def test_the_reset_link_works_once(app, make):
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    path = link_in(emails()[0])
    person = app.test_client()
    assert set_password(person, path).status_code == 302
    again = person.get(path)
    assert again.status_code == 404 and "get a new link by email" in again.text
    assert set_password(person, path, "someone-elses-password").status_code == 404
    assert sign_in(person, user.email, NEW_PASSWORD) == 302


def test_the_reset_link_lasts_the_configured_minutes_and_then_stops_working(app, make):
    app.config["RESET_PASSWORD_LINK_MINUTES"] = 30
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    link = db.session.execute(select(SetPasswordLink)).scalar_one()
    assert link.purpose == "reset"
    assert timedelta(minutes=29, seconds=50) < link.expires_at - utcnow() <= timedelta(minutes=30)
    assert "for 30 minutes" in emails()[0].body
    path = link_in(emails()[0])
    assert app.test_client().get(path).status_code == 200

    link.expires_at = utcnow() - timedelta(seconds=1)  # the 30 minutes have passed
    db.session.commit()
    page = app.test_client().get(path)
    assert page.status_code == 404 and "This link does not work" in page.text
    assert set_password(app.test_client(), path).status_code == 404


def test_a_link_set_to_last_no_minutes_never_works(app, make):
    app.config["RESET_PASSWORD_LINK_MINUTES"] = 0
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    assert app.test_client().get(link_in(emails()[0])).status_code == 404


def test_resetting_the_password_ends_every_session_and_api_token(app, make):
    user = make.user("auditor")
    elsewhere = app.test_client()
    assert sign_in(elsewhere, user.email, PASSWORD) == 302
    assert elsewhere.get("/auditor/").status_code == 200
    token = auth.issue_token(user)
    ask(app.test_client(), user.email)
    assert set_password(app.test_client(), link_in(emails()[0])).status_code == 302
    assert elsewhere.get("/auditor/").status_code == 302  # sent to sign in
    assert auth.user_for_token(token) is None
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_a_deactivated_or_unknown_account_is_sent_nothing(app, make):
    user = make.user("auditor")
    admin.update_user(None, user, roles=["auditor"], school_urn=None, active=False)
    for email in (user.email, "nobody@example.test"):
        response = ask(app.test_client(), email)
        assert response.status_code == 303
    assert emails() == [] and count(SetPasswordLink) == 0
    assert count(PasswordResetRequest) == 2  # counted all the same, for throttling


def test_a_reset_link_replaces_the_administrators_link(app, make):
    user = make.user("auditor")
    old = admin.issue_set_password_link(None, user)
    ask(app.test_client(), user.email)
    assert auth.link_for(old) is None
    assert db.session.execute(select(SetPasswordLink.purpose)).scalars().all() == ["reset"]


def test_asking_again_replaces_the_earlier_reset_link(app, make):
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    ask(app.test_client(), user.email)
    first, second = emails()
    assert app.test_client().get(link_in(first)).status_code == 404
    assert app.test_client().get(link_in(second)).status_code == 200


def test_too_many_requests_for_one_address_get_the_same_page_and_no_more_emails(app, make):
    app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"] = 2
    user = make.user("auditor")
    pages = set()
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"):
        client = app.test_client()
        response = ask(client, user.email, address)
        assert response.status_code == 303
        pages.add(client.get(response.headers["Location"]).text)
    assert len(pages) == 1
    assert len(emails()) == 2
    assert count(PasswordResetRequest) == 2  # a throttled request records nothing
    assert ask(app.test_client(), "other." + user.email).status_code == 303
    assert count(PasswordResetRequest) == 3  # another address typed is not held back


def test_too_many_requests_from_one_network_address_are_held_back(app, make):
    app.config["PASSWORD_RESET_MAX_PER_ADDRESS"] = 3
    user = make.user("auditor")
    for n in range(3):
        ask(app.test_client(), f"guess{n}@example.test", "198.51.100.9")
    assert ask(app.test_client(), user.email, "198.51.100.9").status_code == 303
    assert emails() == []
    ask(app.test_client(), user.email, "198.51.100.10")  # from elsewhere it still works
    assert len(emails()) == 1


def test_requests_older_than_the_window_no_longer_count(app, make):
    app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"] = 1
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    ask(app.test_client(), user.email)
    assert len(emails()) == 1
    app.config["PASSWORD_RESET_WINDOW_SECONDS"] = 0  # the window has passed
    ask(app.test_client(), user.email)
    assert len(emails()) == 2
    assert count(PasswordResetRequest) == 1  # the stale request was cleared away


def test_the_request_is_audited_with_the_address_and_never_the_link(app, make):
    user = make.user("auditor")
    ask(app.test_client(), user.email)
    ask(app.test_client(), "nobody@example.test")
    events = db.session.execute(select(Event).where(Event.action == "request_password_reset")).scalars().all()
    assert [(e.subject_type, e.subject_id, e.payload, e.actor_id) for e in events] == [
        ("user", user.id, {"email": user.email}, None)
    ]
    token = link_in(emails()[0]).rsplit("/", 1)[1]
    assert token not in str(events[0].payload)
    assert db.session.execute(select(SetPasswordLink.token_hash)).scalar_one() != token


def test_an_address_that_is_not_an_email_is_refused_on_its_field(client):
    for typed, message in (("", "Enter your email address"), ("not-an-address", "in the correct format")):
        response = client.post("/forgotten-password", data={"email": typed})
        assert response.status_code == 422 and message in response.text
        assert 'href="#email"' in response.text
    assert count(PasswordResetRequest) == 0


def test_the_confirmation_page_alone_does_not_name_an_address(client):
    page = client.get("/forgotten-password/sent")
    assert page.status_code == 200 and "If the address you entered has an account" in page.text


def test_an_administrator_creating_an_account_queues_the_set_password_email(app, admin_browser):
    response = admin_browser.post(
        "/admin/users/new",
        data={"email": "new.starter@council.test", "name": "New Starter", "roles": ["auditor"]},
    )
    assert response.status_code == 303
    page = admin_browser.get(response.headers["Location"]).text
    assert "We have emailed this link to new.starter@council.test" in page
    (email,) = emails("set_password")
    assert email.to_address == "new.starter@council.test" and email.sensitive and email.status == "queued"
    assert email.subject == "Set your password for fundflow"
    assert (
        "Hello New Starter" in email.body
        and "for fundflow, the school improvement fund service" in email.body
    )
    assert "It is for the account new.starter@council.test" in email.body
    assert "The link works once, for 72 hours." in email.body
    path = link_in(email)
    assert path in page  # the same link the administrator is shown
    person = app.test_client()
    set_page = person.get(path)
    assert set_page.status_code == 200 and "Set your password" in set_page.text
    assert set_password(person, path).status_code == 302
    assert sign_in(person, "new.starter@council.test", NEW_PASSWORD) == 302


def test_a_new_link_from_the_administrator_is_emailed_and_stops_the_emailed_one(app, admin_browser, make):
    user = make.user("auditor")
    first = admin.issue_set_password_link(None, user)
    response = admin_browser.post(f"/admin/users/{user.id}/set-password-link", follow_redirects=True)
    assert f"We have emailed this link to {user.email}" in response.text
    sent = emails("set_password")
    assert [email.to_address for email in sent] == [user.email, user.email]
    assert first in sent[0].body and auth.link_for(first) is None
    assert app.test_client().get(link_in(sent[1])).status_code == 200


def test_an_account_that_is_not_made_sends_no_email(app, admin_browser, make):
    taken = make.user("auditor")
    response = admin_browser.post(
        "/admin/users/new", data={"email": taken.email, "name": "Again", "roles": ["auditor"]}
    )
    assert response.status_code == 409 or response.status_code == 422
    assert emails("set_password") == []


@pytest.fixture
def csrf_app():
    """As in production: CSRF protection on (the test config turns it off)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def test_the_form_is_refused_without_its_csrf_token(csrf_app):
    user = Factory().user("auditor")
    client = csrf_app.test_client()
    token = csrf_token(client.get("/forgotten-password").text)
    assert client.post("/forgotten-password", data={"email": user.email}).status_code == 400
    assert count(PasswordResetRequest) == 0 and emails() == []
    response = client.post("/forgotten-password", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 303
    assert len(emails()) == 1


@pytest.mark.postgres
def test_ten_simultaneous_requests_for_one_address_send_only_the_allowed_emails(pg_app):
    """On PostgreSQL: requests for one address take turns, so a burst cannot pass the
    per-account limit and flood the person's inbox."""
    import threading

    pg_app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"] = 3
    email = Factory().user("auditor").email
    db.session.remove()
    barrier = threading.Barrier(10)
    failures: list[BaseException] = []

    def request(index: int) -> None:
        with pg_app.app_context():
            try:
                barrier.wait()
                auth.request_password_reset(email, f"198.51.100.{index}")
            except BaseException as exc:  # collected and asserted on below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(emails()) == 3 and count(PasswordResetRequest) == 3
    assert count(SetPasswordLink) == 1
