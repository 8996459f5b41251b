"""Headless Chromium walks the screens that run scripts under the strict Content-Security-Policy.

Charts (Chart.js), htmx swaps (filters, tabs, the notification panel), dropdowns and a confirmation
dialog: each must work with scripts only from static files, and the browser fixture fails the test on
any violation it reports (tests/browser/conftest.py).
"""

import re
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from customers.models import Customer
from marketplace.models import MarketplaceAccount
from orders.models import Order
from portal.audit.models import AuditEvent, Notification
from portal.partners.models import Partner
from tests.browser.conftest import totp_code_of
from tests.factories.reports import history, track
from tests.factories.subscriptions import SubscriptionFactory
from tests.processes import free_port, port_answers, process_environment, running, wait_for, web_server_command
from tests.support import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHART_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const chart = canvas && window.Chart && window.Chart.getChart(canvas);
  return Boolean(chart && chart.data.datasets.length && canvas.width > 0 && canvas.height > 0);
}"""


@pytest.fixture
def alpha_with_usage(django_db_setup, django_db_blocker):
    """A committed subscription of alpha with a month of snapshots, and a draft cart; removed afterwards."""
    with django_db_blocker.unblock():
        schema = Partner.objects.get(slug="alpha").schema_name
        with schema_context(schema):
            started = timezone.now()
            today = timezone.localdate()
            subscription = SubscriptionFactory(name="Strict Policy Premium", quantity=12, assigned=9)
            tracked = track(subscription, first_seen=today - timedelta(days=30))
            history(tracked, [(today - timedelta(days=30), 8), (today - timedelta(days=10), 12)], until=today)
            order = Order.objects.create(
                number="CSP-0001", customer_tenant=subscription.customer_tenant, account=subscription.account
            )
            world = SimpleNamespace(
                customer=subscription.customer_tenant.customer, tracked=tracked, order=order, schema=schema
            )
    yield world
    with django_db_blocker.unblock(), schema_context(schema):
        Customer.objects.filter(pk=world.customer.pk).delete()
        MarketplaceAccount.objects.filter(pk=subscription.account_id).delete()
        AuditEvent.objects.filter(created__gte=started).delete()
        Notification.objects.filter(created__gte=started).delete()


def test_the_watch_reports_an_inline_script(browser, console_server):
    """The fixture's watch works: a script injected into a console page is blocked and reported."""
    base = f"http://alpha.console.test:{console_server}"
    page = browser.new_page()
    response = page.goto(base + "/accounts/sign-in/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.injected = true";
      document.head.append(script);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in problem for problem in browser.problems), browser.problems
    browser.problems.clear()


def test_charts_htmx_and_confirmations_work_under_the_policy(
    alpha_with_usage, alpha_admin_authenticator, browser, console_server
):
    base = f"http://alpha.console.test:{console_server}"
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Username or email").fill("admin@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/sign-in/verify/" in url)
    page.get_by_label("Code").fill(totp_code_of(alpha_admin_authenticator))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")

    # htmx fills the notification panel when the bell opens it
    page.get_by_test_id("notification-bell").click()
    page.locator("#notification-panel").get_by_text("Loading…").wait_for(state="detached")

    # htmx filters the customer list; empty filters stay out of the shared URL
    page.goto(base + "/customers/")
    page.get_by_label("Search").fill(alpha_with_usage.customer.name)
    page.wait_for_url(lambda url: "q=" in url)
    assert "industry=" not in page.url and "sort=" not in page.url, page.url
    page.get_by_test_id("customer-table").get_by_role("link", name=alpha_with_usage.customer.name).click()

    # htmx swaps a tab in; the tab strip follows
    page.locator("a[data-tab=tenants]").click()
    page.locator("#tab-content[data-active-tab=tenants]").wait_for()
    # console.js marks the strip on htmx:load, just after the new content is in: wait for it, do not race it
    expect(page.locator("a[data-tab=tenants]")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("a[data-tab=overview]")).not_to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("a[data-tab=tenants]")).to_have_attribute("aria-selected", "true")

    # dropdowns (Bootstrap) and the subscriptions list
    page.goto(base + "/subscriptions/")
    page.get_by_test_id("manage-columns").click()
    assert page.get_by_role("button", name="Save columns").is_visible()

    # Chart.js draws the usage history and the custom report's pie
    page.goto(base + f"/reports/usage/{alpha_with_usage.tracked.pk}/")
    page.wait_for_function(CHART_DRAWN, arg="usage-chart")
    assert page.locator(".chart-box-260").bounding_box()["height"] == 260
    page.goto(base + "/reports/custom/")
    page.wait_for_function(CHART_DRAWN, arg="custom-chart")

    # a confirmation: Cancel sends nothing, OK discards the cart (the ORM cannot run inside Playwright's loop)
    cart = base + f"/orders/{alpha_with_usage.order.pk}/cart/"
    page.goto(cart)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Discard").click()
    page.wait_for_timeout(300)
    assert page.url == cart
    page.reload()
    assert page.get_by_role("button", name="Discard").is_visible()  # still a cart
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Discard").click()
    page.wait_for_url(base + "/orders/")
    assert page.get_by_text("Order CSP-0001 was cancelled.").is_visible()

    # the public host carries the policy too
    response = page.goto(f"http://console.test:{console_server}/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.fixture
def identity_simulator(tmp_path):
    """The Microsoft identity simulator as its own server, on its own origin (as in development)."""
    port = free_port()
    url = f"http://localhost:{port}"
    command = [sys.executable, "-m", "simulators.identity", "--port", str(port), "--public-url", url]
    with running(command, process_environment(), tmp_path / "identity.log") as simulator:
        assert wait_for(lambda: port_answers(port), timeout=30, process=simulator), (
            tmp_path / "identity.log"
        ).read_text()
        yield url


@pytest.fixture
def console_with_identity(django_db_setup, identity_simulator, tmp_path):
    port = free_port()
    environment = process_environment(PORTAL_PORT=str(port), MICROSOFT_SIMULATOR_URL=identity_simulator)
    with running(web_server_command(port), environment, tmp_path / "web.log") as server:
        assert wait_for(lambda: port_answers(port), timeout=30, process=server), (tmp_path / "web.log").read_text()
        yield port


def test_signing_in_with_microsoft_may_leave_for_the_identity_provider(
    browser, console_with_identity, identity_simulator
):
    """The sign-in form posts to the console, which redirects to Microsoft: browsers check form-action on
    that redirect too, so the policy must name the identity provider's origin."""
    page = browser.new_page()
    page.goto(f"http://alpha.console.test:{console_with_identity}/accounts/sign-in/")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    page.wait_for_url(identity_simulator + "/**")
