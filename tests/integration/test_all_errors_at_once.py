"""Every form shows all its errors at once, each linked to its field (issue 10, part 4): a
post with both a mistake the form itself catches (a required answer left empty) and one only
the service's rules catch gets both messages in one response, and nothing is written."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Disbursement, Fund

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = TODAY.isoformat()


def day_boxes(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def summary_links(page: str) -> list[str]:
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    assert summary, "no error summary"
    return re.findall(r'href="#([^"]+)"', summary.group(0))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error on {field}"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()))


def assert_linked(page: str, *fields: str) -> None:
    links = summary_links(page)
    for field in fields:
        assert field in links, f"{field} not in the error summary: {links}"
        assert f'id="{field}"' in page


def count(model) -> int:
    return db.session.execute(select(func.count(model.id))).scalar_one()


def test_claim_form_shows_a_missing_amount_and_a_period_before_approval_at_once(client, auth, make):
    fund = make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2027, 3, 31), delivery_ends_on=date(2027, 8, 31)
    )
    bid = make.application("approved", fund=fund, approved_on=TODAY)
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/claims/new",
        data={
            "period_start": day_boxes(date(2025, 11, 3)),
            "period_end": day_boxes(date(2025, 11, 7)),
            "staff_name": "Amina Khan",
            "staff_released": "Deputy headteacher",
            "days": "2",
            "amount": "",
            "evidence": (io.BytesIO(PDF), "cover.pdf"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_linked(page, "amount", "period_start")
    assert field_error(page, "amount") == "Error: Enter the amount claimed in pounds"
    assert "approved on 30 November 2026" in field_error(page, "period_start")
    assert count(BackfillClaim) == 0


FUND_FORM = {
    "name": "Delivery fund",
    "financial_year": "2027-28",
    "budget": "100000",
    "max_daily_rate": "500",
    "max_award": "",
    "countersign_threshold": "",
    "requires_partner_endorsement": "no",
    "opens_on": day_boxes(date(2027, 4, 1)),
    "closes_on": day_boxes(date(2028, 3, 31)),
    "delivery_ends_on": day_boxes(date(2028, 8, 31)),
}


def test_new_fund_form_shows_a_missing_name_and_a_delivery_end_before_closing_at_once(client, auth, make):
    auth.login(make.user("admin"))
    response = client.post(
        "/admin/funds/new",
        data={**FUND_FORM, "name": "", "delivery_ends_on": day_boxes(date(2028, 3, 1))},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_linked(page, "name", "delivery_ends_on")
    assert field_error(page, "name") == "Error: Enter the fund's name"
    assert (
        field_error(page, "delivery_ends_on") == "Error: The delivery period must end after the fund closes"
    )
    assert count(Fund) == 0


def test_fund_edit_form_shows_a_missing_name_and_a_delivery_end_before_closing_at_once(client, auth, make):
    fund = make.fund(name="Kept fund")
    auth.login(make.user("admin"))
    response = client.post(
        f"/admin/funds/{fund.id}/edit",
        data={**FUND_FORM, "name": "", "delivery_ends_on": day_boxes(date(2028, 3, 1))},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_linked(page, "name", "delivery_ends_on")
    assert (
        field_error(page, "delivery_ends_on") == "Error: The delivery period must end after the fund closes"
    )
    db.session.expire_all()
    assert db.session.get(Fund, fund.id).name == "Kept fund"


def test_fund_form_puts_no_second_message_on_a_field_the_form_already_marked(client, auth, make):
    auth.login(make.user("admin"))
    response = client.post("/admin/funds/new", data={**FUND_FORM, "budget": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert summary_links(page) == ["budget"]
    assert field_error(page, "budget") == "Error: Enter the fund's budget"


def test_fund_form_sent_with_no_mistakes_is_saved(client, auth, make):
    auth.login(make.user("admin"))
    assert client.post("/admin/funds/new", data=FUND_FORM).status_code == 302
    assert count(Fund) == 1


def test_pay_form_shows_a_missing_reference_and_a_date_before_verification_at_once(client, auth, make):
    claim = make.claim(make.application("approved"), amount_pence=600_00, days="2", state="verified")
    auth.login(make.user("finance"))
    response = client.post(
        f"/finance/claims/{claim.id}/pay",
        data={"amount": "600.00", "reference": "", "paid_on": day_boxes(date(2020, 11, 30))},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_linked(page, "reference", "paid_on")
    assert field_error(page, "reference") == "Error: Enter the payment reference"
    assert "on or after the day the claim was verified" in field_error(page, "paid_on")
    assert count(Disbursement) == 0
