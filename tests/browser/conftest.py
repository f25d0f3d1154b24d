"""Browser tests: the real app served on 127.0.0.1 with CSRF on, demo data loaded, driven
by Playwright in Debian's Chromium, with axe-core run on every page a journey visits.

A test gets one ``journey`` (a browser context); ``journey.person(email)`` opens another,
signed-in context for a second person. All of them record their axe-core results in the
same place, so ``journey.assert_accessible()`` at the end of a test covers every page any
of its people saw.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from config import DevelopmentConfig
from fundflow import create_app
from fundflow.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "demo-password-123"
SHOTS = ROOT / "test-artifacts" / "screenshots"

#: Run axe and keep only the violations (skipping "passes" makes each run faster).
AXE_RUN = """async (rules) => {
  const result = await axe.run(document, {runOnly: rules, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""

#: How the focused element shows its focus: GOV.UK's focus colour is yellow (#ffdd00) as an
#: outline, a background or a box shadow; radios and checkboxes show it on their label.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const yellow = (value) => (value || "").includes("rgb(255, 221, 0)");
  const shows = (style) => (yellow(style.outlineColor) && style.outlineStyle !== "none")
      || yellow(style.backgroundColor) || yellow(style.boxShadow);
  if (shows(getComputedStyle(el))) return "own";
  if ((el.type === "radio" || el.type === "checkbox") && el.labels && el.labels.length) {
    if (shows(getComputedStyle(el.labels[0], "::before"))) return "label";
  }
  return null;
}"""


@dataclass
class AxeLog:
    """What axe-core found on every page checked during the session."""

    pages: list[tuple[str, str]] = field(default_factory=list)  # (test, url)
    failures: dict[str, list] = field(default_factory=dict)  # url -> violations


AXE_LOG = AxeLog()


def _require_browser() -> None:
    if not Path(CHROMIUM).exists() or not AXE.exists():
        if os.environ.get("FUNDFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail("FUNDFLOW_REQUIRE_BROWSER=1 but Chromium or axe-core is missing")
        pytest.skip("Debian chromium and npm axe-core are needed for browser tests")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The site with demo data on a SQLite file, served in a background thread."""
    _require_browser()
    database = tmp_path_factory.mktemp("browser") / "fundflow.sqlite3"

    class Config(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        WTF_CSRF_ENABLED = True
        SESSION_COOKIE_SECURE = False
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        LOGIN_MAX_FAILURES_PER_ACCOUNT = 50

    app = create_app(Config)
    with app.app_context():
        from fundflow import demo

        db.create_all()
        demo.seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}
    server.shutdown()


@pytest.fixture(scope="session")
def in_app(live_server) -> Callable[[Callable[[], Any]], Any]:
    """Run a function inside the served app's context, e.g. to read the database or to
    arrange a record through the services (the only code that changes data)."""

    def run(function: Callable[[], Any]) -> Any:
        with live_server["app"].app_context():
            try:
                return function()
            finally:
                db.session.remove()

    return run


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Journey:
    """A person's browser tab, checking every page it visits with axe-core."""

    def __init__(self, open_page: Callable[[], Any], base_url: str, test_name: str, shared: dict):
        self._open_page = open_page
        self.page = open_page()
        self.base = base_url
        self.test_name = test_name
        self.shared = shared  # {"seen": set of page fingerprints, "violations": {url: [...]}}

    @property
    def violations(self) -> dict[str, list]:
        return self.shared["violations"]

    def person(self, email: str) -> Journey:
        """Another person, in a browser context of their own, signed in."""
        other = Journey(self._open_page, self.base, self.test_name, self.shared)
        other.sign_in(email)
        return other

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.check()
        return self.page

    def check(self) -> None:
        """Run axe on the current page and keep what it finds.

        A page is checked again whenever what it shows has changed (a new status, a flash,
        an error summary), not only when its address is new.
        """
        self.page.wait_for_load_state("load")
        url = self.page.url
        text = self.page.evaluate("() => document.body.innerText")
        fingerprint = url + "#" + hashlib.sha1(text.encode()).hexdigest()
        if fingerprint in self.shared["seen"]:
            return
        self.shared["seen"].add(fingerprint)
        found = self.page.evaluate(AXE_RUN, AXE_RULES)
        AXE_LOG.pages.append((self.test_name, url))
        if found:
            self.violations.setdefault(url, []).extend(found)
            AXE_LOG.failures.setdefault(url, []).extend(found)

    def sign_in(self, email: str) -> None:
        self.goto("/sign-in")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.check()

    def click(self, name: str | re.Pattern, role: str = "button"):
        self.page.get_by_role(role, name=name).first.click()
        self.check()

    def follow(self, name: str | re.Pattern) -> None:
        """Click a link by its accessible name."""
        self.click(name, role="link")

    # -- keyboard ------------------------------------------------------------------------

    def is_focused(self, locator) -> bool:
        return locator.evaluate("el => el === document.activeElement")

    def tab_to(self, locator, limit: int = 80) -> None:
        """Press Tab until ``locator`` has the focus, and check that the focus is visible."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.is_focused(locator):
                self.assert_focus_visible()
                return
        raise AssertionError(f"{limit} presses of Tab never reached {locator}")

    def press_and_load(self, key: str) -> None:
        """Press a key that navigates (Enter on a link or button) and check the new page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.check()

    def assert_focus_visible(self) -> None:
        shown = self.page.evaluate(FOCUS_STYLE)
        described = self.page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        assert shown, f"The focused element shows no visible focus: {described}"

    # -- records -------------------------------------------------------------------------

    def shot(self, name: str, part=None) -> None:
        """Save a screenshot of the whole page, or of one part of it (a locator)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        if part is not None:
            part.screenshot(path=str(SHOTS / f"{name}.png"))
        else:
            self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def assert_accessible(self) -> None:
        assert not self.violations, json.dumps(self.violations, indent=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def journey(request, browser, live_server) -> Iterator[Journey]:
    contexts = []
    axe_source = AXE.read_text(encoding="utf-8")

    def open_page():
        context = browser.new_context(bypass_csp=True)  # lets axe-core run in the page
        context.add_init_script(script=axe_source)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    trip = Journey(open_page, live_server["url"], request.node.name, {"seen": set(), "violations": {}})
    yield trip
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for number, context in enumerate(contexts, start=1):
            for page in context.pages:
                page.screenshot(path=str(SHOTS / f"FAILED-{request.node.name}-{number}.png"), full_page=True)
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if not AXE_LOG.pages:
        return
    urls = {url for _test, url in AXE_LOG.pages}
    terminalreporter.write_line(
        f"axe-core: {len(AXE_LOG.pages)} page views checked ({len(urls)} distinct addresses), "
        f"{len(AXE_LOG.failures)} with violations"
    )
