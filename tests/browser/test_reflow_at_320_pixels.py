"""No page scrolls sideways on a screen 320 CSS pixels wide (WCAG 1.4.10 reflow): wide
tables scroll inside their own labelled box, which takes the keyboard focus. The main pages
of every role, and the pages the footer links to, are visited at 320 px and checked with
axe-core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Fund

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
#: How much wider than the window the page is (0 when nothing overflows sideways).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _demo_records() -> dict[str, object]:
    """A demo bid that has claims and impact reports (in monitoring), and its fund."""
    bid = (
        db.session.execute(
            select(Application).where(Application.status == "monitoring").order_by(Application.id)
        )
        .scalars()
        .first()  # the council's (the partnership's has one too)
        or db.session.execute(select(Application).order_by(Application.id.desc())).scalars().first()
    )
    fund = db.session.execute(select(Fund).order_by(Fund.id)).scalars().first()
    return {"reference": bid.reference, "fund": fund.id}


def _overflowing(person, paths: list[str]) -> dict[str, int]:
    person.page.set_viewport_size(NARROW)
    wide = {}
    for path in paths:
        page = person.goto(path)
        assert page.locator("main").count() == 1, path
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            wide[path] = overflow
    return wide


def test_the_main_pages_of_every_role_fit_a_320_pixel_screen(journey, in_app):
    records = in_app(_demo_records)
    ref, fund = records["reference"], records["fund"]
    pages = {
        None: ["/sign-in", "/how-the-fund-works", "/accessibility", "/privacy", "/contact"],
        "headteacher@demo.test": [
            "/headteacher/",
            f"/headteacher/bids/{ref}/view",
            f"/headteacher/bids/{ref}/claims",
            f"/headteacher/bids/{ref}/reports",
        ],
        "liaison@demo.test": [
            "/liaison/",
            "/liaison/?section=claims",
            f"/liaison/bids/{ref}",
        ],
        "finance@demo.test": ["/finance/", "/finance/payments", "/finance/transparency"],
        "auditor@demo.test": [
            "/auditor/",
            f"/auditor/bids/{ref}",
            "/auditor/funds",
            f"/auditor/funds/{fund}",
        ],
        "admin@demo.test": ["/admin/", "/admin/schools", "/admin/funds"],
        "service-admin@demo.test": [
            "/service/organisations",
            "/service/organisations/new",
            "/service/organisations/slough",
        ],
    }
    wide = {}
    for email, paths in pages.items():
        person = journey.person(email) if email else journey
        wide.update(_overflowing(person, paths))
        if email == "auditor@demo.test":
            person.goto(f"/auditor/bids/{ref}")
            person.shot("reflow-320-auditor-record")
        if email == "liaison@demo.test":
            person.goto("/liaison/")
            person.shot("reflow-320-liaison-queue")
    assert wide == {}, f"pages wider than the 320 px window (extra px): {wide}"
    journey.assert_accessible()


def test_a_wide_table_scrolls_in_its_own_box_that_a_keyboard_can_reach(journey):
    liaison = journey.person("liaison@demo.test")
    liaison.page.set_viewport_size(NARROW)
    page = liaison.goto("/liaison/")
    box = page.locator(".app-table-container").first
    assert box.get_attribute("role") == "region" and box.get_attribute("tabindex") == "0"
    assert box.get_attribute("aria-label")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth"), (
        "the queue's table should be wider than 320 px"
    )
    liaison.tab_to(box)  # shows GOV.UK's yellow focus
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=box.element_handle())
    assert page.evaluate(OVERFLOW) <= 0
    journey.assert_accessible()


def test_the_footer_pages_are_reached_from_every_page_and_pass_axe(journey):
    journey.goto("/sign-in")
    for link, heading in (
        ("Accessibility statement", "Accessibility statement for fundflow"),
        ("Privacy", "Privacy notice"),
        ("Contact", "Contact the School Improvement Fund team"),
    ):
        journey.page.locator("footer").get_by_role("link", name=link, exact=True).click()
        journey.check()
        assert journey.page.get_by_role("heading", level=1).inner_text() == heading
        journey.shot(f"footer-{link.split()[0].lower()}")
    journey.assert_accessible()


def test_a_record_prints_without_menus_buttons_or_forms(journey, in_app):
    ref = in_app(_demo_records)["reference"]
    for email, path, name in (
        ("auditor@demo.test", f"/auditor/bids/{ref}", "auditor-record"),
        ("liaison@demo.test", f"/liaison/bids/{ref}", "liaison-bid"),
        ("headteacher@demo.test", f"/headteacher/bids/{ref}/view", "headteacher-bid"),
    ):
        person = journey.person(email)
        page = person.goto(path)
        assert page.locator("form").count() > 0 and page.locator(".govuk-button").count() > 0, path
        page.emulate_media(media="print")
        for hidden in (
            ".govuk-service-navigation",
            ".app-identity",
            "form",
            ".govuk-button",
            ".govuk-footer",
        ):
            shown = page.locator(hidden).evaluate_all(
                "els => els.filter(el => el.offsetParent !== null).length"
            )
            assert shown == 0, f"{hidden} prints on {path}"
        assert page.get_by_role("heading", level=1).is_visible()
        overflow = page.locator(".app-table-container").evaluate_all(
            "els => els.map(el => getComputedStyle(el).overflowX)"
        )
        assert set(overflow) <= {"visible"}, path
        person.shot(f"print-{name}")
