"""The service administrator, in a real browser with axe-core: lands on the organisations,
creates a partnership of councils (first with every answer missing, then properly), and
adds its first administrator, whose one-time set-password link is shown once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_service_administrator_creates_an_organisation_and_its_first_administrator(journey):
    service = journey
    service.sign_in("service-admin@demo.test")
    page = service.page
    expect(page).to_have_url(re.compile(r"/service/organisations$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations")
    expect(page.get_by_role("row").filter(has_text="slough")).to_contain_text("Slough")
    service.shot("service-admin-organisations")

    service.click("Create an organisation")  # a link drawn as a button
    service.click("Create organisation")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the organisation's name")
    expect(summary).to_contain_text("Choose or type at least one member council")
    service.shot("service-admin-organisation-form-errors")

    page.get_by_label("Name", exact=True).fill("The Clyde Partnership")
    page.get_by_label("Short name").fill("clyde")
    page.get_by_label("360Giving funder identifier").fill("GB-LAS-GLG")
    page.get_by_label("Bid reference prefix").fill("CLYDE")
    page.get_by_text("Choose from the").click()
    page.get_by_role("checkbox", name="Glasgow City (Scotland, S12000049)").check()
    page.get_by_role("checkbox", name="Renfrewshire (Scotland, S12000038)").check()
    page.get_by_label("GSS codes of other member councils").fill("S12000045")
    service.check()
    service.shot("service-admin-organisation-form")
    service.click("Create organisation")

    expect(page.get_by_role("heading", level=1)).to_have_text("The Clyde Partnership")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Four terms a year")
    expect(page.locator(".govuk-summary-list")).to_contain_text("East Dunbartonshire (S12000045)")
    page.get_by_label("Email address").fill("admin@clyde.test")
    page.get_by_label("Full name").fill("Cal Clyde")
    service.click("Create administrator account")

    expect(page.locator(".govuk-panel")).to_contain_text("Administrator account created")
    expect(page.locator("#set-password-link")).to_have_text(re.compile(r"/set-password/[A-Za-z0-9_-]{40,}$"))
    expect(page.get_by_role("row").filter(has_text="admin@clyde.test")).to_contain_text("No password yet")
    service.shot("service-admin-first-administrator-link")
    page.reload()
    service.check()
    expect(page.locator("#set-password-link")).to_have_count(0)  # shown once
    service.shot("service-admin-organisation")

    service.goto("/service/organisations/slough")  # its administrator has set a password
    expect(page.get_by_role("row").filter(has_text="admin@demo.test")).to_contain_text("Password set")
    expect(page.get_by_label("Email address")).to_have_count(0)
    service.shot("service-admin-organisation-with-administrator")
    journey.assert_accessible()
