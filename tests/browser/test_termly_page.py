"""The termly report in a real browser with axe-core: an auditor opens it from the funds
list, chooses a term, the page passes axe, prints without the site's header, and a
full-page screenshot (test-artifacts/screenshots/termly-report.png) to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_auditor_reads_the_termly_report(journey):
    auditor = journey.person("auditor@demo.test")
    auditor.goto("/auditor/funds")
    auditor.page.get_by_role("link", name="Termly report").first.click()
    auditor.check()
    page = auditor.page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schools Forum report:")
    for section in ("Decisions made in the term", "Spend in the term", "Control exceptions in the term"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Download as PDF.* term \d{4}$"))).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".govuk-header")).to_be_hidden()
    page.emulate_media(media="screen")
    auditor.shot("termly-report")
    journey.assert_accessible()
