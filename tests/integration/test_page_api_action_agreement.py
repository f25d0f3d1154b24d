"""The site and the API offer exactly the same actions (issue 11).

For every state a bid can reach, and for everyone who might look at it, the action buttons
on the bid pages that person can open are the API's ``allowed_actions`` for them: one
answer (``services.lifecycle.actions_for``) behind both. Each button is read from the HTML
twice over, by its words (the action's label) and by where it goes (the route that fires
that action), and the two must name the same action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from fundflow.extensions import db
from fundflow.formatting import CONFIRM_LABELS
from fundflow.models import Application, User
from fundflow.services import auth as auth_service
from fundflow.services import claims, impact, lifecycle
from fundflow.workflow import APPLICATION_LIFECYCLE
from tests.factories import PATH_TO

#: Words on a lifecycle button → the action it fires.
ACTION_BY_LABEL = {a.label: a.name for a in APPLICATION_LIFECYCLE.actions.values()}
#: Buttons on a bid page that are not lifecycle actions (their own services decide them).
OTHER_BUTTONS = {"Change the bid", "Claim backfill", "Report impact", "Record a review"}
#: Routes that fire one named action; ``headteacher.action`` and ``liaison.decide`` name it
#: in the URL.
ACTION_BY_ENDPOINT = {
    "liaison.start_review": {"start_review"},
    "liaison.countersign": {"countersign"},
    "liaison.finish_delivery": {"finish_delivery"},
    "liaison.close": {"close"},
    "liaison.cancel": {"cancel"},
    "headteacher.check_answers": {"submit", "resubmit"},
}
#: Every page that shows one bid, whoever may open it.
BID_PAGES = ("/headteacher/bids/{ref}/view", "/liaison/bids/{ref}", "/auditor/bids/{ref}")
#: The pages on which an action is confirmed, and the words on their button.
OWN_PAGES = {
    "approve": "/liaison/bids/{ref}/decide/approve",
    "request_changes": "/liaison/bids/{ref}/decide/request_changes",
    "reject": "/liaison/bids/{ref}/decide/reject",
    "countersign": "/liaison/bids/{ref}/countersign",
    "cancel": "/liaison/bids/{ref}/cancel",
    "endorse": "/headteacher/bids/{ref}/actions/endorse",
    "decline_endorsement": "/headteacher/bids/{ref}/actions/decline_endorsement",
    "withdraw": "/headteacher/bids/{ref}/actions/withdraw",
    "finish_delivery": "/headteacher/bids/{ref}/actions/finish_delivery",
}


class ButtonReader(HTMLParser):
    """The GOV.UK buttons inside ``<main>``: (where it goes, its words). A link button goes
    to its ``href``; a submit button to its form's ``action``."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[tuple[str, str]] = []
        self._in_main = False
        self._form_action = ""
        self._open: str | None = None  # the target of the button whose words are being read
        self._words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self._in_main = True
        if not self._in_main:
            return
        if tag == "form":
            self._form_action = a.get("action", "")
        is_button = "govuk-button" in a.get("class", "").split()
        if tag == "a" and is_button:
            self._open, self._words = a.get("href", ""), []
        elif tag == "button" and is_button and a.get("type", "submit") == "submit":
            self._open, self._words = self._form_action, []
        elif tag == "input" and a.get("type") == "submit" and "govuk-button" in a.get("class", ""):
            self.buttons.append((self._form_action, a.get("value", "").strip()))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._words.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False
        if tag in ("a", "button") and self._open is not None:
            self.buttons.append((self._open, " ".join("".join(self._words).split())))
            self._open = None
        if tag == "form":
            self._form_action = ""


def buttons_on(html: str) -> list[tuple[str, str]]:
    reader = ButtonReader()
    reader.feed(html)
    return reader.buttons


def fired_by(app, href: str, method: str) -> set[str]:
    """The actions the route at ``href`` fires (empty for any other route)."""
    try:
        endpoint, args = app.url_map.bind("localhost").match(urlsplit(href).path, method=method)
    except HTTPException:
        return set()
    if endpoint in ("headteacher.action", "liaison.decide"):
        return {args["action"]}
    return ACTION_BY_ENDPOINT.get(endpoint, set())


def page_actions(app, html: str) -> set[str]:
    """The lifecycle actions a page's buttons offer, each checked by its words and its route."""
    offered = set()
    for href, words in buttons_on(html):
        if words in OTHER_BUTTONS or words == "Sign out":
            continue
        assert words in ACTION_BY_LABEL, f"a button no action is labelled: {words!r}"
        action = ACTION_BY_LABEL[words]
        # a link opens the action's page (GET); a form button fires it (POST)
        routes = fired_by(app, href, "GET") | fired_by(app, href, "POST")
        assert action in routes, f"{words!r} goes to {href}, which does not {action}"
        offered.add(action)
    return offered


