"""The monitoring schedule's pages in a real browser, with axe-core on each: a liaison
officer approves a bid of a fund whose interim report dates they set, changes a due date
and waives the final report (each form refused once, so its error summary is checked too),
the work queue's schedule sections, the auditor's counts and schedule, and the admin's
fund form with the schedule settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from fundflow.services import admin, applications, auth, lifecycle
from fundflow.services.applications import ActivityInput, BidDetails, MeasureInput, PartnerInput
from fundflow.services.clock import today

from .helpers import expect_banner, fill_date, group

pytestmark = pytest.mark.browser

TITLE = "Assessment moderation with officer-set reports"


def bid_in_review_of_an_officer_dated_fund() -> str:
    """Arrange, through the services, a bid in review on a fund whose interim report dates
    the approving officer sets. Returns its reference."""
    day = today()
    fund = admin.create_fund(
        None,
        admin.FundInput(
            name="Officer-dated reports fund",
            financial_year="2026-27",
            budget_pence=50_000_00,
            opens_on=day - timedelta(days=10),
            closes_on=day + timedelta(days=120),
            max_daily_rate_pence=500_00,
            delivery_ends_on=day + timedelta(days=400),
            report_cadence="set_by_officer",
            final_report_weeks=8,
            claim_deadline_weeks=3,
        ),
    )
    lead = auth.user_by_email("headteacher@demo.test")
    bid = applications.create_draft(
        lead,
        BidDetails(
            fund_id=fund.id,
            title=TITLE,
            need="Teacher assessment varies between the two schools.",
            priority_areas=["Assessment"],
            partners=[PartnerInput(urn="137102", role="supporting")],
            activities=[
                ActivityInput(
                    description="Moderation days",
                    staff_role="Assessment lead",
                    days="2",
                    daily_rate_pence=300_00,
                )
            ],
            measures=[
                MeasureInput(
                    indicator="Moderated samples agreed",
                    unit="%",
                    baseline="50",
                    target="90",
                    due_on=(day + timedelta(days=150)).isoformat(),
                )
            ],
        ),
    )
    lifecycle.perform(bid, lead, lifecycle.ActionInput(action="submit"))
    officer = auth.user_by_email("liaison@demo.test")
    lifecycle.perform(bid, officer, lifecycle.ActionInput(action="start_review"))
    return bid.reference


def test_officer_sets_report_dates_changes_a_date_and_waives_the_final_report(journey, in_app):
    reference = in_app(bid_in_review_of_an_officer_dated_fund)
    first_report = today() + timedelta(days=45)
    officer = journey.person("liaison@demo.test")

    officer.goto(f"/liaison/bids/{reference}/decide/approve")
    expect(officer.page.get_by_role("heading", name="Interim report dates")).to_be_visible()
    expect(officer.page.locator("main")).to_contain_text("The final report is due 8 weeks after")
    fill_date(group(officer.page, "First interim report due on (optional)"), first_report)
    officer.shot("approve-with-report-dates")
    officer.click("Approve award")
    expect_banner(officer.page, "approved")
    schedule = officer.page.get_by_role("table", name="Monitoring schedule")
    expect(schedule).to_contain_text("Interim impact report")
    expect(schedule).to_contain_text("Final impact report")

    officer.follow(re.compile(r"^Change due date\W+interim impact report"))
    officer.click("Change due date")  # nothing filled in: refused
    expect(officer.page.locator(".govuk-error-summary")).to_contain_text("Enter the new due date")
    officer.check()
    fill_date(group(officer.page, "New due date"), first_report + timedelta(days=14))
    officer.page.get_by_label("Reason for the change").fill("The school's assessment week moved.")
    officer.click("Change due date")
    expect_banner(officer.page, "is now due")

    officer.follow(re.compile(r"^Waive\W+final impact report"))
    officer.click("Waive")  # no reason: refused
    expect(officer.page.locator(".govuk-error-summary")).to_contain_text("Give the reason")
    officer.check()
    officer.page.get_by_label("Reason for waiving it").fill("Final evidence comes from the trust's review.")
    officer.click("Waive")
    expect_banner(officer.page, "is waived")
    schedule = officer.page.get_by_role("table", name="Monitoring schedule")
    expect(schedule).to_contain_text("Waived")
    expect(schedule).to_contain_text("Final evidence comes from the trust's review.")
    officer.shot("schedule-after-waiving")

    officer.goto("/liaison/?section=due_soon")
    officer.goto("/liaison/?section=overdue_items")
    expect(officer.page.get_by_role("link", name=re.compile("Overdue items"))).to_be_visible()
    journey.assert_accessible()


def test_auditor_sees_report_counts_and_a_bid_schedule(journey, in_app):
    auditor = journey.person("auditor@demo.test")
    auditor.goto("/auditor/funds")
    counts = auditor.page.get_by_role("table", name=re.compile("monitoring schedules"))
    expect(counts).to_contain_text("Sent on time")
    expect(counts).to_contain_text("Overdue, not sent")
    auditor.shot("auditor-report-counts")
    auditor.goto("/auditor/")
    auditor.page.locator("main table a").first.click()
    auditor.check()
    expect(auditor.page.get_by_role("heading", name="Monitoring schedule")).to_be_visible()
    journey.assert_accessible()


def test_fund_form_offers_the_schedule_settings(journey):
    admin_user = journey.person("admin@demo.test")
    admin_user.goto("/admin/funds/new")
    cadence = group(admin_user.page, "When do awards send interim impact reports?")
    expect(cadence.get_by_label("Each half term")).to_be_visible()
    expect(admin_user.page.get_by_label("Weeks from the last measure to the final report")).to_have_value("6")
    admin_user.page.get_by_label("Weeks to claim backfill after an activity ends").fill("40")
    admin_user.click("Create fund")
    expect(admin_user.page.locator(".govuk-error-summary")).to_contain_text("from 0 to 26")
    admin_user.check()
    journey.assert_accessible()
