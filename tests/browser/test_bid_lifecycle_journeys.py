"""A bid's whole life through the website, each person in their own browser, and the
four-eyes rule on a large award. axe-core checks every page each person sees."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from playwright.sync_api import expect

from fundflow.services.clock import today

from .helpers import (
    FUND,
    expect_banner,
    expect_status,
    fill_date,
    group,
    heading,
    reference_in,
    submitted_bid,
    tiny_pdf,
)

pytestmark = pytest.mark.browser

LEAD = "headteacher@demo.test"
PARTNER = "partner@demo.test"
LIAISON = "liaison@demo.test"
LIAISON2 = "liaison2@demo.test"
FINANCE = "finance@demo.test"
CHANGE_COMMENT = "Say how the deputy headteacher's classes will be covered on each day."


def open_bid_as_liaison(officer, reference: str) -> None:
    """From the work queue, find the bid by its reference and open it."""
    officer.goto("/liaison/")
    officer.page.get_by_label("School, school number or bid reference").fill(reference)
    officer.click("Apply filters")
    officer.follow(re.compile(f"^{reference}$"))  # the queue's link, not a message naming the bid
    expect(officer.page.locator(".govuk-caption-l")).to_contain_text(reference)


def open_queue_section(officer, tab: str, reference: str) -> None:
    """A tab of the work queue, filtered to one bid."""
    officer.goto("/liaison/?q=" + reference)
    officer.follow(re.compile(f"^{tab}"))


def test_bid_from_draft_to_closed(journey, in_app, tmp_path):
    now = in_app(today)
    lead = journey
    lead.sign_in(LEAD)
    expect(heading(lead.page)).to_have_text("Your bids")

    # --- The lead headteacher drafts the bid through the task list -----------------------
    lead.click("Start a new bid", role="button")
    lead.page.get_by_label(FUND).check()
    lead.page.get_by_label("Title of the bid").fill("Phonics coaching with Chalvey Grove")
    lead.click("Start the bid")
    expect_banner(lead.page, "started")
    reference = reference_in(lead.page.locator(".govuk-notification-banner--success").inner_text())
    expect_status(lead.page, "Draft")
    lead.shot("01-lead-task-list-new")

    lead.follow("Need and priority areas")
    lead.page.get_by_label("What need will the support meet?").fill(
        "Phonics screening results in Year 1 are 12 points below the local average."
    )
    lead.page.get_by_label("Priority areas").fill("Early reading\nLeadership development")
    lead.click("Save and continue")
    expect_banner(lead.page, "Need and priority areas saved")

    lead.follow("Partner schools")
    lead.page.get_by_label("School's URN, school number or SEED code").fill("137102")
    lead.page.get_by_label("Supporting: it gives support").check()
    lead.click("Save and continue")
    expect_banner(lead.page, "Partner schools saved")

    lead.follow("Activities and costs")
    first = group(lead.page, "Activity 1")
    first.get_by_label("What will happen").fill("Joint planning of phonics lessons")
    first.get_by_label("Who will be released").fill("Deputy headteacher")
    first.get_by_label("Days", exact=True).fill("2")
    first.get_by_label("Daily rate for backfill, in pounds").fill("300")
    fill_date(group(first, "When the activity starts"), now + timedelta(days=14))
    fill_date(group(first, "When the activity ends"), now + timedelta(days=60))
    lead.click("Add another activity")
    second = group(lead.page, "Activity 2")
    second.get_by_label("What will happen").fill("Coaching in Year 1 classrooms")
    second.get_by_label("Who will be released").fill("English lead")
    second.get_by_label("Days", exact=True).fill("1.5")
    second.get_by_label("Daily rate for backfill, in pounds").fill("250")
    fill_date(group(second, "When the activity starts"), now + timedelta(days=21))
    fill_date(group(second, "When the activity ends"), now + timedelta(days=21))
    lead.click("Save and continue")
    expect_banner(lead.page, "The total requested is £975.00")

    lead.follow("Measures of impact")
    measure = group(lead.page, "Measure 1")
    measure.get_by_label("Indicator").fill("Pupils meeting the phonics screening standard")
    measure.get_by_label("Unit").fill("%")
    measure.get_by_label("Baseline").fill("68")
    measure.get_by_label("Target").fill("80")
    fill_date(group(lead.page, "When the target is due"), now + timedelta(days=200))
    lead.click("Save and continue")
    expect_banner(lead.page, "Measures saved")
    tasks = lead.page.locator(".govuk-task-list")
    expect(tasks).to_contain_text("0 of 1 partner school endorsed")
    lead.shot("02-lead-task-list-complete")

    # --- The partner headteacher endorses it (the fund requires it before submission) ----
    partner = lead.person(PARTNER)
    partner.follow(f"Endorse this bid for {reference}")
    expect(heading(partner.page)).to_have_text("Endorse this bid")
    partner.click("Endorse bid")
    expect_banner(partner.page, f"You have endorsed bid {reference}")
    expect(partner.page.get_by_text("Supporting – endorsed")).to_be_visible()

    # --- The lead checks the answers, declares and submits ---------------------------------
    lead.goto(f"/headteacher/bids/{reference}")
    expect(tasks).to_contain_text("1 of 1 partner school endorsed")
    lead.follow("Check your answers and submit")
    expect(heading(lead.page)).to_have_text("Check your answers before sending your bid")
    lead.click("Submit bid")  # without the declaration: refused with an error summary
    expect(lead.page.locator(".govuk-error-summary")).to_contain_text("Confirm the declaration")
    lead.check()
    lead.page.get_by_label(re.compile("I confirm that the information in this bid is correct")).check()
    lead.shot("03-lead-check-answers")
    lead.click("Submit bid")
    expect(lead.page.locator(".govuk-panel")).to_contain_text("Bid submitted")
    expect(lead.page.locator(".govuk-panel")).to_contain_text(reference)
    lead.shot("04-lead-submitted")

    # --- A liaison officer starts the review, records it and asks for changes -----------
    liaison = lead.person(LIAISON)
    open_bid_as_liaison(liaison, reference)
    expect_status(liaison.page, "Submitted")
    liaison.click("Start review")
    expect_banner(liaison.page, f"You have started reviewing {reference}")
    expect_status(liaison.page, "Under review")
    liaison.click("Record a review")
    for question in (
        "Is the bid eligible for the fund?",
        "Is it aligned with the fund's priorities?",
        "Does the supporting school have the capacity to give this support?",
    ):
        group(liaison.page, question).get_by_label("Yes").check()
    liaison.page.get_by_label("3 Good").check()
    liaison.page.get_by_label("Comments").fill("A clear need; cover arrangements are not described.")
    group(liaison.page, "Your recommendation").get_by_label("Request changes").check()
    liaison.shot("05-liaison-review")
    liaison.click("Save review")
    expect_banner(liaison.page, f"Your review of {reference} (version 1) is saved")
    liaison.click("Request changes")
    liaison.page.get_by_label("What needs to change").fill(CHANGE_COMMENT)
    liaison.click("Request changes")
    expect_banner(liaison.page, f"Changes requested on {reference}")
    expect_status(liaison.page, "Changes requested")

    # --- The lead sees the comment, changes the bid and resubmits ------------------------
    lead.goto("/headteacher/")
    row = lead.page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Changes requested")
    lead.follow(f"Answer the reviewer’s comments for {reference}")
    expect(lead.page.locator(".govuk-inset-text")).to_contain_text(CHANGE_COMMENT)
    lead.shot("06-lead-changes-requested")
    lead.follow("Activities and costs")
    group(lead.page, "Activity 1").get_by_label("Days", exact=True).fill("3")
    lead.click("Save and continue")
    expect_banner(lead.page, "The total requested is £1,275.00")
    lead.follow("Check your answers and resubmit")
    lead.page.get_by_label(re.compile("I confirm that the information in this bid is correct")).check()
    lead.click("Resubmit bid")
    expect(lead.page.locator(".govuk-panel")).to_contain_text("Bid resubmitted")
    lead.follow("View the bid you sent")
    expect_status(lead.page, "Submitted")
    lead.follow("See what changed between versions")
    expect(lead.page.get_by_role("table")).to_contain_text("Version 1 to version 2")

    # --- The liaison officer approves an award under the countersignature threshold -----
    liaison.goto(f"/liaison/bids/{reference}")
    expect_status(liaison.page, "Submitted")
    liaison.click("Start review")
    expect_status(liaison.page, "Under review")
    liaison.click("Approve award")
    expect(liaison.page.get_by_label("Award", exact=True)).to_have_value("1275.00")
    liaison.page.get_by_label("Conditions of the award (optional)").fill("Report progress each term.")
    liaison.click("Approve award")
    expect_banner(liaison.page, f"{reference} approved with an award of £1,275.00")
    expect_status(liaison.page, "Approved")
    liaison.shot("07-liaison-approved")

    # --- The lead claims backfill, with a PDF invoice as evidence ------------------------
    invoice = tmp_path / "supply-invoice.pdf"
    invoice.write_bytes(tiny_pdf())
    lead.goto(f"/headteacher/bids/{reference}/view")
    expect_status(lead.page, "Approved")
    # Claims cover days since the approval: the lead claims a week into delivery.
    in_app(lambda: current_app.config.update(FUNDFLOW_TODAY=(now + timedelta(days=7)).isoformat()))
    try:
        lead.click("Claim backfill")
        fill_date(group(lead.page, "First day staff were released"), now)
        fill_date(group(lead.page, "Last day staff were released"), now + timedelta(days=6))
        lead.page.get_by_label("Name of the person released").fill("Amina Khan")
        lead.page.get_by_label("Their role").fill("Deputy headteacher")
        lead.page.get_by_label("Days released").fill("2")
        lead.page.get_by_label("Amount claimed, in pounds").fill("600")
        lead.page.get_by_label("Evidence of the backfill cost").set_input_files(invoice)
        lead.shot("08-lead-claim-form")
        lead.click("Send claim")
        expect_banner(lead.page, "Claim for £600.00 sent")
    finally:
        in_app(lambda: current_app.config.update(FUNDFLOW_TODAY=None))
    claim_row = lead.page.get_by_role("row").filter(has_text="Deputy headteacher")
    expect(claim_row).to_contain_text("Waiting for verification")
    expect(claim_row).to_contain_text("supply-invoice.pdf")

    # --- The liaison officer opens the evidence and verifies the claim -------------------
    open_queue_section(liaison, "Claims", reference)
    liaison.shot("08b-liaison-claims-to-verify")
    liaison.follow(re.compile(rf"^Claim \d+ on {reference}$"))
    claim_heading = heading(liaison.page).inner_text()
    claim_id = int(re.search(r"\d+", claim_heading).group(0))
    with liaison.page.expect_download() as download:
        liaison.page.get_by_role("link", name=re.compile("Download the evidence")).click()
    assert download.value.suggested_filename == "supply-invoice.pdf"
    assert Path(download.value.path()).read_bytes() == tiny_pdf()
    liaison.page.get_by_label("Verify the claim").check()
    liaison.click("Save decision")
    expect_banner(liaison.page, f"Claim {claim_id} verified: £600.00 can now be paid")
    expect_status(liaison.page, "Verified, to be paid")

    # --- Finance records the payment -----------------------------------------------------
    finance = lead.person(FINANCE)
    expect(heading(finance.page)).to_have_text("Claims to pay")
    finance.follow(f"Record payment for claim {claim_id} on {reference}")
    expect(finance.page.get_by_label("Amount paid")).to_have_value("600.00")
    finance.page.get_by_label("Payment reference").fill(f"SLG-BROWSER-{claim_id}")
    finance.shot("09-finance-pay")
    finance.click("Record payment")
    expect_banner(finance.page, f"Payment SLG-BROWSER-{claim_id} of £600.00 recorded")
    finance.follow("Payments made")
    payment = finance.page.get_by_role("row").filter(has_text=f"SLG-BROWSER-{claim_id}")
    expect(payment).to_contain_text("£600.00")
    expect(payment).to_contain_text(reference)

    # --- The lead finishes delivery and reports the impact -------------------------------
    lead.goto(f"/headteacher/bids/{reference}/view")
    expect(lead.page.get_by_role("row").filter(has_text="Deputy headteacher")).to_contain_text("Paid")
    lead.click("Finish delivery")
    expect(heading(lead.page)).to_have_text("Are you sure the support has been delivered?")
    lead.click("Yes, finish delivery")
    expect_banner(lead.page, f"Delivery of {reference} is finished")
    expect_status(lead.page, "Monitoring impact")
    lead.click("Report impact")
    lead.page.get_by_label(re.compile("Final: the end")).check()
    lead.page.get_by_label("Pupils meeting the phonics screening standard (%)").fill("81")
    lead.page.get_by_label("What happened and what changed?").fill(
        "Joint planning and coaching changed how phonics is taught in Year 1."
    )
    lead.click("Send report")
    expect_banner(lead.page, f"Final impact report sent for {reference}")

    # --- The liaison officer evaluates the report and closes the record ------------------
    open_queue_section(liaison, "Reports", reference)
    liaison.follow(re.compile(rf"^Final report \d+ on {reference}$"))
    expect(liaison.page.locator("main")).to_contain_text("Monitoring impact")
    liaison.page.get_by_label("Achieved", exact=True).check()
    drivers = group(liaison.page, "Which improvement drivers did the work show?")
    drivers.get_by_label("Collaboration").check()
    drivers.get_by_label("Practice change").check()
    liaison.page.get_by_label("Comment").fill("The target was met and practice changed.")
    liaison.click("Save evaluation")
    expect_banner(liaison.page, "is evaluated")
    expect(liaison.page.locator("main")).to_contain_text("Collaboration")
    liaison.follow("Back to the bid")
    liaison.click("Close")
    expect_banner(liaison.page, f"{reference} is closed")
    expect_status(liaison.page, "Closed")
    liaison.shot("10-liaison-closed")

    lead.goto(f"/headteacher/bids/{reference}/view")
    expect_status(lead.page, "Closed")
    expect(lead.page.locator(".govuk-summary-card")).to_contain_text("Achieved")
    lead.shot("11-lead-closed")
    journey.assert_accessible()


def test_large_award_needs_a_second_officer(journey, in_app):
    reference = in_app(lambda: submitted_bid("Key Stage 3 curriculum redesign", "22", 500_00))
    approver = journey
    approver.sign_in(LIAISON)
    open_bid_as_liaison(approver, reference)
    approver.click("Start review")
    expect_status(approver.page, "Under review")
    approver.click("Approve award")
    expect(approver.page.locator("main")).to_contain_text(
        "Awards of £10,000.00 or more must be countersigned by a second liaison officer"
    )
    expect(approver.page.get_by_label("Award", exact=True)).to_have_value("11000.00")
    approver.click("Approve award")
    expect_banner(approver.page, "A second liaison officer must countersign it before it is approved")
    expect_status(approver.page, "Awaiting countersignature")
    expect(approver.page.locator(".govuk-inset-text")).to_contain_text(
        "You approved this award, so a second liaison officer must countersign it"
    )
    expect(approver.page.get_by_role("button", name="Countersign award")).to_have_count(0)
    approver.shot("12-approver-awaiting-countersign")

    # The approver goes to the countersignature page anyway: refused, with no button to press;
    # and a countersignature sent without the button (a crafted request) is refused too.
    approver.goto(f"/liaison/bids/{reference}/countersign")
    expect(approver.page.locator(".govuk-warning-text")).to_contain_text("You cannot countersign this award")
    expect(approver.page.get_by_role("button", name="Countersign award")).to_have_count(0)
    approver.shot("13-approver-refused")
    token = approver.page.locator("input[name=csrf_token]").first.get_attribute("value")
    crafted = approver.page.request.post(
        f"{approver.base}/liaison/bids/{reference}/countersign", form={"csrf_token": token}
    )
    assert crafted.status == 403
    assert "A second liaison officer must countersign: you approved this award" in crafted.text()
    approver.goto(f"/liaison/bids/{reference}")
    expect_status(approver.page, "Awaiting countersignature")

    # A second officer countersigns from the queue's countersignature section.
    second = journey.person(LIAISON2)
    second.goto("/liaison/")
    second.follow(re.compile("^To countersign"))
    second.follow(re.compile(f"^{reference}$"))
    expect_status(second.page, "Awaiting countersignature")
    second.click("Countersign award")
    expect(heading(second.page)).to_have_text("Countersign a large award")
    expect(second.page.locator("main")).to_contain_text("Lee Liaison")
    second.click("Countersign award")
    expect_banner(second.page, f"Award of £11,000.00 countersigned: {reference} is approved")
    expect_status(second.page, "Approved")
    expect(second.page.locator("main")).to_contain_text("Countersigned by")
    second.shot("14-second-officer-countersigned")
    journey.assert_accessible()
