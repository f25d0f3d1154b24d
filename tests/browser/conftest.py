"""Browser tests: the real app served on 127.0.0.1 with CSRF on, demo data loaded, driven
by Playwright in Debian's Chromium, with axe-core run on every page a journey visits."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

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
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Journey:
    """A signed-in person's browser tab, checking every page it visits with axe-core."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url
        self.visited: list[str] = []
        self.violations: dict[str, list] = {}

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.check()
        return self.page

    def check(self) -> None:
        """Run axe on the current page and keep what it finds."""
        url = self.page.url
        if url in self.visited:
            return
        self.visited.append(url)
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("async (rules) => await axe.run(document, {runOnly: rules})", AXE_RULES)
        found = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        if found:
            self.violations[url] = found

    def sign_in(self, email: str) -> None:
        self.goto("/sign-in")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.check()

    def click(self, name: str, role: str = "button"):
        self.page.get_by_role(role, name=name).first.click()
        self.check()

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def assert_accessible(self) -> None:
        assert not self.violations, json.dumps(self.violations, indent=2)


@pytest.fixture
def journey(browser, live_server):
    context = browser.new_context(bypass_csp=True)  # lets axe-core be injected
    page = context.new_page()
    page.set_default_timeout(15_000)
    trip = Journey(page, live_server["url"])
    yield trip
    context.close()
