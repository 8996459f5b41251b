"""Reports tests: a small billing world in partner alpha's schema."""

from dataclasses import dataclass
from datetime import date

import pytest
from django_tenants.utils import schema_context

from customers.models import Customer
from marketplace.models import MarketplaceAccount
from reports.models import TrackedSubscription
from subscriptions.models import Subscription
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import AccountFactory
from tests.factories.reports import history, track
from tests.factories.subscriptions import SubscriptionFactory


@dataclass
class BillingWorld:
    account: MarketplaceAccount
    ours: Customer  # a customer a scoped role covers
    theirs: Customer  # a customer outside that scope
    ours_subscription: Subscription
    theirs_subscription: Subscription
    ours_tracked: TrackedSubscription
    theirs_tracked: TrackedSubscription


@pytest.fixture
def billing_world(partner_alpha) -> BillingWorld:
    """Two customers with one monthly subscription each at 10.00 cost (10.50 with the default 5%
    markup), snapshotted daily from 1 Jan 2024 to 31 Mar 2024:
    - ours: 5 seats, raised to 8 on 20 Feb 2024, lowered to 6 on 22 Feb (inside the window);
    - theirs: 3 seats throughout, 1 assigned."""
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(display_name="ALSO Test")
        offer = OfferFactory(business_plan=True, account=account, name="Business Standard", external_id="BS|Monthly")
        ours_tenant = CustomerTenantFactory(customer__name="Alpine Bakery")
        theirs_tenant = CustomerTenantFactory(customer__name="Zenith Logistics")
        ours = SubscriptionFactory(customer_tenant=ours_tenant, offer=offer, quantity=6, assigned=6, external_id="S-1")
        theirs = SubscriptionFactory(
            customer_tenant=theirs_tenant, offer=offer, quantity=3, assigned=1, external_id="S-2"
        )
        ours_tracked = track(ours, first_seen=date(2024, 1, 1), started_on=date(2023, 6, 1))
        theirs_tracked = track(theirs, first_seen=date(2024, 1, 1), started_on=date(2023, 6, 1))
        history(
            ours_tracked,
            [(date(2024, 1, 1), 5), (date(2024, 2, 20), 8), (date(2024, 2, 22), 6)],
            until=date(2024, 3, 31),
        )
        history(theirs_tracked, [(date(2024, 1, 1), 3)], until=date(2024, 3, 31), assigned=1)
    return BillingWorld(
        account=account,
        ours=ours_tenant.customer,
        theirs=theirs_tenant.customer,
        ours_subscription=ours,
        theirs_subscription=theirs,
        ours_tracked=ours_tracked,
        theirs_tracked=theirs_tracked,
    )
