"""Every page and every API list runs the same number of SQL statements whether it shows 5
rows or 50 (issue 13: flat in N).

One world is built once for the module, through the real services: each "unit" adds a bid
in every section of the liaison officer's queue, claims and payments, a claim and a report
on one watched bid, a user, a school, a fund and a failed email. Every page is counted at 5
units and again at 50 (one page of 100 rows shows them all), and each page's test compares
its two counts.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from fundflow.extensions import db
from fundflow.models import Application, OutboundEmail, User
from fundflow.services import auth as auth_service
from fundflow.services import impact
from fundflow.services.clock import today

from ..factories import PASSWORD, Factory

FEW, MANY = 5, 50


@dataclass
class World:
    make: Factory
    lead: User
    officer: User
    approver: User
    finance: User
    auditor: User
    admin: User
    watched: Application
    units: int = 0
    watched_id: int = 0
    reference: str = ""

    def refresh(self) -> None:
        """Requests end the session: load the world's rows into the current one."""
        for name in ("lead", "officer", "approver", "finance", "auditor", "admin"):
            setattr(self, name, db.session.get(User, getattr(self, name).id))
        self.watched = db.session.get(Application, self.watched_id or self.watched.id)
        self.watched_id = self.watched.id

    def grow(self, units: int) -> None:
        """Add units until there are ``units`` of each kind of row."""
        make = self.make
        self.refresh()
        plain = make.fund(countersign_threshold_pence=None)
        countersigned = make.fund(countersign_threshold_pence=1_000_00)
        while self.units < units:
            make.application("under_review", fund=plain, liaison=self.approver)
            make.application("awaiting_countersign", fund=countersigned, liaison=self.approver)
            make.application("submitted", fund=plain, lead=self.lead)
            awarded = make.application("approved", fund=plain, liaison=self.approver)
            make.claim(awarded, liaison=self.approver)  # pending: the claims section
            make.claim(awarded, state="verified", liaison=self.approver)  # finance: to pay
            make.claim(awarded, state="paid", liaison=self.approver)
            report_on(make, awarded)  # the reports section
            make.application("monitoring", fund=plain, liaison=self.approver)
            make.claim(self.watched, state="paid", liaison=self.approver)
            report_on(make, self.watched)
            make.user("auditor")
            make.school()
            make.fund()
            db.session.add(
                OutboundEmail(
                    user_id=self.lead.id,
                    to_address=self.lead.email,
                    kind="test",
                    subject="Undeliverable",
                    body="-",
                    status="failed",
                    attempts=5,
                )
            )
            db.session.commit()
            self.units += 1
        self.reference = self.watched.reference


def report_on(make: Factory, application: Application) -> None:
    impact.submit_report(
        make.lead_of(application),
        application,
        impact.ReportInput(
            kind="interim",
            narrative="Going well.",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in application.measures],
        ),
    )


@dataclass(frozen=True)
class Page:
    """A page to count: who asks for it, and its address (built from the world)."""

    who: str
    url: Callable[[World], str]
    api: bool = False
    #: Ahead of today (days): the overdue sections need the measures' due dates passed.
    days_ahead: int = 0
    per_page: int = 100
    #: The page shows more with more rows (so the comparison means something).
    grows: bool = True


def _claim_id(world: World) -> int:
    from fundflow.models import BackfillClaim

    return db.session.execute(
        select(func.max(BackfillClaim.id)).where(BackfillClaim.application_id == world.watched_id)
    ).scalar_one()


def _report_id(world: World) -> int:
    from fundflow.models import ImpactReport

    return db.session.execute(
        select(func.max(ImpactReport.id)).where(ImpactReport.application_id == world.watched_id)
    ).scalar_one()


def _last_auditor_page(world: World) -> str:
    total = db.session.execute(select(func.count(Application.id))).scalar_one()
    return f"/auditor/?page={max(1, math.ceil(total / 5))}"


def _ref(world: World) -> str:
    return world.reference


