"""Headless Chromium creates a customer's Microsoft tenant at ALSO, buys its first subscription and finds
the purchase on the marketplace's invoice, as a partner's administrator would.

The console runs as its own process (tasks eagerly, in the request), ALSO's simulator on a real socket in
this process. The test's partner is made for it and dropped afterwards. Skipped without Chromium, unless
CONSOLE_REQUIRE_BROWSER=1.
"""

import re
import threading
from types import SimpleNamespace

import pytest
from django.urls import reverse

from tests.browser.conftest import SCREENSHOTS, authenticator_enrol, totp_code_of
from tests.processes import free_port, port_answers, process_environment, running, wait_for, web_server_command
from tests.support import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SLUG = "tenantshop"
BASIC = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"


@pytest.fixture
def also_server():
    from simulators.also import AlsoSimulator
    from simulators.identity import SeededDomains
    from simulators.serving import threaded_wsgi_server

    simulator = AlsoSimulator(domains=SeededDomains())
    server = threaded_wsgi_server(simulator, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(simulator=simulator, url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(django_db_setup, django_db_blocker, also_server):
    """A partner of its own with an ALSO account (its offers synced), a customer with a complete address,
    and its administrator's authenticator; committed, since the console is another process."""
    import httpx
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from catalog.models import Offer
    from marketplace.providers.registry import create_provider
    from marketplace.sync import sync_offers
    from portal.partners.services import partner_create
    from reports.billing import billing_cycle_containing
    from reports.selectors import billing_cycle_end_day
    from simulators.also import DEMO_CONNECTION, DEMO_PASSWORD, DEMO_USERNAME
    from tests.factories.customers import CustomerFactory
    from tests.factories.marketplace import account_create

    with django_db_blocker.unblock():
        partner = partner_create(
            name="Tenant Shop",
            slug=SLUG,
            admin_email=f"admin@{SLUG}.example",
            admin_password=PASSWORD,
            is_service_provider=True,
            is_large_account_reseller=False,
        ).partner
        with schema_context(partner.schema_name):
            account = account_create(
                marketplace="also", username=DEMO_USERNAME, secret=DEMO_PASSWORD, region="de", name="ALSO"
            )
            provider = create_provider(
                slug="also", connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=also_server.simulator)
            )
            with provider:
                sync_offers(account=account, records=list(provider.list_offers()), now=timezone.now())
            offer = Offer.objects.get(account=account, external_id=BASIC)
            customer = CustomerFactory(
                name="Wingtip Toys GmbH",
                contact_name="Wanda Wing",
                contact_email="wanda@wingtip.example",
                address_line1="Marktplatz 1",
                city="Leipzig",
                postal_code="04109",
                country="DE",
            )
            cycle = billing_cycle_containing(
                timezone.localdate(), cycle_end_day=billing_cycle_end_day(account=account)
            )  # today's purchase is on the invoice of the cycle running now
        _schema, device = authenticator_enrol(SLUG, "admin")
        world = SimpleNamespace(
            account=account, offer=offer, customer=customer, device=device, month=cycle.end.strftime("%Y-%m")
        )
    yield world
    with django_db_blocker.unblock():
        partner.delete(force_drop=True)


@pytest.fixture
def shop_console(shop, also_server, tmp_path):
    port = free_port()
    environment = process_environment(
        PORTAL_PORT=str(port), ALSO_SIMULATOR_URL=also_server.url, CELERY_TASK_ALWAYS_EAGER="1"
    )
    with running(web_server_command(port), environment, tmp_path / "web.log") as server:
        assert wait_for(lambda: port_answers(port), timeout=30, process=server), (tmp_path / "web.log").read_text()
        yield port


def test_create_a_tenant_buy_its_first_subscription_and_see_the_invoice(shop, shop_console, browser, also_server):
    base = f"http://{SLUG}.console.test:{shop_console}"
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(15_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(base + "/")
    page.get_by_label("Username or email").fill(f"admin@{SLUG}.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill(totp_code_of(shop.device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")

    # The new tenant: pre-filled from the customer, the domain checked as it is typed.
    page.goto(base + reverse("marketplace:tenant_create", args=[shop.customer.pk]))
    form = page.get_by_test_id("tenant-create-form")
    assert form.locator("input[name=first_name]").input_value() == "Wanda"
    form.locator("select[name=account]").select_option(str(shop.account.pk))
    domain = form.locator("input[name=domain_prefix]")
    domain.fill("contoso")
    page.locator("#domain-availability").get_by_text("contoso.onmicrosoft.com is taken.").wait_for()
    assert "relationship" in page.locator("#domain-availability").inner_text()
    domain.fill("wingtipshop")
    page.locator("#domain-availability").get_by_text("wingtipshop.onmicrosoft.com is available.").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "tenant-create.png"), full_page=True)
    form.get_by_role("button", name="Create tenant").click()
    page.wait_for_url(re.compile(r".*/store/\d+/$"), timeout=30_000)
    assert page.get_by_text("wingtipshop.onmicrosoft.com").first.is_visible()
    tenant_pk = re.search(r"/store/(\d+)/", page.url).group(1)

    # The first subscription, placed at once.
    page.goto(f"{base}{reverse('orders:order_new')}?tenant={tenant_pk}&offer={shop.offer.pk}")
    assert page.locator("select[name=customer]").input_value() == str(shop.customer.pk)
    assert page.locator("select[name=tenant]").input_value() == tenant_pk
    page.locator("input[name=quantity]").fill("3")
    page.get_by_label("I accept the product terms").check()
    page.get_by_role("button", name="Place now").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    assert page.get_by_test_id("order-status").inner_text() == "Completed"

    # The marketplace's invoice of the current cycle holds the purchase.
    page.goto(f"{base}{reverse('reports:reconciliation')}?month={shop.month}")
    page.get_by_test_id("fetch-invoices").click()
    page.wait_for_load_state()
    page.goto(base + reverse("invoices:invoice_list"))
    company = next(c for c in also_server.simulator.companies.values() if c.name == "Wingtip Toys GmbH")
    invoices = page.locator("tbody a")
    assert invoices.count() >= 1
    found = False
    for index in range(invoices.count()):
        link = page.locator("tbody a").nth(index)
        link.click()
        page.wait_for_load_state()
        if (
            page.get_by_text("Microsoft 365 Business Basic (NCE)").count()
            and page.get_by_text(str(company.account_id)).count()
        ):
            found = True
            break
        page.go_back()
    page.screenshot(path=str(SCREENSHOTS / "tenant-invoice.png"), full_page=True)
    assert found, "no invoice names the new customer's subscription"
