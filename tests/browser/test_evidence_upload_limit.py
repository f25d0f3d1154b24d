"""An evidence file over the limit, chosen in a real browser, gets a GOV.UK error on the
claim form (it used to give Chromium "This site can't be reached": the server refused the
request before reading it and closed the connection)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim

from .helpers import heading

pytestmark = pytest.mark.browser


def _approved_bid(in_app) -> tuple[str, int]:
    """The demo's approved bid led by Upton Lea, and how many claims it has."""

    def find():
        bid = db.session.execute(
            select(Application).where(Application.title == "Reading fluency partnership")
        ).scalar_one()
        assert bid.status == "approved"
        claims = db.session.execute(
            select(func.count(BackfillClaim.id)).where(BackfillClaim.application_id == bid.id)
        ).scalar_one()
        return bid.reference, claims

    return in_app(find)


def test_a_6_mb_evidence_file_gets_a_gov_uk_error_on_the_claim_form(journey, in_app, tmp_path):
    reference, claims_before = _approved_bid(in_app)
    big = tmp_path / "scanned-invoice.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024))

    lead = journey.person("headteacher@demo.test")
    lead.goto(f"/headteacher/bids/{reference}/claims/new")
    lead.page.get_by_label("Days released").fill("2")
    lead.page.get_by_label("Evidence of the backfill cost").set_input_files(big)
    lead.click("Send claim")

    # The form came back (not a browser error page), with the GOV.UK error summary ...
    expect(heading(lead.page)).to_be_visible()
    summary = lead.page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    summary_link = summary.get_by_role("link", name="The selected file must be smaller than 5 MB")
    expect(summary_link).to_have_attribute("href", "#evidence")
    # ... and the message on the file field itself.
    expect(lead.page.locator("#evidence-error")).to_contain_text(
        "The selected file must be smaller than 5 MB"
    )
    expect(lead.page.get_by_label("Days released")).to_have_value("2")  # the other answers are kept
    lead.shot("evidence-too-large")

    assert _approved_bid(in_app)[1] == claims_before
    journey.assert_accessible()
