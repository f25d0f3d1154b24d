"""Two organisations on one deployment cannot see each other's records (issue 15).

The world (``tests/two_organisations.py``) holds the first organisation, "alpha", and a
partnership, "bravo", each with staff of every role, a fund, bids in every state, claims,
payments (one reversed), an impact report and schedule items; and "charlie", a third
sharing alpha's council, into whose fund alpha's lead school has also bid. Every GET rule
of the app is requested by each member of staff of one side, with the URL arguments of
their own records and then of the other side's:

- another organisation's record is "not found": 404 (or the 403 the role gets for a page it
  has no access to at all), never 200;
- with their own records the pages answer as the access matrix says;
- no page, list, CSV, 360Giving file, PDF, chart, calendar feed, message or API answer shows
  anything of another organisation (its bid references, fund name, claim people, payment
  references, report narrative or staff emails).

Then: work-queue counts and API totals count one organisation's records only; actions on
another organisation's records are "not found" and change nothing; each organisation's
audit chain is its own; a service administrator opens no bid, fund, claim or report.

The world is built once per database for the module (building it is most of the time);
the tests that could change it if isolation failed come last."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import current_app, url_for
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from fundflow.extensions import db
from fundflow.models import Application, Event, Fund, Notification, User
from fundflow.services import audit, auth
from fundflow.services.clock import today
from fundflow.services.queries.liaison import QueueFilters, section_counts
from tests.conftest import forget_user_between_requests, make_app, postgres_url
from tests.factories import PASSWORD, Factory
from tests.integration.test_access_matrix import COLUMNS, EXPECTED, SKIP_RULES
from tests.two_organisations import (
    FUND_QUERY_ENDPOINTS,
    ORGANISATION_ARGS,
    STAFF_ROLES,
    Side,
    World,
    build_world,
    calendar_token,
    events_of,
    leaked,
    snapshot,
    text_of,
)

VIEWERS = ("alpha", "bravo")
#: Downloads that take seconds to make (PDFs): with one's own records they are requested by the
#: auditor alone (who sees what liaison officers and finance see in them); the access matrix
#: checks the other roles open them. With the other side's records everyone requests them.
SLOW = {
    "oversight.dossier_pdf",
    "api.application_dossier_pdf",
    "oversight.termly_pdf",
    "api.termly_report_pdf",
}
#: Pages open to everyone, signed in or not: they hold no organisation's records (the contact
#: page's example reference, "LSIF-2026-0007", would read as one of the first's).
PUBLIC = {endpoint for endpoint, codes in EXPECTED.items() if codes[0] == 200}
TAB = re.compile(r'class="govuk-tabs__tab"[^>]*>(.*?)</a>', re.S)


# ------------------------------------------------------------------------------ the world


class Isolated:
    """The app, the two organisations, and what was measured along the way."""

    def __init__(self, app) -> None:
        self.app = app
        self.world: World
        #: The alpha liaison officer's queue counts (service and page tabs) before bravo existed.
        self.alpha_queue_alone: dict[str, Any] = {}
        self._sweeps: dict[tuple[str, str], dict[tuple[str, str], tuple[int, str | None, str]]] = {}
        self._clients: dict[int, tuple[Any, dict[str, str]]] = {}

    def client_for(self, user) -> tuple[Any, dict[str, str]]:
        """A signed-in browser and the bearer header of ``user``'s token, made once."""
        if user.id not in self._clients:
            site = self.app.test_client()
            response = site.post("/sign-in", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302, f"{user.email} could not sign in"
            headers = {"Authorization": "Bearer " + auth.issue_token(user, "isolation")}
            db.session.commit()
            self._clients[user.id] = (site, headers)
        return self._clients[user.id]

    def get(self, user, url: str):
        site, headers = self.client_for(user)
        if url.startswith("/api/"):
            response = self.app.test_client().get(url, headers=headers)  # a system: token only
        else:
            response = site.get(url)
        db.session.rollback()
        return response

    def status_and_text(self, user, url: str) -> tuple[int, str | None]:
        """The status and (if 200) the text of GET ``url``; an exception (the test client
        raises them, here even while streaming a download) is a 500 with its message."""
        try:
            response = self.get(user, url)
            return response.status_code, text_of(response) if response.status_code == 200 else None
        except Exception as exc:  # noqa: BLE001 - reported by the tests as a server error
            db.session.rollback()
            return 500, f"{type(exc).__name__}: {exc}"

    def sweep(self, viewer: str, args_of: str):
        """{(endpoint, role): (status, text if 200 or the error of a 500, url)} for every GET
        rule, requested by each staff member of ``viewer`` with the URL arguments of
        ``args_of``'s records (status None: not requested, see :data:`SLOW`)."""
        key = (viewer, args_of)
        if key not in self._sweeps:
            mine, _ = self.world.sides(viewer)
            samples = getattr(self.world, args_of).samples()
            table = {}
            for role in STAFF_ROLES:
                user = mine.staff[role]
                extra = {"token": calendar_token(user)} if args_of == viewer else {}
                for rule in get_rules(self.app):
                    if args_of != viewer and not names_a_record(rule):
                        continue  # the same URL as with their own records
                    url = url_of(self.app, rule, samples, extra)
                    if (
                        args_of == viewer
                        and rule.endpoint in SLOW
                        and role != "auditor"
                        and opens(rule.endpoint, role)
                    ):
                        table[(rule.endpoint, role)] = (None, None, url)  # not requested
                        continue
                    table[(rule.endpoint, role)] = (*self.status_and_text(user, url), url)
            self._sweeps[key] = table
        return self._sweeps[key]


def get_rules(app) -> list[Any]:
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if "GET" in r.methods and r.endpoint not in SKIP_RULES and r.endpoint != "static"
        ),
        key=lambda r: r.endpoint,
    )


