"""Factories and helpers of the order tests. They write to the active schema."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Offer
from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.secrets import secret_encrypt
from marketplace.sync import sync_offers
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from tests.factories import UserFactory

ORDER_VIEW = {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW}
ORDER_MANAGE = {PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}


def account_create(*, marketplace: str, username: str, secret: str, region: str, name: str) -> MarketplaceAccount:
    return MarketplaceAccount.objects.create(
        marketplace=marketplace,
        display_name=name,
        region=region,
        username=username,
        secret_ciphertext=secret_encrypt(secret),
    )


def offers_sync(account: MarketplaceAccount, provider) -> None:
    """The account's offers as the sync writes them (from the simulator, through the provider)."""
    from django.utils import timezone

    sync_offers(account=account, records=list(provider.list_offers()), now=timezone.now())


def connect(account: MarketplaceAccount, tenant: CustomerTenant, external_id: str) -> TenantConnection:
    return TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=external_id,
        external_customer_name=external_id,
    )


def user_with(username: str, levels: dict[str, int], *, all_customers: bool = True, **user_fields):
    role = Role.objects.create(
        name=f"{username} role",
        permissions={module: int(level) for module, level in levels.items()},
        all_customers=all_customers,
    )
    user = UserFactory(username=username, email=f"{username}@example.com", **user_fields)
    user.roles.add(role)
    return user


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
