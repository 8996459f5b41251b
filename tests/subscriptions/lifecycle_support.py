"""Factories and helpers of the lifecycle tests: they write to the active schema (alpha's)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import CustomerGroup, CustomerTenant
from marketplace.models import MarketplaceAccount, SyncRun
from marketplace.sync import sync_run_execute
from portal.accounts.choices import AccessLevel, PermissionModule
from subscriptions.models import Subscription
from tests.factories.accounts import user_with

SUBSCRIPTIONS_MANAGE = {PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}
SUBSCRIPTIONS_VIEW = {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW}


def run_sync(account: MarketplaceAccount) -> SyncRun:
    run = SyncRun.objects.create(account=account, trigger="manual")
    result = sync_run_execute(run_id=run.pk)
    assert result.status == "succeeded", (result.status, result.error_message)
    return result


def scoped_user(username: str, levels: dict, *, customers) -> object:
    """A partner user whose role covers only a customer group holding `customers`."""
    group = CustomerGroup.objects.create(name=f"{username} group")
    group.customers.add(*customers)
    user = user_with(username, levels, all_customers=False)
    group.roles.add(*user.roles.all())
    return user


def subscription_row(tenant: CustomerTenant, account: MarketplaceAccount, **fields) -> Subscription:
    """A subscription written directly (as the sync would), for rules that need no marketplace."""
    now = timezone.now()
    values = {
        "external_id": str(uuid.uuid4()),
        "offer_external_id": "CFQ7TTC0LFLX:0001:P1Y:monthly",
        "product_id": "CFQ7TTC0LFLX:0001",
        "name": "Microsoft 365 E3",
        "quantity": 10,
        "assigned": 4,
        "status": "active",
        "billing_cycle": "monthly",
        "term": "P1Y",
        "term_end": (now + timedelta(days=200)).date(),
        "auto_renew": True,
        "trial": False,
        "cancellation_allowed_until": now - timedelta(days=158),
        "started_at": now - timedelta(days=165),
        "currency": "EUR",
        "unit_cost_price": Decimal("30.00"),
        "unit_sales_price": Decimal("33.00"),
    }
    values.update(fields)
    return Subscription.objects.create(customer_tenant=tenant, account=account, **values)


@dataclass
class World:
    simulator: object
    account: MarketplaceAccount
    tenant: CustomerTenant
    customer_external_id: str

    def subscription(self, name: str) -> Subscription:
        return Subscription.objects.get(customer_tenant=self.tenant, name=name)

    def sim_subscription(self, subscription: Subscription):
        return self.simulator.subscriptions[subscription.external_id.split(":")[-1]]


def host_client(partner, user):
    """A signed-in client for `user` at the partner's host (the password of tests.support)."""
    from tests.support import PASSWORD, signed_in_client

    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return signed_in_client(partner, username=user.username, password=PASSWORD)
