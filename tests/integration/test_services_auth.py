"""Signing in (throttled per account, with a looser ceiling per address), passwords, tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import ApiToken
from fundflow.services import admin, auth
from fundflow.services.errors import AuthenticationFailed, NotFound, Throttled, ValidationFailed
from tests.factories import PASSWORD

OFFICE = "203.0.113.7"


def fail_sign_in(email: str, address: str = OFFICE, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            auth.authenticate(email, "wrong-password", address)


def test_sign_in_with_the_right_password(make):
    user = make.user("auditor", email="audrey@example.test")
    assert auth.authenticate("Audrey@Example.test ", PASSWORD, OFFICE) is user


@pytest.mark.parametrize("email", ["audrey@example.test", "nobody@example.test"])
def test_wrong_password_or_unknown_account_gives_the_same_answer(make, email):
    make.user("auditor", email="audrey@example.test")
    with pytest.raises(AuthenticationFailed) as failed:
        auth.authenticate(email, "wrong-password", OFFICE)
    assert failed.value.message == "Enter a correct email address and password"


def test_deactivated_user_cannot_sign_in(make):
    user = make.user("auditor")
    admin.update_user(None, user, roles=["auditor"], school_urn=None, active=False)
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(user.email, PASSWORD, OFFICE)


def test_sign_in_throttled_per_account_but_colleagues_at_same_address_can_still_sign_in(app, make):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    victim = make.user("finance", email="fran@council.test")
    colleague = make.user("finance", email="sam@council.test")
    fail_sign_in(victim.email, times=limit)
    # the account is locked, even with the right password and from another address
    with pytest.raises(Throttled):
        auth.authenticate(victim.email, PASSWORD, OFFICE)
    with pytest.raises(Throttled):
        auth.authenticate(victim.email, PASSWORD, "198.51.100.1")
    # a colleague in the same office signs in as usual
    assert auth.authenticate(colleague.email, PASSWORD, OFFICE) is colleague


def test_sign_in_throttled_per_address_at_a_looser_ceiling(app, make):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    user = make.user("auditor")
    for n in range(6):
        fail_sign_in(f"guess{n}@example.test")
    with pytest.raises(Throttled):
        auth.authenticate(user.email, PASSWORD, OFFICE)
    assert auth.authenticate(user.email, PASSWORD, "198.51.100.1") is user


def test_failures_below_the_limit_do_not_lock_the_account(app, make):
    user = make.user("auditor")
    fail_sign_in(user.email, times=app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1)
    assert auth.authenticate(user.email, PASSWORD, OFFICE) is user


def test_change_password_checks_the_current_one_and_signs_out_other_sessions(make):
    user = make.user("auditor")
    with pytest.raises(ValidationFailed) as failed:
        auth.change_password(user, "not-it", "a-new-long-password")
    assert "current_password" in failed.value.fields
    with pytest.raises(ValidationFailed) as failed:
        auth.change_password(user, PASSWORD, "short")
    assert "new_password" in failed.value.fields
    here, elsewhere = auth.start_session(user), auth.start_session(user)
    token = auth.issue_token(user)
    auth.change_password(user, PASSWORD, "a-new-long-password", keep_session=here)
    assert auth.authenticate(user.email, "a-new-long-password", OFFICE) is user
    assert auth.user_for_session(user.id, here) is user
    assert auth.user_for_session(user.id, elsewhere) is None
    assert auth.user_for_token(token) is None


def test_api_token_is_shown_once_and_stored_hashed(make):
    user = make.user("auditor")
    token = auth.issue_token(user, "reporting")
    assert auth.user_for_token(token) is user
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_revoked_or_unknown_tokens_and_deactivated_users_get_nobody(make):
    user = make.user("auditor")
    token = auth.issue_token(user)
    assert auth.user_for_token("made-up") is None
    assert auth.user_for_token("") is None
    assert auth.user_for_token("x" * 500) is None
    row = db.session.execute(select(ApiToken)).scalar_one()
    auth.revoke_token(user, row.id)
    assert auth.user_for_token(token) is None
    other = make.user("auditor")
    other_token = auth.issue_token(other)
    admin.update_user(None, other, roles=["auditor"], school_urn=None, active=False)
    assert auth.user_for_token(other_token) is None


def test_only_the_owner_or_an_admin_revokes_a_token(make):
    owner, stranger = make.user("auditor"), make.user("finance")
    auth.issue_token(owner)
    row = db.session.execute(select(ApiToken)).scalar_one()
    with pytest.raises(NotFound):
        auth.revoke_token(stranger, row.id)
    auth.revoke_token(make.user("admin"), row.id)
    assert row.revoked_at is not None


def test_user_by_email_not_found(make):
    with pytest.raises(NotFound):
        auth.user_by_email("nobody@example.test")
