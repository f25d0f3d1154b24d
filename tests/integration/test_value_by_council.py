"""A partnership fund's value for money by member council (issue 15): each bid counts in the
council of its lead school (by GSS code, else by the local authority's name, else "Other"),
the councils add up to the fund's totals on SQLite and PostgreSQL, and the page shows the
table, with its CSV, only for a fund of more than one council."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from fundflow import reports
from fundflow.extensions import db
from fundflow.models import Fund, School, User
from fundflow.reports.termly import termly_report
from fundflow.services import admin, impact, organisations, terms
from fundflow.services.clock import today

from ..factories import PASSWORD, Factory

SLUG = "central-south"
CARDIFF, BRIDGEND = "W06000015", "W06000013"


@dataclass
class Partnership:
    fund: Fund
    liaison: User
    auditor: User
    finance: User
    cardiff: School
    bridgend: School
    elsewhere: School
    #: Partners (English schools, named by URN), one in each council.
    partners: dict[str, School]


def staff(make: Factory, *roles: str) -> User:
    n = make.n()
    return admin.create_user(
        None,
        admin.UserInput(
            email=f"staff{n}@central-south.test",
            name=f"Staff {n}",
            roles=list(roles),
            password=PASSWORD,
            organisation_slug=SLUG,
        ),
    )


def partnership_fund(make: Factory) -> Partnership:
    """A fund of a partnership of Cardiff and Bridgend, with schools of each and one of
    neither: Cardiff's carries its GSS code; Bridgend's only its council's name, in capitals."""
    organisation = organisations.create_organisation(
        None,
        slug=SLUG,
        name="Central South Consortium",
        funder_id="GB-PLA-CRF",
        reference_prefix="CSC",
        local_authorities=[CARDIFF, BRIDGEND],
    )
    now = today()
    fund = admin.create_fund(
        None,
        admin.FundInput(
            name="Central South School Partnerships Fund",
            financial_year="2026-27",
            budget_pence=100_000_00,
            opens_on=now - timedelta(days=30),
            closes_on=now + timedelta(days=180),
            max_daily_rate_pence=500_00,
            countersign_threshold_pence=None,
            delivery_ends_on=now + timedelta(days=545),
        ),
        organisation,
    )
    return Partnership(
        fund=fund,
        liaison=staff(make, "liaison_officer"),
        auditor=staff(make, "auditor"),
        finance=staff(make, "finance"),
        cardiff=make.school(
            urn=None,
            nation="wales",
            identifier="6812001",
            name="Ysgol Caerdydd",
            la_name="Cardiff",
            la_code="681",
            gss_code=CARDIFF,
        ),  # fmt: skip
        bridgend=make.school(
            urn=None,
            nation="wales",
            identifier="6722001",
            name="Bridgend Primary",
            la_name="BRIDGEND",
            la_code="672",
        ),  # fmt: skip
        elsewhere=make.school(urn="110777", name="Border Academy", la_name="Cardiff", la_code="871"),
        partners={name: make.school(la_name=name) for name in ("Cardiff", "Bridgend")},
    )


def bid(make: Factory, p: Partnership, state: str, lead: School, **kwargs):
    """A bid led by ``lead`` with a partner from the other member council."""
    partner = p.partners["Cardiff" if lead.id == p.bridgend.id else "Bridgend"]
    return make.application(
        state,
        fund=p.fund,
        lead=make.headteacher(lead),
        partner=partner,
        liaison=p.liaison,
        second_liaison=p.liaison,
        **kwargs,
    )


def story(make: Factory) -> Partnership:
    """Cardiff: an award of £1,000 (4 days) with £300 paid and its measure achieved, and a bid
    still under review. Bridgend: an award of £600 (2 days) paid £200 and delivered, and one
    closed with its measure part-way. A school now in neither council: an award of £500."""
    p = partnership_fund(make)
    cardiff = bid(make, p, "approved", p.cardiff, awarded_pence=1_000_00)
    make.pay(make.claim(cardiff, amount_pence=300_00, state="verified", liaison=p.liaison), finance=p.finance)
    lead = make.lead_of(cardiff)
    report = impact.submit_report(
        lead,
        cardiff,
        impact.ReportInput(
            kind="interim",
            narrative="Phonics improved.",
            results=[impact.ResultInput(measure_id=m.id, actual="80") for m in cardiff.measures],
        ),
    )
    impact.evaluate_report(
        p.liaison, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
    )
    bid(make, p, "under_review", p.cardiff)
    delivered = bid(make, p, "approved", p.bridgend, awarded_pence=600_00, days="2")
    make.pay(
        make.claim(delivered, amount_pence=200_00, state="verified", liaison=p.liaison), finance=p.finance
    )
    make.act(delivered, make.lead_of(delivered), "finish_delivery")
    bid(make, p, "closed", p.bridgend)
    bid(make, p, "approved", p.elsewhere, awarded_pence=500_00)
    # The school's local authority is corrected after the award (a later GIAS import): it is
    # in neither council now, so its bid counts as "Other".
    p.elsewhere.la_name = "Slough"
    db.session.commit()
    return p


