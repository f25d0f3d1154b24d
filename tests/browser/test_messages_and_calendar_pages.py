"""A headteacher reads their messages and marks one read, chooses the daily email for a
kind of message, and makes a calendar link; every page passes axe-core and fits a 320 pixel
screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import User
from fundflow.services.notifications import Message, notify

pytestmark = pytest.mark.browser

PERSON = "head7@demo.test"


def _two_messages() -> None:
    user = db.session.execute(select(User).where(User.email == PERSON)).scalar_one()
    notify(
        [user],
        Message("due_soon", "Interim impact report due soon", "It is due in 14 days.", "/headteacher/"),
    )
    notify([user], Message("claim_paid", "Backfill claim paid", "Line one\n\nLine two", "/headteacher/"))
    db.session.commit()


def _fits(journey) -> None:
    assert journey.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_headteacher_reads_messages_chooses_the_daily_email_and_makes_a_calendar_link(journey, in_app):
    in_app(_two_messages)
    head = journey
    head.sign_in(PERSON)
    head.page.get_by_role("link", name=re.compile(r"^Messages \(\d+\)$")).first.click()
    head.check()
    head.page.set_viewport_size({"width": 320, "height": 640})
    expect(head.page.get_by_role("heading", level=1)).to_have_text("Messages")
    _fits(head)
    head.click(re.compile(r"^Mark as read\s*: Backfill claim paid$"))
    expect(head.page.locator(".govuk-notification-banner")).to_contain_text(
        "Marked as read: Backfill claim paid"
    )

    head.follow("Email choices")
    head.page.get_by_role("group", name="A report or claim deadline is due within 14 days").get_by_label(
        "Put it in my daily email at 7am"
    ).check()
    head.click("Save your choices")
    expect(head.page.locator(".govuk-notification-banner")).to_contain_text("Your email choices are saved")
    _fits(head)

    head.follow("Calendar feed")
    head.click("Make a calendar link")
    expect(head.page.locator("#calendar-link")).to_contain_text("/calendar/")
    _fits(head)
    head.click("Turn off the link")
    expect(head.page.locator(".govuk-notification-banner")).to_contain_text("turned off")
    head.assert_accessible()
