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


def _console_served(tmp_path, *, threading: bool = False):
    port = free_port()
    environment = process_environment(PORTAL_PORT=str(port))
    with running(web_server_command(port, threading=threading), environment, tmp_path / "web.log") as server:
        assert wait_for(lambda: port_answers(port), timeout=30, process=server), (tmp_path / "web.log").read_text()
        yield port


@pytest.fixture
def console_server(django_db_setup, tmp_path):
    yield from _console_served(tmp_path)


@pytest.fixture
def threaded_console_server(django_db_setup, tmp_path):
    """The console answering several requests at once: for a walk that opens pages side by side."""
    yield from _console_served(tmp_path, threading=True)


def totp_code_of(device) -> str:
    """The code an authenticator app shows now for this device (django-otp's own TOTP)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def authenticator_enrol(slug: str, username: str):
    """A committed, confirmed TOTP device (the console server is another process: it sees only committed rows).

    Call it from a fixture listed before ``browser``: Playwright's loop makes the ORM refuse calls in the test body.
    """
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import schema_context

    from portal.partners.models import Partner

    with schema_context("public"):
        schema = Partner.objects.get(slug=slug).schema_name
    with schema_context(schema):
        user = get_user_model().objects.get(username=username)
        return schema, TOTPDevice.objects.create(user=user, name="Browser test", confirmed=True)


def authenticator_remove(schema: str, device) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import schema_context

    from portal.authentication.models import SignInThrottle

    with schema_context(schema):
        TOTPDevice.objects.filter(pk=device.pk).delete()
        SignInThrottle.objects.all().delete()  # the walk's deliberate wrong tries must not count later


@pytest.fixture
def alpha_admin_authenticator(django_db_setup, django_db_blocker):
    """Alpha's administrator with an authenticator app, for the duration of one browser test."""
    with django_db_blocker.unblock():
        schema, device = authenticator_enrol("alpha", "admin")
    yield device
    with django_db_blocker.unblock():
        authenticator_remove(schema, device)