def opens(endpoint: str, role: str) -> bool:
    """True if the access matrix opens the endpoint's page to ``role`` (200)."""
    expected = EXPECTED.get(endpoint)
    return expected is not None and expected[COLUMNS.index(STAFF_ROLES[role])] == 200


def names_a_record(rule) -> bool:
    """True if the rule's URL names a record of one organisation (in its path or query)."""
    return bool(set(rule.arguments) & set(ORGANISATION_ARGS)) or rule.endpoint in FUND_QUERY_ENDPOINTS


def url_of(app, rule, samples: dict[str, dict[str, Any]], extra: dict[str, Any] | None = None) -> str:
    args = dict(samples["base"])
    args.update(samples.get(rule.endpoint, {}))
    args.update(extra or {})
    missing = [a for a in rule.arguments if a not in args]
    assert not missing, f"{rule.endpoint}: add a sample value for {missing} in Side.samples()"
    query: dict[str, Any] = {}
    if rule.endpoint in FUND_QUERY_ENDPOINTS:
        query["fund_id"] = args["fund_id"]
    if rule.endpoint in ("api.termly_report_pdf", "oversight.termly", "oversight.termly_pdf"):
        query["term"] = args["term"]
    with app.test_request_context():
        return url_for(rule.endpoint, **{a: args[a] for a in rule.arguments}, **query)


