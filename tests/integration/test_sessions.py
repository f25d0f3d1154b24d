"""Server-side sessions: the signed cookie names a session the server can end.

Signing out, changing the password elsewhere, deactivation and an administrator's "sign out
everywhere" end it, so a copy of the cookie taken earlier stops working."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Event, UserSession, utcnow
from fundflow.services import admin, auth
from tests.factories import PASSWORD


def signed_in_browser(app, user):
    browser = app.test_client()
    response = browser.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def copy_of(app, browser):
    """Another browser holding a copy of ``browser``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def can_open_auditor_pages(browser) -> bool:
    response = browser.get("/auditor/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_copy_of_the_session_cookie_stops_working_after_sign_out(app, make):
    browser = signed_in_browser(app, make.user("auditor"))
    stolen = copy_of(app, browser)
    assert can_open_auditor_pages(stolen)
    browser.post("/sign-out")
    assert not can_open_auditor_pages(stolen)
    assert not can_open_auditor_pages(browser)
    assert db.session.execute(select(func.count(UserSession.id))).scalar_one() == 0


def test_signing_out_in_one_browser_keeps_the_others_signed_in(app, make):
    user = make.user("auditor")
    office, home = signed_in_browser(app, user), signed_in_browser(app, user)
    office.post("/sign-out")
    assert can_open_auditor_pages(home)


def test_the_cookie_keeps_only_a_secret_whose_hash_the_server_stores(app, make):
    user = make.user("auditor")
    browser = signed_in_browser(app, user)
    with browser.session_transaction() as session:
        user_id, _, secret = session["_user_id"].partition(":")
    row = db.session.execute(select(UserSession)).scalar_one()
    assert int(user_id) == user.id and len(secret) >= 40
    assert secret not in row.token_hash and len(row.token_hash) == 64


def test_a_made_up_session_secret_is_refused(app, make):
    user = make.user("auditor")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = f"{user.id}:a-guessed-secret"
        session["_fresh"] = True
    assert not can_open_auditor_pages(browser)


def test_another_users_session_secret_does_not_open_this_account(app, make):
    mine, theirs = make.user("auditor"), make.user("auditor")
    secret = auth.start_session(theirs)
    assert auth.user_for_session(mine.id, secret) is None
    assert auth.user_for_session(theirs.id, secret) is theirs


def test_a_session_past_its_lifetime_stops_working(app, make):
    browser = signed_in_browser(app, make.user("auditor"))
    row = db.session.execute(select(UserSession)).scalar_one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not can_open_auditor_pages(browser)


def test_signing_in_clears_the_accounts_expired_sessions(app, make):
    user = make.user("auditor")
    old = auth.start_session(user)
    db.session.execute(select(UserSession)).scalar_one().expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    auth.start_session(user)
    hashes = db.session.execute(select(UserSession.token_hash)).scalars().all()
    assert len(hashes) == 1 and auth.user_for_session(user.id, old) is None


def test_changing_the_password_signs_out_other_browsers_but_not_this_one(app, make):
    user = make.user("auditor")
    here, elsewhere = signed_in_browser(app, user), signed_in_browser(app, user)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password",
            "confirm_password": "a-brand-new-password",
        },
    )
    assert response.status_code == 302
    assert can_open_auditor_pages(here)
    assert not can_open_auditor_pages(elsewhere)


def test_changing_the_password_revokes_the_users_api_tokens(app, make):
    user = make.user("auditor")
    token = auth.issue_token(user)
    browser = signed_in_browser(app, user)
    browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password",
            "confirm_password": "a-brand-new-password",
        },
    )
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    event = db.session.execute(select(Event).where(Event.action == "change_password")).scalar_one()
    assert event.payload["sessions_ended"] == 0 and event.payload["tokens_revoked"] == 1


def test_deactivating_an_account_ends_its_sessions(app, make):
    officer = make.user("auditor")
    browser = signed_in_browser(app, officer)
    admin.update_user(make.user("admin"), officer, roles=["auditor"], school_urn=None, active=False)
    assert not can_open_auditor_pages(browser)


def test_admin_signs_a_user_out_everywhere_and_revokes_their_tokens(app, make):
    officer = make.user("auditor")
    token = auth.issue_token(officer)
    laptop = signed_in_browser(app, officer)
    administrator = make.user("admin")
    admin_browser = signed_in_browser(app, administrator)
    response = admin_browser.post(f"/admin/users/{officer.id}/sign-out-everywhere")
    assert response.status_code == 302
    assert "signed out everywhere: 1 signed-in browsers ended, 1 API tokens revoked" in (
        admin_browser.get(response.headers["Location"]).text
    )
    assert not can_open_auditor_pages(laptop)
    assert auth.user_for_token(token) is None
    event = db.session.execute(select(Event).where(Event.action == "sign_out_everywhere")).scalar_one()
    assert event.actor_id == administrator.id and event.subject_id == officer.id


def test_only_an_admin_signs_someone_else_out_everywhere(app, make):
    officer, stranger = make.user("auditor"), make.user("finance")
    laptop = signed_in_browser(app, officer)
    response = signed_in_browser(app, stranger).post(f"/admin/users/{officer.id}/sign-out-everywhere")
    assert response.status_code == 403
    assert can_open_auditor_pages(laptop)
