"""Which schools may bid into which funds (:mod:`fundflow.services.eligibility`, issue 15):
by GSS code, else by local authority name, any school into a fund naming no councils; the
Python rule and the SQL condition agree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Fund, LocalAuthority, School
from fundflow.services import admin
from fundflow.services.eligibility import open_to_school_condition, school_may_bid

from .test_fund_councils import GLASGOW, INVERCLYDE, RENFREWSHIRE, _admin_of, _fund_input, _partnership


def _school(identifier: str, *, gss_code: str = "", la_name: str = "", nation: str = "scotland") -> School:
    return admin.create_school(
        None,
        admin.SchoolInput(
            nation=nation,
            identifier=identifier,
            name=f"School {identifier}",
            gss_code=gss_code,
            la_name=la_name,
        ),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def funds_and_schools(request):
    """Four funds and seven schools, on SQLite and on PostgreSQL (the SQL condition runs on both)."""
    request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    ada = _admin_of(_partnership())
    glasgow_only = admin.create_fund(ada, _fund_input(name="Glasgow", local_authorities=(GLASGOW,)))
    whole = admin.create_fund(ada, _fund_input(name="Whole partnership"))
    slough = admin.create_fund(None, _fund_input(name="Slough"))
    anyone = admin.create_fund(None, _fund_input(name="Anyone"))
    anyone.local_authorities = []  # a fund naming no councils (as before organisations)
    db.session.commit()
    schools = {
        "glasgow": _school("8431221", gss_code=GLASGOW, la_name="Glasgow City"),
        "renfrewshire": _school("8612345", gss_code=RENFREWSHIRE, la_name="Renfrewshire"),
        "inverclyde": _school("8654321", gss_code=INVERCLYDE, la_name="Inverclyde"),
        # a GSS code wins over the name: this school's code is Inverclyde's
        "named_glasgow": _school("8600001", gss_code=INVERCLYDE, la_name="Glasgow City"),
        "slough": _school("137101", la_name="SLOUGH", nation="england"),
        "windsor": _school("137109", la_name="Windsor and Maidenhead", nation="england"),
        # no council known (a record made by hand): turned away from no fund
        "nowhere": _school("137110", nation="england"),
    }
    return {"glasgow_only": glasgow_only, "whole": whole, "slough": slough, "anyone": anyone}, schools


EXPECTED = {
    "glasgow_only": {"glasgow", "nowhere"},
    "whole": {"glasgow", "renfrewshire", "nowhere"},
    "slough": {"slough", "nowhere"},
    "anyone": {"glasgow", "renfrewshire", "inverclyde", "named_glasgow", "slough", "windsor", "nowhere"},
}


def test_a_school_may_bid_into_funds_of_its_council_by_gss_code_or_by_name(funds_and_schools):
    funds, schools = funds_and_schools
    for fund_key, fund in funds.items():
        may = {key for key, school in schools.items() if school_may_bid(school, fund)}
        assert may == EXPECTED[fund_key], fund_key


def test_the_sql_condition_finds_exactly_the_funds_a_school_may_bid_into(funds_and_schools):
    funds, schools = funds_and_schools
    names = {fund.id: key for key, fund in funds.items()}
    for key, school in schools.items():
        found = db.session.execute(select(Fund.id).where(open_to_school_condition(school))).scalars()
        assert {names[i] for i in found} == {f for f, keys in EXPECTED.items() if key in keys}, key


def test_the_first_organisation_names_slough_so_its_funds_take_slough_schools(app):
    fund = admin.create_fund(None, _fund_input())
    slough = db.session.execute(
        select(LocalAuthority).where(LocalAuthority.gss_code == "E06000039")
    ).scalar_one()
    assert fund.local_authorities == [slough]
