"""Every form on the site, fed generated and hostile values (huge numbers, exponents, NaN,
NUL and other control characters, other scripts' digits, very long text, repeated and
missing fields): never a 5xx, and when the form is refused — a 4xx, or the form again with
its error summary — nothing is written (no row in any table changes count, no audit Event).

The fields posted are the ones each page really renders (read from its HTML), so a field
added to a form later is fuzzed too. Each generated value either keeps what the page
offered (so the other fields pass and the hostile one reaches deep validation) or replaces
it. Bounded: ``FUNDFLOW_FUZZ_EXAMPLES`` examples per form (default 20), derandomised.
"""

from __future__ import annotations

import io
import os
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.services import impact
from tests.conftest import Auth, forget_user_between_requests
from tests.factories import PASSWORD, Factory

EXAMPLES = int(os.environ.get("FUNDFLOW_FUZZ_EXAMPLES", "20"))
#: Book-keeping a refused request may still write: a failed sign-in is counted (throttling),
#: a browser session is recorded.
BOOKKEEPING = {"login_attempts", "user_sessions"}

HOSTILE_TEXT = [
    "1e30",
    "-1e30",
    "99999999999999999999999999999",
    "1e-999999999",
    "9999999999.99999",
    "0.000001",
    "NaN",
    "-Infinity",
    "Infinity",
    "1_000",
    "٣٤",
    "𝟙𝟚",
    "£-0.00",
    "0",
    "-1",
    "2.5",
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\u202etxt",
    "\ud7ff",
    "9" * 400,
    "x" * 12_000,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
    "0001-01-01",
    "31",
    "13",
    "2026",
    "-2147483649",
    "9223372036854775808",
]

hostile = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


