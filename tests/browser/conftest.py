"""The browser tests' fixtures: Debian's Chromium through Playwright, and the console served by a real process.

Uses Debian's chromium (test tools' own browser downloads fail here). Skipped when no Chromium is
installed, unless CONSOLE_REQUIRE_BROWSER=1 (CI sets it, so CI cannot skip it silently).
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.processes import free_port, port_answers, process_environment, running, wait_for, web_server_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "/tmp/console-screenshots"))


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
        yield launched
        launched.close()


@pytest.fixture
def console_server(django_db_setup, tmp_path):
    port = free_port()
    environment = process_environment(PORTAL_PORT=str(port))
    with running(web_server_command(port), environment, tmp_path / "web.log") as server:
        assert wait_for(lambda: port_answers(port), timeout=30, process=server), (tmp_path / "web.log").read_text()
        yield port
