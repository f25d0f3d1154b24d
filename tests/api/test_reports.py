"""Value for money, audit chain verification, and the exports (API and reports module)."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import subprocess
import sys
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from fundflow import formatting, reports
from fundflow.extensions import db
from fundflow.models import Application, Disbursement, Event
from fundflow.reports import giving360
from fundflow.services import payments, reviews
from fundflow.services.clock import today

from .conftest import bid_body, error_of

REPORT_ROLES = ["auditor", "liaison_officer", "finance"]
OTHER_ROLES = ["headteacher", "admin"]

EXPORT_PATHS = [
    "/reports/value-for-money",
    "/exports/360giving.json?fund_id={fund}",
    "/exports/360giving.csv?fund_id={fund}",
    "/exports/transparency.csv",
    "/exports/audit-trail.csv",
]


def package_validator():
    """The official 360Giving package schema, as shipped in the installed fundflow package
    (fundflow/data/360giving/, see its README.md), validated offline."""
    return giving360.package_validator()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def funded(make):
    """A fund with a closed award, a paid and reversed claim, and a bid still under review."""
    fund = make.fund(countersign_threshold_pence=None)
    liaison = make.liaison()
    closed = make.application("closed", fund=fund, liaison=liaison)
    approved = make.application("approved", fund=fund, liaison=liaison, awarded_pence=1_200_00)
    reviewing = make.application("under_review", fund=fund, liaison=liaison)
    reviews.record_review(
        liaison,
        reviewing,
        reviews.ReviewInput(True, True, True, 3, "Sound plan", "approve"),
    )
    claim = make.claim(approved, amount_pence=600_00, days="2", state="verified")
    finance = make.user("finance")
    first = make.pay(claim, finance=finance, reference="BIG-1")
    payments.reverse_disbursement(finance, first, "Wrong bank account")
    make.pay(claim, finance=finance, reference="BIG-2")
    small = make.claim(approved, amount_pence=500_00, days="1", state="verified")
    make.pay(small, finance=finance, amount_pence=49_999, reference="SMALL-1")
    return {"fund": fund, "closed": closed, "approved": approved, "reviewing": reviewing}


@pytest.mark.parametrize("role", REPORT_ROLES)
@pytest.mark.parametrize("path", EXPORT_PATHS)
def test_report_roles_may_read_reports_and_exports(api, make, role, path):
    fund = make.fund()
    response = api.get(path.format(fund=fund.id), make.user(role))
    assert response.status_code == 200


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("path", EXPORT_PATHS)
def test_other_roles_may_not_read_reports_and_exports(api, make, role, path):
    fund = make.fund()
    response = api.get(path.format(fund=fund.id), make.user(role))
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_value_for_money_has_totals_and_one_row_per_bid(api, make, funded):
    response = api.get(f"/reports/value-for-money?fund_id={funded['fund'].id}", make.user("auditor"))
    assert response.status_code == 200
    report = response.get_json()
    assert set(report) >= {"fund_id", "fund", "totals", "rows", "page", "per_page", "total"}
    assert (report["page"], report["per_page"], report["total"]) == (1, 100, 3)
    rows = {r["reference"]: r for r in report["rows"]}
    assert set(rows) == {
        funded["closed"].reference,
        funded["approved"].reference,
        funded["reviewing"].reference,
    }
    approved = rows[funded["approved"].reference]
    assert approved["awarded_pence"] == 1_200_00
    assert approved["claimed_pence"] == 600_00 + 500_00
    assert approved["paid_pence"] == 600_00 + 49_999
    assert approved["committed_pence"] == 1_200_00
    assert approved["supported_schools"] == 1
    assert approved["cost_per_supported_school_pence"] == 1_200_00
    assert approved["lead_school_urn"] == funded["approved"].lead_school.urn
    assert rows[funded["reviewing"].reference]["value_for_money_score"] == 3
    assert rows[funded["reviewing"].reference]["awarded_pence"] is None
    assert rows[funded["closed"].reference]["impact_rating"] == "achieved"
    totals = report["totals"]
    assert totals["applications"] == 3
    assert totals["paid_pence"] == 600_00 + 49_999
    assert totals["impact_ratings"] == {"achieved": 1, "partly_achieved": 0, "not_achieved": 0}
    assert totals["average_value_for_money_score"] == 3
    assert report["fund"]["budget_pence"] == funded["fund"].budget_pence


def test_cost_per_supported_school_divides_by_supported_partners(api, make):
    fund = make.fund(countersign_threshold_pence=None)
    head, liaison = make.headteacher(), make.liaison()
    first, second = make.school(), make.school()
    body = bid_body(fund, first, role="supported")
    body["partners"].append({"urn": second.urn, "role": "supported"})
    reference = api.post("/applications", head, json=body).get_json()["reference"]
    make.application("draft", fund=fund)  # drafts are not bids yet: left out
    bid = Application.query.filter_by(reference=reference).one()
    make.act(bid, head, "submit")
    make.act(bid, liaison, "start_review")
    make.act(bid, liaison, "approve", awarded_pence=1_000_00)
    (row,) = reports.value_for_money(fund.id)["rows"]
    assert row["supported_schools"] == 2
    assert row["cost_per_supported_school_pence"] == 500_00


def test_value_for_money_runs_a_fixed_number_of_queries(make, count_queries):
    fund = make.fund(countersign_threshold_pence=None)

    def statements_for(n: int) -> int:
        while len(reports.value_for_money(fund.id)["rows"]) < n:
            app = make.application("approved", fund=fund)
            make.claim(app, state="paid")
        with count_queries() as statements:
            assert len(reports.value_for_money(fund.id)["rows"]) == n
        return len(statements)

    assert statements_for(2) == statements_for(10)


def test_value_for_money_of_unknown_fund_is_404(api, make):
    assert api.get("/reports/value-for-money?fund_id=999", make.user("auditor")).status_code == 404


def test_auditor_verifies_the_audit_chain(api, make):
    make.application("approved")
    auditor = make.user("auditor")
    response = api.get("/audit/verify", auditor)
    assert response.status_code == 200
    body = response.get_json()
    own = Event.query.filter_by(organisation_id=auditor.organisation_id).count()
    assert 0 < own < Event.query.count()  # their organisation's chain, not the service's
    assert body == {"ok": True, "events_checked": own, "first_bad_event_id": None}


@pytest.mark.parametrize("role", ["liaison_officer", "finance", "headteacher", "admin"])
def test_only_an_auditor_verifies_the_audit_chain(api, make, role):
    assert api.get("/audit/verify", make.user(role)).status_code == 403


def test_tampered_audit_trail_is_reported(api, make):
    app = make.application("submitted")
    auditor = make.user("auditor")
    api.token(auditor)
    event = Event.query.filter_by(application_id=app.id, action="submit").one()
    event.payload = {"requested_pence": 1}
    db.session.commit()
    body = api.get("/audit/verify", auditor).get_json()
    assert body["ok"] is False
    assert body["first_bad_event_id"] == event.id


def test_360giving_package_is_valid_and_describes_each_award(api, make, funded, app):
    response = api.get(f"/exports/360giving.json?fund_id={funded['fund'].id}", make.user("auditor"))
    assert response.status_code == 200
    package = response.get_json()
    validator = package_validator()
    errors = [e.message for e in validator.iter_errors(package)]
    assert errors == []
    grants = {g["id"]: g for g in package["grants"]}
    prefix = app.config["GRANTNAV_PREFIX"]
    assert set(grants) == {prefix + funded["closed"].reference, prefix + funded["approved"].reference}
    grant = grants[prefix + funded["approved"].reference]
    assert grant["amountAwarded"] == 1200.0
    assert grant["amountDisbursed"] == 1099.99
    assert grant["currency"] == "GBP"
    assert grant["awardDate"] == funded["approved"].approved_on.isoformat()
    assert grant["recipientOrganization"] == [
        {"id": f"GB-EDU-{funded['approved'].lead_school.urn}", "name": funded["approved"].lead_school.name}
    ]
    assert grant["fundingOrganization"] == [{"id": "GB-LAE-SLG", "name": "Slough Borough Council"}]


def test_360giving_validator_rejects_a_broken_grant(make, funded):
    package = reports.grants_360_package(funded["fund"].id)
    package["grants"][0]["amountAwarded"] = "1000"
    assert not package_validator().is_valid(package)


def test_360giving_schema_ships_inside_the_installed_package_with_its_attribution():
    import fundflow

    folder = Path(fundflow.__file__).resolve().parent / "data" / "360giving"
    assert Path(str(giving360.SCHEMA_DIR)).resolve() == folder
    grant = json.loads((folder / "360-giving-schema.json").read_text())
    package = json.loads((folder / "360-giving-package-schema.json").read_text())
    assert grant["$id"].endswith("/standard/1.4.3/schema/360-giving-schema.json")
    assert package["$id"].endswith("/standard/1.4.3/schema/360-giving-package-schema.json")
    notice = (folder / "README.md").read_text()
    for attribution in ("360Giving", "CC BY 4.0", "https://github.com/ThreeSixtyGiving/standard"):
        assert attribution in notice


def test_grant_validator_checks_dates_types_and_codes_against_the_schema(make, funded):
    grant = reports.grants_360(funded["fund"].id)[0]
    assert giving360.grant_problems(grant) == []
    assert giving360.grant_problems({**grant, "awardDate": "2026-13-01"})
    assert giving360.grant_problems({**grant, "amountAwarded": "1000"})
    assert giving360.grant_problems({**grant, "currency": "POUNDS"})
    missing = dict(grant)
    del missing["recipientOrganization"]
    assert giving360.grant_problems(missing)


@pytest.mark.parametrize("path", ["/exports/360giving.json", "/exports/360giving.csv"])
def test_360giving_export_with_an_invalid_grant_is_refused_with_409_naming_the_grant(
    api, make, funded, monkeypatch, caplog, path
):
    monkeypatch.setattr(giving360, "CURRENCY", "POUNDS")  # e.g. a bad setting or a coding slip
    # Alembic's env.py (fileConfig) disables loggers that exist when a migration test runs.
    monkeypatch.setattr(logging.getLogger(giving360.__name__), "disabled", False)
    with caplog.at_level(logging.ERROR, logger=giving360.__name__):
        response = api.get(f"{path}?fund_id={funded['fund'].id}", make.user("auditor"))
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "grant_not_publishable"
    assert "360G-fundflow-" in error["message"]
    assert "currency" in error["message"]
    assert any("360Giving export refused" in r.getMessage() for r in caplog.records)


def test_360giving_download_with_an_invalid_grant_is_a_page_not_a_500(
    app, client, auth, make, funded, monkeypatch
):
    monkeypatch.setattr(giving360, "CURRENCY", "POUNDS")
    auth.login(make.user("auditor"))
    for kind in ("json", "csv"):
        response = client.get(f"/auditor/funds/{funded['fund'].id}/360giving.{kind}")
        assert response.status_code == 409
        assert response.mimetype == "text/html"
        assert "does not meet the 360Giving Data Standard" in response.get_data(as_text=True)


def test_360giving_grants_are_validated_one_by_one_as_they_are_produced(make, funded, monkeypatch):
    real = giving360._grants

    def second_grant_broken(fund):
        for i, grant in enumerate(real(fund)):
            yield {**grant, "amountAwarded": str(grant["amountAwarded"])} if i == 1 else grant

    monkeypatch.setattr(giving360, "_grants", second_grant_broken)
    grants = giving360.iter_grants_360(funded["fund"].id)
    first = next(grants)
    assert first["id"].endswith(funded["closed"].reference)
    with pytest.raises(giving360.GrantNotPublishable) as refused:
        next(grants)
    assert refused.value.grant_id.endswith(funded["approved"].reference)
    assert [p.split(":")[0] for p in refused.value.problems] == ["amountAwarded"]


def test_360giving_counts_a_countersigned_award_from_its_countersignature(make):
    fund = make.fund(countersign_threshold_pence=500_00)
    app = make.application("approved", fund=fund)
    grant = reports.grants_360_package(fund.id)["grants"][0]
    assert grant["awardDate"] == app.approved_on.isoformat()


def test_360giving_needs_a_fund(api, make):
    response = api.get("/exports/360giving.json", make.user("auditor"))
    assert response.status_code == 422
    assert "fund_id" in error_of(response)["fields"]
    assert api.get("/exports/360giving.json?fund_id=999", make.user("auditor")).status_code == 404


def test_360giving_csv_has_the_same_grants_with_360giving_titles(api, make, funded):
    response = api.get(f"/exports/360giving.csv?fund_id={funded['fund'].id}", make.user("finance"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = rows_of(response.get_data(as_text=True))
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    for title in (
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Award Date",
        "Recipient Org:0:Identifier",
        "Recipient Org:0:Name",
        "Funding Org:0:Identifier",
        "Funding Org:0:Name",
    ):
        assert title in header
    package = reports.grants_360_package(funded["fund"].id)
    assert [r["Identifier"] for r in rows] == [g["id"] for g in package["grants"]]
    assert {r["Amount Awarded"] for r in rows} == {f"{g['amountAwarded']:.2f}" for g in package["grants"]}


def flatten_tool() -> str:
    """360Giving's converter, installed with the test extras beside this Python."""
    beside = Path(sys.executable).parent / "flatten-tool"
    found = str(beside) if beside.exists() else shutil.which("flatten-tool")
    assert found, "flattentool is a test dependency: pip install -e '.[test]'"
    return found


