"""The order page's tenant list outside a customer's portal: it lists only the chosen customer's tenants,
follows the customer as it changes (htmx), and refuses a tenant of another customer with a clear error."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from orders.models import Order
from portal.partners.models import Partner
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import connect
from tests.orders.order_support import customer_admin_for
from tests.support import PASSWORD, signed_in_client

BASIC = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"


def alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def select(page: str, name: str) -> str:
    found = re.search(rf'<select name="{name}".*?</select>', page)
    assert found, f"no {name} select"
    return found.group(0)


@pytest.fixture
def two_customers(also_world):
    """Alpine Ski House (the world's tenant) and Blue Yonder, both with a tenant at the same ALSO account."""
    other = CustomerTenantFactory(primary_domain="blueyonder.onmicrosoft.com", customer__name="Blue Yonder Airlines")
    connect(also_world.account, other, "100999")
    return also_world, other


def order_url(world, **query) -> str:
    offer = world.offer(external_id=BASIC)
    extra = "".join(f"&{name}={value}" for name, value in query.items())
    return f"{reverse('orders:order_new')}?offer={offer.pk}{extra}"


def test_the_tenant_list_waits_for_a_customer_then_lists_only_its_tenants(two_customers, alpha_admin_client):
    world, other = two_customers

    page = text(alpha_admin_client.get(order_url(world)))
    customers = select(page, "customer")
    assert "Alpine Ski House" in customers and "Blue Yonder Airlines" in customers
    tenants = select(page, "tenant")
    assert "alpineskihouse.onmicrosoft.com" not in tenants and "blueyonder.onmicrosoft.com" not in tenants

    page = text(alpha_admin_client.get(order_url(world, customer=other.customer.pk)))
    tenants = select(page, "tenant")
    assert f'<option value="{other.pk}" selected>blueyonder.onmicrosoft.com' in tenants  # its only tenant
    assert "alpineskihouse" not in tenants

    page = text(alpha_admin_client.get(order_url(world, tenant=world.tenant.pk)))
    assert f'<option value="{world.tenant.customer.pk}" selected>' in select(page, "customer")
    assert "blueyonder" not in select(page, "tenant")


def test_changing_the_customer_refreshes_the_tenant_list(two_customers, alpha_admin_client):
    world, other = two_customers
    offer = world.offer(external_id=BASIC)
    query = {"offer": offer.pk, "plan": offer.pk, "quantity": 1, "customer": other.customer.pk, "tenant": ""}

    page = text(alpha_admin_client.get(reverse("orders:order_new"), query, HTTP_HX_REQUEST="true"))

    swapped = re.search(r'<div id="order-tenant-field" hx-swap-oob="true">.*?</select>', page)
    assert swapped, "the tenant field is not swapped in"
    assert "blueyonder.onmicrosoft.com" in swapped.group(0)
    assert "alpineskihouse" not in swapped.group(0)


def test_a_tenant_of_another_customer_is_refused_with_a_clear_error(two_customers, alpha_admin_client):
    world, other = two_customers
    data = {
        "customer": world.tenant.customer.pk,
        "tenant": other.pk,
        "plan": world.offer(external_id=BASIC).pk,
        "quantity": 2,
        "price_mode": "",
        "client_token": str(uuid.uuid4()),
        "action": "place",
        "terms_accepted": "on",
    }

    response = alpha_admin_client.post(order_url(world), data)

    assert response.status_code == 200
    page = text(response)
    assert (
        "blueyonder.onmicrosoft.com is a tenant of Blue Yonder Airlines, not of Alpine Ski House. "
        "Choose one of Alpine Ski House&#x27;s tenants." in page
    )
    with alpha_schema():
        assert not Order.objects.exists()


def test_a_customer_admin_sees_only_its_own_customer_and_tenants(two_customers, partner_alpha):
    world, other = two_customers
    customer_admin_for(other.customer, "blueadmin")
    client = signed_in_client(partner_alpha, username="blueadmin", password=PASSWORD)

    page = text(client.get(order_url(world)))

    assert "Alpine Ski House" not in page and "alpineskihouse" not in page
    assert f'<option value="{other.pk}" selected>' in select(page, "tenant")


def test_create_new_tenant_goes_to_the_chosen_customers_form(two_customers, alpha_admin_client):
    world, other = two_customers

    page = text(alpha_admin_client.get(order_url(world, customer=other.customer.pk)))

    link = re.search(r'href="([^"]*)" data-testid="tenant-create-link"', page)
    assert link and f"customer={other.customer.pk}" in link.group(1)
