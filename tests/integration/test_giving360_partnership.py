"""A partnership's 360Giving export (issue 15): Welsh and Scottish schools named by their own
registers (GB-WALEDU-, GB-SCOTEDU-), the partnership itself as the funder (not the service's
settings), the lead school's council with its GSS code as the recipient's location and the
grant's beneficiaryLocation (blank for Northern Ireland), valid against the official schema
as JSON and read back from the CSV by 360Giving's own converter."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from fundflow import reports
from fundflow.extensions import db
from fundflow.models import Fund, School, User
from fundflow.reports import giving360

from ..api.test_reports import _unflatten
from ..factories import Factory

CARDIFF, GLASGOW, EAST_RENFREWSHIRE = "W06000015", "S12000049", "S12000011"


def award(make: Factory, fund: Fund, lead: School, liaison: User, amount: int = 500_00):
    partner = make.school(la_name="Glasgow City")
    return make.application(
        "approved",
        fund=fund,
        lead=make.headteacher(lead),
        partner=partner,
        liaison=liaison,
        second_liaison=liaison,
        awarded_pence=amount,
    )


def partnership_export(make: Factory) -> tuple[Fund, dict[str, dict]]:
    """A cross-border partnership (Glasgow City, East Renfrewshire, Cardiff) with an award to
    a Welsh school (its GSS code on file), a Scottish school with its GSS code and one whose
    council is known by name only ("EAST RENFREWSHIRE")."""
    organisation = make.organisation(
        "border-pilot",
        name="Glasgow and Cardiff Pilot Partnership",
        funder_id="GB-LAS-GLA",
        reference_prefix="GCP",
        local_authorities=[GLASGOW, EAST_RENFREWSHIRE, CARDIFF],
    )
    fund = make.fund(organisation, countersign_threshold_pence=None)
    liaison = make.user("liaison_officer", organisation=organisation)
    welsh = make.school(
        urn=None, nation="wales", identifier="6812345", name="Ysgol Gymraeg", la_name="Cardiff",
        la_code="681", gss_code=CARDIFF,
    )  # fmt: skip
    glasgow = make.school(
        urn=None, nation="scotland", identifier="8300011", name="Hillhead Primary", la_name="Glasgow City",
        la_code="", gss_code=GLASGOW,
    )  # fmt: skip
    renfrew = make.school(
        urn=None, nation="scotland", identifier="8612345", name="Eastwood High", la_name="EAST RENFREWSHIRE",
        la_code="",
    )  # fmt: skip
    for school in (welsh, glasgow, renfrew):
        award(make, fund, school, liaison)
    package = reports.grants_360_package(fund.id)
    return fund, {g["recipientOrganization"][0]["id"]: g for g in package["grants"]}


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_partnerships_welsh_and_scottish_grants_name_their_schools_funder_and_councils(request, database):
    request.getfixturevalue("app" if database == "sqlite" else "pg_app")
    fund, grants = partnership_export(Factory())
    package = {"grants": list(grants.values())}
    assert [e.message for e in giving360.package_validator().iter_errors(package)] == []
    assert set(grants) == {"GB-WALEDU-6812345", "GB-SCOTEDU-8300011", "GB-SCOTEDU-8612345"}
    for grant in grants.values():
        # the partnership's own identity, not the service's FUNDER_ORG_* settings
        assert grant["fundingOrganization"] == [
            {"id": "GB-LAS-GLA", "name": "Glasgow and Cardiff Pilot Partnership"}
        ]
    welsh = grants["GB-WALEDU-6812345"]
    assert welsh["recipientOrganization"][0]["location"] == [
        {
            "name": "Cardiff",
            "geoCode": CARDIFF,
            "geoCodeType": "LAD",
            "description": "Local authority (DfE code 681)",
        }
    ]
    assert welsh["beneficiaryLocation"] == [
        {"name": "Cardiff", "countryCode": "GB", "geoCode": CARDIFF, "geoCodeType": "LAD"}
    ]
    assert grants["GB-SCOTEDU-8300011"]["beneficiaryLocation"][0]["geoCode"] == GLASGOW
    # known to the school by its council's name alone: the fund's council gives the GSS code
    renfrew = grants["GB-SCOTEDU-8612345"]
    assert renfrew["recipientOrganization"][0]["location"] == [
        {"name": "East Renfrewshire", "geoCode": EAST_RENFREWSHIRE, "geoCodeType": "LAD"}
    ]
    assert renfrew["beneficiaryLocation"][0]["geoCode"] == EAST_RENFREWSHIRE


def test_the_partnerships_csv_reads_back_to_the_same_valid_package(app, tmp_path):
    fund, _ = partnership_export(Factory())
    text = reports.grants_360_csv(fund.id)
    header = text.splitlines()[0]
    assert "Beneficiary Location:0:Geographic Code" in header
    assert "Recipient Org:0:Location:0:Geographic Code" in header
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "grants.csv").write_text(text)
    out = tmp_path / "out.json"
    with resources.as_file(giving360.SCHEMA_DIR / giving360.GRANT_SCHEMA) as grant_schema_path:
        _unflatten(grant_schema_path, tmp_path / "in", out)
    read_back = json.loads(out.read_text())
    assert read_back == reports.grants_360_package(fund.id)
    assert [e.message for e in giving360.package_validator().iter_errors(read_back)] == []


def test_a_northern_irish_schools_grant_has_no_geocode(app):
    make = Factory()
    organisation = make.organisation(
        "ni-pilot", name="Belfast Pilot", funder_id="GB-LANI-BEL", reference_prefix="BEL",
        local_authorities=["N09000003=Belfast"],
    )  # fmt: skip
    fund = make.fund(organisation, countersign_threshold_pence=None)
    fund.local_authorities = []  # the Northern Ireland list names no council: any school may bid
    db.session.commit()
    school = make.school(
        urn=None, nation="northern_ireland", identifier="1234567", name="Belfast Primary", la_name="Belfast",
        la_code="", gss_code="N09000003",
    )  # fmt: skip
    award(make, fund, school, make.user("liaison_officer", organisation=organisation))
    package = reports.grants_360_package(fund.id)
    assert [e.message for e in giving360.package_validator().iter_errors(package)] == []
    (grant,) = package["grants"]
    assert grant["recipientOrganization"][0]["id"] == "GB-NIEDU-123-4567"  # the DE reference
    assert grant["recipientOrganization"][0]["location"] == [{"name": "Belfast"}]
    assert grant["beneficiaryLocation"] == [{"name": "Belfast", "countryCode": "GB"}]
    assert grant["fundingOrganization"] == [{"id": "GB-LANI-BEL", "name": "Belfast Pilot"}]
