"""The browser tests' fixtures: Debian's Chromium through Playwright, and the console served by a real process.

Uses Debian's chromium (test tools' own browser downloads fail here). Skipped when no Chromium is
installed, unless CONSOLE_REQUIRE_BROWSER=1 (CI sets it, so CI cannot skip it silently).

Every page the tests open is watched: a Content-Security-Policy violation (an inline script, handler or
style, an eval) or an uncaught script error on any screen fails the test at teardown, with the page's URL.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.processes import free_port, port_answers, process_environment, running, wait_for, web_server_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "/tmp/console-screenshots"))


# Runs in every page before its own scripts; the event names the directive and where the violation is.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber} ${event.sample || ""}`);
});"""


class WatchedBrowser:
    """The Playwright browser, whose new pages and contexts report CSP violations and script errors."""

    def __init__(self, browser):
        self._browser = browser
        self.problems: list[str] = []
        self._watched: set[int] = set()

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("page", self._watch)
        return context

    def new_page(self, **options):
        page = self.new_context(**options).new_page()
        self._watch(page)
        return page

    def _watch(self, page) -> None:
        if id(page) in self._watched:
            return
        self._watched.add(id(page))

        def on_console(message) -> None:
            text = message.text
            if "Content Security Policy" in text or text.startswith("CSP violation"):
                self.problems.append(f"{page.url}: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error {error}"))


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("CONSOLE_REQUIRE_BROWSER") == "1":
            pytest.fail("CONSOLE_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # the test partners' hosts are <slug>.console.test: send them all to this machine
                "--host-resolver-rules=MAP *.console.test 127.0.0.1, MAP console.test 127.0.0.1",
            ],
        )
        watched = WatchedBrowser(launched)
        yield watched
        launched.close()
        assert watched.problems == [], "Content-Security-Policy violations or script errors:\n" + "\n".join(
            watched.problems
        )


@pytest.fixture
def console_server(django_db_setup, tmp_path):
    port = free_port()
    environment = process_environment(PORTAL_PORT=str(port))
    with running(web_server_command(port), environment, tmp_path / "web.log") as server:
        assert wait_for(lambda: port_answers(port), timeout=30, process=server), (tmp_path / "web.log").read_text()
        yield port
