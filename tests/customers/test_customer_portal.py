"""The customer portal: a partner user who opens a customer's account (audited, with a banner and a way
back) and a customer's own tenant admin both reach exactly that customer's objects; everything of
another customer is a 404, and the order form's tenant dropdown lists that customer's tenants only."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from portal.accounts.acting import ACTING_CUSTOMER_SESSION_KEY
from portal.audit.choices import AuditAction
from portal.audit.models import AuditEvent
from portal.partners.models import Partner
from subscriptions.models import Subscription
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerFactory, CustomerTenantFactory
from tests.factories.marketplace import AccountFactory
from tests.factories.subscriptions import SubscriptionFactory
from tests.support import PASSWORD, signed_in_client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


@dataclass
class Side:
    customer: Customer
    tenant: CustomerTenant
    subscription: Subscription


@dataclass
class World:
    account: MarketplaceAccount
    offer: object
    mine: Side
    theirs: Side


def _side(name: str, account, offer) -> Side:
    tenant = CustomerTenantFactory(
        customer=CustomerFactory(name=name), primary_domain=f"{name.lower()}.onmicrosoft.com"
    )
    TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=f"C-{name}",
        external_customer_name=name,
    )
    subscription = SubscriptionFactory(customer_tenant=tenant, offer=offer, name=f"{name} subscription")
    return Side(customer=tenant.customer, tenant=tenant, subscription=subscription)


@pytest.fixture
def world(in_alpha) -> World:
    account = AccountFactory()
    offer = OfferFactory(account=account, name="Microsoft 365 Business Basic")
    return World(
        account=account, offer=offer, mine=_side("Wingtip", account, offer), theirs=_side("Fabrikam", account, offer)
    )


def opened_as(client: Client, customer: Customer) -> Client:
    response = client.post(reverse("customers:customer_open_as", args=[customer.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("core:home")
    return client


def other_customers_urls(side: Side) -> list[str]:
    return [
        reverse("customers:customer_detail", args=[side.customer.pk]),
        reverse("subscriptions:tenant_detail", args=[side.tenant.pk]),
        reverse("subscriptions:subscription_detail", args=[side.subscription.pk]),
        reverse("catalog:store", args=[side.tenant.pk]),
        reverse("subscriptions:tenant_user_list", args=[side.tenant.pk]),
    ]


def own_urls(side: Side) -> list[str]:
    return [
        reverse("customers:customer_detail", args=[side.customer.pk]),
        reverse("subscriptions:tenant_detail", args=[side.tenant.pk]),
        reverse("subscriptions:subscription_detail", args=[side.subscription.pk]),
        reverse("catalog:store", args=[side.tenant.pk]),
    ]


def assert_sees_exactly(client: Client, world: World) -> None:
    for url in own_urls(world.mine):
        assert client.get(url).status_code == 200, url
    for url in other_customers_urls(world.theirs):
        assert client.get(url).status_code == 404, url
    customers = text(client.get(reverse("customers:customer_list")))
    assert "Wingtip" in customers and "Fabrikam" not in customers
    subscriptions = text(client.get(reverse("subscriptions:subscription_list")))
    assert "Wingtip subscription" in subscriptions and "Fabrikam subscription" not in subscriptions
    order_page = text(client.get(f"{reverse('orders:order_new')}?offer={world.offer.pk}"))
    assert "wingtip.onmicrosoft.com" in order_page and "fabrikam.onmicrosoft.com" not in order_page
    foreign = f"{reverse('orders:order_new')}?offer={world.offer.pk}&tenant={world.theirs.tenant.pk}"
    assert client.get(foreign).status_code == 404
    offer_page = text(client.get(reverse("catalog:offer_detail", args=[world.offer.pk])))
    assert 'data-testid="buy-now"' in offer_page
    assert "Partner price" not in offer_page  # cost prices are the partner's business


def test_a_partner_user_opens_a_customers_account_and_sees_that_customer_alone(alpha_admin_client, world):
    client = opened_as(alpha_admin_client, world.mine.customer)

    home = text(client.get(reverse("core:home")))
    assert 'data-testid="acting-banner"' in home and "Wingtip" in home
    assert_sees_exactly(client, world)
    with alpha_schema():
        event = AuditEvent.objects.get(action=AuditAction.CUSTOMER_OPEN_AS)
        assert (event.customer_id, event.actor.username) == (world.mine.customer.pk, "admin")


def test_going_back_restores_the_partner_console_and_is_audited(alpha_admin_client, world):
    client = opened_as(alpha_admin_client, world.mine.customer)

    response = client.post(reverse("customers:customer_open_as_leave"))

    assert response["Location"] == reverse("customers:customer_detail", args=[world.mine.customer.pk])
    assert ACTING_CUSTOMER_SESSION_KEY not in client.session
    page = text(client.get(reverse("customers:customer_detail", args=[world.theirs.customer.pk])))
    assert 'data-testid="acting-banner"' not in page and "Fabrikam" in page
    with alpha_schema():
        assert AuditEvent.objects.filter(
            action=AuditAction.CUSTOMER_OPEN_AS_LEAVE, customer_id=world.mine.customer.pk
        ).exists()


def tenant_admin_of(customer):
    """A customer tenant admin with what the customer portal offers: customers, subscriptions, catalog."""
    from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
    from tests.factories.accounts import user_with

    levels = {
        PermissionModule.CUSTOMERS: AccessLevel.VIEW,
        PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
        PermissionModule.CATALOG: AccessLevel.VIEW,
    }
    user = user_with("wingtipadmin", levels, kind=UserKind.CUSTOMER_ADMIN, all_customers=False)
    user.customers.add(customer)
    return user


def test_a_customer_tenant_admin_sees_their_customer_alone(partner_alpha, world):
    tenant_admin_of(world.mine.customer)
    client = signed_in_client(partner_alpha, username="wingtipadmin", password=PASSWORD)

    assert_sees_exactly(client, world)
    assert 'data-testid="open-as-customer"' not in text(
        client.get(reverse("customers:customer_detail", args=[world.mine.customer.pk]))
    )


def test_settings_and_marketplaces_stay_closed_while_acting(alpha_admin_client, world):
    client = opened_as(alpha_admin_client, world.mine.customer)

    assert client.get(reverse("marketplace:index")).status_code == 403
    assert client.get(reverse("settings:user_list")).status_code == 403


def test_a_customer_out_of_scope_cannot_be_opened(partner_alpha, world):
    from tests.factories.accounts import user_with

    user_with("narrow", {"customers": 1}, all_customers=False)
    narrow = signed_in_client(partner_alpha, username="narrow")

    assert narrow.post(reverse("customers:customer_open_as", args=[world.mine.customer.pk])).status_code == 404
    assert ACTING_CUSTOMER_SESSION_KEY not in narrow.session


def test_a_customer_tenant_admin_cannot_open_another_account(partner_alpha, world):
    tenant_admin_of(world.mine.customer)
    client = signed_in_client(partner_alpha, username="wingtipadmin", password=PASSWORD)

    assert client.post(reverse("customers:customer_open_as", args=[world.mine.customer.pk])).status_code == 404
    assert client.post(reverse("customers:customer_open_as", args=[world.theirs.customer.pk])).status_code == 404


def test_another_partners_session_cannot_open_alphas_customer(beta_admin_client, world):
    assert (
        beta_admin_client.post(reverse("customers:customer_open_as", args=[world.mine.customer.pk])).status_code == 404
    )
