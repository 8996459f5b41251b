"""Reads of the marketplace module.

Marketplace accounts are the partner's own business: the MARKETPLACE permission decides who sees
them. Tenants are customer data: a user sees the tenants of the customers their roles cover,
and any other tenant is a 404.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from catalog.models import Offer
from customers.models import Customer, CustomerTenant
from customers.selectors import customer_tenants_visible_to, customers_visible_to
from marketplace.choices import SyncStatus
from marketplace.models import (
    GdapRelationship,
    MarketplaceAccount,
    MarketplaceCustomer,
    PriceCustomization,
    SyncRun,
    TenantConnection,
)
from marketplace.providers.base import Capability
from marketplace.providers.registry import marketplaces
from marketplace.rate_budget import account_rate_budget
from subscriptions.models import Subscription


def marketplace_accounts(*, marketplace: str) -> QuerySet[MarketplaceAccount]:
    """Accounts at a marketplace with their connected tenant count and last finished sync."""
    last_sync = SyncRun.objects.filter(
        account=OuterRef("pk"), status__in=(SyncStatus.SUCCEEDED, SyncStatus.FAILED)
    ).order_by("-finished_at")
    return MarketplaceAccount.objects.filter(marketplace=marketplace).annotate(
        connected_tenants=Count("tenant_connections", distinct=True),
        last_sync_finished=Subquery(last_sync.values("finished_at")[:1]),
        last_sync_status=Subquery(last_sync.values("status")[:1]),
    )


def marketplace_account_get(*, marketplace: str, pk: int) -> MarketplaceAccount:
    return get_object_or_404(marketplace_accounts(marketplace=marketplace), pk=pk)


def account_sync_runs(*, account: MarketplaceAccount, limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.filter(account=account).select_related("requested_by").order_by("-created")[:limit])


def account_first_sync_finished(*, account: MarketplaceAccount) -> bool:
    """Whether the account's plans and prices have been retrieved at least once."""
    return SyncRun.objects.filter(account=account, status=SyncStatus.SUCCEEDED).exists()


def tenant_connections_visible_to(*, user, marketplace: str) -> QuerySet[TenantConnection]:
    """The marketplace module's tenants whose customers the user may see, with what the list shows."""
    subscriptions = (
        Subscription.objects.filter(account=OuterRef("account_id"), customer_tenant=OuterRef("customer_tenant_id"))
        .order_by()
        .values("customer_tenant")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return (
        TenantConnection.objects.filter(
            marketplace=marketplace, customer_tenant__in=customer_tenants_visible_to(user=user)
        )
        .select_related("customer_tenant", "customer_tenant__customer", "account")
        .annotate(subscription_count=Subquery(subscriptions[:1]))
    )


def tenant_connection_get(*, user, marketplace: str, pk: int) -> TenantConnection:
    return get_object_or_404(tenant_connections_visible_to(user=user, marketplace=marketplace), pk=pk)


def customers_for_tenant_add(*, user) -> QuerySet[Customer]:
    return customers_visible_to(user=user).order_by("name")


def customer_tenants_for_add(*, user, marketplace: str, customer: Customer) -> list[CustomerTenant]:
    """The customer's tenants that are visible and not yet in this marketplace's module."""
    return list(
        customer_tenants_visible_to(user=user)
        .filter(customer=customer)
        .exclude(marketplace_connections__marketplace=marketplace)
        .order_by("primary_domain", "tenant_id")
    )


def marketplace_customers_for_connection(
    *, account: MarketplaceAccount, connection: TenantConnection | None = None
) -> QuerySet[MarketplaceCustomer]:
    """The account's marketplace customers a tenant can be mapped to: those not mapped to another tenant."""
    taken = TenantConnection.objects.filter(account=account)
    if connection is not None:
        taken = taken.exclude(pk=connection.pk)
    return (
        MarketplaceCustomer.objects.filter(account=account)
        .exclude(external_id__in=taken.values("external_customer_id"))
        .order_by("name", "external_id")
    )


@dataclass(frozen=True)
class PriceRow:
    """One line of the Price customization tab: a plan in a currency, with its record if any."""

    offer: Offer
    currency: str
    customization: PriceCustomization | None

    @property
    def key(self) -> str:
        return f"{self.offer.pk}:{self.currency}"

    @property
    def reseller_price(self) -> Decimal | None:
        return self.offer.cost_price if self.currency == self.offer.currency else None

    @property
    def price(self) -> Decimal | None:
        return self.customization.price if self.customization else None


def price_rows(*, account: MarketplaceAccount, search: str = "") -> list[PriceRow]:
    """Every plan in its own currency (with its custom price if set), plus the records added in
    other currencies, ordered by licence and plan."""
    offers = Offer.objects.filter(account=account)
    if search:
        offers = offers.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(product_id__icontains=search))
    offer_list = list(offers.order_by("name", "billing_cycle", "term", "pk"))
    records: dict[int, list[PriceCustomization]] = {}
    for record in PriceCustomization.objects.filter(account=account, offer__in=offer_list).order_by("currency"):
        records.setdefault(record.offer_id, []).append(record)
    rows = []
    for offer in offer_list:
        own = {record.currency: record for record in records.get(offer.pk, [])}
        if offer.is_available or offer.currency in own:
            rows.append(PriceRow(offer=offer, currency=offer.currency, customization=own.pop(offer.currency, None)))
        rows.extend(PriceRow(offer=offer, currency=currency, customization=record) for currency, record in own.items())
    return rows


