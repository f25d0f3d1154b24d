"""Bearer tokens: how they are issued, refused, and kept apart from the site's cookies."""

from __future__ import annotations

from fundflow.services import auth
from tests.conftest import make_app
from tests.factories import PASSWORD

from .conftest import PREFIX, error_of


def test_token_is_issued_for_correct_email_and_password(api, make):
    user = make.user("auditor")
    response = api.post("/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert set(response.get_json()) == {"token"}
    assert auth.user_for_token(token).id == user.id


def test_token_request_with_wrong_password_is_401(api, make):
    user = make.user("auditor")
    response = api.post("/tokens", json={"email": user.email, "password": "not-the-password"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_token_request_without_password_is_422_with_fields(api):
    response = api.post("/tokens", json={"email": "someone@example.test"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"password": ["Missing data for required field."]}


def test_token_requests_are_throttled_per_account_with_429(api, make, app):
    user = make.user("auditor")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert api.post("/tokens", json={"email": user.email, "password": "wrong-guess-x"}).status_code == 401
    response = api.post("/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert error_of(response)["code"] == "too_many_attempts"


def test_token_endpoint_works_with_csrf_protection_on():
    app = make_app(WTF_CSRF_ENABLED=True)
    from fundflow.extensions import db
    from tests.factories import Factory

    with app.app_context():
        db.create_all()
        user = Factory().user("auditor")
        client = app.test_client()
        response = client.post(PREFIX + "/tokens", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 201
        token = response.get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(PREFIX + "/me", headers=headers).status_code == 200
        # a POST with a bearer token reaches the service (403 for this role), not a CSRF 400
        refused = client.post(PREFIX + "/applications", headers=headers, json={"fund_id": 1, "title": "x"})
        assert refused.status_code == 403
        db.session.remove()
        db.drop_all()


def test_me_describes_the_token_owner(api, make):
    school = make.school()
    user = make.user("headteacher", "liaison_officer", school=school)
    response = api.get("/me", user)
    assert response.status_code == 200
    assert response.get_json() == {
        "email": user.email,
        "name": user.name,
        "roles": ["headteacher", "liaison_officer"],
        "school_id": school.id,
        "school_nation": "england",
        "school_identifier": school.urn,
        "school_urn": school.urn,
    }


def test_me_without_school_has_null_urn(api, make):
    assert api.get("/me", make.user("finance")).get_json()["school_urn"] is None


def test_no_token_is_401_with_bearer_challenge(api):
    response = api.get("/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401(api):
    response = api.get("/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_basic_auth_is_not_a_token(api, make):
    user = make.user("auditor")
    response = api.get("/me", headers={"Authorization": f"Basic {api.token(user)}"})
    assert response.status_code == 401


def test_revoked_token_is_401(api, make):
    user = make.user("auditor")
    token = api.token(user)
    from fundflow.models import ApiToken

    row = ApiToken.query.filter_by(user_id=user.id).one()
    auth.revoke_token(user, row.id)
    response = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_deactivated_users_token_is_401(api, make):
    from fundflow.services import admin

    user = make.user("auditor")
    token = api.token(user)
    admin.update_user(None, user, roles=["auditor"], school_urn=None, active=False)
    assert api.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_session_cookie_is_not_accepted_by_the_api(api, auth, client, make):
    user = make.user("auditor")
    signed_in = auth.login(user)
    assert signed_in.status_code == 302
    assert client.get(PREFIX + "/me").status_code == 401
    assert client.get(PREFIX + "/applications").status_code == 401


def test_bearer_token_is_not_accepted_by_the_site(api, client, make):
    user = make.user("auditor")
    response = client.get("/", headers=api.headers(user))
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_api_responses_set_no_cookie(api, make):
    user = make.user("auditor")
    response = api.get("/me", user)
    assert "Set-Cookie" not in response.headers
    response = api.post("/tokens", json={"email": user.email, "password": PASSWORD})
    assert "Set-Cookie" not in response.headers


def test_cli_issue_token_prints_a_working_token_on_the_last_line(app, api, make):
    user = make.user("finance")
    result = app.test_cli_runner().invoke(args=["fundflow", "issue-token", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email
