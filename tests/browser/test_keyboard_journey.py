"""A headteacher signs in, drafts and submits a bid with the keyboard alone: Tab to move,
typing into the focused field, Space for radios and checkboxes, Enter for links and
buttons, the skip link and the error summary's links. Every stop must show its focus."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from fundflow.services.clock import today

from .conftest import PASSWORD
from .helpers import FUND, expect_banner, reference_in

pytestmark = pytest.mark.browser


def type_into(journey, locator, text: str) -> None:
    """Tab to a field and type into it."""
    journey.tab_to(locator)
    journey.page.keyboard.type(text)


def activate(journey, locator) -> None:
    """Tab to a link or button and press Enter on it."""
    journey.tab_to(locator)
    journey.press_and_load("Enter")


def skip_to_main_content(journey) -> None:
    """The first Tab on a page reaches the skip link; Enter moves the focus to the content."""
    page = journey.page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert journey.is_focused(skip)
    journey.assert_focus_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_submit_journey_with_keyboard_only(journey, in_app):
    due = in_app(today) + timedelta(days=150)
    lead = journey
    page = lead.page
    lead.goto("/sign-in")
    type_into(lead, page.get_by_label("Email address"), "headteacher@demo.test")
    type_into(lead, page.get_by_label("Password", exact=True), PASSWORD)
    lead.press_and_load("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your bids")

    skip_to_main_content(lead)
    activate(lead, page.get_by_role("button", name="Start a new bid"))
    lead.tab_to(page.get_by_label(FUND))
    page.keyboard.press("Space")
    expect(page.get_by_label(FUND)).to_be_checked()
    type_into(lead, page.get_by_label("Title of the bid"), "Maths reasoning with Chalvey Grove")
    activate(lead, page.get_by_role("button", name="Start the bid"))
    expect_banner(page, "started")
    reference = reference_in(page.locator(".govuk-notification-banner--success").inner_text())

    activate(lead, page.get_by_role("link", name="Need and priority areas"))
    type_into(lead, page.get_by_label("What need will the support meet?"), "Year 4 reasoning scores are low.")
    type_into(lead, page.get_by_label("Priority areas"), "Mathematics")
    activate(lead, page.get_by_role("button", name="Save and continue"))
    expect_banner(page, "Need and priority areas saved")

    activate(lead, page.get_by_role("link", name="Partner schools"))
    type_into(lead, page.get_by_label("School's URN, school number or SEED code"), "137102")
    lead.tab_to(page.get_by_label("Supporting: it gives support"))
    page.keyboard.press("Space")
    activate(lead, page.get_by_role("button", name="Save and continue"))
    expect_banner(page, "Partner schools saved")

    activate(lead, page.get_by_role("link", name="Activities and costs"))
    type_into(lead, page.get_by_label("What will happen"), "Joint maths planning")
    type_into(lead, page.get_by_label("Who will be released"), "Maths lead")
    type_into(lead, page.get_by_label("Days", exact=True), "2")
    type_into(lead, page.get_by_label("Daily rate for backfill, in pounds"), "280")
    for legend in ("When the activity starts", "When the activity ends"):
        boxes = page.get_by_role("group", name=legend)
        for label, value in (("Day", due.day), ("Month", due.month), ("Year", due.year)):
            type_into(lead, boxes.get_by_label(label), str(value))
    activate(lead, page.get_by_role("button", name="Save and continue"))
    expect_banner(page, "The total requested is £560.00")

    activate(lead, page.get_by_role("link", name="Measures of impact"))
    type_into(lead, page.get_by_label("Indicator"), "Pupils at the expected standard in reasoning")
    type_into(lead, page.get_by_label("Unit"), "%")
    type_into(lead, page.get_by_label("Baseline"), "55")
    type_into(lead, page.get_by_label("Target"), "70")
    type_into(lead, page.get_by_label("Day"), str(due.day))
    type_into(lead, page.get_by_label("Month"), str(due.month))
    type_into(lead, page.get_by_label("Year"), str(due.year))
    activate(lead, page.get_by_role("button", name="Save and continue"))
    expect_banner(page, "Measures saved")

    # The fund needs the partner's endorsement first; the partner uses a mouse.
    partner = lead.person("partner@demo.test")
    partner.follow(f"Endorse this bid for {reference}")
    partner.click("Endorse bid")
    expect_banner(partner.page, f"You have endorsed bid {reference}")

    # Check answers; send without the declaration, follow the error summary's link to the
    # box, tick it with Space, and submit.
    activate(lead, page.get_by_role("link", name="Check your answers and submit"))
    activate(lead, page.get_by_role("button", name="Submit bid"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    lead.shot("18-keyboard-error-summary")
    error_link = summary.get_by_role("link", name="Confirm the declaration to send the bid")
    lead.tab_to(error_link)
    page.keyboard.press("Enter")
    declaration = page.get_by_label(re.compile("I confirm that the information in this bid is correct"))
    expect(declaration).to_be_focused()
    lead.assert_focus_visible()
    page.keyboard.press("Space")
    expect(declaration).to_be_checked()
    lead.tab_to(page.get_by_role("button", name="Submit bid"))
    lead.shot("19-keyboard-submit-focused")
    lead.press_and_load("Enter")
    expect(page.locator(".govuk-panel")).to_contain_text("Bid submitted")
    expect(page.locator(".govuk-panel")).to_contain_text(reference)
    lead.shot("20-keyboard-submitted")
    journey.assert_accessible()
