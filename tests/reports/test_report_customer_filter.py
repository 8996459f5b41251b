"""The customer filter of the reports and the subscription lists stays small however many customers a
partner has: it lists the first customers by name and the chosen one; typing asks for the customers
whose name matches, within the user's scope."""

from django_tenants.utils import schema_context

from customers.models import Customer
from customers.widgets import CUSTOMER_OPTIONS
from portal.accounts.choices import AccessLevel, PermissionModule
from tests.factories.accounts import user_with
from tests.factories.reports import scoped_viewer
from tests.support import PASSWORD, signed_in_client


def text(response) -> str:
    return response.content.decode()


def test_the_filter_lists_a_bounded_number_of_customers_and_keeps_the_chosen_one(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        many = Customer.objects.bulk_create([Customer(name=f"Bulk {number:03d}") for number in range(60)])
    last = many[-1]
    urls = ("/reports/reconciliation/", "/reports/billing/", "/reports/usage/", "/reports/operations/")
    for url in (*urls, "/subscriptions/", "/subscriptions/calendar/", "/subscriptions/requests/"):
        page = text(alpha_admin_client.get(url))
        assert 'data-testid="customer-search"' in page, url
        assert "Alpine Bakery" in page and "Bulk 000" in page
        assert page.count('<option value="') - page.count('<option value="" ') <= CUSTOMER_OPTIONS + 30
        assert "Bulk 059" not in page, url  # beyond the first names: found by typing
    page = text(alpha_admin_client.get(f"/reports/reconciliation/?customer={last.pk}"))
    assert f'<option value="{last.pk}" selected>Bulk 059</option>' in page


def test_typing_finds_matching_customers_within_the_users_scope(billing_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        Customer.objects.bulk_create([Customer(name=f"Bulk {number:03d}") for number in range(60)])
        scoped_viewer("scoped", [billing_world.ours])
    options = text(alpha_admin_client.get("/customers/options/?customer_search=bulk 05"))
    assert [f"Bulk 05{digit}" in options for digit in range(10)] == [True] * 10
    assert "Bulk 049" not in options and "Alpine Bakery" not in options
    assert options.startswith('<option value="" selected>All customers</option>')
    everything = text(alpha_admin_client.get("/customers/options/?customer_search=bulk"))
    assert everything.count("<option") == CUSTOMER_OPTIONS + 1

    scoped = signed_in_client(partner_alpha, "scoped", PASSWORD)
    assert "Bulk" not in text(scoped.get("/customers/options/?customer_search=bulk"))
    assert "Alpine Bakery" in text(scoped.get("/customers/options/?customer_search=alp"))
    theirs = billing_world.theirs.pk
    assert "Zenith" not in text(scoped.get(f"/customers/options/?selected={theirs}"))
    assert text(scoped.get("/customers/options/?empty=Any customer")).startswith(
        '<option value="" selected>Any customer</option>'
    )


def test_customer_names_need_a_screen_with_a_customer_filter(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("settings-only", {PermissionModule.SETTINGS: AccessLevel.VIEW})
    client = signed_in_client(partner_alpha, "settings-only", PASSWORD)
    assert client.get("/customers/options/?customer_search=a").status_code == 403