def test_360giving_csv_converts_back_to_the_same_package(make, funded, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "grants.csv").write_text(reports.grants_360_csv(funded["fund"].id))
    out = tmp_path / "out.json"
    schema = giving360.SCHEMA_DIR / giving360.GRANT_SCHEMA
    with resources.as_file(schema) as grant_schema_path:
        _unflatten(grant_schema_path, tmp_path / "in", out)
    assert json.loads(out.read_text()) == reports.grants_360_package(funded["fund"].id)


def _unflatten(grant_schema_path: Path, folder: Path, out: Path) -> None:
    subprocess.run(
        [
            flatten_tool(),
            "unflatten",
            "-f",
            "csv",
            "--schema",
            str(grant_schema_path),
            "--root-list-path",
            "grants",
            "--root-id",
            "",
            "--convert-titles",
            "-o",
            str(out),
            str(folder),
        ],
        check=True,
        capture_output=True,
    )


def test_360giving_csv_keeps_text_verbatim_so_it_reads_back_to_the_package(make):
    fund = make.fund(countersign_threshold_pence=None)
    app = make.application("approved", fund=fund)
    app.title = "+1 reading age"
    db.session.commit()
    row = rows_of(reports.grants_360_csv(fund.id))[0]
    assert row["Title"] == "+1 reading age"