# ------------------------------------------------------------------------------ the world


@dataclass
class Case:
    application: Application
    people: dict[str, User]
    #: (person, action) pairs that must be offered, or must not be, in this case.
    offered: set[tuple[str, str]] = field(default_factory=set)
    withheld: set[tuple[str, str]] = field(default_factory=set)


def _report(make, app, kind: str = "final"):
    return impact.submit_report(
        make.lead_of(app),
        app,
        impact.ReportInput(
            kind=kind,
            narrative="Done.",
            results=[impact.ResultInput(measure_id=m.id, actual="70") for m in app.measures],
        ),
    )


def build(make, name: str) -> Case:
    """A bid in the case's state, and everyone who might look at it."""
    state = name.split(":")[0]
    liaison = make.liaison()
    partner_school = make.school()
    app = make.application(state, partner=partner_school, liaison=liaison)
    people = {
        "lead headteacher": make.lead_of(app),
        "partner headteacher": make.headteacher(school=partner_school),
        # the officer who reviewed and decided it (for awaiting_countersign: the approver)
        "liaison officer": liaison,
        "conflicted liaison officer": make.liaison(school=partner_school),
        "second liaison officer": make.liaison(),
        "finance": make.user("finance"),
        "auditor": make.user("auditor"),
        "admin": make.user("admin"),
    }
    case = Case(app, people)
    if name == "approved:claim pending":
        make.claim(app, state="pending")
        case.withheld |= {("lead headteacher", "finish_delivery"), ("liaison officer", "finish_delivery")}
    elif name == "approved:claim paid":
        make.claim(app, state="paid")
        case.offered |= {("lead headteacher", "finish_delivery"), ("liaison officer", "finish_delivery")}
    elif name == "monitoring:report not evaluated":
        _report(make, app)
        case.withheld |= {("liaison officer", "close"), ("second liaison officer", "close")}
    elif name == "monitoring:report evaluated":
        impact.evaluate_report(
            liaison, _report(make, app), impact.EvaluationInput(rating="achieved", drivers=[])
        )
        case.offered |= {("liaison officer", "close"), ("second liaison officer", "close")}
    elif name == "submitted:endorsed":
        make.act(app, people["partner headteacher"], "endorse")
        case.withheld |= {("partner headteacher", "endorse")}
    elif state == "submitted":
        case.offered |= {("partner headteacher", "endorse"), ("liaison officer", "start_review")}
        case.withheld |= {("conflicted liaison officer", "start_review")}
    elif state == "awaiting_countersign":
        case.offered |= {("second liaison officer", "countersign")}
        case.withheld |= {("liaison officer", "countersign")}
    db.session.commit()
    return case


CASES = [
    *PATH_TO,
    "submitted:endorsed",
    "approved:claim pending",
    "approved:claim paid",
    "monitoring:report not evaluated",
    "monitoring:report evaluated",
]


