"""New accounts get a one-time link to set their own password: the administrator never
chooses or knows it. Links expire, work once, are stored only as a hash, and a fresh one
replaces the old."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.forms import FORM_TOKEN, REPEAT_MESSAGE
from fundflow.models import Event, SetPasswordLink, User, utcnow
from fundflow.services import admin, auth
from fundflow.services.errors import AuthenticationFailed, InvalidTransition, NotFound, ValidationFailed
from tests.factories import PASSWORD, Factory

NEW_PASSWORD = "correct-horse-battery"
LINK = re.compile(r"http://localhost(/set-password/[A-Za-z0-9_-]+)")


@pytest.fixture
def admin_browser(app, make):
    administrator = make.user("admin")
    browser = app.test_client()
    assert (
        browser.post("/sign-in", data={"email": administrator.email, "password": PASSWORD}).status_code == 302
    )
    return browser


def create_account(admin_browser, email: str = "new.starter@council.test") -> str:
    """Create an auditor on the site; the path of the link the administrator is shown."""
    response = admin_browser.post(
        "/admin/users/new", data={"email": email, "name": "New Starter", "roles": ["auditor"]}
    )
    assert response.status_code == 303, response.text
    page = admin_browser.get(response.headers["Location"])
    assert page.status_code == 200 and "Account created" in page.text
    return LINK.search(page.text).group(1)


def set_password(client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    return client.post(path, data={"new_password": password, "confirm_password": again or password})


def sign_in(client, email: str, password: str) -> int:
    return client.post("/sign-in", data={"email": email, "password": password}).status_code


def test_new_user_sets_their_own_password_with_the_link_and_then_signs_in(app, admin_browser):
    path = create_account(admin_browser)
    person = app.test_client()
    page = person.get(path)
    assert page.status_code == 200 and "Set your password" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = set_password(person, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert sign_in(person, "new.starter@council.test", NEW_PASSWORD) == 302


def test_a_new_account_cannot_sign_in_before_its_password_is_set(app, admin_browser):
    create_account(admin_browser)
    user = auth.user_by_email("new.starter@council.test")
    assert not user.has_password
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(user.email, user.password_hash, "203.0.113.7")


def test_the_link_works_once(app, admin_browser):
    path = create_account(admin_browser)
    person = app.test_client()
    assert set_password(person, path).status_code == 302
    assert person.get(path).status_code == 404
    assert set_password(person, path, "someone-elses-password").status_code == 404
    assert sign_in(person, "new.starter@council.test", "someone-elses-password") == 401


def test_an_expired_link_does_not_work(app, admin_browser):
    path = create_account(admin_browser)
    link = db.session.execute(select(SetPasswordLink)).scalar_one()
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = app.test_client().get(path)
    assert page.status_code == 404 and "Ask your fund administrator for a new link" in page.text


def test_the_link_lasts_as_long_as_the_setting_says(app, make):
    app.config["SET_PASSWORD_LINK_HOURS"] = 5
    user, _token = admin.create_user_with_link(None, admin.UserInput("a@council.test", "A", ["auditor"]))
    link = db.session.execute(select(SetPasswordLink)).scalar_one()
    assert timedelta(hours=4, minutes=59) < link.expires_at - utcnow() <= timedelta(hours=5)


def test_only_a_hash_of_the_link_is_stored(app, make):
    _user, token = admin.create_user_with_link(None, admin.UserInput("a@council.test", "A", ["auditor"]))
    link = db.session.execute(select(SetPasswordLink)).scalar_one()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash


def test_a_fresh_link_from_the_admin_replaces_the_old_one(app, admin_browser):
    old = create_account(admin_browser)
    user = auth.user_by_email("new.starter@council.test")
    edit_page = admin_browser.get(f"/admin/users/{user.id}").text
    assert "has not set a password yet" in edit_page and "Make a new set-password link" in edit_page
    response = admin_browser.post(f"/admin/users/{user.id}/set-password-link", follow_redirects=True)
    assert response.status_code == 200 and "New set-password link for New Starter" in response.text
    new = LINK.search(response.text).group(1)
    person = app.test_client()
    assert person.get(old).status_code == 404
    assert set_password(person, new).status_code == 302
    assert db.session.execute(select(func.count(SetPasswordLink.id))).scalar_one() == 0


def test_the_link_is_shown_once_then_the_page_offers_a_new_one(app, admin_browser):
    create_account(admin_browser)
    user = auth.user_by_email("new.starter@council.test")
    again = admin_browser.get(f"/admin/users/{user.id}/set-password-link")
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    assert LINK.search(again.text) is None
    assert "has already been shown" in again.text and "Make a new set-password link" in again.text


def test_a_link_waiting_to_be_shown_is_shown_only_on_its_own_accounts_page(app, admin_browser, make):
    other = make.user("auditor")
    response = admin_browser.post(
        "/admin/users/new",
        data={"email": "new.starter@council.test", "name": "New Starter", "roles": ["auditor"]},
    )
    assert LINK.search(admin_browser.get(f"/admin/users/{other.id}/set-password-link").text) is None
    assert LINK.search(admin_browser.get(response.headers["Location"]).text) is not None


def test_a_new_account_sent_twice_is_made_once_and_both_clicks_land_on_its_link(app, admin_browser):
    """Post-redirect-get: the second click (same form token) is sent where the first went,
    instead of being refused as a duplicate email with the link lost."""
    form = admin_browser.get("/admin/users/new")
    token = re.search(rf'name="{FORM_TOKEN}" value="([^"]+)"', form.text).group(1)
    data = {
        "email": "new.starter@council.test",
        "name": "New Starter",
        "roles": ["auditor"],
        FORM_TOKEN: token,
    }
    first = admin_browser.post("/admin/users/new", data=data)
    again = admin_browser.post("/admin/users/new", data=data)
    assert first.status_code == 303 and again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = admin_browser.get(again.headers["Location"])
    assert REPEAT_MESSAGE in page.text and "Account created" in page.text
    path = LINK.search(page.text).group(1)
    assert (
        db.session.execute(
            select(func.count(User.id)).where(User.email == "new.starter@council.test")
        ).scalar_one()
        == 1
    )
    assert db.session.execute(select(func.count(SetPasswordLink.id))).scalar_one() == 1
    assert set_password(app.test_client(), path).status_code == 302


def test_a_new_link_asked_for_twice_is_made_once(app, admin_browser, make):
    user = make.user("auditor")
    edit_page = admin_browser.get(f"/admin/users/{user.id}").text
    tokens = re.findall(rf'name="{FORM_TOKEN}" value="([^"]+)"', edit_page)
    url = f"/admin/users/{user.id}/set-password-link"
    first = admin_browser.post(url, data={FORM_TOKEN: tokens[-1]})
    again = admin_browser.post(url, data={FORM_TOKEN: tokens[-1]})
    assert again.headers["Location"] == first.headers["Location"]
    issued = select(func.count(Event.id)).where(Event.action == "issue_set_password_link")
    assert db.session.execute(issued).scalar_one() == 1
    path = LINK.search(admin_browser.get(first.headers["Location"]).text).group(1)
    assert set_password(app.test_client(), path).status_code == 302


def test_passwords_that_differ_or_are_short_are_refused_on_their_fields(app, admin_browser):
    path = create_account(admin_browser)
    person = app.test_client()
    mismatch = set_password(person, path, NEW_PASSWORD, "a-different-password")
    assert mismatch.status_code == 422
    assert "The passwords do not match" in mismatch.text and 'href="#confirm_password"' in mismatch.text
    short = set_password(person, path, "short")
    assert short.status_code == 422
    assert "at least 12 characters" in short.text and 'href="#new_password"' in short.text
    assert set_password(person, path).status_code == 302  # refusals did not use the link up


def test_setting_a_password_with_a_link_ends_sessions_and_revokes_tokens(app, make):
    user = make.user("auditor")  # an existing account that forgot its password
    session = auth.start_session(user)
    token = auth.issue_token(user)
    link = admin.issue_set_password_link(make.user("admin"), user)
    auth.set_password_with_link(link, NEW_PASSWORD)
    assert auth.user_for_session(user.id, session) is None
    assert auth.user_for_token(token) is None
    assert auth.authenticate(user.email, NEW_PASSWORD, "203.0.113.7") is user


def test_setting_a_password_follows_the_password_rules(app, make):
    user = make.user("auditor")
    link = admin.issue_set_password_link(None, user)
    with pytest.raises(ValidationFailed) as failed:
        auth.set_password_with_link(link, "too-short")
    assert "new_password" in failed.value.fields
    with pytest.raises(NotFound):
        auth.set_password_with_link("not-a-link", NEW_PASSWORD)


def test_a_deactivated_account_gets_no_link_and_its_old_link_stops_working(app, make):
    user = make.user("auditor")
    link = admin.issue_set_password_link(None, user)
    admin.update_user(None, user, roles=["auditor"], school_urn=None, active=False)
    assert auth.link_for(link) is None
    with pytest.raises(InvalidTransition):
        admin.issue_set_password_link(None, user)


def test_only_an_admin_issues_links(app, make):
    from fundflow.services.errors import NotPermitted

    with pytest.raises(NotPermitted):
        admin.issue_set_password_link(make.user("finance"), make.user("auditor"))


def test_creating_the_account_issuing_the_link_and_setting_the_password_are_audited(app, admin_browser):
    path = create_account(admin_browser)
    set_password(app.test_client(), path)
    user = auth.user_by_email("new.starter@council.test")
    actions = (
        db.session.execute(
            select(Event.action).where(Event.subject_id == user.id, Event.subject_type == "user")
        )
        .scalars()
        .all()
    )
    assert actions == ["create_user", "issue_set_password_link", "set_password"]


def test_the_command_line_still_creates_an_account_with_a_password(app, runner, make):
    result = runner.invoke(
        args=["fundflow", "create-user", "script@council.test", "--name", "Script", "--role", "auditor",
              "--password", "a-scripted-password"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "script@council.test")).scalar_one()
    assert user.has_password
    assert auth.authenticate(user.email, "a-scripted-password", "203.0.113.7") is user


@pytest.mark.postgres
def test_ten_people_using_one_link_at_once_set_the_password_once(pg_app):
    """On PostgreSQL: the link is deleted by its hash and the deleted row counted, so only
    one of many simultaneous uses succeeds."""
    import threading

    user = Factory().user("auditor")
    token = admin.issue_set_password_link(None, user)
    user_id = user.id
    db.session.remove()
    barrier = threading.Barrier(10)
    outcomes: list[object] = [None] * 10

    def use(index: int) -> None:
        with pg_app.app_context():
            try:
                barrier.wait()
                auth.set_password_with_link(token, f"password-number-{index:02d}")
                outcomes[index] = index
            except Exception as exc:  # collected and asserted on below
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [o for o in outcomes if isinstance(o, int)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, NotFound) for o in outcomes if not isinstance(o, int)), outcomes
    user = db.session.get(User, user_id)
    assert auth.authenticate(user.email, f"password-number-{winners[0]:02d}", "203.0.113.7") is user
    set_events = db.session.execute(
        select(func.count(Event.id)).where(Event.action == "set_password", Event.subject_id == user_id)
    ).scalar_one()
    assert set_events == 1
