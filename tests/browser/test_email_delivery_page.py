"""The administrator finds an email that could not be sent on "Email delivery", tries it
again, and the page passes axe-core and fits a 320 pixel screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from fundflow.extensions import db
from fundflow.models import OutboundEmail
from fundflow.services.notifications import queue_email
from fundflow.services.unit_of_work import transaction

pytestmark = pytest.mark.browser

ADDRESS = "no-such-head@school.example.test"


def _a_failed_email() -> int:
    """An email the mail server refused for good (arranged directly: sending the outbox here
    would also send the demo's emails, which other journeys read)."""
    with transaction():
        email = queue_email(
            to_address=ADDRESS, kind="bid_approved", subject="Bid LSIF-2026-0001 approved", body="Text"
        )
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email.id)
        .values(status="failed", attempts=1, last_error="SMTP 550: recipient refused: 5.1.1 No such mailbox")
    )
    db.session.commit()
    return email.id


def test_admin_tries_an_email_that_could_not_be_sent_again(journey, in_app):
    in_app(_a_failed_email)
    admin = journey
    admin.sign_in("admin@demo.test")
    admin.page.set_viewport_size({"width": 320, "height": 640})

    admin.goto("/admin/email-delivery")

    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Email delivery")
    row = admin.page.get_by_role("row").filter(has_text=ADDRESS)
    expect(row).to_contain_text("No such mailbox")
    assert admin.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    admin.assert_accessible()

    row.get_by_role("button", name=f"Try again the email to {ADDRESS}").click()

    expect(admin.page.locator(".govuk-notification-banner")).to_contain_text(
        f"The email to {ADDRESS} is back"
    )
    expect(admin.page.get_by_role("row").filter(has_text=ADDRESS)).to_have_count(0)
    admin.assert_accessible()
