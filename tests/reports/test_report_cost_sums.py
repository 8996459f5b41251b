"""The overview cost report sums today's prices in the database: it comes to what pricing every
subscription one by one (`priced_subscriptions`, the custom report's read) comes to, over several
currencies, billing cycles, price changes (past, same day, future only), a trial and subscriptions
without a price history of their own."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.pricing import money_round
from reports.selectors import cost_overview, priced_subscriptions
from subscriptions.models import SubscriptionPrice
from subscriptions.selectors_prices import day_start
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import AccountFactory
from tests.factories.subscriptions import SubscriptionFactory

D = Decimal


def price(subscription, days_ago: int, unit: str, cost: str | None, currency: str, *, hour: int = 0) -> None:
    SubscriptionPrice.objects.create(
        subscription=subscription,
        account=subscription.account,
        external_id=subscription.external_id,
        effective_from=day_start(timezone.localdate() - timedelta(days=days_ago)) + timedelta(hours=hour),
        unit_price=D(unit),
        cost_price=D(cost) if cost is not None else None,
        currency=currency,
        source="manual",
    )


def one_by_one(user, account_id=None) -> dict[tuple, tuple]:
    """What the report showed when it priced each subscription in Python."""
    sums: dict[tuple, list] = {}
    for row in priced_subscriptions(user=user, account_id=account_id):
        currency = row.currency or "-"
        keys = (("customer", row.customer_pk, currency), ("account", row.account_pk, currency), ("total", currency))
        for key in keys:
            figures = sums.setdefault(key, [0, 0, D(0), D(0), 0])
            figures[0] += 1
            figures[1] += row.quantity
            if row.monthly_revenue is None:
                figures[4] += 1
            else:
                figures[2] += row.monthly_revenue
                figures[3] += row.monthly_cost
    rounded = {}
    for key, (count, seats, revenue, cost, unpriced) in sums.items():
        currency = key[-1]
        if currency != "-":  # totals are rounded once, at the end
            revenue, cost = money_round(revenue, currency), money_round(cost, currency)
        rounded[key] = (count, seats, revenue, cost, unpriced)
    return rounded


def summed(overview) -> dict[tuple, tuple]:
    rows = {}
    for kind, group in (("customer", overview.by_customer), ("account", overview.by_account)):
        for row in group:
            rows[(kind, row.key, row.currency)] = (row.subscriptions, row.seats, row.revenue, row.cost, row.unpriced)
    for row in overview.totals:
        rows[("total", row.currency)] = (row.subscriptions, row.seats, row.revenue, row.cost, row.unpriced)
    return rows


def test_the_summed_cost_report_matches_pricing_each_subscription(in_alpha):
    admin = get_user_model().objects.get(username="admin")
    euros, dollars = AccountFactory(display_name="Euro Market"), AccountFactory(display_name="Dollar Market")
    monthly = OfferFactory(account=euros, billing_cycle="monthly", cost_price="7.00")
    annual = OfferFactory(account=euros, billing_cycle="annual", cost_price="100.00")
    usd = OfferFactory(account=dollars, billing_cycle="monthly", currency="USD", cost_price="3.33")
    first, second = CustomerTenantFactory(customer__name="Able"), CustomerTenantFactory(customer__name="Baker")

    a = SubscriptionFactory(customer_tenant=first, offer=monthly, quantity=7, external_id="A")
    price(a, 60, "9.9900", "7.0000", "EUR")
    price(a, 10, "10.4900", "7.2500", "EUR")  # a change since: today's price
    price(a, -5, "12.0000", "8.0000", "EUR")  # a change to come: not yet
    b = SubscriptionFactory(customer_tenant=first, offer=annual, quantity=3, external_id="B")
    price(b, 3, "131.1100", "100.0000", "EUR")
    price(b, 3, "133.3300", "101.0100", "EUR", hour=9)  # later the same day: the day's price
    c = SubscriptionFactory(customer_tenant=second, offer=annual, quantity=5, external_id="C")
    price(c, -3, "120.0700", "99.0000", "EUR")  # only a future price: the best known one
    price(c, -9, "140.0000", "99.0000", "EUR")
    d = SubscriptionFactory(customer_tenant=second, offer=usd, quantity=11, external_id="D")
    price(d, 30, "3.7100", "3.3300", "USD")
    e = SubscriptionFactory(customer_tenant=second, offer=usd, quantity=4, trial=True, external_id="E")
    price(e, 30, "3.7100", "3.3300", "USD")  # a trial bills no seat
    SubscriptionFactory(customer_tenant=second, offer=monthly, quantity=2, external_id="F")  # no history: the chain
    g = SubscriptionFactory(customer_tenant=first, offer=usd, quantity=1, external_id="G")
    price(g, 1, "4.0000", None, "USD")  # a price without its cost: the catalog's cost
    SubscriptionFactory(customer_tenant=first, offer=monthly, quantity=9, status="cancelled", external_id="H")

    expected = one_by_one(admin)
    overview = cost_overview(user=admin)
    assert summed(overview) == expected
    assert {row.currency for row in overview.totals} == {"EUR", "USD"}
    # Able in euros: 7 × 10.49 monthly + 3 × 133.33 / 12 annual = 73.43 + 33.3325 → 106.76.
    able = next(row for row in overview.by_customer if row.label == "Able" and row.currency == "EUR")
    assert (able.subscriptions, able.seats, able.revenue) == (2, 10, D("106.76"))
    assert summed(cost_overview(user=admin, account_id=dollars.pk)) == one_by_one(admin, account_id=dollars.pk)
