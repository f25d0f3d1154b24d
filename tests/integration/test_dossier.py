"""Each bid's dossier page: the whole record (versions, reviews, decision, claims with their
evidence, payments and reversals, the schedule, reports), and the bid's audit trail with
every event checked against the chain, a tampered event failing its check, and the last
full verification of the chain. Read in the same number of queries for 5 or 50 events."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from fundflow.extensions import db
from fundflow.models import AuditVerification, Event
from fundflow.services import impact

PAGE = "/reports/bids/{}/dossier"


@pytest.fixture
def auditor(make):
    return make.user("auditor")


def full_bid(make, *, extra_claims: int = 0):
    """A bid that went the whole way: reviewed, approved with conditions, a claim paid, its
    payment reversed and paid again, delivery finished and a final report evaluated."""
    liaison = make.liaison()
    application = make.application("under_review", liaison=liaison)
    make.review(liaison, application)
    make.act(application, liaison, "approve", awarded_pence=1_000_00, conditions="Report each term.")
    claim = make.claim(application, amount_pence=300_00, state="verified", liaison=liaison)
    make.paid_with_reversal(claim)
    for _ in range(extra_claims):
        make.claim(application, amount_pence=1_00, state="rejected", liaison=liaison)
    lead = make.lead_of(application)
    make.act(application, lead, "finish_delivery")
    report = make.final_report(application, "Phonics improved across both schools.")
    impact.evaluate_report(
        liaison, report, impact.EvaluationInput(rating="achieved", drivers=["collaboration"])
    )
    db.session.commit()
    return application


def events_of(application) -> list[Event]:
    return list(
        db.session.execute(
            select(Event).where(Event.application_id == application.id).order_by(Event.seq)
        ).scalars()
    )


def dossier_page(client, reference: str) -> str:
    response = client.get(PAGE.format(reference))
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_dossier_shows_the_whole_record(client, auth, make, auditor):
    bid = full_bid(make)
    auth.login(auditor)
    page = dossier_page(client, bid.reference)
    assert bid.title in page and bid.lead_school.name in page
    assert "Version 1" in page and "First version" in page  # versions
    assert "Clear plan, fair rates." in page and "3 out of 4" in page  # review
    assert "£1,000.00" in page and "Report each term." in page  # decision and conditions
    assert "PAY-WRONG" in page and "PAY-RIGHT" in page and "-£300.00" in page  # payments
    assert "Reversal of payment PAY-WRONG: Paid to the wrong account" in page
    assert "Final impact report" in page  # the monitoring schedule
    assert "Phonics improved across both schools." in page and "Achieved" in page  # the report
    assert "Download as PDF" in page and f"/reports/bids/{bid.reference}/dossier.pdf" in page
    assert "_pence" not in page and "{&#34;" not in page  # no snake_case keys, no JSON


def test_every_event_is_shown_checked(client, auth, make, auditor):
    bid = full_bid(make)
    events = events_of(bid)
    auth.login(auditor)
    page = dossier_page(client, bid.reference)
    assert page.count('class="app-check--ok">Checked</span>') == len(events) > 10
    assert "Failed" not in page and "Every event passes." in page
    for event in events:
        assert f'id="event-{event.seq}"' in page and f"{event.hash[:16]}…" in page


def test_a_tampered_event_fails_its_check(client, auth, make, auditor):
    bid = full_bid(make)
    victim = next(e for e in events_of(bid) if e.action == "record_disbursement")
    db.session.execute(update(Event).where(Event.id == victim.id).values(payload={"amount_pence": 1}))
    db.session.commit()
    auth.login(auditor)
    page = dossier_page(client, bid.reference)
    row = re.search(rf'id="event-{victim.seq}".*?</tr>', page, re.S).group(0)
    assert "Failed</span>: its content no longer matches its hash" in row
    assert "1 event fails the check." in page
    assert page.count('class="app-check--ok">Checked</span>') == len(events_of(bid)) - 1


def test_an_event_that_does_not_follow_the_one_before_fails_its_check(client, auth, make, auditor):
    bid = full_bid(make)
    victim = events_of(bid)[-1]
    db.session.execute(update(Event).where(Event.id == victim.id).values(prev_hash="f" * 64))
    db.session.commit()
    auth.login(auditor)
    page = dossier_page(client, bid.reference)
    row = re.search(rf'id="event-{victim.seq}".*?</tr>', page, re.S).group(0)
    assert "it does not follow the event before it in the chain" in row


def test_last_full_verification_is_shown_after_verify_audit(client, auth, make, auditor, runner):
    bid = full_bid(make)
    auth.login(auditor)
    organisation = bid.fund.organisation
    assert f"Last full verification of {organisation.name}’s whole audit trail: never checked." in (
        dossier_page(client, bid.reference).replace("&#39;", "’").replace("'", "’")
    )
    result = runner.invoke(args=["fundflow", "verify-audit"])
    assert result.exit_code == 0, result.output
    total = db.session.execute(select(func.count(Event.id))).scalar_one()
    own = db.session.execute(
        select(func.count(Event.id)).where(Event.organisation_id == organisation.id)
    ).scalar_one()
    recorded = db.session.execute(select(AuditVerification).order_by(AuditVerification.id)).scalars().all()
    assert [(r.organisation_id, r.ok, r.events_checked, r.checked_by) for r in recorded] == [
        (None, True, total, "the verify-audit command"),
        (organisation.id, True, own, "the verify-audit command"),
    ]
    assert own < total  # the service's own chain (accounts made from the shell) is not theirs
    page = dossier_page(client, bid.reference)
    assert "by the verify-audit command" in page and f"The trail was intact ({own} events checked)" in page


def test_the_auditor_check_and_the_api_check_are_recorded_too(client, auth, make, auditor):
    full_bid(make)
    auth.login(auditor)
    assert client.get("/auditor/verify").status_code == 200
    victim = db.session.execute(select(Event).order_by(Event.seq).limit(1)).scalar_one()
    db.session.execute(update(Event).where(Event.id == victim.id).values(actor_email="someone@else"))
    db.session.commit()
    from fundflow import reports

    reports.verify_audit_chain(auditor)
    recorded = db.session.execute(select(AuditVerification).order_by(AuditVerification.id)).scalars().all()
    assert [(r.ok, r.checked_by) for r in recorded] == [(True, auditor.email), (False, auditor.email)]
    assert recorded[1].first_bad_event_id == victim.id and recorded[1].problem == "its content was changed"


def test_a_verification_adds_no_event_to_the_chain(make, auditor):
    from fundflow.services import audit

    full_bid(make)
    before = db.session.execute(select(func.count(Event.id))).scalar_one()
    assert audit.verify_and_record(auditor.email).ok
    assert db.session.execute(select(func.count(Event.id))).scalar_one() == before


def test_unknown_bid_is_a_404_page(client, auth, auditor):
    auth.login(auditor)
    response = client.get(PAGE.format("NOPE-0000"))
    assert response.status_code == 404 and "Page not found" in response.text


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("liaison_officer", "/liaison/bids/{reference}"),
        ("auditor", "/auditor/bids/{reference}"),
        ("finance", "/auditor/bids/{reference}"),  # finance reads bids on the auditor's pages
        ("finance", "/finance/claims/{claim}/pay"),
    ],
)
def test_bid_pages_of_the_three_report_roles_link_the_dossier(client, auth, make, role, page):
    bid = make.application("approved")
    claim = make.claim(bid, state="verified")
    auth.login(make.user(role))
    response = client.get(page.format(reference=bid.reference, claim=claim.id))
    assert response.status_code == 200, response.text[:300]
    assert f'href="/reports/bids/{bid.reference}/dossier"' in response.text


def test_dossier_runs_the_same_queries_for_few_or_50_events(client, auth, make, auditor, count_queries):
    few = full_bid(make)
    many = full_bid(make, extra_claims=18)  # 18 more claims, each made and rejected: 36 more events
    assert len(events_of(few)) < 20 and len(events_of(many)) >= 50
    auth.login(auditor)
    counts = []
    for bid in (few, many):
        dossier_page(client, bid.reference)  # warm up
        with count_queries() as statements:
            dossier_page(client, bid.reference)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
