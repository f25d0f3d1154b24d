"""The headteacher's side of issue 12 in a real browser, with axe-core on each page: the
activities task asking when each activity starts and ends (refused once, so its error
summary is checked too), a partner headteacher declining to endorse with a reason and the
lead seeing it, and an award's next due item on the dashboard and its monitoring schedule
on the bid page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Application, Fund
from fundflow.services import applications, auth, lifecycle
from fundflow.services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from fundflow.services.clock import today

from .helpers import expect_banner, fill_date, group

pytestmark = pytest.mark.browser

LEAD = "headteacher@demo.test"
PARTNER = "partner@demo.test"
REASON = "Our maths lead is on leave next term, so we cannot release her."


def _draft(title: str) -> str:
    """Arrange, through the services, a complete draft from Upton Lea with Chalvey Grove
    supporting (not yet endorsed). Returns its reference."""
    lead = auth.user_by_email(LEAD)
    fund = db.session.execute(select(Fund).order_by(Fund.id)).scalars().first()
    bid = applications.create_draft(
        lead,
        BidDetails(
            fund_id=fund.id,
            title=title,
            need="Reasoning in Year 4 is below the local average.",
            priority_areas=["Mathematics"],
            partners=[PartnerInput(urn="137102", role="supporting")],
            activities=[
                ActivityInput(
                    description="Joint planning", staff_role="Maths lead", days="2", daily_rate_pence=280_00
                )
            ],
            measures=[
                MeasureInput(
                    indicator="Pupils at the expected standard",
                    unit="%",
                    baseline="55",
                    target="70",
                    due_on=(today() + timedelta(days=150)).isoformat(),
                )
            ],
        ),
    )
    return bid.reference


def _award(title: str) -> str:
    """A bid taken to an approved award, so that it has its monitoring schedule."""
    reference = _draft(title)
    bid = db.session.execute(select(Application).where(Application.reference == reference)).scalar_one()
    officer = auth.user_by_email("liaison@demo.test")
    lifecycle.perform(bid, auth.user_by_email(PARTNER), lifecycle.ActionInput(action="endorse"))
    lifecycle.perform(bid, auth.user_by_email(LEAD), lifecycle.ActionInput(action="submit"))
    lifecycle.perform(bid, officer, lifecycle.ActionInput(action="start_review"))
    lifecycle.perform(bid, officer, lifecycle.ActionInput(action="approve"))
    return reference


def test_the_activities_task_asks_when_each_activity_starts_and_ends(journey, in_app):
    reference = in_app(lambda: _draft("Reasoning with planned dates"))
    start = in_app(today) + timedelta(days=20)
    lead = journey.person(LEAD)
    lead.goto(f"/headteacher/bids/{reference}/activities")
    lead.click("Save and continue")  # the saved activity has no dates yet: refused
    summary = lead.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date the activity starts")
    expect(summary).to_contain_text("Enter the date the activity ends")
    lead.shot("activity-dates-required")

    row = group(lead.page, "Activity 1")
    fill_date(group(row, "When the activity starts"), start)
    fill_date(group(row, "When the activity ends"), start - timedelta(days=1))
    lead.click("Save and continue")  # ends before it starts: refused on the end date
    expect(summary).to_contain_text("The activity must end on or after the day it starts")
    fill_date(group(row, "When the activity ends"), start + timedelta(days=30))
    lead.click("Save and continue")
    expect_banner(lead.page, "Activities saved")

    lead.goto(f"/headteacher/bids/{reference}/view")
    expect(lead.page.locator("main")).to_contain_text(f"When: {start.day} ")
    journey.assert_accessible()


def test_a_partner_declines_to_endorse_with_a_reason_and_the_lead_sees_it(journey, in_app):
    reference = in_app(lambda: _draft("Reasoning the partner declines"))
    partner = journey.person(PARTNER)
    partner.goto(f"/headteacher/bids/{reference}/view")
    expect(partner.page.get_by_role("button", name="Endorse bid")).to_be_visible()
    partner.click("Decline to endorse", role="button")
    partner.click("Decline to endorse")  # no reason: refused
    expect(partner.page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason your school is declining to endorse the bid"
    )
    partner.check()
    partner.page.get_by_label("Why is your school declining to endorse this bid?").fill(REASON)
    partner.shot("decline-endorsement")
    partner.click("Decline to endorse")
    expect_banner(partner.page, f"You have declined to endorse bid {reference}")

    lead = journey.person(LEAD)
    lead.goto(f"/headteacher/bids/{reference}")
    said = f"Chalvey Grove Primary School declined to endorse: {REASON}"
    expect(lead.page.locator(".govuk-inset-text")).to_contain_text(said)
    expect(lead.page.locator(".govuk-task-list")).to_contain_text("Declined")
    lead.shot("lead-task-list-declined")
    lead.goto(f"/headteacher/bids/{reference}/view")
    expect(lead.page.locator(".govuk-summary-list").filter(has_text="Supporting")).to_contain_text(said)
    journey.assert_accessible()


def test_an_awards_next_due_item_and_schedule_show_to_the_headteacher(journey, in_app):
    title = "Reasoning award with a schedule"
    reference = in_app(lambda: _award(title))
    lead = journey.person(LEAD)
    lead.goto("/headteacher/")
    row = lead.page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Interim impact report due")
    lead.shot("dashboard-next-due")
    lead.goto(f"/headteacher/bids/{reference}/view")
    schedule = lead.page.get_by_role("table", name="Monitoring schedule")
    expect(schedule).to_contain_text("Final impact report")
    expect(schedule).to_contain_text("Last day to claim backfill")
    expect(schedule.get_by_role("link")).to_have_count(0)
    lead.shot("bid-page-schedule")
    journey.assert_accessible()
