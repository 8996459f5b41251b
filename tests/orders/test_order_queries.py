"""The order screens run the same number of SQL queries at 10 and at 1,000 rows."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus
from orders.models import Order, OrderLine, Quote
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect

STATUSES = [OrderStatus.COMPLETED, OrderStatus.FAILED, OrderStatus.PROVISIONING, OrderStatus.DRAFT]


def _orders(count: int, *, lines_each: int = 2) -> list[Order]:
    from django.contrib.auth import get_user_model

    tag = uuid.uuid4().hex[:8]
    account = account_create(marketplace="also", username=f"q{tag}", secret="s", region="de", name=f"Q {tag}")
    creator = get_user_model().objects.get(username="admin")
    tenants = [CustomerTenantFactory() for _ in range(3)]
    for tenant in tenants:
        connect(account, tenant, f"c{tenant.pk}")
    orders = Order.objects.bulk_create(
        Order(
            number=f"Q{tag}-{index:05d}",
            customer_tenant=tenants[index % 3],
            account=account,
            status=STATUSES[index % len(STATUSES)],
            created_by=creator,
        )
        for index in range(count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=position,
            kind=OrderLineKind.NEW_SUBSCRIPTION,
            offer_name=f"Product {position}",
            quantity=position + 1,
            currency="EUR",
            unit_price=Decimal("6.37"),
            unit_cost=Decimal("6.07"),
            status=OrderLineStatus.APPLIED,
            idempotency_key=f"q-{order.pk}-{position}",
        )
        for order in orders
        for position in range(lines_each)
    )
    return orders


def _queries(client, url: str, params: dict | None = None) -> int:
    client.get(url, params or {})  # the first request after signing in also saves the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"status": "completed"}, {"q": "Product"}, {"sort": "tenant", "page": 2}])
def test_the_orders_list_costs_the_same_at_10_and_1000_orders(in_alpha, alpha_admin_client, params):
    _orders(10)
    few = _queries(alpha_admin_client, reverse("orders:order_list"), params if "page" not in params else {})
    _orders(990)
    many = _queries(alpha_admin_client, reverse("orders:order_list"), params)
    assert few == many


def test_the_quotes_list_costs_the_same_at_10_and_1000_quotes(in_alpha, alpha_admin_client):
    until = timezone.localdate() + datetime.timedelta(days=10)

    def quotes(orders):
        for order in orders:
            order.status = OrderStatus.DRAFT
        Order.objects.bulk_update(orders, ["status"])
        Quote.objects.bulk_create(Quote(order=order, number=f"QQ-{order.pk}", valid_until=until) for order in orders)

    quotes(_orders(10))
    few = _queries(alpha_admin_client, reverse("orders:quote_list"))
    quotes(_orders(990))
    many = _queries(alpha_admin_client, reverse("orders:quote_list"))
    assert few == many


@pytest.mark.parametrize("page", ["orders:order_detail", "orders:order_cart"])
def test_an_order_page_costs_the_same_with_10_and_1000_lines(in_alpha, alpha_admin_client, page):
    status = OrderStatus.DRAFT if page.endswith("cart") else OrderStatus.COMPLETED
    small, large = _orders(1, lines_each=10)[0], _orders(1, lines_each=1000)[0]
    Order.objects.filter(pk__in=[small.pk, large.pk]).update(status=status)
    few = _queries(alpha_admin_client, reverse(page, kwargs={"order_pk": small.pk}))
    many = _queries(alpha_admin_client, reverse(page, kwargs={"order_pk": large.pk}))
    assert few == many
