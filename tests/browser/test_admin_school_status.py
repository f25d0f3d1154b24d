"""The admin imports a GIAS file with closed and changing establishments and sees each
school's status on the import result, the schools list and the school's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

GIAS = (
    "URN,EstablishmentName,LA (code),LA (name),EstablishmentStatus (name)\r\n"
    "170001,Zephyr Closed Infants,871,Slough,Closed\r\n"
    '170002,Zephyr Changing Primary,871,Slough,"Open, but proposed to close"\r\n'
    "170003,Zephyr New Free School,871,Slough,Proposed to open\r\n"
)


def test_admin_sees_school_statuses_after_a_gias_import(journey, tmp_path):
    admin = journey
    path = tmp_path / "edubasealldata.csv"
    path.write_text(GIAS, encoding="cp1252")
    admin.sign_in("admin@demo.test")
    admin.goto("/admin/schools/import")
    admin.page.get_by_label("GIAS establishments CSV").set_input_files(path)
    admin.click("Upload and import")
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Schools imported")
    expect(admin.page.locator(".govuk-summary-list")).to_contain_text(
        "Closed (kept, cannot be named on new bids)"
    )

    admin.goto("/admin/schools?q=Zephyr")
    rows = admin.page.get_by_role("row")
    expect(rows.filter(has_text="Zephyr Closed Infants")).to_contain_text("Closed")
    expect(rows.filter(has_text="Zephyr Changing Primary")).to_contain_text("Open, but proposed to close")
    expect(rows.filter(has_text="Zephyr New Free School")).to_contain_text("Proposed to open")

    admin.goto("/admin/schools/170001")
    expect(admin.page.locator(".govuk-summary-list")).to_contain_text("cannot be named on a new bid")
    admin.assert_accessible()
