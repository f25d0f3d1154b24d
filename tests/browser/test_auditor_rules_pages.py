"""The pages that show the auditor's money rules, in a real browser with axe-core: the
demo's claim flagged as possible double funding (liaison claim page and queue), the claim
form naming the person released, a refused claim with its errors on their fields, the fund
form with the end of delivery, and the payments list saying what a reversal reverses."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim

from .helpers import fill_date, tiny_pdf

pytestmark = pytest.mark.browser


def _flagged_claim(in_app) -> tuple[int, str, str]:
    """The demo's claim for Dan Brook on the live bid, overlapping his claim on another bid."""

    def find():
        claim = db.session.execute(
            select(BackfillClaim).where(BackfillClaim.overlaps_claim_id.is_not(None))
        ).scalar_one()
        return claim.id, claim.application.reference, claim.overlaps_claim.application.reference

    return in_app(find)


def _live_bid(in_app) -> str:
    def find():
        return db.session.execute(
            select(Application.reference).where(Application.title == "Reading fluency partnership")
        ).scalar_one()

    return in_app(find)


def test_possible_double_funding_is_shown_to_the_liaison_officer(journey, in_app):
    claim_id, reference, other_reference = _flagged_claim(in_app)
    officer = journey.person("liaison@demo.test")
    officer.goto("/liaison/?section=claims")
    row = officer.page.get_by_role("row").filter(has_text=f"Claim {claim_id}")
    expect(row).to_contain_text("Possible double funding")
    officer.goto(f"/liaison/claims/{claim_id}")
    warning = officer.page.locator(".govuk-warning-text")
    expect(warning).to_contain_text("Possible double funding: Dan Brook")
    expect(warning).to_contain_text(other_reference)
    officer.shot("possible-double-funding")
    assert reference != other_reference
    journey.assert_accessible()


def test_a_claim_before_the_award_shows_its_errors_on_their_fields(journey, in_app, tmp_path):
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(tiny_pdf())
    reference = _live_bid(in_app)
    lead = journey.person("headteacher@demo.test")
    lead.goto(f"/headteacher/bids/{reference}/claims/new")
    fill_date(lead.page.get_by_role("group", name="First day staff were released"), date(2025, 11, 3))
    fill_date(lead.page.get_by_role("group", name="Last day staff were released"), date(2025, 11, 7))
    lead.page.get_by_label("Their role").fill("Deputy headteacher")
    lead.page.get_by_label("Days released").fill("6")
    lead.page.get_by_label("Amount claimed, in pounds").fill("300")
    lead.page.get_by_label("Evidence of the backfill cost").set_input_files(invoice)
    lead.click("Send claim")
    summary = lead.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("you can only claim for days from then on")
    expect(summary).to_contain_text("Enter the name of the person released")
    expect(summary).to_contain_text("cannot be more than the 5 working days")
    expect(lead.page.locator("#staff_name-error")).to_contain_text("Enter the name of the person released")
    lead.shot("claim-before-approval")
    journey.assert_accessible()


def test_fund_form_and_payments_list_stay_accessible(journey):
    admin = journey.person("admin@demo.test")
    admin.goto("/admin/funds/new")
    expect(admin.page.get_by_role("group", name="Delivery ends on")).to_be_visible()
    finance = journey.person("finance@demo.test")
    finance.goto("/finance/payments")
    finance.goto("/finance/transparency")
    journey.assert_accessible()
