"""Small helpers shared by the browser journeys."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Fund
from fundflow.services import applications, auth, lifecycle
from fundflow.services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from fundflow.services.clock import today

REFERENCE = re.compile(r"[A-Z]+-\d{4}-\d{4}")
FUND = re.compile(r"Slough School Improvement Fund")


def tiny_pdf() -> bytes:
    """A small, valid one-page PDF (catalogue, page tree, page, cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def reference_in(text: str) -> str:
    found = REFERENCE.search(text)
    assert found, f"No bid reference in {text!r}"
    return found.group(0)


def fill_date(group: Locator, day: date) -> None:
    """Fill a GOV.UK date input (Day, Month, Year boxes inside one fieldset)."""
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def expect_banner(page: Page, text: str | re.Pattern) -> None:
    """The green confirmation banner shown after an action."""
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def expect_status(page: Page, status: str) -> None:
    """The status tag just under the page's heading."""
    expect(page.locator("main p .govuk-tag").first).to_have_text(status)


def heading(page: Page) -> Locator:
    """The page's one h1."""
    return page.get_by_role("heading", level=1)


def group(page: Page, name: str | re.Pattern) -> Locator:
    """A fieldset (radios, checkboxes, a date, a repeating row) by its legend."""
    return page.get_by_role("group", name=name)


def submitted_bid(title: str, days: str, daily_rate_pence: int) -> str:
    """Arrange, through the services, a bid from Upton Lea with Chalvey Grove supporting,
    endorsed and submitted. Call it inside the served app (the ``in_app`` fixture).
    Returns the bid's reference."""
    lead = auth.user_by_email("headteacher@demo.test")
    partner = auth.user_by_email("partner@demo.test")
    fund = db.session.execute(select(Fund).order_by(Fund.id)).scalars().first()
    bid = applications.create_draft(
        lead,
        BidDetails(
            fund_id=fund.id,
            title=title,
            need="Curriculum planning in Key Stage 3 needs a shared approach across both schools.",
            priority_areas=["Curriculum"],
            partners=[PartnerInput(urn="137102", role="supporting")],
            activities=[
                ActivityInput(
                    description="Curriculum design days",
                    staff_role="Deputy headteacher",
                    days=days,
                    daily_rate_pence=daily_rate_pence,
                )
            ],
            measures=[
                MeasureInput(
                    indicator="Subjects with a shared curriculum map",
                    unit="subjects",
                    baseline="2",
                    target="8",
                    due_on=(today() + timedelta(days=200)).isoformat(),
                )
            ],
        ),
    )
    lifecycle.perform(bid, partner, lifecycle.ActionInput(action="endorse"))
    lifecycle.perform(bid, lead, lifecycle.ActionInput(action="submit"))
    return bid.reference
