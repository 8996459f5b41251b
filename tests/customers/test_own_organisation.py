"""The partner's own organisation among its customers: added once (audited), marked in the list, and
with a tenant connected to a marketplace it buys for itself from that tenant's store."""

from __future__ import annotations

import re

from django.urls import reverse
from django_tenants.utils import schema_context

from customers.models import Customer
from marketplace.models import TenantConnection
from portal.audit.models import AuditEvent
from portal.partners.models import Partner
from tests.factories.accounts import user_with
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory
from tests.support import signed_in_client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


def test_the_partner_lists_its_own_organisation_once(alpha_admin_client, partner_alpha):
    listing = text(alpha_admin_client.get(reverse("customers:customer_list")))
    assert 'data-testid="own-organisation-add"' in listing

    response = alpha_admin_client.post(reverse("customers:own_organisation_add"))
    again = alpha_admin_client.post(reverse("customers:own_organisation_add"))

    with alpha_schema():
        own = Customer.objects.get(is_own_organisation=True)
        assert own.name == partner_alpha.name
        assert AuditEvent.objects.filter(action="customer.own_organisation_add", customer_id=own.pk).count() == 1
    assert response["Location"] == again["Location"] == reverse("customers:customer_detail", args=[own.pk])
    listing = text(alpha_admin_client.get(reverse("customers:customer_list")))
    assert 'data-testid="own-organisation">You<' in listing
    assert 'data-testid="own-organisation-add"' not in listing


def test_its_store_lists_the_offers_it_may_buy_for_itself(alpha_admin_client, partner_alpha):
    alpha_admin_client.post(reverse("customers:own_organisation_add"))
    with alpha_schema():
        own = Customer.objects.get(is_own_organisation=True)
        tenant = CustomerTenantFactory(customer=own, primary_domain="alphaself.onmicrosoft.com")
        offer = OfferFactory(name="Copilot for ourselves")
        TenantConnection.objects.create(
            marketplace=offer.account.marketplace,
            customer_tenant=tenant,
            account=offer.account,
            external_customer_id="SELF",
        )
    detail = text(alpha_admin_client.get(reverse("customers:customer_detail", args=[own.pk])))
    assert 'data-testid="own-organisation-note"' in detail
    assert reverse("catalog:store", args=[tenant.pk]) in detail
    store = text(alpha_admin_client.get(reverse("catalog:store", args=[tenant.pk])))
    assert "Copilot for ourselves" in store


def test_only_a_partner_user_covering_every_customer_adds_it(partner_alpha, in_alpha):
    user_with("grouped", {"customers": 2}, all_customers=False)
    grouped = signed_in_client(partner_alpha, username="grouped")

    assert grouped.post(reverse("customers:own_organisation_add")).status_code == 403
    assert not Customer.objects.filter(is_own_organisation=True).exists()