def check_by_council(p: Partnership) -> None:
    report = reports.value_for_money(p.fund.id)
    rows = {r["name"]: r for r in report["by_council"]}
    assert list(rows) == ["Bridgend", "Cardiff", "Other"]
    cardiff, bridgend, other = rows["Cardiff"], rows["Bridgend"], rows["Other"]
    assert (cardiff["gss_code"], bridgend["gss_code"], other["gss_code"]) == (CARDIFF, BRIDGEND, None)
    assert (cardiff["bids"], cardiff["awarded_pence"], cardiff["committed_pence"], cardiff["paid_pence"]) == (
        2,
        1_000_00,
        1_000_00,
        300_00,
    )
    assert (cardiff["days"], cardiff["measures"], cardiff["achieved"], cardiff["share_achieved"]) == (
        "4.0",
        1,
        1,
        1.0,
    )
    # delivered: committed what was paid; closed: nothing paid, so nothing held
    assert (bridgend["bids"], bridgend["awarded_pence"], bridgend["committed_pence"]) == (
        2,
        600_00 + 1_200_00,
        200_00,
    )
    assert (bridgend["paid_pence"], bridgend["days"]) == (200_00, "6.0")
    assert (bridgend["measures"], bridgend["with_result"], bridgend["achieved"]) == (2, 1, 0)
    assert bridgend["share_achieved"] == 0.0
    assert (other["bids"], other["awarded_pence"], other["measures"], other["share_achieved"]) == (
        1,
        500_00,
        1,
        None,
    )
    # the councils add up to the fund's totals
    totals, outcomes = report["totals"], report["outcomes"]
    for key, total in (
        ("bids", totals["applications"]),
        ("awarded_pence", totals["awarded_pence"]),
        ("committed_pence", totals["committed_pence"]),
        ("paid_pence", totals["paid_pence"]),
        ("measures", outcomes["measures"]),
        ("achieved", outcomes["achieved"]),
        ("with_result", outcomes["with_result"]),
    ):
        assert sum(r[key] for r in rows.values()) == total, key
    assert sum(Decimal(r["days"]) for r in rows.values()) == Decimal(report["bought"]["days_funded"])
    assert totals["applications"] == 5 and totals["paid_pence"] == 500_00


def test_a_partnership_funds_figures_add_up_by_member_council(app):
    check_by_council(story(Factory()))


@pytest.mark.postgres
def test_a_partnership_funds_figures_add_up_by_member_council_on_postgresql(pg_app):
    check_by_council(story(Factory()))


def test_every_council_of_the_fund_is_listed_and_other_only_when_needed(app):
    make = Factory()
    p = partnership_fund(make)
    bid(make, p, "approved", p.cardiff, awarded_pence=600_00)
    rows = reports.value_for_money(p.fund.id)["by_council"]
    assert [(r["name"], r["bids"], r["awarded_pence"]) for r in rows] == [
        ("Bridgend", 0, 0),
        ("Cardiff", 1, 600_00),
    ]
    assert rows[0]["days"] == "0.0" and rows[0]["share_achieved"] is None
    # the filters apply: a date range before any bid leaves the councils at nought
    empty = reports.value_for_money(p.fund.id, date_to=today() - timedelta(days=400))["by_council"]
    assert [r["bids"] for r in empty] == [0, 0]