class FormReader(HTMLParser):
    """The POST forms of a page: action and fields (name → the values the page offers)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {"action": a.get("action", ""), "fields": {}, "files": []}
            self.forms.append(self._form)
        elif self._form is not None and "name" in a:
            fields = self._form["fields"]
            if tag == "input" and a.get("type") == "file":
                self._form["files"].append(a["name"])
            elif tag == "input" and a.get("type") in ("radio", "checkbox"):
                fields.setdefault(a["name"], []).append(a.get("value", "y") if "checked" in a else None)
                fields[a["name"]] = [v for v in fields[a["name"]] if v is not None] or [a.get("value", "y")]
            elif tag in ("input", "button"):
                fields.setdefault(a["name"], []).append(a.get("value", ""))
            elif tag == "textarea":
                self._textarea = a["name"]
                fields.setdefault(a["name"], []).append("")
            elif tag == "select":
                fields.setdefault(a["name"], []).append("")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_on(page: str, path: str) -> dict[str, Any] | None:
    reader = FormReader()
    reader.feed(page)
    for form in reader.forms:
        if form["action"] in ("", path) or form["action"].split("?")[0] == path:
            return form
    return None


def row_counts() -> dict[str, int]:
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name not in BOOKKEEPING:
            counts[table.name] = db.session.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_app(request):
    """The app on SQLite, and on PostgreSQL when the PostgreSQL tests run."""
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    app = request.getfixturevalue("pg_app")
    forget_user_between_requests(app)
    return app


def build_world(make: Factory) -> dict[str, Any]:
    """Bids in every state a form acts on, and a user of each role."""
    head = make.headteacher()
    liaison = make.liaison()
    fund = make.fund(countersign_threshold_pence=1_000_00)
    draft = make.application("draft", lead=head, fund=fund)
    submitted = make.application("submitted", lead=head, fund=fund)
    under_review = make.application("under_review", lead=head, fund=fund, liaison=liaison)
    countersign = make.application("awaiting_countersign", lead=head, liaison=liaison)
    approved = make.application("approved", lead=head, fund=fund, liaison=liaison)
    monitoring = make.application("monitoring", lead=head, fund=fund, liaison=liaison)
    pending = make.claim(approved, amount_pence=100_00)
    verified = make.claim(approved, amount_pence=200_00, state="verified")
    paid = make.pay(verified)
    other_verified = make.claim(
        make.application("approved", lead=head, fund=fund), amount_pence=150_00, state="verified"
    )
    report = impact.submit_report(
        head,
        approved,
        impact.ReportInput(
            kind="interim",
            narrative="Going well",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in approved.measures],
        ),
    )
    admin = make.user("admin")
    finance = make.user("finance")
    other = make.user("auditor")
    school = make.school()
    organisation = make.organisation()
    return {
        "service_admin": make.user("service_admin"),
        "head": head,
        "liaison": make.liaison(),
        "assigned_liaison": liaison,
        "finance": finance,
        "admin": admin,
        "forms": [
            ("head", "/headteacher/bids/new"),
            ("head", f"/headteacher/bids/{draft.reference}/need"),
            ("head", f"/headteacher/bids/{draft.reference}/partners"),
            ("head", f"/headteacher/bids/{draft.reference}/activities"),
            ("head", f"/headteacher/bids/{draft.reference}/measures"),
            ("head", f"/headteacher/bids/{draft.reference}/check"),
            ("head", f"/headteacher/bids/{submitted.reference}/actions/withdraw"),
            ("head", f"/headteacher/bids/{approved.reference}/claims/new"),
            ("head", f"/headteacher/bids/{approved.reference}/reports/new"),
            ("head", "/account/password"),
            ("liaison", f"/liaison/bids/{submitted.reference}/start-review"),
            ("assigned_liaison", f"/liaison/bids/{under_review.reference}/review"),
            ("assigned_liaison", f"/liaison/bids/{under_review.reference}/decide/approve"),
            ("assigned_liaison", f"/liaison/bids/{under_review.reference}/decide/request_changes"),
            ("assigned_liaison", f"/liaison/bids/{under_review.reference}/decide/reject"),
            ("liaison", f"/liaison/bids/{countersign.reference}/countersign"),
            ("assigned_liaison", f"/liaison/bids/{approved.reference}/cancel"),
            ("assigned_liaison", f"/liaison/bids/{approved.reference}/finish-delivery"),
            ("assigned_liaison", f"/liaison/bids/{monitoring.reference}/close"),
            ("assigned_liaison", f"/liaison/claims/{pending.id}"),
            ("assigned_liaison", f"/liaison/reports/{report.id}"),
            ("finance", f"/finance/claims/{other_verified.id}/pay"),
            ("finance", f"/finance/payments/{paid.id}/reverse"),
            ("admin", "/admin/funds/new"),
            ("admin", f"/admin/funds/{make.fund().id}/edit"),
            ("admin", "/admin/schools/new"),
            ("admin", f"/admin/schools/{school.urn}"),
            ("admin", "/admin/schools/import"),
            ("admin", "/admin/users/new"),
            ("admin", f"/admin/users/{other.id}"),
            ("admin", f"/admin/users/{other.id}/set-password-link"),
            ("admin", f"/admin/users/{other.id}/sign-out-everywhere"),
            ("service_admin", "/service/organisations/new"),
            ("service_admin", f"/service/organisations/{organisation.slug}"),
            ("head", "/account/notifications"),
            ("liaison", "/account/calendar"),
            ("head", "/messages/read"),
            (None, "/sign-in"),
            (None, "/forgotten-password"),
            (None, "/set-password/not-a-real-token"),
        ],
    }


def fuzz_form(client, path: str, cases: dict[str, int]) -> None:
    page = client.get(path)
    assert page.status_code < 500, (path, page.status_code)
    form = form_on(page.text, path) if page.status_code == 200 else None
    offered: dict[str, list[str]] = dict(form["fields"]) if form else {"comment": [""], "reason": [""]}
    offered.pop("csrf_token", None)
    files = form["files"] if form else []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def post(data) -> None:
        cases[path] = cases.get(path, 0) + 1
        body: dict[str, Any] = {}
        for name, values in offered.items():
            if data.draw(st.booleans(), label=f"keep {name}"):
                body[name] = values
            else:
                values_of = st.lists(hostile, min_size=0, max_size=max(3, len(values)))
                body[name] = data.draw(values_of, label=name)
        for name in files:
            content = data.draw(st.binary(max_size=200), label=name)
            filename = data.draw(st.sampled_from(["a.pdf", "a\x00.pdf", "x" * 300 + ".csv", "évidence.pdf"]))
            body[name] = (io.BytesIO(content), filename)
        before = row_counts()
        response = client.post(path, data=body, content_type="multipart/form-data" if files else None)
        assert response.status_code < 500, (path, response.status_code, response.text[:500])
        refused = response.status_code >= 400 or "govuk-error-summary" in response.text
        if refused:  # a 4xx, or the form again with its errors: nothing written
            db.session.expire_all()
            assert row_counts() == before, (path, response.status_code)

    post()


def test_every_form_answers_hostile_input_without_a_server_error_and_writes_nothing_when_refused(
    live_app, request
):
    world = build_world(Factory())
    client = live_app.test_client()
    auth = Auth(client)
    cases: dict[str, int] = {}
    signed_in_as = None
    for role, path in world["forms"]:
        if role != signed_in_as:
            auth.logout()
            if role is not None:
                assert auth.login(world[role], PASSWORD).status_code == 302
            signed_in_as = role
        fuzz_form(client, path, cases)
    assert sum(cases.values()) >= EXAMPLES * len(world["forms"]) // 2
    database = request.node.callspec.params["live_app"]
    print(f"form fuzz ({database}): {sum(cases.values())} posts over {len(cases)} forms")
