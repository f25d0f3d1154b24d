"""Every URL rule × every role (and signed out) → the expected status.

The rules come from the app's URL map, so a route added without a row in ``EXPECTED`` (and
sample arguments in ``SAMPLES``) fails this test: no page can ship without an access
decision. The data is the demo seed, so each person meets real records: bids their school
takes part in and bids it does not.

GET requests must give exactly the status in the table. Every POST rule is also sent an
empty form by each person: those the table forbids must be refused the same way (and
nothing may answer 500).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundflow import demo
from fundflow.extensions import db
from fundflow.models import (
    Application,
    BackfillClaim,
    Disbursement,
    Fund,
    ImpactReport,
    Organisation,
    School,
    User,
)
from fundflow.services import auth
from fundflow.services import claims as claim_service
from fundflow.services.clock import today
from fundflow.services.evidence import Upload
from fundflow.services.queries.schedule import schedule_for
from fundflow.services.terms import default_term

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PEOPLE = {
    "anonymous": None,
    "lead": "headteacher@demo.test",
    "partner": "partner@demo.test",
    "other_head": "head4@demo.test",
    "liaison": "liaison@demo.test",
    "finance": "finance@demo.test",
    "auditor": "auditor@demo.test",
    "admin": "admin@demo.test",
    "service_admin": "service-admin@demo.test",
}
COLUMNS = list(PEOPLE)

# Expected GET status per endpoint, in the column order of PEOPLE. Signed out: a redirect to
# sign-in (401 on the API). Each role's pages: 200 for that role, 403 for the others.
# Headteachers of a school not in the bid: 404 (least privilege). A partner school's
# headteacher is sent from the lead's editing pages to the bid's read-only page (302).
# The read-only audit pages and files are open to liaison officers and finance too (the
# same reports API.md gives them), except the chain check.
EXPECTED: dict[str, tuple[int, ...]] = {
    #                              anon  lead  partner other liaison finance auditor admin
    "account.calendar": (302, 200, 200, 200, 200, 200, 200, 200),
    "account.calendar_feed": (404, 404, 404, 404, 404, 404, 404, 404),  # no such calendar link
    "account.messages": (302, 200, 200, 200, 200, 200, 200, 200),
    "account.notification_settings": (302, 200, 200, 200, 200, 200, 200, 200),
    "admin.create_fund": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.create_school": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.create_user": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.edit_fund": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.edit_user": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.funds": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.import_schools": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.outbox": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.school": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.school_by_urn": (302, 403, 403, 403, 403, 403, 403, 301),  # the old address: to admin.school
    "admin.schools": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.set_password_link": (302, 403, 403, 403, 403, 403, 403, 200),
    "admin.users": (302, 403, 403, 403, 403, 403, 403, 200),
    # the service administrator's pages (issue 15): theirs alone (their column: SERVICE_ADMIN)
    "service_admin.create_organisation": (302, 403, 403, 403, 403, 403, 403, 403),
    "service_admin.organisation": (302, 403, 403, 403, 403, 403, 403, 403),
    "service_admin.organisations": (302, 403, 403, 403, 403, 403, 403, 403),
    "api.application_events": (401, 200, 200, 404, 200, 200, 200, 404),
    "api.application_dossier_pdf": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.termly_report_pdf": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.export_360_csv": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.export_360_json": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.export_audit_trail": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.export_transparency": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.get_application": (401, 200, 200, 404, 200, 200, 200, 404),
    "api.get_fund": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.list_applications": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.list_funds": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.list_notifications": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.list_schools": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.me": (401, 200, 200, 200, 200, 200, 200, 200),
    "api.openapi_json": (200, 200, 200, 200, 200, 200, 200, 200),
    "api.value_for_money": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.control_exceptions": (401, 403, 403, 403, 200, 200, 200, 403),
    "api.verify_audit": (401, 403, 403, 403, 403, 403, 200, 403),
    "auditor.application": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.applications": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.audit_trail_csv": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.funds": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.grants_360_csv": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.grants_360_json": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.ledger": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.transparency": (302, 403, 403, 403, 200, 200, 200, 403),
    "auditor.verify": (302, 403, 403, 403, 403, 403, 200, 403),
    "auth.change_password": (302, 200, 200, 200, 200, 200, 200, 200),
    "auth.forgotten_password": (200, 200, 200, 200, 200, 200, 200, 200),
    "auth.forgotten_password_sent": (200, 200, 200, 200, 200, 200, 200, 200),
    "auth.login": (200, 302, 302, 302, 302, 302, 302, 302),
    "auth.set_password": (404, 404, 404, 404, 404, 404, 404, 404),  # no such link
    "finance.claims": (302, 403, 403, 403, 403, 200, 403, 403),
    "finance.pay": (302, 403, 403, 403, 403, 200, 403, 403),
    "finance.payments": (302, 403, 403, 403, 403, 200, 403, 403),
    "finance.payments_csv": (302, 403, 403, 403, 403, 200, 403, 403),
    "finance.reverse": (302, 403, 403, 403, 403, 200, 403, 403),
    "finance.transparency": (302, 403, 403, 403, 403, 200, 403, 403),
    "headteacher.action": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.bid": (302, 200, 200, 404, 403, 403, 403, 403),
    "headteacher.check_answers": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.claims_list": (302, 200, 200, 404, 403, 403, 403, 403),
    "headteacher.dashboard": (302, 200, 200, 200, 403, 403, 403, 403),
    "headteacher.edit_activities": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.edit_measures": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.edit_need": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.edit_partners": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.new_claim": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.new_report": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.reports": (302, 200, 200, 404, 403, 403, 403, 403),
    "headteacher.start": (302, 200, 200, 200, 403, 403, 403, 403),
    "headteacher.submitted": (302, 200, 200, 404, 403, 403, 403, 403),
    "headteacher.task_list": (302, 200, 302, 404, 403, 403, 403, 403),
    "headteacher.versions": (302, 200, 200, 404, 403, 403, 403, 403),
    "liaison.application": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.cancel": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.claim": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.countersign": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.decide": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.evaluate": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.queue": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.reschedule_item": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.review": (302, 403, 403, 403, 200, 403, 403, 403),
    "liaison.waive_item": (302, 403, 403, 403, 200, 403, 403, 403),
    "main.accessibility": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.asset": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.contact": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.evidence": (302, 200, 200, 404, 200, 200, 200, 404),
    "main.how_it_works": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.index": (302, 302, 302, 302, 302, 302, 302, 302),
    "main.init_js": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.lifecycle_diagram": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.privacy": (200, 200, 200, 200, 200, 200, 200, 200),
    "main.stylesheet": (200, 200, 200, 200, 200, 200, 200, 200),
    # the value-for-money page, its charts and its CSV tables (issue 14)
    "oversight.value_for_money": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.value_for_money_chart": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.value_for_money_csv": (302, 403, 403, 403, 200, 200, 200, 403),
    # each bid's dossier, its PDF and the print stylesheet of the printable pages (issue 14)
    "oversight.dossier": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.dossier_pdf": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.print_stylesheet": (302, 403, 403, 403, 200, 200, 200, 403),
    # the control exceptions of a fund and their CSV (issue 14)
    "oversight.exceptions": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.exceptions_csv": (302, 403, 403, 403, 200, 200, 200, 403),
    # the termly report for the Schools Forum and its PDF (issue 14)
    "oversight.termly": (302, 403, 403, 403, 200, 200, 200, 403),
    "oversight.termly_pdf": (302, 403, 403, 403, 200, 200, 200, 403),
}

#: The service administrator's column, where it is not 403: kept apart so that the rows above
#: need no ninth value. They belong to no organisation and see no bids: their own pages,
#: the pages of anyone signed in (their account, messages, the API's own), the public ones.
SERVICE_ADMIN: dict[str, int] = {
    "service_admin.create_organisation": 200,
    "service_admin.organisation": 200,
    "service_admin.organisations": 200,
    "account.calendar": 200,
    "account.calendar_feed": 404,  # no such calendar link
    "account.messages": 200,
    "account.notification_settings": 200,
    "auth.change_password": 200,
    "auth.forgotten_password": 200,
    "auth.forgotten_password_sent": 200,
    "auth.login": 302,
    "auth.set_password": 404,  # no such link
    "main.accessibility": 200,
    "main.asset": 200,
    "main.contact": 200,
    "main.evidence": 404,  # a bid's evidence: not theirs to see
    "main.how_it_works": 200,
    "main.index": 302,
    "main.init_js": 200,
    "main.lifecycle_diagram": 200,
    "main.privacy": 200,
    "main.stylesheet": 200,
    "api.application_events": 404,
    "api.get_application": 404,
    "api.get_fund": 404,
    "api.list_applications": 200,  # an empty list: no bid is theirs
    "api.list_funds": 200,  # an empty list: they belong to no organisation
    "api.list_notifications": 200,
    "api.list_schools": 200,  # the published register, as for anyone signed in
    "api.me": 200,
    "api.openapi_json": 200,
}
EXPECTED = {endpoint: (*codes, SERVICE_ADMIN.get(endpoint, 403)) for endpoint, codes in EXPECTED.items()}


def _samples(app) -> dict[str, dict[str, object]]:
    """URL arguments per endpoint, picked so that the role the page is for can open it."""

    def bid(title: str) -> str:
        return db.session.execute(
            select(Application.reference).where(Application.title == title)
        ).scalar_one()

    draft = bid("Phonics catch-up with Chalvey Grove")
    approved = bid("Reading fluency partnership")
    under_review = bid("SEND inclusion coaching")
    awaiting = bid("Trust-wide curriculum redesign")
    submitted = bid("Maths mastery network")
    monitoring = bid("Writing moderation cluster")
    approved_app = db.session.execute(
        select(Application).where(Application.reference == approved)
    ).scalar_one()
    lead = db.session.execute(select(User).where(User.email == "headteacher@demo.test")).scalar_one()
    day, _ = demo.working_period(approved_app.approved_on + timedelta(days=35), 1)  # approved, then past
    claim = claim_service.create_claim(
        lead,
        approved_app,
        claim_service.ClaimInput(
            period_start=day.isoformat(),
            period_end=day.isoformat(),
            staff_released="Deputy",
            staff_name="Access Matrix",
            days="1",
            amount_pence=100_00,
            evidence=Upload("evidence.pdf", PDF),
        ),
    )
    pending = claim.id
    verified = (
        db.session.execute(select(BackfillClaim.id).where(BackfillClaim.status == "verified"))
        .scalars()
        .first()
    )
    disbursement = db.session.execute(select(Disbursement.id).order_by(Disbursement.id)).scalars().first()
    report = (
        db.session.execute(select(ImpactReport.id).where(ImpactReport.status == "submitted"))
        .scalars()
        .first()
    )
    fund = db.session.execute(select(Fund.id)).scalars().first()
    user = db.session.execute(select(User.id).where(User.email == "partner@demo.test")).scalar_one()
    school_id, school = db.session.execute(select(School.id, School.urn).order_by(School.id)).first()
    base = {
        "reference": approved,
        "claim_id": pending,
        "report_id": report,
        "fund_id": fund,
        "user_id": user,
        "urn": school,
        "school_id": school_id,
        "disbursement_id": disbursement,
        "evidence_id": claim.evidence_id,
        "filename": "govuk-frontend.min.js",
        "token": "no-such-set-password-link",
        "item_id": schedule_for(approved_app.id)[0].id,  # a schedule item of the live award
        "email_id": 1,
        "message_id": 1,  # someone's message: its owner marks it read, anyone else gets 404
        "notification_id": 1,
        "term": default_term(db.session.get(Fund, fund), today()).code,  # the termly report's
        "slug": db.session.execute(select(Organisation.slug).order_by(Organisation.id)).scalars().first(),
    }
    per_endpoint = {
        "headteacher.edit_need": {"reference": draft},
        "headteacher.edit_partners": {"reference": draft},
        "headteacher.edit_activities": {"reference": draft},
        "headteacher.edit_measures": {"reference": draft},
        "headteacher.check_answers": {"reference": draft},
        "headteacher.task_list": {"reference": draft},
        "headteacher.submitted": {"reference": submitted},
        "headteacher.versions": {"reference": submitted},
        "headteacher.action": {"reference": draft, "action": "withdraw"},
        "headteacher.new_report": {"reference": approved},
        "liaison.review": {"reference": under_review},
        "liaison.decide": {"reference": under_review, "action": "approve"},
        "liaison.countersign": {"reference": awaiting},
        "liaison.cancel": {"reference": approved},
        "liaison.start_review": {"reference": submitted},
        "liaison.finish_delivery": {"reference": approved},
        "liaison.close": {"reference": monitoring},
        "finance.pay": {"claim_id": verified},
        "api.claim_actions": {"claim_id": pending},
        "account.calendar_feed": {"token": "no-such-calendar-link"},
        "oversight.value_for_money_chart": {"chart": "spend-over-time"},
        "oversight.value_for_money_csv": {"table": "bids"},
    }
    return {"base": base, **per_endpoint}


SKIP_RULES = {"api.openapi"}  # documents only; checked in tests/api


def _url(app, rule, samples) -> str:
    args = dict(samples["base"])
    args.update(samples.get(rule.endpoint, {}))
    missing = [a for a in rule.arguments if a not in args]
    assert not missing, f"{rule.endpoint}: add a sample value for {missing} in _samples()"
    query = {"fund_id": args["fund_id"]} if rule.endpoint.startswith("api.export") else {}
    if rule.endpoint in ("api.termly_report_pdf", "oversight.termly", "oversight.termly_pdf"):
        query = {"term": args["term"]}
        if rule.endpoint.startswith("api."):
            query["fund_id"] = args["fund_id"]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{a: args[a] for a in rule.arguments}, **query)


def _measure(app, method: str):
    """{endpoint: tuple of statuses per person} for every rule answering ``method``."""
    samples = _samples(app)
    skip = SKIP_RULES | ({"auth.logout"} if method == "POST" else set())  # would sign them out
    rules = [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint not in skip]
    table: dict[str, list[int]] = {r.endpoint: [] for r in rules}
    for person, email in PEOPLE.items():
        site = app.test_client()  # a browser: session cookie
        api = app.test_client()  # a system: bearer token only
        headers = {}
        if email:
            response = site.post("/sign-in", data={"email": email, "password": demo.DEMO_PASSWORD})
            assert response.status_code == 302, f"{email} could not sign in"
            headers["Authorization"] = "Bearer " + auth.issue_token(auth.user_by_email(email), "matrix")
        for rule in rules:
            url = _url(app, rule, samples)
            client = api if rule.endpoint.startswith("api.") else site
            if method == "GET":
                response = client.get(url, headers=headers)
            elif rule.endpoint.startswith("api."):
                response = client.post(url, json={}, headers=headers)
            else:
                response = client.post(url, data={})
            db.session.rollback()
            assert response.status_code < 500, f"{method} {url} as {person}: {response.status_code}"
            table[rule.endpoint].append(response.status_code)
    return {endpoint: tuple(codes) for endpoint, codes in table.items()}


def _render(table) -> str:
    lines = ["#            " + " ".join(f"{c[:7]:>7}" for c in COLUMNS)]
    for endpoint in sorted(table):
        codes = ", ".join(str(c) for c in table[endpoint])
        lines.append(f'    "{endpoint}": ({codes}),')
    return "\n".join(lines)


@pytest.fixture
def seeded(app):
    demo.seed()
    return app


def test_every_get_route_gives_each_role_the_expected_status(seeded):
    actual = _measure(seeded, "GET")
    if os.environ.get("PRINT_ACCESS_MATRIX"):
        print(_render(actual))
    assert set(actual) == set(EXPECTED), "Routes and the table differ; add rows for new routes:\n" + _render(
        actual
    )
    wrong = {e: (EXPECTED[e], actual[e]) for e in actual if actual[e] != EXPECTED[e]}
    assert not wrong, "\n".join(f"{e}: expected {exp}, got {got}" for e, (exp, got) in sorted(wrong.items()))


ROLE_OF_BLUEPRINT = {
    "headteacher": {"lead", "partner", "other_head"},
    "liaison": {"liaison"},
    "finance": {"finance"},
    "auditor": {"auditor", "liaison", "finance"},
    "admin": {"admin"},
    "service_admin": {"service_admin"},
}


def test_every_post_route_refuses_people_outside_its_role_and_never_fails(seeded):
    """An empty POST by every person: signed out → sign-in (401 on the API); a role the
    page is not for → 403; nobody gets a 5xx (asserted while measuring)."""
    actual = _measure(seeded, "POST")
    assert actual, "no POST routes found"
    for endpoint, codes in actual.items():
        by_person = dict(zip(COLUMNS, codes, strict=True))
        blueprint = endpoint.split(".", 1)[0]
        if endpoint == "api.create_token":  # the one public API call: signing in
            assert set(codes) == {422}, (endpoint, by_person)
            continue
        if blueprint == "api":
            assert by_person["anonymous"] == 401, (endpoint, by_person)
            continue
        if endpoint in ("auth.login", "auth.logout"):
            continue
        if endpoint == "auth.set_password":  # public: the link is the credential, and this one is made up
            assert set(codes) == {404}, (endpoint, by_person)
            continue
        if endpoint == "auth.forgotten_password":  # public: an empty form is refused on its field
            assert set(codes) == {422}, (endpoint, by_person)
            continue
        assert by_person["anonymous"] == 302, (endpoint, by_person)
        for person, code in by_person.items():
            if (
                person != "anonymous"
                and blueprint in ROLE_OF_BLUEPRINT
                and person not in ROLE_OF_BLUEPRINT[blueprint]
            ):
                assert code == 403, (endpoint, person, code)


def test_absurd_query_arguments_never_cause_a_server_error(seeded):
    """Huge numbers and junk in ?page=, ?fund_id= and friends on every GET page, for everyone."""
    samples = _samples(seeded)
    junk = "?page=99999999999999999999&per_page=-5&fund_id=99999999999999999999&status=%00&q=%25_"
    rules = [r for r in seeded.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in SKIP_RULES]
    for person, email in PEOPLE.items():
        client = seeded.test_client()
        headers = {}
        if email:
            client.post("/sign-in", data={"email": email, "password": demo.DEMO_PASSWORD})
            headers["Authorization"] = "Bearer " + auth.issue_token(auth.user_by_email(email), "junk")
        for rule in rules:
            url = _url(seeded, rule, samples).split("?")[0] + junk
            response = client.get(url, headers=headers if rule.endpoint.startswith("api.") else {})
            db.session.rollback()
            assert response.status_code < 500, f"GET {url} as {person}: {response.status_code}"