def api_actions(client, user: User, reference: str) -> set[str]:
    """``allowed_actions`` from ``GET /api/v1/applications/<ref>``; none for a bid the
    person may not see."""
    token = auth_service.issue_token(user, "agreement test")
    response = client.get(f"/api/v1/applications/{reference}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 404), response.get_data(as_text=True)
    return set(response.get_json()["allowed_actions"]) if response.status_code == 200 else set()


def site_actions(app, client, auth, user: User, reference: str) -> set[str]:
    """The actions the buttons on every bid page this person can open offer."""
    auth.login(user)
    offered: set[str] = set()
    opened = 0
    for page in BID_PAGES:
        response = client.get(page.format(ref=reference))
        if response.status_code == 200:
            opened += 1
            offered |= page_actions(app, response.get_data(as_text=True))
        else:
            assert response.status_code in (403, 404), (page, response.status_code)
    auth.logout()
    return offered


@pytest.mark.parametrize("name", CASES)
def test_bid_page_buttons_are_the_apis_allowed_actions_for_everyone(app, client, auth, make, name):
    case = build(make, name)
    reference = case.application.reference
    seen: dict[str, tuple[set[str], set[str]]] = {}
    for who, user in case.people.items():
        seen[who] = (site_actions(app, client, auth, user, reference), api_actions(client, user, reference))
    disagreements = {who: pair for who, pair in seen.items() if pair[0] != pair[1]}
    assert not disagreements, f"{name}: (site, API) differ for {disagreements}"
    for who, action in case.offered:
        assert action in seen[who][1], f"{name}: {who} should be offered {action}"
    for who, action in case.withheld:
        assert action not in seen[who][1], f"{name}: {who} should not be offered {action}"


@pytest.mark.parametrize("name", CASES)
def test_an_actions_own_page_shows_its_button_only_when_the_api_allows_it(app, client, auth, make, name):
    """The pages that confirm an action (approve, reject, countersign, cancel, endorse,
    withdraw, finish delivery) show the button that fires it exactly to those of the people
    who may open the page that the API offers it to: never a button the service would
    refuse."""
    case = build(make, name)
    reference = case.application.reference
    for who, user in case.people.items():
        allowed = api_actions(client, user, reference)
        auth.login(user)
        for action, page in OWN_PAGES.items():
            response = client.get(page.format(ref=reference))
            if response.status_code in (403, 404):
                continue  # not this person's page: their bid page offers the action elsewhere
            shown = response.status_code == 200 and any(
                action in fired_by(app, href or page.format(ref=reference), "POST")
                and words in (APPLICATION_LIFECYCLE.actions[action].label, CONFIRM_LABELS.get(action))
                for href, words in buttons_on(response.get_data(as_text=True))
            )
            assert shown == (action in allowed), f"{name}: {who} on {page}: shown={shown}"
        auth.logout()


# ------------------------------------------------------------------------ no query per row


def test_dashboard_works_out_actions_for_a_page_of_bids_in_a_fixed_number_of_queries(
    app, client, auth, make, count_queries
):
    head = make.headteacher()
    fund = make.fund()

    def statements_for(n: int) -> int:
        while db.session.query(Application).count() < n:
            bid = make.application("approved", lead=head, fund=fund)
            make.claim(bid, state="pending")  # a fact that takes "finish delivery" away
        db.session.commit()
        auth.login(head)
        with count_queries() as statements:
            page = client.get("/headteacher/").get_data(as_text=True)
        auth.logout()
        assert page.count("/headteacher/bids/LSIF-") >= n
        return len(statements)

    assert statements_for(2) == statements_for(10)


def test_delivery_queue_works_out_actions_for_a_page_of_awards_in_a_fixed_number_of_queries(
    app, client, auth, make, count_queries
):
    officer = make.liaison()
    fund = make.fund()

    def statements_for(n: int) -> int:
        while db.session.query(Application).count() < n:
            bid = make.application("approved", fund=fund)
            make.claim(bid, state="pending")
        db.session.commit()
        auth.login(officer)
        with count_queries() as statements:
            page = client.get("/liaison/?section=delivery").get_data(as_text=True)
        auth.logout()
        assert f"({n})" in page
        return len(statements)

    assert statements_for(2) == statements_for(10)


# ------------------------------------------------------------------------------- claims


@pytest.mark.parametrize("state", ["pending", "verified", "part paid", "paid", "rejected"])
def test_claim_pages_offer_the_claim_actions_the_workflow_allows_on_the_stored_facts(
    client, auth, make, state
):
    """The liaison officer's decision (verify, reject) and finance's "Record payment" show
    exactly when ``actions_for`` offers them: a claim with money paid cannot be rejected."""
    bid = make.application("approved")
    claim = make.claim(bid, amount_pence=300_00, state="paid" if state == "paid" else "pending")
    if state in ("verified", "part paid"):
        claims.decide_claim(make.liaison(), claim, "verify")
    if state == "part paid":
        make.pay(claim, amount_pence=100_00)
    if state == "rejected":
        claims.decide_claim(make.liaison(), claim, "reject", "Wrong dates")
    db.session.commit()
    officer, finance = make.liaison(), make.user("finance")
    offered = lifecycle.actions_for([claim], officer)[claim.id]
    paying = lifecycle.actions_for([claim], finance)[claim.id]

    auth.login(officer)
    page = client.get(f"/liaison/claims/{claim.id}").get_data(as_text=True)
    auth.logout()
    decisions = {d for d in ("verify", "reject") if f'value="{d}"' in page}
    assert decisions == set(offered)
    if state == "part paid":
        assert offered == []  # reverse the payment first

    auth.login(finance)
    page = client.get(f"/finance/claims/{claim.id}/pay").get_data(as_text=True)
    auth.logout()
    words = {w for _, w in buttons_on(page)}
    assert ("Record payment" in words) == ("pay" in paying) == (state in ("verified", "part paid"))