PAGES: dict[str, Page] = {
    "headteacher dashboard": Page("lead", lambda w: "/headteacher/"),
    "headteacher bid page": Page("lead", lambda w: f"/headteacher/bids/{_ref(w)}/view"),
    "headteacher claims list": Page("lead", lambda w: f"/headteacher/bids/{_ref(w)}/claims"),
    "headteacher reports list": Page("lead", lambda w: f"/headteacher/bids/{_ref(w)}/reports"),
    **{
        f"liaison queue {section}": Page(
            "officer", lambda w, s=section: f"/liaison/?section={s}", days_ahead=days
        )
        for section, days in (
            ("review", 0),
            ("countersign", 0),
            ("claims", 0),
            ("reports", 0),
            ("overdue", 100),
            ("delivery", 0),
            ("due_soon", 80),
            ("overdue_items", 100),
        )
    },
    "liaison bid page": Page("officer", lambda w: f"/liaison/bids/{_ref(w)}"),
    "liaison claim page": Page("officer", lambda w: f"/liaison/claims/{_claim_id(w)}"),
    "liaison report page": Page("officer", lambda w: f"/liaison/reports/{_report_id(w)}"),
    "finance claims to pay": Page("finance", lambda w: "/finance/"),
    "finance payments": Page("finance", lambda w: "/finance/payments"),
    "auditor applications, first page": Page("auditor", lambda w: "/auditor/"),
    "auditor applications, last page": Page("auditor", _last_auditor_page, per_page=5),
    "auditor bid record": Page("auditor", lambda w: f"/auditor/bids/{_ref(w)}"),
    "auditor funds list": Page("auditor", lambda w: "/auditor/funds"),
    "admin users": Page("admin", lambda w: "/admin/"),
    "admin schools": Page("admin", lambda w: "/admin/schools"),
    "admin funds": Page("admin", lambda w: "/admin/funds"),
    "admin email delivery": Page("admin", lambda w: "/admin/email-delivery"),
    "messages page": Page("lead", lambda w: "/messages"),
    "API applications (officer)": Page("officer", lambda w: "/api/v1/applications?per_page=100", api=True),
    "API applications (headteacher)": Page("lead", lambda w: "/api/v1/applications?per_page=100", api=True),
    "API funds": Page("officer", lambda w: "/api/v1/funds?per_page=100", api=True),
    "API schools": Page("officer", lambda w: "/api/v1/schools?per_page=100", api=True),
    "API my notifications": Page("lead", lambda w: "/api/v1/me/notifications?per_page=100", api=True),
    "API one application": Page("officer", lambda w: f"/api/v1/applications/{_ref(w)}", api=True),
    "API application events": Page("officer", lambda w: f"/api/v1/applications/{_ref(w)}/events", api=True),
}


def _count(
    app, client: FlaskClient, page: Page, world: World, headers: dict[str, str]
) -> tuple[list[str], int]:
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    app.config["PER_PAGE"] = page.per_page
    app.config["FUNDFLOW_TODAY"] = (today() + timedelta(days=page.days_ahead)).isoformat()
    url = page.url(world)
    db.session.commit()  # the session is shared across requests: start each one cold
    # Rows nothing else holds leave the session's (weak) identity map only when collected;
    # collect now, or whether a page lazy-loads or select-in loads a part depends on when
    # the garbage collector last ran (seen as 14 statements against 13 under load).
    gc.collect()
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        response = client.get(url, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        app.config["FUNDFLOW_TODAY"] = None
    assert response.status_code == 200, (url, response.status_code)
    return statements, len(response.data)


@pytest.fixture(scope="module")
def counted(_shared_app) -> dict[str, list[tuple[list[str], int]]]:
    """Each page's statements with FEW units and with MANY."""
    app = _shared_app
    saved = dict(app.config)
    with app.app_context():
        db.create_all()
        try:
            make = Factory()
            officer = make.liaison()
            lead = make.headteacher()
            watched_fund = make.fund(countersign_threshold_pence=None)
            approver = make.liaison()
            watched = make.application("approved", fund=watched_fund, lead=lead, liaison=approver, days="100")
            world = World(
                make=make,
                lead=lead,
                officer=officer,
                approver=approver,
                finance=make.user("finance"),
                auditor=make.user("auditor"),
                admin=make.user("admin"),
                watched=watched,
            )
            clients: dict[str, FlaskClient] = {}
            headers: dict[str, dict[str, str]] = {}
            for who in ("lead", "officer", "finance", "auditor", "admin"):
                user = getattr(world, who)
                clients[who] = app.test_client()
                clients[who].post("/sign-in", data={"email": user.email, "password": PASSWORD})
                headers[who] = {"Authorization": f"Bearer {auth_service.issue_token(user, 'test')}"}
            db.session.commit()
            found: dict[str, list[tuple[list[str], int]]] = {name: [] for name in PAGES}
            for units in (FEW, MANY):
                world.grow(units)
                for name, page in PAGES.items():
                    who = page.who
                    sent = headers[who] if page.api else {}
                    found[name].append(_count(app, clients[who], page, world, sent))
            yield found
        finally:
            db.session.remove()
            db.drop_all()
            app.config.clear()
            app.config.update(saved)


@pytest.mark.parametrize("name", list(PAGES))
def test_statements_do_not_grow_with_the_rows(counted, name):
    (few, few_size), (many, many_size) = counted[name]
    if PAGES[name].grows:
        assert many_size > few_size, f"{name} shows no more with {MANY} rows than with {FEW}"
    assert len(many) == len(few), f"{name}: {len(few)} statements with {FEW} rows, {len(many)} with {MANY}"
