"""The auditor reads a closed bid's whole record and audit trail, the fund's ledger and the
hash-chain check, and is offered nothing that changes anything."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

#: What the demo did to "Attendance improvement peer review", in order.
DEMO_CLOSED_BID_EVENTS = [
    "Bid started",
    "Bid endorsed",
    "Bid submitted",
    "Review started",
    "Review recorded",
    "Award approved",
    "Interim impact report waived",
    "Backfill claimed",
    "Claim verified",
    "Payment recorded",
    "Claim deadline met",
    "Claim deadline met",
    "Delivery finished",
    "Final impact report received",
    "Impact report sent",
    "Impact report evaluated",
    "Interim impact report waived",
    "Interim impact report waived",
    "Bid closed",
]

#: Forms on the page that could change something: anything but a GET form or signing out.
CHANGING_FORMS = """() => Array.from(document.querySelectorAll("form"))
  .filter(f => f.method.toLowerCase() !== "get" && !f.action.endsWith("/sign-out"))
  .map(f => f.outerHTML.slice(0, 200))"""
#: Buttons outside those harmless forms (a button anywhere else could act on something),
#: but for the menu's show/hide toggle on narrow screens.
STRAY_BUTTONS = """() => Array.from(document.querySelectorAll("button, input[type=submit], [role=button]"))
  .filter(b => !b.classList.contains("govuk-service-navigation__toggle"))
  .filter(b => {
    const form = b.closest("form");
    return !form || (form.method.toLowerCase() !== "get" && !form.action.endsWith("/sign-out"));
  })
  .map(b => b.outerHTML.slice(0, 200))"""


def assert_read_only(auditor) -> None:
    assert auditor.page.evaluate(CHANGING_FORMS) == [], auditor.page.url
    assert auditor.page.evaluate(STRAY_BUTTONS) == [], auditor.page.url


def test_auditor_reads_the_whole_timeline(journey):
    auditor = journey
    auditor.sign_in("auditor@demo.test")
    expect(auditor.page.get_by_role("heading", level=1)).to_have_text("Applications")
    assert_read_only(auditor)

    auditor.page.get_by_label("Status").select_option(label="Closed")
    auditor.click("Filter applications")
    row = auditor.page.get_by_role("row").filter(has_text="Attendance improvement peer review")
    expect(row).to_contain_text("Closed")
    assert_read_only(auditor)
    row.get_by_role("link").click()
    auditor.check()

    page = auditor.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance improvement peer review")
    expect(page.locator("main p .govuk-tag").first).to_have_text("Closed")
    for heading in ("The bid", "Decision and money", "Versions", "Reviews", "Claims and payments"):
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    record = page.locator("main")
    expect(record).to_contain_text("Chalvey Grove Primary School (URN 137102), supporting, endorsed")
    expect(record).to_contain_text("Lee Liaison (liaison@demo.test)")
    expect(record).to_contain_text("SLG-PAY-0003")
    expect(record).to_contain_text("Achieved")

    # The audit trail: every event about the bid, oldest first, each chained to the last.
    events = page.locator("ol.app-timeline > li")
    expect(events.locator("h3")).to_have_text(DEMO_CLOSED_BID_EVENTS)
    expect(record).to_contain_text(f"{len(DEMO_CLOSED_BID_EVENTS)} events about this bid, oldest first")
    numbers = [int(n) for n in re.findall(r"Event (\d+) ·", " ".join(events.all_inner_texts()))]
    assert len(numbers) == len(DEMO_CLOSED_BID_EVENTS)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    expect(events.nth(2)).to_contain_text(re.compile("Status: Draft .*Submitted"))
    expect(events.last).to_contain_text(re.compile("Status: Monitoring impact .*Closed"))
    auditor.shot("15-auditor-record")
    auditor.shot("15-auditor-timeline", events.first.locator(".."))
    assert_read_only(auditor)

    # The check of the whole hash chain, then the fund's ledger.
    auditor.follow("check the whole chain")
    expect(page.locator(".govuk-panel")).to_contain_text("The audit trail is intact")
    auditor.shot("16-auditor-chain-verified")
    assert_read_only(auditor)
    auditor.follow("Funds, ledgers and exports")
    assert_read_only(auditor)
    auditor.follow(re.compile("^Slough School Improvement Fund"))
    expect(page.get_by_role("heading", level=2, name="Ledger")).to_be_visible()
    expect(record).to_contain_text("£150,000.00")
    auditor.shot("17-auditor-ledger")
    assert_read_only(auditor)
    journey.assert_accessible()
