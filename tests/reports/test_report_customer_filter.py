"""A report's customer filter stays small however many customers a partner has: it lists the first
customers by name and the chosen one; typing asks for the customers whose name matches, within the
user's scope."""

from django_tenants.utils import schema_context

from customers.models import Customer
from reports.forms import CUSTOMER_OPTIONS
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
    for url in ("/reports/reconciliation/", "/reports/billing/", "/reports/usage/", "/reports/operations/"):
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
    options = text(alpha_admin_client.get("/reports/customers/options/?customer_search=bulk 05"))
    assert [f"Bulk 05{digit}" in options for digit in range(10)] == [True] * 10
    assert "Bulk 049" not in options and "Alpine Bakery" not in options
    assert options.startswith('<option value="" selected>All customers</option>')
    everything = text(alpha_admin_client.get("/reports/customers/options/?customer_search=bulk"))
    assert everything.count("<option") == CUSTOMER_OPTIONS + 1

    scoped = signed_in_client(partner_alpha, "scoped", PASSWORD)
    assert "Bulk" not in text(scoped.get("/reports/customers/options/?customer_search=bulk"))
    assert "Alpine Bakery" in text(scoped.get("/reports/customers/options/?customer_search=alp"))
    theirs = billing_world.theirs.pk
    assert "Zenith" not in text(scoped.get(f"/reports/customers/options/?selected={theirs}"))
