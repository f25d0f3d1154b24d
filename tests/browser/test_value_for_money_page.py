"""The value-for-money page in a real browser with axe-core: the demo's live fund, its
charts loaded as images, a filter refused with the GOV.UK error summary, and a full-page
screenshot (test-artifacts/screenshots/value-for-money.png) to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Fund

pytestmark = pytest.mark.browser


def _live_fund(in_app) -> int:
    """The fund of the demo's live award (the one with payments and reports)."""

    def find():
        return db.session.execute(
            select(Fund.id)
            .join(Application, Application.fund_id == Fund.id)
            .where(Application.title == "Reading fluency partnership")
        ).scalar_one()

    return in_app(find)


def test_the_auditor_reads_what_the_fund_bought_and_whether_it_worked(journey, in_app):
    fund_id = _live_fund(in_app)
    auditor = journey.person("auditor@demo.test")
    auditor.goto(f"/auditor/funds/{fund_id}")
    auditor.page.get_by_role("link", name="What the fund bought, and did it work").click()
    auditor.check()
    page = auditor.page
    expect(page.get_by_role("heading", level=1)).to_have_text("What the fund bought, and did it work?")
    for section in ("Money", "What it bought", "Did it work", "Was it targeted", "Was it run well"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    images = page.locator("figure img")
    expect(images.first).to_be_visible()
    count = images.count()  # five, with spend by priority area (the report gives money by area)
    assert count == 5, count
    for index in range(count):
        image = images.nth(index)
        assert image.get_attribute("alt"), "each chart states its finding"
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), image.get_attribute("src")
    auditor.shot("value-for-money")
    journey.assert_accessible()


def test_a_wrong_filter_is_shown_in_the_error_summary(journey, in_app):
    fund_id = _live_fund(in_app)
    officer = journey.person("liaison@demo.test")
    officer.goto(f"/reports/funds/{fund_id}/value-for-money")
    officer.page.get_by_label("From").fill("31/02/2026")
    officer.click("Show figures")
    officer.check()
    summary = officer.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("From must be a real date written as year-month-day")
    officer.shot("value-for-money-wrong-filter")
    journey.assert_accessible()
