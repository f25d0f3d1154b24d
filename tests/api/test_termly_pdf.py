"""The termly report as a PDF from the API: the same tagged PDF/UA document as the site's
download, for the three roles that see every bid; 403 for headteachers and administrators,
404 for an unknown fund, 422 on ``term`` for a missing, badly written or outside term."""

from __future__ import annotations

import time
from datetime import date

import pytest

from .test_dossier_pdf import tagged, text_of


@pytest.fixture
def fund(make):
    return make.fund(financial_year="2026-27", opens_on=date(2026, 9, 1), delivery_ends_on=date(2027, 7, 31))


@pytest.mark.parametrize("role", ["auditor", "liaison_officer", "finance"])
def test_report_roles_download_the_termly_report(api, make, fund, role):
    started = time.perf_counter()
    response = api.get(f"/reports/termly.pdf?fund_id={fund.id}&term=2026-autumn", make.user(role))
    print(f"termly PDF in {time.perf_counter() - started:.2f}s")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    slug = fund.name.lower().replace(" ", "-")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{slug}-2026-autumn-termly-report.pdf"'
    )
    reader = tagged(response.data)
    assert reader.metadata.title == f"Schools Forum report: {fund.name}, autumn term 2026"
    text = text_of(reader)
    assert "The fund's position" in text and "Control exceptions in the term" in text


def test_the_site_download_is_the_same_document(client, auth, api, make, fund):
    auditor = make.user("auditor")
    auth.login(auditor)
    site = client.get(f"/reports/funds/{fund.id}/termly.pdf?term=2026-spring")
    assert site.status_code == 200 and site.mimetype == "application/pdf"
    from_api = api.get(f"/reports/termly.pdf?fund_id={fund.id}&term=2026-spring", auditor)
    assert text_of(tagged(site.data)) == text_of(tagged(from_api.data))


@pytest.mark.parametrize("roles", [("headteacher",), ("admin",)])
def test_others_are_refused(api, make, fund, roles):
    response = api.get(f"/reports/termly.pdf?fund_id={fund.id}&term=2026-autumn", make.user(*roles))
    assert response.status_code == 403


def test_an_unknown_fund_is_not_found(api, make):
    response = api.get("/reports/termly.pdf?fund_id=999&term=2026-autumn", make.user("auditor"))
    assert response.status_code == 404


@pytest.mark.parametrize("term", [None, "", "2026-winter", "2024-autumn", "2027-autumn"])
def test_a_missing_wrong_or_outside_term_is_422(api, make, fund, term):
    url = f"/reports/termly.pdf?fund_id={fund.id}" + ("" if term is None else f"&term={term}")
    response = api.get(url, make.user("auditor"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and "term" in error["fields"]
