"""The admin's fund form sets the fund's monitoring schedule: when awards send interim
reports, how long after the last measure the final report is due, and how long schools
have to claim backfill after an activity ends."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event, Fund

from .test_admin import FUND, error_summary


@pytest.fixture
def signed_in(client, auth, make):
    auth.login(make.user("admin"))
    return client


def test_the_fund_form_offers_the_schedule_settings_with_their_defaults(signed_in):
    page = signed_in.get("/admin/funds/new").text
    assert "When do awards send interim impact reports?" in page
    assert 'value="termly" checked' in page
    assert re.search(r'name="final_report_weeks"[^>]* value="6"', page)
    assert re.search(r'name="claim_deadline_weeks"[^>]* value="4"', page)


def test_admin_creates_a_fund_with_its_schedule_settings(signed_in):
    data = {
        **FUND,
        "report_cadence": "set_by_officer",
        "final_report_weeks": "10",
        "claim_deadline_weeks": " 2 ",
    }
    assert signed_in.post("/admin/funds/new", data=data).status_code == 302
    fund = db.session.execute(select(Fund)).scalar_one()
    assert (fund.report_cadence, fund.final_report_weeks, fund.claim_deadline_weeks) == (
        "set_by_officer",
        10,
        2,
    )
    event = db.session.execute(select(Event).where(Event.action == "create_fund")).scalar_one()
    assert event.payload["report_cadence"] == "set_by_officer" and event.payload["final_report_weeks"] == 10


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"report_cadence": "monthly"}, "report_cadence", "Choose when awards send interim reports"),
        ({"final_report_weeks": "53"}, "final_report_weeks", "from 0 to 52"),
        ({"final_report_weeks": "six"}, "final_report_weeks", "from 0 to 52"),
        ({"claim_deadline_weeks": ""}, "claim_deadline_weeks", "from 0 to 26"),
        ({"claim_deadline_weeks": "-1"}, "claim_deadline_weeks", "from 0 to 26"),
    ],
)
def test_schedule_settings_out_of_range_are_refused_on_their_fields(signed_in, changes, field, message):
    response = signed_in.post("/admin/funds/new", data={**FUND, **changes})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert message in summary and f'href="#{field}"' in summary
    assert db.session.execute(select(Fund)).first() is None


def test_editing_a_fund_starts_from_its_schedule_settings(signed_in, make):
    fund = make.fund(report_cadence="half_termly", final_report_weeks=12, claim_deadline_weeks=8)
    page = signed_in.get(f"/admin/funds/{fund.id}/edit").text
    assert 'value="half_termly" checked' in page
    assert 'value="12"' in page and 'value="8"' in page
