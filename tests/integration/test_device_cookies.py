"""Sign-in throttling with device cookies (OWASP "Slow Down Online Guessing Attacks with
Device Cookies"): strangers' wrong guesses pause the account for browsers it has never
signed in from, but never lock out a browser that has signed in to it before."""

from __future__ import annotations

from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import LoginAttempt
from fundflow.services import auth
from tests.factories import PASSWORD

DEVICE = "fundflow_device"


def sign_in(browser, email: str, password: str = PASSWORD) -> int:
    return browser.post("/sign-in", data={"email": email, "password": password}).status_code


def trusted_browser(app, user):
    """A browser that has signed in to ``user``'s account before, and signed out since."""
    browser = app.test_client()
    assert sign_in(browser, user.email) == 302
    browser.post("/sign-out")
    assert browser.get_cookie(DEVICE, path="/sign-in") is not None
    return browser


def guess_wrong(browser, email: str, times: int) -> None:
    for _ in range(times):
        assert sign_in(browser, email, "a-wrong-guess-123") == 401


def test_strangers_wrong_guesses_do_not_lock_out_a_browser_that_signed_in_before(app, make):
    colleague = make.user("finance")
    own_browser = trusted_browser(app, colleague)
    stranger = app.test_client()
    guess_wrong(stranger, colleague.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    assert sign_in(stranger, colleague.email) == 429  # the right password, from a new browser
    assert sign_in(app.test_client(), colleague.email) == 429
    assert sign_in(own_browser, colleague.email) == 302


def test_a_trusted_sign_in_does_not_reset_the_strangers_count(app, make):
    colleague = make.user("finance")
    own_browser = trusted_browser(app, colleague)
    stranger = app.test_client()
    guess_wrong(stranger, colleague.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    assert sign_in(own_browser, colleague.email) == 302
    assert sign_in(stranger, colleague.email, "another-wrong-guess") == 429


def test_wrong_guesses_from_a_trusted_browser_past_its_limit_are_throttled_for_that_browser_only(app, make):
    user = make.user("auditor")
    shared_pc = trusted_browser(app, user)
    guess_wrong(shared_pc, user.email, app.config["LOGIN_MAX_FAILURES_PER_DEVICE"])
    page = shared_pc.post("/sign-in", data={"email": user.email, "password": "a-wrong-guess-123"})
    assert page.status_code == 429 and "Too many failed attempts from this browser" in page.text
    assert sign_in(app.test_client(), user.email) == 302  # the account itself is not paused


def test_right_password_from_a_trusted_browser_signs_in_even_after_its_own_wrong_guesses(app, make):
    user = make.user("auditor")
    own_browser = trusted_browser(app, user)
    limit = app.config["LOGIN_MAX_FAILURES_PER_DEVICE"]
    guess_wrong(own_browser, user.email, limit)
    for _ in range(3):  # past the limit wrong guesses are refused as too many, and still counted
        assert sign_in(own_browser, user.email, "a-wrong-guess-123") == 429
    device = auth.trusted_device(user, own_browser.get_cookie(DEVICE, path="/sign-in").value)
    counted = select(func.count(LoginAttempt.id)).where(LoginAttempt.device == device)
    assert db.session.execute(counted).scalar_one() == limit + 3
    assert sign_in(own_browser, user.email) == 302
    assert db.session.execute(counted).scalar_one() == 0  # success clears that browser's failures


def test_a_device_cookie_for_one_account_does_not_vouch_for_another(app, make):
    mine, theirs = make.user("auditor"), make.user("auditor")
    browser = trusted_browser(app, mine)
    guess_wrong(app.test_client(), theirs.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    assert sign_in(browser, theirs.email) == 429
    assert sign_in(browser, mine.email) == 302


def test_one_browser_remembers_each_account_it_signed_in_to(app, make):
    first, second = make.user("auditor"), make.user("finance")
    browser = trusted_browser(app, first)
    assert sign_in(browser, second.email) == 302
    browser.post("/sign-out")
    for user in (first, second):
        guess_wrong(app.test_client(), user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
        assert sign_in(browser, user.email) == 302
        browser.post("/sign-out")


def test_a_tampered_or_forged_device_cookie_is_not_trusted(app, make):
    user = make.user("auditor")
    genuine = trusted_browser(app, user).get_cookie(DEVICE, path="/sign-in").value
    guess_wrong(app.test_client(), user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    payload, _, signature = genuine.rpartition(".")
    for value in (payload + "." + signature[::-1], "not-a-cookie", payload):
        browser = app.test_client()
        browser.set_cookie(DEVICE, value, path="/sign-in")
        assert sign_in(browser, user.email) == 429, value


def test_a_device_cookie_past_its_lifetime_is_not_trusted(app, make):
    user = make.user("auditor")
    browser = trusted_browser(app, user)
    guess_wrong(app.test_client(), user.email, app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    app.config["DEVICE_COOKIE_DAYS"] = 0
    assert sign_in(browser, user.email) == 429


def test_the_device_cookie_is_long_lived_http_only_strict_and_sent_only_to_sign_in(app, make):
    user = make.user("auditor")
    response = app.test_client().post("/sign-in", data={"email": user.email, "password": PASSWORD})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(DEVICE + "="))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/sign-in" in header
    assert f"Max-Age={app.config['DEVICE_COOKIE_DAYS'] * 86400}" in header


def test_each_sign_in_gives_the_browser_a_fresh_device_nonce(app, make):
    user = make.user("auditor")
    browser = trusted_browser(app, user)
    before = browser.get_cookie(DEVICE, path="/sign-in").value
    assert sign_in(browser, user.email) == 302
    after = browser.get_cookie(DEVICE, path="/sign-in").value
    assert after != before
    assert auth.trusted_device(user, after) != auth.trusted_device(user, before)


def test_failures_from_a_trusted_browser_are_recorded_against_that_browser(app, make):
    user = make.user("auditor")
    browser = trusted_browser(app, user)
    guess_wrong(browser, user.email, 1)
    guess_wrong(app.test_client(), user.email, 1)
    devices = db.session.execute(select(LoginAttempt.device)).scalars().all()
    cookie = browser.get_cookie(DEVICE, path="/sign-in").value
    assert sorted(devices, key=str) == sorted([auth.trusted_device(user, cookie), None], key=str)


def test_the_api_has_no_device_cookie_so_token_requests_stay_throttled_per_account(app, make):
    user = make.user("auditor")
    trusted_browser(app, user)
    api = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        api.post("/api/v1/tokens", json={"email": user.email, "password": "a-wrong-guess-123"})
    response = api.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
