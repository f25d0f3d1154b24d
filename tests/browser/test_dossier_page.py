"""A bid's dossier in a real browser with axe-core: the auditor opens it from the bid's page,
every event of the trail is shown checked, the page passes axe, prints without the site's
header, and a full-page screenshot (test-artifacts/screenshots/dossier.png) to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application

pytestmark = pytest.mark.browser


def test_the_auditor_reads_a_bids_dossier(journey, in_app):
    reference = in_app(
        lambda: db.session.execute(
            select(Application.reference).where(Application.title == "Reading fluency partnership")
        ).scalar_one()
    )
    auditor = journey.person("auditor@demo.test")
    auditor.goto(f"/auditor/bids/{reference}")
    auditor.page.get_by_role("link", name=f"Dossier of {reference}").click()
    auditor.check()
    page = auditor.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Reading fluency partnership")
    for section in ("The bid", "Versions", "Reviews", "Decision and countersignature", "Audit trail"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    rows = page.locator("table.app-trail tbody tr")
    assert rows.count() > 5
    expect(page.locator("table.app-trail .app-check--ok")).to_have_count(rows.count())
    expect(page.get_by_role("link", name=re.compile(f"^Download as PDF.*{reference}"))).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".govuk-header")).to_be_hidden()
    page.emulate_media(media="screen")
    auditor.shot("dossier")
    journey.assert_accessible()
