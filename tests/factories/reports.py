"""Factories of the reports: tracked subscriptions and their daily usage history. They write to the active schema."""

from datetime import date, timedelta

from customers.models import Customer, CustomerGroup
from portal.accounts.choices import AccessLevel, PermissionModule
from reports.models import TrackedSubscription, UsageSnapshot
from subscriptions.models import Subscription
from tests.factories.accounts import user_with


def track(subscription: Subscription, *, first_seen: date, started_on: date | None = None) -> TrackedSubscription:
    """The reports' record of a subscription, as the snapshot would write it."""
    return TrackedSubscription.objects.create(
        subscription=subscription,
        account=subscription.account,
        external_id=subscription.external_id,
        customer=subscription.customer_tenant.customer,
        customer_tenant=subscription.customer_tenant,
        offer=subscription.offer,
        offer_external_id=subscription.offer_external_id,
        product_id=subscription.product_id,
        name=subscription.name,
        billing_cycle=subscription.billing_cycle,
        currency=subscription.currency,
        started_on=started_on,
        first_seen=first_seen,
        last_seen=first_seen,
    )


def history(
    tracked: TrackedSubscription, changes: list[tuple[date, int]], *, until: date, assigned=None, status="active"
):
    """Daily snapshots from the first change to `until`, each day holding the last change's quantity."""
    points = sorted(changes)
    rows = []
    day = points[0][0]
    index = 0
    quantity = points[0][1]
    while day <= until:
        while index < len(points) and points[index][0] <= day:
            quantity = points[index][1]
            index += 1
        rows.append(
            UsageSnapshot(
                subscription=tracked,
                day=day,
                quantity=quantity,
                assigned=quantity if assigned is None else assigned,
                status=status,
            )
        )
        day += timedelta(days=1)
    UsageSnapshot.objects.bulk_create(rows)
    tracked.last_seen = until
    tracked.save(update_fields=["last_seen"])
    return rows


def scoped_viewer(username: str, customers: list[Customer], *, levels=None):
    """A reports viewer whose role covers only a customer group holding `customers`."""
    group = CustomerGroup.objects.create(name=f"{username} group")
    group.customers.add(*customers)
    return user_with(
        username,
        levels or {PermissionModule.REPORTS: AccessLevel.VIEW},
        all_customers=False,
        groups=[group],
    )


REPORTS_VIEW = {PermissionModule.REPORTS: AccessLevel.VIEW}
REPORTS_MANAGE = {PermissionModule.REPORTS: AccessLevel.MANAGE}
REPORTS_AND_COST = {PermissionModule.REPORTS: AccessLevel.VIEW, PermissionModule.CATALOG: AccessLevel.VIEW}
