import pytest

pytestmark = pytest.mark.browser


def test_sign_in_page_and_guide_have_no_accessibility_violations(journey):
    journey.goto("/sign-in")
    journey.goto("/how-the-fund-works")
    journey.shot("how-the-fund-works")
    journey.assert_accessible()


def test_wrong_password_shows_error_summary_linked_to_the_field(journey):
    journey.goto("/sign-in")
    journey.page.get_by_label("Email address").fill("auditor@demo.test")
    journey.page.get_by_label("Password", exact=True).fill("not-the-password")
    journey.page.get_by_role("button", name="Sign in").click()
    journey.check()
    summary = journey.page.locator(".govuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    journey.shot("sign-in-error")
    journey.assert_accessible()


def test_axe_core_is_running_and_reports_a_violation(journey):
    """Guards the harness itself: a page with an unlabelled field must fail axe-core."""
    from .conftest import AXE_RULES, AXE_RUN

    journey.goto("/sign-in")
    journey.page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    found = journey.page.evaluate(AXE_RUN, AXE_RULES)
    assert [v["id"] for v in found] == ["label"]
    journey.assert_accessible()  # the page as served was checked on arrival, and passed
