"""An administrator adds a person; the person sets their own password with the one-time
link and signs in. Every page on the way is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import expect_banner, heading

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-password-only-i-know"


def test_a_new_person_sets_their_own_password_from_the_admins_link(journey):
    administrator = journey.person("admin@demo.test")
    administrator.goto("/admin/users/new")
    administrator.page.get_by_label("Email address").fill("new.auditor@demo.test")
    administrator.page.get_by_label("Full name").fill("Nia Newcomer")
    administrator.page.get_by_label("Auditor").check()
    administrator.click("Create account")
    expect(administrator.page.locator(".govuk-panel")).to_contain_text("Account created")
    link = administrator.page.locator("#set-password-link").inner_text().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/set-password/[A-Za-z0-9_-]{40,}", link)
    administrator.shot("admin-set-password-link")
    administrator.page.reload()  # shown once: the page now offers a new link instead
    administrator.check()
    expect(administrator.page.locator("#set-password-link")).to_have_count(0)
    expect(administrator.page.get_by_text("has already been shown")).to_be_visible()

    administrator.follow("Go to the account of Nia Newcomer")
    expect(administrator.page.get_by_text("Nia Newcomer has not set a password yet.")).to_be_visible()

    person = journey  # a browser nobody has signed in with
    person.page.goto(link)
    person.check()
    expect(heading(person.page)).to_have_text("Set your password")
    person.page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    person.page.get_by_label("Enter the password again").fill("not-the-same-password")
    person.click("Set password")
    expect(person.page.locator(".govuk-error-summary")).to_contain_text("The passwords do not match")
    person.page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    person.page.get_by_label("Enter the password again").fill(NEW_PASSWORD)
    person.click("Set password")
    expect_banner(person.page, "Your password has been set")

    person.page.get_by_label("Email address").fill("new.auditor@demo.test")
    person.page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    person.click("Sign in")
    expect(person.page.get_by_text("Signed in as")).to_be_visible()

    person.page.goto(link)  # the link worked once
    person.check()
    expect(heading(person.page)).to_have_text("This link does not work")
    journey.assert_accessible()
