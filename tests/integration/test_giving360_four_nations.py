"""360Giving names a Welsh or Scottish school by its own register's identifier (GB-WALEDU-,
GB-SCOTEDU-) with its council's GSS code, and the package still validates against the
official schema."""

from __future__ import annotations

from fundflow import reports
from fundflow.reports import giving360


def test_welsh_and_scottish_recipients_validate_against_the_schema(app, make):
    fund = make.fund(make.organisation(local_authorities=["W06000015", "S12000049"]))
    welsh = make.school(
        urn=None, nation="wales", identifier="6812345", name="Ysgol Gymraeg", la_name="Cardiff",
        la_code="681", gss_code="W06000015",
    )  # fmt: skip
    scottish = make.school(
        urn=None, nation="scotland", identifier="8300011", name="Hillhead Primary", la_name="Glasgow City",
        la_code="", gss_code="S12000049",
    )  # fmt: skip
    english = make.school(urn="110123", name="An English School")
    for school in (welsh, scottish, english):
        make.application("monitoring", fund=fund, lead=make.headteacher(school), awarded_pence=500_00)

    package = reports.grants_360_package(fund.id)
    assert [e.message for e in giving360.package_validator().iter_errors(package)] == []
    recipients = {
        g["recipientOrganization"][0]["id"]: g["recipientOrganization"][0] for g in package["grants"]
    }
    assert set(recipients) == {"GB-WALEDU-6812345", "GB-SCOTEDU-8300011", "GB-EDU-110123"}
    assert recipients["GB-WALEDU-6812345"]["location"][0] == {
        "name": "Cardiff",
        "geoCode": "W06000015",
        "geoCodeType": "LAD",
        "description": "Local authority (DfE code 681)",
    }
    assert recipients["GB-SCOTEDU-8300011"]["location"] == [
        {"name": "Glasgow City", "geoCode": "S12000049", "geoCodeType": "LAD"}
    ]
    assert "location" not in recipients["GB-EDU-110123"]  # no local authority name given
