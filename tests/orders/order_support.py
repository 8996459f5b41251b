"""Factories and helpers of the order tests. They write to the active schema."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Offer
from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount
from marketplace.sync import sync_offers
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from tests.factories.accounts import user_with

ORDER_VIEW = {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW}
ORDER_MANAGE = {PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}


def offers_sync(account: MarketplaceAccount, provider) -> None:
    """The account's offers as the sync writes them (from the simulator, through the provider)."""
    from django.utils import timezone

    sync_offers(account=account, records=list(provider.list_offers()), now=timezone.now())


def customer_admin_for(customer: Customer, username: str = "tenantadmin"):
    user = user_with(username, ORDER_MANAGE, kind=UserKind.CUSTOMER_ADMIN, all_customers=False)
    user.customers.add(customer)
    return user


@dataclass
class World:
    """One marketplace account with its offers, a customer tenant connected to one of its customers."""

    simulator: object
    account: MarketplaceAccount
    tenant: CustomerTenant
    customer_external_id: str

    def offer(self, **filters) -> Offer:
        return Offer.objects.filter(account=self.account, **filters).order_by("pk").first()
