"""The control exceptions page in a real browser with axe-core: reached from the fund's
page, its counts linking to a filtered list, each row linking to a bid page the person can
open, and a full-page screenshot (test-artifacts/screenshots/control-exceptions.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Fund

pytestmark = pytest.mark.browser


def _fund_with_exceptions(in_app) -> int:
    """The fund of the demo's bid with a waived report and a claim flagged as possible
    double funding."""

    def find():
        return db.session.execute(
            select(Fund.id)
            .join(Application, Application.fund_id == Fund.id)
            .where(Application.title == "Attendance improvement peer review")
        ).scalar_one()

    return in_app(find)


def test_the_auditor_follows_up_the_control_exceptions(journey, in_app):
    fund_id = _fund_with_exceptions(in_app)
    auditor = journey.person("auditor@demo.test")
    auditor.goto(f"/auditor/funds/{fund_id}")
    auditor.page.get_by_role("link", name=re.compile("See the fund's control exceptions")).click()
    auditor.check()
    page = auditor.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Control exceptions")
    rows = page.locator("table.app-table--exceptions tbody tr")
    expect(rows.first).to_be_visible()
    assert "_" not in page.locator("main").inner_text()
    auditor.shot("control-exceptions")
    page.get_by_role("link", name="Impact reports waived").click()
    auditor.check()
    expect(page.get_by_role("heading", name="Impact reports waived", level=2)).to_be_visible()
    for text in rows.locator("td:nth-child(3)").all_inner_texts():
        assert text == "Impact reports waived"
    rows.first.get_by_role("link").click()
    auditor.check()
    assert "/auditor/bids/" in page.url
    journey.assert_accessible()


def test_a_liaison_officer_opens_their_own_bid_page_from_the_list(journey, in_app):
    fund_id = _fund_with_exceptions(in_app)
    officer = journey.person("liaison@demo.test")
    officer.goto(f"/reports/funds/{fund_id}/exceptions")
    officer.check()
    officer.page.locator("table.app-table--exceptions tbody tr").first.get_by_role("link").click()
    officer.check()
    assert "/liaison/bids/" in officer.page.url
    journey.assert_accessible()
