"""A customer tenant's page: Subscriptions, Store and Audit logs tabs, its licence change requests one
click away, reached from the marketplace's tenant list and the customer's tenants; scope is a 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from marketplace.models import TenantConnection
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from portal.partners.models import Partner
from tests.factories.accounts import user_with
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory
from tests.factories.subscriptions import SubscriptionFactory
from tests.orders.order_support import ORDER_VIEW
from tests.support import signed_in_client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def subscription(in_alpha):
    subscription = SubscriptionFactory(
        customer_tenant__primary_domain="wingtip.onmicrosoft.com", customer_tenant__customer__name="Wingtip"
    )
    TenantConnection.objects.create(
        marketplace=subscription.account.marketplace,
        customer_tenant=subscription.customer_tenant,
        account=subscription.account,
        external_customer_id="C-1",
        external_customer_name="Wingtip",
    )
    return subscription


def url(tenant, tab: str | None = None) -> str:
    base = reverse("subscriptions:tenant_detail", args=[tenant.pk])
    return f"{base}?tab={tab}" if tab else base


def test_the_subscriptions_tab_lists_the_tenants_subscriptions_with_their_offer_id(alpha_admin_client, subscription):
    other = SubscriptionFactory(name="Someone else's")
    page = text(alpha_admin_client.get(url(subscription.customer_tenant)))

    assert 'data-testid="tenant-subscriptions"' in page
    assert subscription.name in page and subscription.offer_external_id in page
    assert other.name not in page
    assert f"/subscriptions/requests/?tenant={subscription.customer_tenant.pk}" in page


def test_the_store_tab_offers_buy_now_for_this_tenant(alpha_admin_client, subscription):
    with schema_context(Partner.objects.get(slug="alpha").schema_name):
        hidden = OfferFactory(account=subscription.account, name="Hidden plan", is_visible=False)
    response = alpha_admin_client.get(url(subscription.customer_tenant, "store"), HTTP_HX_REQUEST="true")

    page = text(response).strip()
    assert page.startswith('<div id="tab-content" data-active-tab="store">')
    buy = f"?tenant={subscription.customer_tenant.pk}&amp;offer={subscription.offer.pk}"
    assert buy in page and "Buy now" in page
    assert hidden.name not in page


def test_the_audit_tab_shows_the_tenants_and_its_subscriptions_events_and_refreshes(alpha_admin_client, subscription):
    audit_record(actor=None, action=AuditAction.CUSTOMER_TENANT_CONSENT, target=subscription.customer_tenant)
    audit_record(actor=None, action=AuditAction.SUBSCRIPTION_QUANTITY_CHANGE, target=subscription)
    unrelated = SubscriptionFactory()
    audit_record(actor=None, action=AuditAction.SUBSCRIPTION_SUSPEND, target=unrelated)

    page = text(alpha_admin_client.get(url(subscription.customer_tenant, "audit")))

    assert "Tenant consent given" in page
    assert 'data-testid="audit-refresh"' in page
    assert str(AuditAction.SUBSCRIPTION_SUSPEND.label) not in page


def test_the_tenant_name_links_to_its_page(alpha_admin_client, subscription):
    tenant = subscription.customer_tenant
    marketplace_page = text(
        alpha_admin_client.get(reverse("marketplace:marketplace_detail", args=[subscription.account.marketplace]))
    )
    customer_page = text(alpha_admin_client.get(f"/customers/{tenant.customer_id}/?tab=tenants"))

    assert f'href="{url(tenant)}"' in marketplace_page
    assert f'href="{url(tenant)}"' in customer_page


def test_out_of_scope_tenants_are_not_found(partner_alpha, subscription, in_alpha, partner_beta):
    hidden = CustomerTenantFactory()
    user_with("narrow", ORDER_VIEW, all_customers=False)
    narrow = signed_in_client(partner_alpha, username="narrow")
    beta_admin_client = signed_in_client(partner_beta)

    assert narrow.get(url(hidden)).status_code == 404
    assert narrow.get(url(subscription.customer_tenant)).status_code == 404
    assert beta_admin_client.get(url(subscription.customer_tenant)).status_code == 404


def test_manage_columns_offers_the_offer_id_and_the_list_shows_it(alpha_admin_client, subscription):
    listing = reverse("subscriptions:subscription_list")
    before = text(alpha_admin_client.get(listing))
    assert 'value="offer_id"' in before  # offered in Manage columns
    assert 'data-testid="offer-id"' not in before  # not a default column

    alpha_admin_client.post(
        reverse("subscriptions:subscription_columns"), {"columns": ["offer_id", "status"], "query": ""}
    )
    after = text(alpha_admin_client.get(listing))

    assert f'data-testid="offer-id">{subscription.offer_external_id}<' in after
