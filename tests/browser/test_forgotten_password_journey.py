"""A person who has forgotten their password asks for a link from the sign-in page, finds
it in their email (the outbox), chooses a new password and signs in; an address with no
account gets the same page and no email. Every page on the way is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import OutboundEmail
from fundflow.services import admin

from .helpers import expect_banner, heading

pytestmark = pytest.mark.browser

EMAIL = "forgetful.auditor@demo.test"
NEW_PASSWORD = "a-password-i-will-remember"


def _make_forgetful_auditor() -> None:
    """A person of their own: the demo accounts keep their passwords for the other journeys."""
    admin.create_user(
        None, admin.UserInput(EMAIL, "Fran Forgetful", ["auditor"], password="a-password-now-forgotten")
    )


def _emails_to(address: str) -> list[str]:
    return list(
        db.session.execute(
            select(OutboundEmail.body)
            .where(OutboundEmail.to_address == address, OutboundEmail.kind == "reset_password")
            .order_by(OutboundEmail.id)
        ).scalars()
    )


def ask_for_a_link(person, email: str) -> str:
    """From the sign-in page; the confirmation page's text."""
    person.goto("/sign-in")
    person.follow("Forgotten your password?")
    expect(heading(person.page)).to_have_text("Forgotten your password?")
    person.page.get_by_label("Email address").fill(email)
    person.click("Send me a link")
    expect(heading(person.page)).to_have_text("Check your email")
    return person.page.locator("main").inner_text()


def test_a_person_resets_a_forgotten_password_from_the_emailed_link(journey, in_app):
    in_app(_make_forgetful_auditor)
    person = journey

    person.goto("/forgotten-password")
    person.click("Send me a link")  # nothing typed
    expect(person.page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")

    stranger = ask_for_a_link(person, "nobody.at.all@demo.test")
    answer = ask_for_a_link(person, EMAIL)
    assert answer.replace(EMAIL, "ADDRESS") == stranger.replace("nobody.at.all@demo.test", "ADDRESS")
    person.shot("forgotten-password-check-your-email")

    (body,) = in_app(lambda: _emails_to(EMAIL))
    assert in_app(lambda: _emails_to("nobody.at.all@demo.test")) == []
    link = re.search(r"http://127\.0\.0\.1:\d+/set-password/[A-Za-z0-9_-]{40,}", body).group(0)

    person.page.goto(link)
    person.check()
    expect(heading(person.page)).to_have_text("Reset your password")
    person.page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    person.page.get_by_label("Enter the password again").fill(NEW_PASSWORD)
    person.click("Set password")
    expect_banner(person.page, "Your password has been set")

    person.page.get_by_label("Email address").fill(EMAIL)
    person.page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    person.click("Sign in")
    expect(person.page.get_by_text("Signed in as")).to_be_visible()

    person.page.goto(link)  # the link worked once
    person.check()
    expect(heading(person.page)).to_have_text("This link does not work")
    expect(person.page.get_by_role("link", name="get a new link by email")).to_be_visible()
    journey.assert_accessible()
