"""A fund names the member councils whose schools may bid (issue 15): chosen from its
organisation's members on the admin's fund form and through the API, all of them when none
is chosen, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event, Fund, Organisation, User
from fundflow.services import admin, auth, organisations
from fundflow.services.clock import today
from fundflow.services.errors import ValidationFailed
from tests.factories import PASSWORD

GLASGOW, EAST_RENFREWSHIRE, RENFREWSHIRE, INVERCLYDE = "S12000049", "S12000011", "S12000038", "S12000018"


def _partnership() -> Organisation:
    organisations.home_organisation()  # the first organisation (Slough) comes first
    return organisations.create_organisation(
        None,
        slug="west",
        name="West of Scotland Schools Partnership",
        funder_id="GB-LAS-GLG",
        reference_prefix="WSP",
        local_authorities=[GLASGOW, EAST_RENFREWSHIRE, RENFREWSHIRE],
    )


def _admin_of(organisation: Organisation, email: str = "admin@west.test") -> User:
    return admin.create_user(
        None,
        admin.UserInput(
            email=email,
            name="Ada Admin",
            roles=["admin"],
            password=PASSWORD,
            organisation_slug=organisation.slug,
        ),
    )


def _fund_input(**overrides) -> admin.FundInput:
    now = today()
    values = {
        "name": "West Partnership School Improvement Fund",
        "financial_year": "2026-27",
        "budget_pence": 90_000_00,
        "opens_on": now - timedelta(days=10),
        "closes_on": now + timedelta(days=200),
        "max_daily_rate_pence": 400_00,
    }
    values.update(overrides)
    return admin.FundInput(**values)


def _codes(fund: Fund) -> list[str]:
    return [a.gss_code for a in fund.local_authorities]


# ------------------------------------------------------------------- the fund's councils


def test_a_fund_naming_no_councils_takes_every_member_council_of_its_organisation(app):
    ada = _admin_of(_partnership())
    fund = admin.create_fund(ada, _fund_input())
    # in name order: East Renfrewshire, Glasgow City, Renfrewshire
    assert _codes(fund) == [EAST_RENFREWSHIRE, GLASGOW, RENFREWSHIRE]


def test_a_fund_takes_bids_from_the_member_councils_it_names_and_audits_them(app):
    ada = _admin_of(_partnership())
    fund = admin.create_fund(ada, _fund_input(local_authorities=(RENFREWSHIRE, " s12000049 ")))
    assert _codes(fund) == [GLASGOW, RENFREWSHIRE]
    event = db.session.execute(select(Event).where(Event.action == "create_fund")).scalar_one()
    assert event.payload["local_authorities"] == [GLASGOW, RENFREWSHIRE]  # by name
    assert event.organisation_id == ada.organisation_id


def test_a_fund_cannot_name_a_council_outside_its_organisation(app):
    ada = _admin_of(_partnership())
    with pytest.raises(ValidationFailed) as refused:
        admin.create_fund(ada, _fund_input(local_authorities=(GLASGOW, INVERCLYDE)))
    assert "local_authorities" in refused.value.fields
    assert "not a member council" in " ".join(refused.value.fields["local_authorities"])
    assert db.session.execute(select(Fund.id)).first() is None


def test_changing_a_funds_rules_changes_its_councils_too(app):
    ada = _admin_of(_partnership())
    fund = admin.create_fund(ada, _fund_input(local_authorities=(GLASGOW,)))
    admin.update_fund(ada, fund, _fund_input(local_authorities=(GLASGOW, EAST_RENFREWSHIRE)))
    assert _codes(fund) == [EAST_RENFREWSHIRE, GLASGOW]
    with pytest.raises(ValidationFailed):
        admin.update_fund(ada, fund, _fund_input(local_authorities=("E06000039",)))
    event = db.session.execute(select(Event).where(Event.action == "update_fund")).scalar_one()
    assert event.payload["local_authorities"] == [EAST_RENFREWSHIRE, GLASGOW]


# ---------------------------------------------------------------------- the fund form


def _sign_in(client, user: User) -> None:
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD})


def _form(**overrides) -> dict[str, object]:
    now = today()
    closes = now + timedelta(days=200)
    data = {
        "name": "West Fund",
        "financial_year": "2026-27",
        "budget": "90000",
        "opens_on": [str(now.day), str(now.month), str(now.year)],
        "closes_on": [str(closes.day), str(closes.month), str(closes.year)],
        "delivery_ends_on": ["31", "3", str(closes.year + 1)],
        "max_daily_rate": "400",
        "requires_partner_endorsement": "no",
        "report_cadence": "termly",
        "final_report_weeks": "6",
        "claim_deadline_weeks": "4",
    }
    data.update(overrides)
    return data


def test_a_partnership_admin_chooses_which_councils_schools_may_bid_on_the_fund_form(app, client):
    _sign_in(client, _admin_of(_partnership()))
    page = client.get("/admin/funds/new").get_data(as_text=True)
    assert "Which councils’ schools may bid?" in page or "Which councils&#39; schools may bid?" in page
    for name in ("Glasgow City", "East Renfrewshire", "Renfrewshire"):
        assert name in page
    response = client.post("/admin/funds/new", data=_form(local_authorities=[GLASGOW, RENFREWSHIRE]))
    assert response.status_code == 302, response.get_data(as_text=True)
    fund = db.session.execute(select(Fund)).scalar_one()
    assert _codes(fund) == [GLASGOW, RENFREWSHIRE]


def test_the_fund_form_refuses_a_council_it_does_not_offer_with_an_error_summary(app, client):
    _sign_in(client, _admin_of(_partnership()))
    response = client.post("/admin/funds/new", data=_form(local_authorities=[GLASGOW, INVERCLYDE]))
    assert response.status_code == 422
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert db.session.execute(select(Fund.id)).first() is None


def test_a_single_council_admin_is_not_asked_which_councils_and_the_fund_takes_its_council(app, client, make):
    _sign_in(client, make.user("admin"))
    page = client.get("/admin/funds/new").get_data(as_text=True)
    assert "schools may bid?" not in page
    assert client.post("/admin/funds/new", data=_form()).status_code == 302
    fund = db.session.execute(select(Fund)).scalar_one()
    assert _codes(fund) == [a.gss_code for a in organisations.home_organisation().local_authorities]


# ------------------------------------------------------------------------------- the API


def test_the_api_creates_a_fund_for_named_councils_and_lists_them_by_name(app, client):
    ada = _admin_of(_partnership())
    headers = {"Authorization": f"Bearer {auth.issue_token(ada, 'test')}"}
    body = {
        "name": "West Fund",
        "financial_year": "2026-27",
        "budget_pence": 90_000_00,
        "opens_on": today().isoformat(),
        "closes_on": (today() + timedelta(days=100)).isoformat(),
        "max_daily_rate_pence": 400_00,
        "local_authorities": [RENFREWSHIRE],
    }
    made = client.post("/api/v1/funds", json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["local_authorities"] == [{"gss_code": RENFREWSHIRE, "name": "Renfrewshire"}]
    refused = client.post("/api/v1/funds", json=body | {"local_authorities": ["E06000039"]}, headers=headers)
    assert refused.status_code == 422
    assert "local_authorities" in str(refused.get_json())
