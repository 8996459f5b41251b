"""Headless Chromium signs in to a partner's console and walks it, as a person would.

Uses Debian's chromium (test tools' own browser downloads fail here). Skipped when no Chromium is
installed, unless CONSOLE_REQUIRE_BROWSER=1 (CI sets it, so CI cannot skip it silently).
"""

import pytest

from tests.browser.conftest import SCREENSHOTS, totp_code_of
from tests.support import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_sign_in_and_navigate_the_console(alpha_admin_authenticator, browser, console_server):
    device = alpha_admin_authenticator
    base = f"http://alpha.console.test:{console_server}"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(base + "/")
    assert page.url == base + "/accounts/sign-in/?next=/"
    page.get_by_label("Username or email").fill("admin@alpha.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_text("The username, email or password is not right").is_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(base + "/accounts/sign-in/verify/?next=%2F")
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_text("That code is not right").is_visible()
    page.wait_for_timeout(1100)  # django-otp makes the next try after a wrong code wait a second
    page.get_by_label("Code").fill(totp_code_of(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    assert page.url == base + "/", page.content()[:3000]
    assert page.get_by_role("heading", name="Welcome, admin").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

    nav = page.locator(".console-nav")
    assert nav.get_by_role("link").all_inner_texts() == [
        "Home",
        "Customers",
        "Marketplace",
        "Subscriptions",
        "Licence change requests",
        "Orders",
        "Catalog",
        "My providers",
        "Reports",
        "Help",
        "Invoices",
        "Settings",
    ]
    nav.get_by_role("link", name="Subscriptions").click()
    page.wait_for_url(base + "/subscriptions/")
    assert page.get_by_role("heading", name="Subscriptions", exact=True).is_visible()
    assert page.locator(".console-nav-link.active").inner_text() == "Subscriptions"
    page.screenshot(path=str(SCREENSHOTS / "subscriptions.png"), full_page=True)

    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="My profile").click()
    page.wait_for_url(base + "/accounts/profile/")
    assert page.get_by_text("Alpha IT Services").first.is_visible()
    assert page.get_by_test_id("second-factors").get_by_text("Browser test").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "profile.png"), full_page=True)

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(base + "/")
    assert page.url.startswith(base + "/accounts/sign-in/")
