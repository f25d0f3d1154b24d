"""Long unbroken words wrap: a 10,000-character comment without a space (once 137,841 px
wide on a bid page) and a need, title and activity as long as their limits allow keep
every page that shows them within the window, for each person who sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application
from fundflow.services import applications, auth, lifecycle
from fundflow.services.applications import ActivityInput, BidDetails

from .helpers import submitted_bid

pytestmark = pytest.mark.browser

COMMENT = "Unbroken" * 1250  # 10,000 characters, no space
NEED = "n" * 10_000
TITLE = "T" * 200
ACTIVITY = "a" * 2000
VIEWPORT = {"width": 1024, "height": 768}
NARROW = {"width": 375, "height": 667}

#: How much wider than the window the page is (0 when nothing overflows sideways).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _bid_full_of_long_words() -> str:
    """A bid sent back with a 10,000-character comment, then given a need, title and
    activity of unbroken words as long as their limits allow (changes requested)."""
    reference = submitted_bid("Long words", "2", 250_00)
    officer = auth.user_by_email("liaison@demo.test")
    lead = auth.user_by_email("headteacher@demo.test")
    bid = db.session.execute(select(Application).where(Application.reference == reference)).scalar_one()
    lifecycle.perform(bid, officer, lifecycle.ActionInput(action="start_review"))
    lifecycle.perform(bid, officer, lifecycle.ActionInput(action="request_changes", comment=COMMENT))
    applications.update_draft(
        lead,
        bid,
        BidDetails(
            title=TITLE,
            need=NEED,
            priority_areas=["p" * 200],
            activities=[
                ActivityInput(description=ACTIVITY, staff_role="r" * 200, days="2", daily_rate_pence=250_00)
            ],
        ),
    )
    return reference


@pytest.mark.parametrize("viewport", [VIEWPORT, NARROW], ids=["desktop", "phone"])
def test_pages_with_ten_thousand_character_words_stay_within_the_window(journey, in_app, viewport):
    reference = in_app(_bid_full_of_long_words)
    pages = {
        "headteacher@demo.test": [
            f"/headteacher/bids/{reference}/view",
            f"/headteacher/bids/{reference}",
            f"/headteacher/bids/{reference}/check",
            f"/headteacher/bids/{reference}/versions",
            "/headteacher/",
        ],
        "liaison@demo.test": [f"/liaison/bids/{reference}", "/liaison/?status=changes_requested"],
        "auditor@demo.test": [f"/auditor/bids/{reference}"],
    }
    wide = {}
    for email, paths in pages.items():
        person = journey.person(email)
        person.page.set_viewport_size(viewport)
        for path in paths:
            page = person.goto(path)
            assert page.locator("main").count() == 1, path
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0:
                wide[path] = overflow
    assert wide == {}, f"pages wider than the {viewport['width']} px window (extra px): {wide}"
    journey.assert_accessible()


def test_the_long_comment_is_shown_whole_on_the_bid_page(journey, in_app):
    reference = in_app(_bid_full_of_long_words)
    head = journey.person("headteacher@demo.test")
    page = head.goto(f"/headteacher/bids/{reference}/view")
    assert COMMENT in page.locator("main").inner_text().replace("\n", "")
    assert page.evaluate(OVERFLOW) <= 0
