"""The service layer keeps each organisation's records to itself (issue 15): the queries
behind every list, the checks behind every record, who hears of what, whose accounts an
administrator manages, and whose chain an auditor's check covers. The pages and the API
over these are checked route by route in ``test_organisation_isolation.py``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import AuditVerification, Event, Notification
from fundflow.reports import exports, value
from fundflow.services import access, admin, applications, audit, organisations
from fundflow.services.clock import today
from fundflow.services.errors import NotFound, ValidationFailed
from fundflow.services.queries import admin as admin_queries
from fundflow.services.queries import auditor as auditor_queries
from fundflow.services.queries import exceptions as exception_queries
from fundflow.services.queries import finance as finance_queries
from fundflow.services.queries import headteacher as headteacher_queries
from fundflow.services.queries import liaison as liaison_queries
from fundflow.services.queries.funds import all_funds

GLASGOW = "S12000049"


@pytest.fixture
def two(make):
    """The first organisation's bid (approved, a claim paid) and the partnership's, each
    with its own staff; the partnership's school is in Glasgow."""
    home = organisations.home_organisation()
    west = make.organisation(
        "partnership",
        name="The West Partnership",
        funder_id="GB-LAS-GLG",
        reference_prefix="WPSIF",
        local_authorities=[GLASGOW, "S12000011"],
    )
    fund_b = make.fund(west, name="Bravo Partnership Fund", budget_pence=50_000_00)
    glasgow_school = make.school(
        name="Glasgow Academy", urn=None, nation="scotland", identifier="8412345", gss_code=GLASGOW
    )
    roles = ("liaison_officer", "finance", "auditor", "admin")
    staff_a = {role: make.user(role, organisation=home) for role in roles}
    staff_b = {role: make.user(role, organisation=west) for role in roles}
    bid_a = make.application("approved")
    bid_b = make.application(
        "approved", fund=fund_b, lead=make.headteacher(glasgow_school), liaison=staff_b["liaison_officer"]
    )
    return {
        "home": home,
        "west": west,
        "bid_a": bid_a,
        "bid_b": bid_b,
        "fund_b": fund_b,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "glasgow_school": glasgow_school,
    }


def test_staff_of_one_organisation_see_only_its_bids(two):
    for role, person in two["staff_a"].items():
        if role == "admin":
            continue
        assert access.can_see(person, two["bid_a"]) and not access.can_see(person, two["bid_b"])
        with pytest.raises(NotFound):
            access.get_application(person, two["bid_b"].reference)
        seen = set(db.session.execute(access.visible_applications(person)).scalars())
        assert two["bid_a"] in seen and two["bid_b"] not in seen


def test_another_organisations_fund_is_not_found_and_filters_to_nothing(two):
    officer = two["staff_a"]["liaison_officer"]
    with pytest.raises(NotFound):
        access.get_fund(officer, two["fund_b"].id)
    assert two["fund_b"] not in all_funds(officer)
    assert two["fund_b"] in all_funds(two["staff_b"]["auditor"])
    pagination, _money = auditor_queries.applications(officer, None, two["fund_b"].id, 1, 50)
    assert pagination.total == 0
    assert finance_queries.payments(officer, two["fund_b"].id, 1, 50).total == 0


def test_the_work_queue_counts_only_the_officers_organisation(two):
    officer_a, officer_b = two["staff_a"]["liaison_officer"], two["staff_b"]["liaison_officer"]
    filters = liaison_queries.QueueFilters()
    page_a = liaison_queries.queue_page(officer_a, "delivery", filters, 1, 50)
    page_b = liaison_queries.queue_page(officer_b, "delivery", filters, 1, 50)
    assert [row.application for row in page_a.rows] == [two["bid_a"]]
    assert [row.application for row in page_b.rows] == [two["bid_b"]]
    assert (
        liaison_queries.queue_page(
            officer_a, "delivery", liaison_queries.QueueFilters(fund_id=two["fund_b"].id), 1, 50
        ).rows
        == []
    )


def test_reports_without_a_fund_cover_the_viewers_organisation_only(two):
    auditor_a = two["staff_a"]["auditor"]
    whole = value.value_for_money(None, 1, 50)
    mine = value.value_for_money(None, 1, 50, viewer=auditor_a)
    assert whole["total"] == 2 and mine["total"] == 1
    assert [row["reference"] for row in mine["rows"]] == [two["bid_a"].reference]
    assert exception_queries.counts(None, today(), auditor_a) == exception_queries.counts(
        two["bid_a"].fund_id, today()
    )
    trail = "".join(exports.audit_trail_chunks(None, viewer=auditor_a))
    assert two["bid_a"].reference in trail and two["bid_b"].reference not in trail
    with pytest.raises(NotFound):
        "".join(exports.payments_chunks(two["fund_b"].id, viewer=auditor_a))