def test_payment_csv_cells_cannot_run_as_spreadsheet_formulas(make):
    fund = make.fund(countersign_threshold_pence=None)
    app = make.application("approved", fund=fund)
    make.pay(make.claim(app, state="verified"), reference="PAY-1")
    app.lead_school.name = '=HYPERLINK("http://evil")'
    db.session.commit()
    text = reports.payments_csv(fund.id)
    assert "'=HYPERLINK" in text


def test_transparency_csv_lists_payments_at_or_over_the_threshold_with_reversals_negative(api, make, funded):
    response = api.get(f"/exports/transparency.csv?fund_id={funded['fund'].id}", make.user("finance"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == (
        "Body,Name of Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,"
        "Expense Area,Expense Type,Reverses Transaction Number,Reverses Payment Date"
    )
    rows = rows_of(text)
    assert [(r["Transaction Number"], r["Amount"]) for r in rows] == [
        ("BIG-1", "600.00"),
        ("BIG-1-REV", "-600.00"),
        ("BIG-2", "600.00"),
    ]
    lead = funded["approved"].lead_school
    assert rows[0]["Supplier Name"] == lead.name
    assert rows[0]["Supplier ID"] == f"GB-EDU-{lead.urn}"
    assert rows[0]["Body"] == "GB-LAE-SLG"
    assert rows[0]["Name of Body"] == "Slough Borough Council"
    assert rows[0]["Date"] == today().isoformat()


def test_transparency_threshold_is_inclusive(make, app):
    fund = make.fund(countersign_threshold_pence=None)
    approved = make.application("approved", fund=fund)
    claim = make.claim(approved, amount_pence=500_00, days="1", state="verified")
    make.pay(claim, amount_pence=app.config["TRANSPARENCY_THRESHOLD_PENCE"], reference="EXACT-1")
    assert [r["Amount"] for r in rows_of(reports.transparency_csv(fund.id, None, None))] == ["500.00"]


def test_transparency_csv_filters_by_payment_date(api, make, funded):
    finance = make.user("finance")
    day = today()
    tomorrow = (day + timedelta(days=1)).isoformat()
    yesterday = (day - timedelta(days=1)).isoformat()
    assert (
        len(rows_of(api.get(f"/exports/transparency.csv?from={tomorrow}", finance).get_data(as_text=True)))
        == 0
    )
    assert (
        len(rows_of(api.get(f"/exports/transparency.csv?to={yesterday}", finance).get_data(as_text=True)))
        == 0
    )
    both = api.get(f"/exports/transparency.csv?from={day.isoformat()}&to={day.isoformat()}", finance)
    assert len(rows_of(both.get_data(as_text=True))) == 3
    assert api.get("/exports/transparency.csv?from=yesterday", finance).status_code == 422


def test_audit_trail_csv_has_every_event_of_the_fund(api, make, funded):
    response = api.get(f"/exports/audit-trail.csv?fund_id={funded['fund'].id}", make.user("auditor"))
    assert response.status_code == 200
    rows = rows_of(response.get_data(as_text=True))
    expected = Event.query.filter_by(fund_id=funded["fund"].id).order_by(Event.seq).all()
    assert [int(r["Event number"]) for r in rows] == [e.id for e in expected]
    first = next(r for r in rows if r["What happened"] == "Bid started")
    assert first["Status after"] == "Draft"
    assert len(first["Hash"]) == 64
    assert rows[-1]["Details"] == formatting.payload_sentence(expected[-1].payload, expected[-1].subject_type)
    assert not any("{" in r["Details"] or "_" in r["What happened"] for r in rows)


def test_payments_csv_lists_every_disbursement_including_reversals(make, funded):
    rows = rows_of(reports.payments_csv(funded["fund"].id))
    assert [(r["reference"], r["amount_pence"], r["amount"]) for r in rows] == [
        ("BIG-1", "60000", "600.00"),
        ("BIG-1-REV", "-60000", "-600.00"),
        ("BIG-2", "60000", "600.00"),
        ("SMALL-1", "49999", "499.99"),
    ]
    reversal = rows[1]
    original = Disbursement.query.filter_by(reference="BIG-1").one()
    assert reversal["reverses_id"] == str(original.id)
    assert reversal["reason"] == "Wrong bank account"
    assert reversal["application_reference"] == funded["approved"].reference


def test_reports_without_a_fund_cover_every_fund(make, funded):
    other = make.application("approved")
    report = reports.value_for_money()
    assert report["fund"] is None and report["fund_id"] is None
    assert other.reference in {r["reference"] for r in report["rows"]}
    assert len(rows_of(reports.audit_trail_csv(None))) == Event.query.count()
    assert len(rows_of(reports.payments_csv(None))) == Disbursement.query.count()


# ------------------------------------------------------------------ 360Giving quality fields


@pytest.fixture
def located(make):
    """An award whose lead school has a local authority, with two priority areas and dated
    activities, beside one whose school has none."""
    fund = make.fund(countersign_threshold_pence=None)
    school = make.school(la_name="Slough", la_code="871")
    app = make.application("approved", fund=fund, lead=make.headteacher(school), awarded_pence=1_000_00)
    app.priority_areas = ["Early reading", "Leadership development"]
    app.activities[0].starts_on = today() + timedelta(days=10)
    app.activities[0].ends_on = today() + timedelta(days=70)
    db.session.commit()
    other = make.application("approved", fund=fund)
    return {"fund": fund, "app": app, "other": other, "school": school}


def _grant_of(fund_id: int, app: Application) -> dict:
    grants = {g["id"]: g for g in reports.grants_360(fund_id)}
    return grants[f"360G-fundflow-{app.reference}"]


def test_360giving_grant_carries_location_programme_dates_classifications_and_provenance(app, located):
    fund, bid = located["fund"], located["app"]
    grant = _grant_of(fund.id, bid)
    # GIAS gives no GSS code: the school is in the fund's council of its name, Slough, whose it is
    assert grant["recipientOrganization"][0]["location"] == [
        {
            "name": "Slough",
            "geoCode": "E06000039",
            "geoCodeType": "LAD",
            "description": "Local authority (DfE code 871)",
        }
    ]
    assert grant["beneficiaryLocation"] == [
        {"name": "Slough", "countryCode": "GB", "geoCode": "E06000039", "geoCodeType": "LAD"}
    ]
    assert grant["grantProgramme"] == [{"code": f"360G-fundflow-fund-{fund.id}", "title": fund.name}]
    assert grant["plannedDates"] == [
        {
            "startDate": (today() + timedelta(days=10)).isoformat(),
            "endDate": (today() + timedelta(days=70)).isoformat(),
        }
    ]
    assert grant["classifications"] == [
        {"vocabulary": "fundflow priority area", "code": "early-reading", "title": "Early reading"},
        {
            "vocabulary": "fundflow priority area",
            "code": "leadership-development",
            "title": "Leadership development",
        },
    ]
    latest = db.session.execute(
        db.select(db.func.max(Event.at)).where(Event.application_id == bid.id)
    ).scalar_one()
    assert grant["dateModified"] == latest.replace(microsecond=0).isoformat() + "+00:00"
    assert grant["dataSource"] == f"http://localhost:5000/auditor/funds/{fund.id}"
    assert grant["description"] == bid.need and grant["title"] != grant["description"]
    assert giving360.grant_problems(grant) == []


def test_360giving_grant_without_dated_activities_or_local_authority_uses_the_funds_dates(located):
    fund, other = located["fund"], located["other"]
    grant = _grant_of(fund.id, other)
    assert "location" not in grant["recipientOrganization"][0]
    assert grant["plannedDates"] == [
        {"startDate": fund.opens_on.isoformat(), "endDate": fund.delivery_ends_on.isoformat()}
    ]


def test_360giving_leaves_out_awards_of_nothing(located):
    located["other"].awarded_pence = 0
    db.session.commit()
    ids = {g["id"] for g in reports.grants_360(located["fund"].id)}
    assert ids == {f"360G-fundflow-{located['app'].reference}"}


@pytest.mark.parametrize("need", ["Phonics partnership", "  phonics PARTNERSHIP ", ""])
def test_360giving_description_never_repeats_the_title(make, need):
    fund = make.fund(countersign_threshold_pence=None)
    bid = make.application("approved", fund=fund)
    bid.need = need
    db.session.commit()
    grant = reports.grants_360(fund.id)[0]
    assert grant["title"] == "Phonics partnership"
    assert grant["description"].strip().casefold() != grant["title"].casefold()
    assert "Phonics partnership" in grant["description"] and fund.name in grant["description"]


def test_360giving_api_publishes_the_quality_fields(api, make, located):
    response = api.get(f"/exports/360giving.json?fund_id={located['fund'].id}", make.user("auditor"))
    assert response.status_code == 200
    package = response.get_json()
    assert [e.message for e in package_validator().iter_errors(package)] == []
    grant = next(g for g in package["grants"] if g["id"].endswith(located["app"].reference))
    assert grant == _grant_of(located["fund"].id, located["app"])


def test_360giving_csv_with_locations_and_classifications_converts_back_to_the_package(located, tmp_path):
    fund_id = located["fund"].id
    text = reports.grants_360_csv(fund_id)
    header = rows_of(text)[0].keys()
    assert "Classifications:1:Title" in header and "Classifications:2:Title" not in header
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "grants.csv").write_text(text)
    out = tmp_path / "out.json"
    with resources.as_file(giving360.SCHEMA_DIR / giving360.GRANT_SCHEMA) as grant_schema_path:
        _unflatten(grant_schema_path, tmp_path / "in", out)
    assert json.loads(out.read_text()) == reports.grants_360_package(fund_id)
