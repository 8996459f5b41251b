"""The Subscriptions list and the calendar run a number of SQL queries that does not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create
from tests.subscriptions.lifecycle_support import subscription_row


def queries_for(client, path: str) -> int:
    """The page's own queries (not the schema switches and the session's occasional save)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return sum(
        1
        for query in captured.captured_queries
        if not query["sql"].startswith(("SET search_path", "SAVEPOINT", "RELEASE SAVEPOINT"))
        and "django_session" not in query["sql"]
    )


@pytest.mark.parametrize("path", ["/subscriptions/", "/subscriptions/calendar/", "/subscriptions/requests/"])
def test_constant_queries_at_5_and_at_50_rows(in_alpha, admin_client_alpha, path):
    account = account_create(marketplace="alef", username="u", secret="p", region="demo", name="ALEF")
    tenant = CustomerTenantFactory()
    for n in range(5):
        subscription_row(tenant, account, name=f"Plan {n:02d}")
    few = queries_for(admin_client_alpha, path)

    for n in range(5, 50):
        subscription_row(tenant, account, name=f"Plan {n:02d}")
    many = queries_for(admin_client_alpha, path)

    assert many == few


def test_the_list_does_not_grow_with_customers_or_offers(in_alpha, admin_client_alpha):
    from catalog.models import Offer

    account = account_create(marketplace="alef", username="u", secret="p", region="demo", name="ALEF")

    def rows(count: int, start: int) -> None:
        for n in range(start, start + count):
            offer = Offer.objects.create(
                account=account, external_id=f"O{n}", product_id=f"P{n}", name=f"Plan {n:02d}", billing_cycle="monthly",
                charge_type="recurring", currency="EUR", cost_price="10.00",
            )  # fmt: skip
            subscription_row(CustomerTenantFactory(), account, name=f"Plan {n:02d}", offer=offer)

    rows(3, 0)
    few = queries_for(admin_client_alpha, "/subscriptions/")
    rows(30, 3)
    assert queries_for(admin_client_alpha, "/subscriptions/") == few