def licences_for_price_add(*, account: MarketplaceAccount) -> list[tuple[str, str]]:
    """(product id, licence name) of the plans the marketplace currently lists."""
    seen: dict[str, str] = {}
    for product_id, name in (
        Offer.objects.filter(account=account, is_available=True).order_by("name").values_list("product_id", "name")
    ):
        seen.setdefault(product_id, name)
    return sorted(seen.items(), key=lambda item: item[1].lower())


def plans_for_price_add(*, account: MarketplaceAccount, product_id: str) -> QuerySet[Offer]:
    return Offer.objects.filter(account=account, is_available=True, product_id=product_id).order_by(
        "billing_cycle", "term", "pk"
    )


def accounts_creating_tenants() -> QuerySet[MarketplaceAccount]:
    """The accounts whose marketplace can create Microsoft tenants, in screen order of their names."""
    slugs = [slug for slug, info in marketplaces().items() if Capability.CREATE_TENANT in info.capabilities]
    return MarketplaceAccount.objects.filter(marketplace__in=slugs).order_by("display_name", "pk")


def tenant_connections_of(*, user, customer_tenant_pk: int) -> tuple[CustomerTenant, list[TenantConnection]]:
    """A customer tenant the user may see (404 otherwise) and its connections to marketplace customers."""
    tenant = get_object_or_404(customer_tenants_visible_to(user=user).select_related("customer"), pk=customer_tenant_pk)
    connections = list(
        TenantConnection.objects.filter(customer_tenant=tenant, account__isnull=False)
        .exclude(external_customer_id="")
        .select_related("account")
        .order_by("marketplace", "pk")
    )
    return tenant, connections


def gdap_relationships_visible_to(*, user) -> QuerySet[GdapRelationship]:
    """GDAP relationships with the customer tenants the user may see, and those with tenants the console
    does not know (partner-level facts: a tenant id, no customer data)."""
    return GdapRelationship.objects.filter(
        Q(customer_tenant__in=customer_tenants_visible_to(user=user)) | Q(customer_tenant__isnull=True)
    ).select_related("customer_tenant", "account")


def account_marketplace_wait(*, account: MarketplaceAccount) -> int:
    """Whole seconds until the marketplace lets the account send again after it throttled it (0: now).
    Every request of the account waits that long, the sync's included."""
    return math.ceil(account_rate_budget(account).paused_for())