def test_finance_sees_only_its_organisations_claims_to_pay(two, make):
    claim_a = make.claim(two["bid_a"], state="verified")
    claim_b = make.claim(two["bid_b"], state="verified", liaison=two["staff_b"]["liaison_officer"])
    finance_a = two["staff_a"]["finance"]
    listed, _paid = finance_queries.claims_to_pay(finance_a, 1, 50)
    assert claim_a in listed.items and claim_b not in listed.items
    with pytest.raises(NotFound):
        access.get_claim(finance_a, claim_b.id)


def test_staff_hear_only_of_their_own_organisations_bids(two, make):
    make.claim(two["bid_b"], state="verified", liaison=two["staff_b"]["liaison_officer"])
    told = (
        db.session.execute(select(Notification.user_id).where(Notification.application_id == two["bid_b"].id))
        .scalars()
        .all()
    )
    assert not {person.id for person in two["staff_a"].values()} & set(told)
    assert two["staff_b"]["finance"].id in told


def test_an_administrator_manages_only_their_organisations_accounts(two, make):
    admin_a, admin_b = two["staff_a"]["admin"], two["staff_b"]["admin"]
    glasgow_head = make.headteacher(two["glasgow_school"])
    listed_a = {u.id for u in admin_queries.users(admin_a, 1, 200).items}
    listed_b = {u.id for u in admin_queries.users(admin_b, 1, 200).items}
    assert two["staff_b"]["finance"].id not in listed_a and glasgow_head.id not in listed_a
    assert two["staff_b"]["finance"].id in listed_b and glasgow_head.id in listed_b
    with pytest.raises(NotFound):
        admin_queries.get_user(admin_a, glasgow_head.id)
    with pytest.raises(NotFound):
        admin.update_user(admin_a, two["staff_b"]["finance"], roles=["auditor"], active=True)


def test_an_administrators_new_staff_join_their_organisation_and_no_other(two):
    admin_b = two["staff_b"]["admin"]
    person, _link = admin.create_user_with_link(
        admin_b,
        admin.UserInput(email="new.officer@example.test", name="New Officer", roles=["liaison_officer"]),
    )
    assert person.organisation_id == two["west"].id
    with pytest.raises(ValidationFailed):
        admin.create_user_with_link(
            admin_b,
            admin.UserInput(
                email="sneaky@example.test",
                name="Sneaky",
                roles=["finance"],
                organisation_slug=two["home"].slug,
            ),
        )


def test_a_school_cannot_bid_into_a_fund_not_open_to_its_council(two, make):
    slough_head = make.headteacher(make.school(la_name="Slough"))
    assert two["fund_b"] not in headteacher_queries.funds_taking_bids(slough_head)
    glasgow_head = make.headteacher(two["glasgow_school"])
    assert two["fund_b"] in headteacher_queries.funds_taking_bids(glasgow_head)
    with pytest.raises(ValidationFailed) as refused:
        applications.create_draft(slough_head, make.details(two["fund_b"], make.school()))
    assert "fund_id" in refused.value.fields


def test_an_auditors_check_covers_and_records_only_their_organisations_chain(two):
    auditor_b = two["staff_b"]["auditor"]
    from fundflow import reports

    report = reports.verify_audit_chain(auditor_b)
    own = db.session.execute(
        select(func.count(Event.id)).where(Event.organisation_id == two["west"].id)
    ).scalar_one()
    everything = db.session.execute(select(func.count(Event.id))).scalar_one()
    assert report.ok and report.events_checked == own < everything
    recorded = db.session.execute(select(AuditVerification)).scalars().all()
    assert [(r.organisation_id, r.events_checked) for r in recorded] == [(two["west"].id, own)]


def test_the_shells_check_records_each_organisations_chain_apart(two):
    audit.verify_and_record("the verify-audit command")
    recorded = {
        r.organisation_id: r.events_checked for r in db.session.execute(select(AuditVerification)).scalars()
    }
    counts = dict(
        db.session.execute(
            select(Event.organisation_id, func.count(Event.id)).group_by(Event.organisation_id)
        ).all()
    )
    assert recorded[two["home"].id] == counts[two["home"].id]
    assert recorded[two["west"].id] == counts[two["west"].id]
    assert recorded[None] == sum(counts.values())


def test_a_scottish_partnerships_termly_report_has_four_terms(two):
    from fundflow.services import terms

    fund = two["fund_b"]
    assert two["west"].term_calendar == "four_terms"
    seasons = [t.season for t in terms.fund_terms(fund)]
    assert set(seasons) == {"autumn", "winter", "spring", "summer"}
    autumn = seasons.index("autumn")
    assert seasons[autumn : autumn + 4] == ["autumn", "winter", "spring", "summer"]
    winter = terms.fund_term(fund, f"{fund.opens_on.year}-winter")
    assert (winter.starts_on.month, winter.ends_on.month) == (11, 12)
    with pytest.raises(ValidationFailed):
        terms.fund_term(two["bid_a"].fund, f"{fund.opens_on.year}-winter")  # England has no winter term
    days = [terms.term_of(date(2026, 1, 1) + timedelta(days=n), "four_terms") for n in range(730)]
    assert all(t.starts_on <= date(2026, 1, 1) + timedelta(days=n) <= t.ends_on for n, t in enumerate(days))
