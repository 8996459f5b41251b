"""The Subscriptions list and the calendar pick a page in the database and show it in full: every
subscription on exactly one page, in the list's order, with its cells."""

import re
from datetime import timedelta

from django.utils import timezone

from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create
from tests.subscriptions.lifecycle_support import subscription_row


def shown_ids(client, path: str, **query) -> list[int]:
    response = client.get(path, query)
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-subscription="(\d+)"', response.content.decode())]


def test_every_subscription_is_on_one_page_in_the_lists_order(in_alpha, admin_client_alpha):
    account = account_create(marketplace="alef", username="u", secret="p", region="demo", name="ALEF")
    tenants = [CustomerTenantFactory(primary_domain=f"t{n}.onmicrosoft.com") for n in range(2)]
    made = [subscription_row(tenants[n % 2], account, name=f"Plan {n % 30:02d}", quantity=n + 1) for n in range(60)]

    first = shown_ids(admin_client_alpha, "/subscriptions/")
    second = shown_ids(admin_client_alpha, "/subscriptions/", page=2)

    assert len(first) == 50 and len(second) == 10
    assert sorted(first + second) == sorted(subscription.pk for subscription in made)
    # the grouping order: name, then the tenant's domain, then id
    by_pk = {subscription.pk: subscription for subscription in made}
    order = [(by_pk[pk].name, by_pk[pk].customer_tenant.primary_domain, pk) for pk in first + second]
    assert order == sorted(order)
    body = admin_client_alpha.get("/subscriptions/", {"page": 2}).content.decode()
    assert "Page 2 of 2" in body and 'name="q-' in body


def test_the_calendar_pages_soonest_first_and_leaves_out_what_has_no_date(in_alpha, admin_client_alpha):
    account = account_create(marketplace="alef", username="u", secret="p", region="demo", name="ALEF")
    tenant = CustomerTenantFactory()
    now = timezone.now()
    # renewals 1..55 days away; every fifth one also has an open window closing sooner, which comes first
    made = []
    for n in range(55):
        window = now + timedelta(hours=12) if n % 5 == 0 else now - timedelta(days=3)
        made.append(
            subscription_row(
                tenant, account, name=f"Plan {n:02d}", term_end=(now + timedelta(days=n + 2)).date(),
                cancellation_allowed_until=window,
            )
        )  # fmt: skip
    subscription_row(tenant, account, name="No dates", term_end=None, cancellation_allowed_until=None)
    subscription_row(tenant, account, name="Ended", status="expired")

    first = shown_ids(admin_client_alpha, "/subscriptions/calendar/")
    second = shown_ids(admin_client_alpha, "/subscriptions/calendar/", page=2)

    assert len(first) == 50 and len(second) == 5
    assert sorted(first + second) == sorted(subscription.pk for subscription in made)
    windows = [subscription.pk for n, subscription in enumerate(made) if n % 5 == 0]
    assert first[: len(windows)] == windows  # the open windows (all closing within a day) lead, by name
    renewals = [pk for pk in first + second if pk not in windows]
    assert renewals == [subscription.pk for n, subscription in enumerate(made) if n % 5]