def queue_tabs(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", tab)).strip() for tab in TAB.findall(page)]


def _build(app) -> Isolated:
    isolated = Isolated(app)

    def measure_queue(alpha: Side) -> None:
        liaison = alpha.staff["liaison_officer"]
        counts = section_counts(QueueFilters(), today(), liaison)
        db.session.rollback()
        tabs = queue_tabs(text_of(isolated.get(liaison, "/liaison/")))
        isolated.alpha_queue_alone = {"counts": counts, "tabs": tabs}

    isolated.world = build_world(Factory(), before_bravo=measure_queue)
    return isolated


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def isolated(request, _shared_app) -> Iterator[Isolated]:
    """The two organisations, built once per database."""
    if request.param == "sqlite":
        app = _shared_app
    else:
        app = make_app(postgres_url())
        forget_user_between_requests(app)
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            yield _build(app)
        finally:
            db.session.remove()
            db.drop_all()
            if request.param != "sqlite":
                db.engine.dispose()


def _other(viewer: str) -> str:
    return "bravo" if viewer == "alpha" else "alpha"


# ---------------------------------------------------------------------------- pages (GET)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_staff_get_not_found_for_every_page_naming_another_organisations_record(isolated, viewer):
    """With the other side's fund, bid, claim, payment, report, schedule item, evidence or
    user in the URL: 404, or the 403 the role gets for that page with its own records."""
    own = isolated.sweep(viewer, viewer)
    theirs = isolated.sweep(viewer, _other(viewer))
    wrong = []
    for rule in get_rules(isolated.app):
        if not names_a_record(rule):
            continue
        for role in STAFF_ROLES:
            own_status = own[(rule.endpoint, role)][0]
            status, text, url = theirs[(rule.endpoint, role)]
            allowed = {403, 404} if own_status == 403 else {404}  # None (not requested): 200
            if status not in allowed:
                error = f": {(text or '')[:150]}" if status >= 500 else ""
                wrong.append(f"{role:15} GET {url} -> {status} (own record: {own_status}){error}")
    assert not wrong, f"{viewer} staff reach {_other(viewer)}'s records:\n" + "\n".join(wrong)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_staff_open_their_own_organisations_pages_as_the_access_matrix_says(isolated, viewer):
    """Isolation takes nothing away: each page the access matrix opens to a role (200) still
    opens with the role's own organisation's records."""
    own = isolated.sweep(viewer, viewer)
    wrong = []
    for (endpoint, role), (status, text, url) in sorted(own.items()):
        if endpoint == "account.calendar_feed":  # a real link here: see below
            continue
        if opens(endpoint, role) and status not in (200, None):
            error = f": {(text or '')[:150]}" if status >= 500 else ""
            wrong.append(f"{role:15} GET {url} -> {status}, expected 200{error}")
    for role in STAFF_ROLES:
        if own[("account.calendar_feed", role)][0] != 200:
            wrong.append(f"{role:15} their own calendar feed -> {own[('account.calendar_feed', role)][0]}")
    assert not wrong, f"{viewer} staff lost access to their own records:\n" + "\n".join(wrong)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_no_page_export_or_api_answer_shows_another_organisations_records(isolated, viewer):
    """Every page, list, CSV, 360Giving file, PDF, chart, calendar feed, message list and API
    answer a member of staff opens (200) with their own records, and every one they could
    open with the other side's, holds nothing of the other organisation."""
    mine, other = isolated.world.sides(viewer)
    markers = isolated.world.markers_outside(viewer)
    found = []
    for args_of in (viewer, _other(viewer)):
        for (endpoint, role), (status, text, url) in sorted(isolated.sweep(viewer, args_of).items()):
            if status == 200 and endpoint not in PUBLIC and leaked(text, markers):
                found.append(f"{role:15} GET {url}: {', '.join(leaked(text, markers)[:4])}")
    assert not found, f"{viewer} staff see other organisations' records:\n" + "\n".join(found)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_leak_check_finds_each_organisations_own_records_where_they_belong(isolated, viewer):
    """The markers the leak check looks for are really on the pages: each side's own lists
    show its own bid references, payment references and fund (so a leak would be seen)."""
    mine, _ = isolated.world.sides(viewer)
    own = isolated.sweep(viewer, viewer)
    approved = mine.bids["approved"].reference
    expectations = {
        ("auditor.applications", "auditor"): approved,
        ("api.list_applications", "liaison_officer"): mine.bids["submitted"].reference,
        ("finance.payments", "finance"): f"{mine.tag}-PAY-1",
        ("finance.payments_csv", "finance"): f"{mine.tag}-PAY-1",
        ("auditor.grants_360_json", "auditor"): approved,
        ("oversight.dossier_pdf", "auditor"): approved,
        ("auditor.audit_trail_csv", "auditor"): approved,
        ("admin.users", "admin"): mine.staff["finance"].email,
    }
    missing = [
        f"{endpoint} as {role}: {marker!r} not in its {own[(endpoint, role)][0]} answer"
        for (endpoint, role), marker in expectations.items()
        if marker not in (own[(endpoint, role)][1] or "")
    ]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_filters_naming_another_organisations_fund_or_bid_show_nothing_of_it(isolated, viewer):
    """Lists filtered by the other side's fund (or searched for its bid reference) show none of
    its records: an empty list, or not found."""
    mine, other = isolated.world.sides(viewer)
    fund, reference = other.fund.id, other.bids["approved"].reference
    urls = {
        "liaison_officer": [
            f"/liaison/?fund={fund}",
            f"/liaison/?q={reference}",
            f"/liaison/?section=claims&fund={fund}",
            f"/api/v1/applications?fund_id={fund}",
            f"/api/v1/applications?q={reference}",
        ],
        "finance": [
            f"/finance/payments?fund_id={fund}",
            f"/finance/payments.csv?fund_id={fund}",
            f"/finance/transparency?fund_id={fund}",
            f"/api/v1/exports/transparency.csv?fund_id={fund}",
        ],
        "auditor": [
            f"/auditor/?fund_id={fund}",
            f"/auditor/?q={reference}",
            f"/auditor/transparency?fund_id={fund}",
            f"/api/v1/reports/exceptions?fund_id={fund}",
            f"/api/v1/exports/audit-trail.csv?fund_id={fund}",
            "/api/v1/exports/audit-trail.csv",
            "/api/v1/exports/360giving.json",
            "/api/v1/reports/exceptions",
        ],
        "admin": [f"/admin/funds?fund_id={fund}", f"/api/v1/funds/{fund}"],
    }
    markers = isolated.world.markers_outside(viewer)
    found = []
    for role, addresses in urls.items():
        for url in addresses:
            status, text = isolated.status_and_text(mine.staff[role], url)
            if text and status == 200:  # a search form shows what was searched for: not a leak
                text = text.replace(f'value="{reference}"', "").replace(f"q={reference}", "")
            if status >= 500:
                found.append(f"{role:15} GET {url} -> {status}: {(text or '')[:150]}")
            elif status == 200 and leaked(text, markers):
                found.append(f"{role:15} GET {url}: {', '.join(leaked(text, markers)[:4])}")
    assert not found, f"{viewer} staff see {other.key}'s records:\n" + "\n".join(found)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_api_lists_count_only_own_organisations_bids_and_funds(isolated, viewer):
    """The API's totals and items, for each member of staff who sees every bid, are their own
    organisation's: the count of its bids, the ids of its funds."""
    mine, _ = isolated.world.sides(viewer)
    own_bids = db.session.execute(
        select(func.count(Application.id)).join(Fund).where(Fund.organisation_id == mine.organisation.id)
    ).scalar_one()
    own_funds = set(
        db.session.execute(select(Fund.id).where(Fund.organisation_id == mine.organisation.id)).scalars()
    )
    db.session.rollback()
    wrong = []
    for role in ("liaison_officer", "finance", "auditor"):
        body = isolated.get(mine.staff[role], "/api/v1/applications?per_page=100").get_json()
        if body["total"] != own_bids:
            wrong.append(f"{role}: /applications total {body['total']}, its organisation has {own_bids} bids")
        funds = isolated.get(mine.staff[role], "/api/v1/funds?per_page=100").get_json()
        ids = {f["id"] for f in funds["items"]}
        if ids != own_funds or funds["total"] != len(own_funds):
            wrong.append(
                f"{role}: /funds {sorted(ids)} (total {funds['total']}), its own are {sorted(own_funds)}"
            )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_liaison_work_queue_counts_only_own_organisations_records(isolated, viewer):
    """The alpha liaison officer's queue counts (service and page tabs) are what they were
    before bravo existed, although bravo holds bids, claims, reports and schedule items in the
    same states; bravo's, whose records are in the same states as alpha's (alpha's extra bid
    is a draft, in no queue), are the same numbers."""
    liaison = getattr(isolated.world, viewer).staff["liaison_officer"]
    counts = section_counts(QueueFilters(), today(), liaison)
    db.session.rollback()
    tabs = queue_tabs(text_of(isolated.get(liaison, "/liaison/")))
    assert counts == isolated.alpha_queue_alone["counts"]
    assert tabs == isolated.alpha_queue_alone["tabs"]
    assert sum(counts.values()) > 0  # the queue has something to count


@pytest.mark.parametrize("viewer", VIEWERS)
def test_headteachers_see_their_schools_bids_and_only_funds_open_to_their_school(isolated, viewer):
    """A headteacher of one side's lead school sees that school's bids (whichever organisation
    runs the fund) and the open funds their school may bid into: not the other side's fund,
    whose councils do not include theirs, and none of the other side's bids."""
    mine, other = isolated.world.sides(viewer)
    head = mine.lead
    bids = isolated.get(head, "/api/v1/applications?per_page=100").get_json()
    references = {a["reference"] for a in bids["items"]}
    assert mine.bids["approved"].reference in references
    assert not references & {a.reference for a in other.bids.values()}
    funds = isolated.get(head, "/api/v1/funds?per_page=100").get_json()
    fund_ids = {f["id"] for f in funds["items"]}
    assert mine.fund.id in fund_ids
    assert other.fund.id not in fund_ids, f"{viewer}'s headteacher is offered {other.fund.name}"
    start = text_of(isolated.get(head, "/headteacher/bids/new"))
    assert mine.fund.name in start and other.fund.name not in start
    markers = other.markers()
    for url in ("/headteacher/", "/messages", "/api/v1/me/notifications"):
        assert not leaked(text_of(isolated.get(head, url)), markers), url
    for url in (
        f"/headteacher/bids/{other.bids['approved'].reference}/view",
        f"/api/v1/applications/{other.bids['approved'].reference}",
        f"/api/v1/funds/{other.fund.id}",
    ):
        assert isolated.get(head, url).status_code == 404, url


def test_a_headteacher_sees_their_schools_bids_with_every_organisation_and_staff_only_their_own(isolated):
    """Alpha's lead school also leads a bid into charlie's fund (charlie shares alpha's
    council): its headteacher sees both bids and both funds (not bravo's), while alpha's
    liaison officer gets "not found" for charlie's bid and charlie's for alpha's."""
    world = isolated.world
    head, alpha_bid, charlie_bid = world.alpha.lead, world.alpha.bids["submitted"], world.charlie.bid
    listed = isolated.get(head, "/api/v1/applications?per_page=100").get_json()
    references = {a["reference"] for a in listed["items"]}
    assert {alpha_bid.reference, charlie_bid.reference} <= references
    funds = {f["id"] for f in isolated.get(head, "/api/v1/funds?per_page=100").get_json()["items"]}
    assert {world.alpha.fund.id, world.charlie.fund.id} <= funds and world.bravo.fund.id not in funds
    for url in (
        f"/headteacher/bids/{charlie_bid.reference}/view",
        f"/api/v1/applications/{charlie_bid.reference}",
    ):
        assert isolated.get(head, url).status_code == 200, url
    assert charlie_bid.reference in text_of(isolated.get(head, "/headteacher/"))
    alpha_liaison, charlie_liaison = world.alpha.staff["liaison_officer"], world.charlie.liaison
    assert isolated.get(charlie_liaison, f"/liaison/bids/{charlie_bid.reference}").status_code == 200
    assert isolated.get(alpha_liaison, f"/liaison/bids/{charlie_bid.reference}").status_code == 404
    assert isolated.get(charlie_liaison, f"/liaison/bids/{alpha_bid.reference}").status_code == 404
    assert isolated.get(alpha_liaison, f"/api/v1/applications/{charlie_bid.reference}").status_code == 404


# ---------------------------------------------------------------------- service administrator

#: Pages and API calls about bids, funds, claims, payments and reports, refused outright.
RECORD_BLUEPRINTS = ("headteacher.", "liaison.", "finance.", "auditor.", "oversight.")
#: API calls naming one bid or fund: "not found" (no bid or fund is theirs), as the access
#: matrix has it; its lists answer with nothing.
NOT_THEIRS = {"api.get_application", "api.application_events", "api.get_fund", "main.evidence"}
EMPTY_LISTS = ("/api/v1/applications", "/api/v1/funds")


def test_service_administrator_opens_no_bid_fund_claim_or_report(isolated):
    """A service administrator makes organisations and sees no bids: with either
    organisation's records in the URL, every page about a bid, fund, claim, payment or report
    is 403, a bid, fund or piece of evidence by its address is 404, the API's lists of bids
    and funds are empty, their own pages open, and nothing of either side shows anywhere they
    can look (their own pages name each organisation's admins, never its records)."""
    make = Factory()
    service_admin = make.user("service_admin", email="service-admin@example.test")
    db.session.commit()
    world = isolated.world
    markers = world.markers_outside("")
    records = world.markers_outside("", staff=False)
    wrong = []
    for side in (world.alpha, world.bravo):
        samples = side.samples()
        for rule in get_rules(isolated.app):
            url = url_of(isolated.app, rule, samples)
            status, text = isolated.status_and_text(service_admin, url)
            expected = None
            if rule.endpoint.startswith(RECORD_BLUEPRINTS) or (
                names_a_record(rule) and rule.endpoint not in NOT_THEIRS
            ):
                expected = 403
            elif rule.endpoint in NOT_THEIRS:
                expected = 404
            elif rule.endpoint.startswith("service_admin."):
                expected = 200
            if status >= 500:
                wrong.append(f"GET {url} -> {status}: {(text or '')[:150]}")
            elif expected is not None and status != expected:
                wrong.append(f"GET {url} -> {status}, expected {expected}")
            if status == 200 and rule.endpoint not in PUBLIC:
                looked_for = records if rule.endpoint.startswith("service_admin.") else markers
                if leaked(text, looked_for):
                    wrong.append(f"GET {url} shows {', '.join(leaked(text, looked_for)[:4])}")
    for path in EMPTY_LISTS:
        body = isolated.get(service_admin, path).get_json() or {}
        if body.get("items") or body.get("total"):
            wrong.append(f"GET {path}: {body.get('total')} items, expected none")
    assert not wrong, "\n".join(wrong)


def test_council_staff_cannot_open_the_service_administrators_pages(isolated):
    """The pages that make organisations and their first admins are the service
    administrator's alone: 403 for every member of staff, an organisation's admin included."""
    own = isolated.sweep("alpha", "alpha")
    service_pages = {endpoint for endpoint, _ in own if endpoint.startswith("service_admin.")}
    assert service_pages, "no service administrator pages (service_admin.*) in the URL map"
    wrong = [
        f"{role:15} GET {url} -> {status}"
        for (endpoint, role), (status, _, url) in sorted(own.items())
        if endpoint in service_pages and status != 403
    ]
    assert not wrong, "\n".join(wrong)


def test_messages_about_a_bid_go_only_to_staff_of_its_organisation(isolated):
    """Every message (and so every email and calendar entry made from it) about a bid is
    addressed to a headteacher or to staff of the organisation running the bid's fund."""
    staff_of = aliased(User)
    stray = db.session.execute(
        select(Notification.id, Notification.subject, staff_of.email)
        .join(Application, Application.id == Notification.application_id)
        .join(Fund, Fund.id == Application.fund_id)
        .join(staff_of, staff_of.id == Notification.user_id)
        .where(staff_of.organisation_id.is_not(None), staff_of.organisation_id != Fund.organisation_id)
    ).all()
    to_staff = db.session.execute(
        select(func.count(Notification.id))
        .join(User, User.id == Notification.user_id)
        .where(User.organisation_id.is_not(None), Notification.application_id.is_not(None))
    ).scalar_one()
    db.session.rollback()
    assert to_staff > 0, "no message about a bid reached any member of staff: nothing was checked"
    assert not stray, "\n".join(f"{email}: {subject}" for _, subject, email in stray)


# ----------------------------------------------------------------------------- audit chains


def verify_audit(*options: str):
    """``flask fundflow verify-audit`` in this app context; a failed statement's transaction
    is rolled back so that the next test's queries run."""
    result = current_app.test_cli_runner().invoke(args=["fundflow", "verify-audit", *options])
    db.session.rollback()
    return result


def test_verify_audit_checks_every_chain_and_each_auditor_sees_only_their_own(isolated):
    """``verify-audit`` walks every organisation's chain (and the service's); ``--organisation``
    one; an auditor's check (page and API) covers exactly their organisation's events and
    shows no count of another's."""
    world = isolated.world
    alpha_id, bravo_id = world.alpha.organisation.id, world.bravo.organisation.id
    alpha_events, bravo_events = events_of(alpha_id), events_of(bravo_id)
    total = db.session.execute(select(func.count(Event.id))).scalar_one()
    db.session.rollback()
    assert alpha_events and bravo_events and alpha_events != bravo_events
    bravo_bid_events = db.session.execute(
        select(func.count(Event.id)).where(
            Event.application_id == world.bravo.bids["approved"].id, Event.organisation_id != bravo_id
        )
    ).scalar_one()
    assert bravo_bid_events == 0, "a bravo bid's events are in another organisation's chain"
    every = verify_audit()
    assert every.exit_code == 0 and f"OK: {total} events" in every.output, every.output or every.exception
    bravo_only = verify_audit("--organisation", "bravo")
    assert bravo_only.exit_code == 0 and f"OK: {bravo_events} events" in bravo_only.output, (
        bravo_only.output or bravo_only.exception
    )
    for side, own, others in (
        (world.alpha, alpha_events, (total, bravo_events)),
        (world.bravo, bravo_events, (total, alpha_events)),
    ):
        auditor = side.staff["auditor"]
        page = text_of(isolated.get(auditor, "/auditor/verify"))
        assert f"{own:,} events checked" in page, f"{side.key}'s auditor: {own} events expected"
        for count in others:
            assert f"{count:,} events" not in page, f"{side.key}'s auditor sees a count of {count}"
        body = isolated.get(auditor, "/api/v1/audit/verify").get_json()
        assert body["ok"] is True and body["events_checked"] == own, body


# ------------------------------------------------- actions (these would change the world if they leaked)


def _date(day) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def test_actions_on_another_organisations_records_are_not_found_and_change_nothing(isolated):
    """Every action alpha's staff could take on bravo's records, on the site and the API,
    answers 404 (the API's error shape) and changes no row."""
    alpha, bravo = isolated.world.alpha, isolated.world.bravo
    bids = {state: app.reference for state, app in bravo.bids.items()}
    claims = {kind: claim.id for kind, claim in bravo.claims.items()}
    report, item, paid = bravo.report.id, bravo.item.id, bravo.paid.id
    user, fund = bravo.staff["liaison_officer"].id, bravo.fund.id
    due = (today() + timedelta(days=60)).isoformat()
    site_posts = [
        ("liaison_officer", f"/liaison/bids/{bids['submitted']}/start-review", {}),
        ("liaison_officer", f"/liaison/bids/{bids['under_review']}/review", {"recommendation": "approve"}),
        ("liaison_officer", f"/liaison/bids/{bids['under_review']}/decide/approve", {"awarded": "1200.00"}),
        ("liaison_officer", f"/liaison/bids/{bids['under_review']}/decide/reject", {"comment": "No"}),
        ("liaison_officer", f"/liaison/bids/{bids['awaiting_countersign']}/countersign", {}),
        ("liaison_officer", f"/liaison/bids/{bids['approved']}/cancel", {"comment": "No longer needed"}),
        ("liaison_officer", f"/liaison/bids/{bids['approved']}/finish-delivery", {}),
        ("liaison_officer", f"/liaison/bids/{bids['monitoring']}/close", {}),
        ("liaison_officer", f"/liaison/claims/{claims['pending']}", {"decision": "verify"}),
        (
            "liaison_officer",
            f"/liaison/reports/{report}",
            {"rating": "achieved", "drivers": ["collaboration"]},
        ),
        ("liaison_officer", f"/liaison/schedule/{item}/waive", {"comment": "School merged"}),
        (
            "liaison_officer",
            f"/liaison/schedule/{item}/reschedule",
            {"due_on": _date(today() + timedelta(days=60))},
        ),
        (
            "finance",
            f"/finance/claims/{claims['verified']}/pay",
            {"amount": "100.00", "reference": "ALPHA-HIJACK", "paid_on": _date(today())},
        ),
        ("finance", f"/finance/payments/{paid}/reverse", {"reason": "Wrong account"}),
        ("admin", f"/admin/funds/{fund}/edit", {"name": "Hijacked fund"}),
        ("admin", f"/admin/users/{user}", {"name": "Hijacked"}),
        ("admin", f"/admin/users/{user}/set-password-link", {}),
        ("admin", f"/admin/users/{user}/sign-out-everywhere", {}),
    ]
    api_posts = [
        ("liaison_officer", f"/applications/{bids['submitted']}/actions", {"action": "start_review"}),
        ("liaison_officer", f"/applications/{bids['under_review']}/actions", {"action": "approve"}),
        (
            "liaison_officer",
            f"/applications/{bids['awaiting_countersign']}/actions",
            {"action": "countersign"},
        ),
        ("liaison_officer", f"/applications/{bids['monitoring']}/actions", {"action": "close"}),
        ("liaison_officer", f"/claims/{claims['pending']}/actions", {"action": "verify"}),
        ("liaison_officer", f"/impact-reports/{report}/evaluation", {"rating": "achieved", "drivers": []}),
        (
            "liaison_officer",
            f"/schedule-items/{item}/actions",
            {"action": "waive", "comment": "School merged"},
        ),
        ("liaison_officer", f"/schedule-items/{item}/actions", {"action": "reschedule", "due_on": due}),
        (
            "finance",
            f"/claims/{claims['verified']}/disbursements",
            {"amount_pence": 100_00, "paid_on": today().isoformat(), "reference": "ALPHA-HIJACK"},
        ),
        ("finance", f"/disbursements/{paid}/reverse", {"reason": "Wrong account"}),
        ("finance", f"/claims/{claims['paid']}/reversals", {"reverses_id": paid, "reason": "Wrong account"}),
    ]
    before = snapshot()
    wrong = []
    for role, url, data in site_posts:
        site, _ = isolated.client_for(alpha.staff[role])
        response = site.post(url, data=data)
        db.session.rollback()
        if response.status_code != 404:
            wrong.append(f"{role:15} POST {url} -> {response.status_code}")
    for role, path, body in api_posts:
        _, headers = isolated.client_for(alpha.staff[role])
        response = isolated.app.test_client().post("/api/v1" + path, json=body, headers=headers)
        db.session.rollback()
        if response.status_code != 404:
            wrong.append(f"{role:15} POST /api/v1{path} -> {response.status_code}")
        elif set(response.get_json() or {}) != {"error"} or response.get_json()["error"].get("code") is None:
            wrong.append(f"{role:15} POST /api/v1{path}: 404 without the API's error shape")
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not wrong and not changed, "\n".join(wrong + [f"rows changed: {', '.join(changed)}"])


def test_a_changed_event_of_one_chain_fails_verify_audit_but_not_the_other_organisations_check(isolated):
    """Tampering with bravo's trail: ``verify-audit`` fails (it checks every chain), bravo's
    auditor is told, alpha's auditor's check of alpha's own chain still passes."""
    world = isolated.world
    bravo_id = world.bravo.organisation.id
    event = db.session.execute(
        select(Event).where(Event.organisation_id == bravo_id).order_by(Event.seq.desc()).limit(1)
    ).scalar_one()
    event_id, original = event.id, event.action
    db.session.execute(update(Event).where(Event.id == event_id).values(action="tampered"))
    db.session.commit()
    try:
        result = verify_audit()
        assert result.exit_code == 1 and f"event {event_id}" in result.output, (
            result.output or result.exception
        )
        bravo_page = text_of(isolated.get(world.bravo.staff["auditor"], "/auditor/verify"))
        assert "The audit trail has been changed" in bravo_page
        alpha_page = text_of(isolated.get(world.alpha.staff["auditor"], "/auditor/verify"))
        assert "The audit trail is intact" in alpha_page
        assert audit.verify_chain(organisation_id=world.alpha.organisation.id).ok
    finally:
        db.session.execute(update(Event).where(Event.id == event_id).values(action=original))
        db.session.commit()