def test_without_a_fund_the_councils_leading_bids_are_listed(app):
    make = Factory()
    p = partnership_fund(make)
    bid(make, p, "submitted", p.bridgend)
    rows = reports.value_for_money(None)["by_council"]
    assert [(r["gss_code"], r["bids"]) for r in rows] == [(BRIDGEND, 1)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_page_shows_the_table_by_member_council_and_its_csv(app, client, auth):
    p = story(Factory())
    auth.login(p.auditor)
    base = f"/reports/funds/{p.fund.id}/value-for-money"
    response = client.get(base)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="by-council">By member council</h2>' in html
    section = html[html.index('id="by-council"') :]
    for text in ("Cardiff", "W06000015", "Bridgend", "Other", "£1,000.00", "1 of 1", "Whole fund"):
        assert text in section, text
    assert f"{base}/councils.csv" in section
    download = client.get(f"{base}/councils.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = _csv(download)
    assert rows[0][:3] == ["Member council of the lead school", "GSS code", "Bids"]
    assert all("_" not in h for h in rows[0])
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Cardiff"] == [
        "Cardiff", CARDIFF, "2", "1000.00", "1000.00", "300.00", "4.0", "1", "1", "1", "100.0"
    ]  # fmt: skip
    assert by_name["Other"][1] == "" and by_name["Other"][-1] == ""


def test_a_fund_of_one_council_has_no_table_by_council(app, client, auth, make):
    fund = make.fund()  # the first organisation's: one council
    make.application("approved", fund=fund)
    auth.login(make.user("auditor"))
    html = client.get(f"/reports/funds/{fund.id}/value-for-money").get_data(as_text=True)
    assert "By member council" not in html and "councils.csv" not in html
    assert sum(r["bids"] for r in reports.value_for_money(fund.id)["by_council"]) == 1


# ------------------------------------------------------------------------- the termly report


def check_termly_by_council(p: Partnership) -> None:
    """Today's term: the payments (made today) and the two evaluated reports by council,
    adding up to the report's own spend, decisions and outcomes."""
    report = termly_report(p.fund, terms.default_term(p.fund, today()), today())
    rows = {c.name: c for c in report.by_council}
    assert list(rows) == ["Bridgend", "Cardiff", "Other"]
    cardiff, bridgend, other = rows["Cardiff"], rows["Bridgend"], rows["Other"]
    assert (cardiff.spent_pence, cardiff.measures_reported, cardiff.achieved) == (300_00, 1, 1)
    assert (bridgend.spent_pence, bridgend.measures_reported, bridgend.achieved) == (200_00, 1, 0)
    assert (other.spent_pence, other.measures_reported, other.gss_code) == (0, 0, None)
    councils = report.by_council
    assert sum(c.spent_pence for c in councils) == report.spend.net_pence == 500_00
    assert sum(c.awarded for c in councils) == report.decisions.awarded
    assert sum(c.awarded_pence for c in councils) == report.decisions.awarded_pence
    assert sum(c.measures_reported for c in councils) == report.outcomes.measures_reported == 2
    assert sum(c.achieved for c in councils) == report.outcomes.measures["achieved"] == 1


def test_the_termly_report_of_a_partnership_fund_breaks_the_term_down_by_council(app):
    check_termly_by_council(story(Factory()))


@pytest.mark.postgres
def test_the_termly_report_by_council_on_postgresql(pg_app):
    check_termly_by_council(story(Factory()))


def test_the_termly_page_shows_the_councils_only_for_a_partnership_fund(app, client, auth, make):
    single = make.fund()  # the first organisation's (made first): one council or none
    make.application("approved", fund=single)
    p = story(make)
    auth.login(p.auditor)
    page = client.get(f"/reports/funds/{p.fund.id}/termly")
    assert page.status_code == 200
    section = page.text[page.text.index('id="by-council"') :]
    assert "By member council" in section and "Cardiff" in section and "£300.00" in section
    assert "1 of 1 reported" in section
    pdf = client.get(f"/reports/funds/{p.fund.id}/termly.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    auth.login(make.user("auditor"))
    assert 'id="by-council"' not in client.get(f"/reports/funds/{single.id}/termly").text
    assert termly_report(single, terms.default_term(single, today()), today()).by_council == []


def test_schools_are_named_by_their_own_nations_identifier_not_an_empty_urn(app, client, auth):
    """Welsh schools have no URN: the report, page and CSVs name them by school number."""
    p = story(Factory())
    report = reports.value_for_money(p.fund.id)
    by_school = {s["name"]: s for s in report["bought"]["by_school"]}
    assert {k: by_school["Ysgol Caerdydd"][k] for k in ("nation", "identifier", "urn")} == {
        "nation": "wales",
        "identifier": "6812001",
        "urn": None,
    }
    leads = {r["lead_school_name"]: r for r in report["rows"]}
    assert (
        leads["Bridgend Primary"]["lead_school_nation"],
        leads["Bridgend Primary"]["lead_school_identifier"],
    ) == (
        "wales",
        "6722001",
    )
    assert leads["Border Academy"]["lead_school_identifier"] == "110777"

    auth.login(p.auditor)
    base = f"/reports/funds/{p.fund.id}/value-for-money"
    html = client.get(base).get_data(as_text=True)
    assert "school number 6812001" in html and "URN 110777" in html
    assert "URN None" not in html
    schools = _csv(client.get(f"{base}/schools.csv"))
    assert schools[0][:3] == ["School", "URN", "School identifier"]
    assert ["Ysgol Caerdydd", "", "school number 6812001"] in [row[:3] for row in schools[1:]]
    bids = _csv(client.get(f"{base}/bids.csv"))
    column = bids[0].index("Lead school identifier")
    assert {row[column] for row in bids[1:]} >= {
        "school number 6812001",
        "school number 6722001",
        "URN 110777",
    }


def test_a_partnerships_payment_exports_name_the_partnership_and_the_welsh_schools(app, monkeypatch):
    """The paying body is the fund's organisation, not the deployment's first council, and a
    Welsh payee is identified in the Welsh register."""
    p = story(Factory())
    monkeypatch.setitem(app.config, "TRANSPARENCY_THRESHOLD_PENCE", 1)
    rows = list(csv.DictReader(io.StringIO(reports.transparency_csv(p.fund.id, None, None))))
    assert {(r["Body"], r["Name of Body"]) for r in rows} == {("GB-PLA-CRF", "Central South Consortium")}
    assert {r["Supplier ID"] for r in rows} == {"GB-WALEDU-6812001", "GB-WALEDU-6722001"}
    payments = list(csv.DictReader(io.StringIO(reports.payments_csv(p.fund.id))))
    assert {(r["payee_urn"], r["payee_nation"], r["payee_identifier"]) for r in payments} == {
        ("", "wales", "6812001"),
        ("", "wales", "6722001"),
    }
