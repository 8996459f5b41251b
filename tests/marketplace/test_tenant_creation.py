"""Creating a customer's new Microsoft tenant, end to end per marketplace that can: the pre-filled form,
the live domain check, a free domain created and connected with its admin's credentials sent, a taken
domain refused with what to do instead, a missing address named before anything is sent, and the
first subscription bought for the new tenant."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from customers.models import CustomerTenant
from marketplace.models import MarketplaceCustomer, TenantConnection
from marketplace.providers.registry import create_provider
from marketplace.sync import sync_offers
from orders.choices import OrderStatus
from orders.models import Order
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.models import AuditEvent
from portal.partners.models import Partner
from simulators import alef as alef_simulator
from simulators import also as also_simulator
from simulators import cloudmore as cloudmore_simulator
from simulators import partner_center as partner_center_simulator
from simulators.identity import MicrosoftSimulator
from subscriptions.models import Subscription
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerFactory
from tests.factories.marketplace import account_create
from tests.support import signed_in_client

WINGTIP = {
    "name": "Wingtip Toys GmbH",
    "contact_name": "Wanda Wing",
    "contact_email": "wanda@wingtip.example",
    "contact_phone": "+49 341 555 0100",
    "address_line1": "Marktplatz 1",
    "city": "Leipzig",
    "postal_code": "04109",
    "country": "DE",
}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


MARKETPLACES = ("partner_center", "cloudmore", "also", "alef")
NAMES = {"partner_center": "Partner Center", "cloudmore": "Cloudmore", "also": "ALSO", "alef": "ALEF"}
#: Microsoft 365 Business Basic, monthly, at each marketplace.
BASIC = {
    "partner_center": "CFQ7TTC0LH18",
    "cloudmore": "CFQ7TTC0LH18",
    "also": "NCEMicros365BusinessBasic_12909|Monthly (no commitment)",
    "alef": "CFQ7TTC0LH18",
}


@pytest.fixture
def identity():
    """The one Microsoft authority: every marketplace simulator asks it whether a domain is taken."""
    return MicrosoftSimulator()


@pytest.fixture
def simulators(monkeypatch, identity):
    """Every marketplace that creates tenants, in-process and sharing the identity simulator's domains;
    every provider for their accounts reaches them."""
    running = {
        "partner_center": (
            partner_center_simulator.PartnerCenterSimulator(authority=identity),
            partner_center_simulator.DEMO_CONNECTION,
        ),
        "cloudmore": (cloudmore_simulator.CloudmoreSimulator(domains=identity), cloudmore_simulator.DEMO_CONNECTION),
        "also": (also_simulator.AlsoSimulator(domains=identity), also_simulator.DEMO_CONNECTION),
        "alef": (alef_simulator.AlefSimulator(domains=identity), alef_simulator.DEMO_CONNECTION),
    }

    def provider_for(account, **_options):
        simulator, connection = running[account.marketplace]
        return create_provider(
            slug=account.marketplace,
            connection=connection,
            transport=httpx.WSGITransport(app=simulator),
            sleep=lambda seconds: None,
        )

    monkeypatch.setattr("marketplace.services_tenants.provider_for_account", provider_for)
    monkeypatch.setattr("orders.placement.provider_for_account", provider_for)
    monkeypatch.setattr("marketplace.sync.provider_for_account", provider_for)  # the sync after creation
    return {slug: simulator for slug, (simulator, _connection) in running.items()} | {"provider_for": provider_for}


@pytest.fixture
def accounts(in_alpha, simulators):
    made = {}
    for slug in MARKETPLACES:
        region = "demo" if slug == "alef" else "de"
        account = account_create(
            marketplace=slug, username=f"{slug}-app", secret="secret", region=region, name=NAMES[slug]
        )
        with simulators["provider_for"](account) as provider:
            sync_offers(account=account, records=list(provider.list_offers()), now=timezone.now())
        made[slug] = account
    return made


@pytest.fixture
def customer(in_alpha):
    return CustomerFactory(**WINGTIP)


@pytest.fixture
def seller(in_alpha):
    user = user_with(
        "seller",
        {
            PermissionModule.MARKETPLACE: AccessLevel.MANAGE,
            PermissionModule.CUSTOMERS: AccessLevel.MANAGE,
            PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
            PermissionModule.CATALOG: AccessLevel.VIEW,
        },
    )
    return user


@pytest.fixture
def client(partner_alpha, seller):
    return signed_in_client(partner_alpha, username="seller")


def create_url(customer) -> str:
    return reverse("marketplace:tenant_create", args=[customer.pk])


def check_url(customer) -> str:
    return reverse("marketplace:tenant_create_domain_check", args=[customer.pk])


def form(account, prefix: str, **extra) -> dict:
    return {
        "account": account.pk,
        "domain_prefix": prefix,
        "first_name": "Wanda",
        "last_name": "Wing",
        "email": "wanda@wingtip.example",
        "phone": "",
        **extra,
    }


def test_the_form_is_prefilled_from_the_customer(client, customer, accounts):
    page = text(client.get(create_url(customer)))

    assert 'value="wingtiptoys"' in page  # the legal form is left out of the suggested prefix
    assert 'value="Wanda"' in page and 'value="Wing"' in page
    assert 'value="wanda@wingtip.example"' in page
    assert "Marktplatz 1" in page and "04109 Leipzig" in page
    assert f'hx-get="{check_url(customer)}"' in page


@pytest.mark.parametrize("slug", MARKETPLACES)
def test_the_domain_is_checked_at_the_marketplace_as_the_user_types(client, customer, accounts, simulators, slug):
    account = accounts[slug]
    free = client.get(
        check_url(customer), {"account": account.pk, "domain_prefix": "wingtiptoys"}, HTTP_HX_REQUEST="true"
    )
    taken = client.get(check_url(customer), {"account": account.pk, "domain_prefix": "contoso"}, HTTP_HX_REQUEST="true")

    assert "wingtiptoys.onmicrosoft.com is available." in text(free)
    assert "contoso.onmicrosoft.com is taken." in text(taken)
    assert "relationship" in text(taken)  # what to do instead
    malformed = client.get(check_url(customer), {"account": account.pk, "domain_prefix": "wing tip"})
    assert "1 to 27 letters and digits" in text(malformed)


def test_a_domain_one_of_the_partners_customers_already_has_is_taken_without_asking(client, customer, accounts):
    with alpha_schema():
        CustomerFactory(name="Other").tenants.create(
            tenant_id=uuid.uuid4(), primary_domain="wingtiptoys.onmicrosoft.com"
        )
    answer = text(
        client.get(check_url(customer), {"account": accounts["partner_center"].pk, "domain_prefix": "wingtiptoys"})
    )

    assert "already one of your customers&#x27; tenants" in answer


def test_partner_center_creates_the_tenant_connects_it_and_emails_the_credentials(
    client, customer, accounts, simulators, django_capture_on_commit_callbacks
):
    account = accounts["partner_center"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(create_url(customer), form(account, "wingtiptoys"))

    with alpha_schema():
        tenant = CustomerTenant.objects.get(primary_domain="wingtiptoys.onmicrosoft.com")
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:store", kwargs={"tenant_pk": tenant.pk})
        assert tenant.customer_id == customer.pk
        connection = TenantConnection.objects.get(customer_tenant=tenant)
        assert (connection.account_id, connection.is_connected) == (account.pk, True)
        assert str(tenant.tenant_id) == connection.external_customer_id  # Partner Center: customer id = tenant id
        assert MarketplaceCustomer.objects.filter(account=account, external_id=connection.external_customer_id).exists()
        event = AuditEvent.objects.get(action=AuditAction.CUSTOMER_TENANT_CREATE)
        assert (event.result, event.customer_id) == (AuditResult.SUCCESS, customer.pk)
        assert "password" not in str(event.after).lower()
    pc_customer = simulators["partner_center"].customers[connection.external_customer_id]
    assert (pc_customer.domain, pc_customer.city, pc_customer.postal_code) == (
        "wingtiptoys.onmicrosoft.com",
        "Leipzig",
        "04109",
    )
    (email,) = mail.outbox
    assert email.to == ["wanda@wingtip.example"]
    assert "admin@wingtiptoys.onmicrosoft.com" in email.body
    assert "Temporary password:" in email.body
    store = text(client.get(response["Location"]))
    assert "wingtiptoys.onmicrosoft.com" in store


def test_cloudmore_creates_the_tenant_and_emails_the_credentials_itself(client, customer, accounts, simulators):
    account = accounts["cloudmore"]
    response = client.post(create_url(customer), form(account, "wingtipcm"))

    assert response.status_code == 302
    with alpha_schema():
        tenant = CustomerTenant.objects.get(primary_domain="wingtipcm.onmicrosoft.com")
        assert TenantConnection.objects.get(customer_tenant=tenant).account_id == account.pk
    assert mail.outbox == []  # Cloudmore sends them, not the console
    assert [message["to"] for message in simulators["cloudmore"].sent_emails] == ["wanda@wingtip.example"]


@pytest.mark.parametrize("slug", ["also", "alef"])
def test_also_and_alef_create_the_tenant_and_send_the_credentials_themselves(
    client, customer, accounts, simulators, identity, slug
):
    account = accounts[slug]
    response = client.post(create_url(customer), form(account, f"wingtip{slug}"))

    assert response.status_code == 302
    domain = f"wingtip{slug}.onmicrosoft.com"
    with alpha_schema():
        tenant = CustomerTenant.objects.get(primary_domain=domain)
        assert tenant.customer_id == customer.pk
        connection = TenantConnection.objects.get(customer_tenant=tenant)
        assert (connection.account_id, connection.is_connected) == (account.pk, True)
        event = AuditEvent.objects.get(action=AuditAction.CUSTOMER_TENANT_CREATE)
        assert event.after["credentials_sent_to"] == "wanda@wingtip.example"
    assert mail.outbox == []  # the marketplace sends them, not the console
    # The new tenant is Microsoft's now: its domain is taken at every other marketplace, its id is the directory's.
    directory = identity.directory(domain)
    assert directory is not None and directory.tid == str(tenant.tenant_id)
    for other in MARKETPLACES:
        check = client.get(check_url(customer), {"account": accounts[other].pk, "domain_prefix": f"wingtip{slug}"})
        assert f"{domain} is already one of your customers" in text(check)  # the console knows it first
        with simulators["provider_for"](accounts[other]) as provider:
            assert provider.domain_availability(domain=domain).available is False, other


@pytest.mark.parametrize("slug", MARKETPLACES)
def test_a_domain_in_the_identity_directory_is_taken_at_every_marketplace(client, customer, accounts, identity, slug):
    identity.add_users(domain="wingtipelsewhere.onmicrosoft.com", name="Wingtip elsewhere")

    answer = text(client.get(check_url(customer), {"account": accounts[slug].pk, "domain_prefix": "wingtipelsewhere"}))
    refused = client.post(create_url(customer), form(accounts[slug], "wingtipelsewhere"))

    assert "wingtipelsewhere.onmicrosoft.com is taken." in answer and "relationship" in answer
    assert refused.status_code == 200 and "relationship" in text(refused)
    with alpha_schema():
        assert not CustomerTenant.objects.filter(customer=customer).exists()


@pytest.mark.parametrize("slug", MARKETPLACES)
def test_a_taken_domain_is_refused_with_what_to_do_instead(client, customer, accounts, slug):
    response = client.post(create_url(customer), form(accounts[slug], "contoso"))

    page = text(response)
    assert response.status_code == 200
    assert "is-invalid" in page and "relationship" in page
    with alpha_schema():
        assert not CustomerTenant.objects.filter(customer=customer).exists()
        event = AuditEvent.objects.get(action=AuditAction.CUSTOMER_TENANT_CREATE)
        assert event.result == AuditResult.FAILURE


def test_missing_address_fields_are_named_before_anything_is_sent(client, customer, accounts, simulators):
    with alpha_schema():
        customer.city = ""
        customer.postal_code = ""
        customer.save()
    page = text(client.get(create_url(customer)))
    response = client.post(create_url(customer), form(accounts["partner_center"], "wingtiptoys"))

    assert "Missing: City, Postal code." in page
    assert "Missing: City, Postal code." in text(response)
    assert simulators["partner_center"].call_counts["CreateCustomer"] == 0
    with alpha_schema():
        assert not CustomerTenant.objects.exists()


@pytest.mark.parametrize("slug", MARKETPLACES)
def test_create_new_from_the_order_page_returns_to_the_order_and_buys_the_first_subscription(
    client, customer, accounts, simulators, django_capture_on_commit_callbacks, slug
):
    account = accounts[slug]
    with alpha_schema():
        offer = account.offers.filter(external_id__contains=BASIC[slug]).order_by("pk").first()
    order_url = f"{reverse('orders:order_new')}?offer={offer.pk}"
    order_page = text(client.get(order_url))
    assert "Create new tenant" in order_page and "No tenant you may order for" in order_page

    start = client.get(
        reverse("marketplace:tenant_create_start"), {"account": account.pk, "next": order_url, "customer": customer.pk}
    )
    assert start.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(start["Location"], form(account, "wingtiptoys", next=order_url))
    with alpha_schema():
        tenant = CustomerTenant.objects.get(primary_domain="wingtiptoys.onmicrosoft.com")
    assert created["Location"] == f"{order_url}&tenant={tenant.pk}"
    page = text(client.get(created["Location"]))
    assert f'<option value="{tenant.pk}" selected>' in page

    data = {
        "tenant": tenant.pk,
        "plan": offer.pk,
        "quantity": 3,
        "price_mode": "",
        "client_token": str(uuid.uuid4()),
        "action": "place",
        "terms_accepted": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(created["Location"], data)
    assert response.status_code == 302
    with alpha_schema():
        order = Order.objects.get()
        assert order.status == OrderStatus.COMPLETED
        subscription = Subscription.objects.get(customer_tenant=tenant)
        assert subscription.quantity == 3


def test_out_of_scope_customers_and_users_without_marketplace_manage_get_nothing(
    partner_alpha, customer, accounts, in_alpha
):
    user_with("viewer", {PermissionModule.MARKETPLACE: AccessLevel.VIEW, PermissionModule.CUSTOMERS: AccessLevel.VIEW})
    user_with("scoped", {PermissionModule.MARKETPLACE: AccessLevel.MANAGE}, all_customers=False)
    viewer = signed_in_client(partner_alpha, username="viewer")
    scoped = signed_in_client(partner_alpha, username="scoped")

    assert viewer.get(create_url(customer)).status_code == 403
    assert scoped.get(create_url(customer)).status_code == 404
    assert scoped.post(create_url(customer), form(accounts["partner_center"], "wingtiptoys")).status_code == 404
    assert (
        scoped.get(check_url(customer), {"account": accounts["partner_center"].pk, "domain_prefix": "x"}).status_code
        == 404
    )


def test_another_partner_cannot_reach_the_customer(partner_beta, customer, accounts, in_alpha):
    from tests.support import PASSWORD

    with schema_context(partner_beta.schema_name):
        user_with("other", {PermissionModule.MARKETPLACE: AccessLevel.MANAGE})
    other = signed_in_client(partner_beta, username="other", password=PASSWORD)

    assert other.get(create_url(customer)).status_code == 404
