"""The one read that crosses partners: a LAR sees its resellers' customers only through
`reseller_customer_usage`, only for its own pools, never another partner's, and masked when the
reseller hides them, everywhere the LAR looks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from pools.choices import AllocationStatus
from portal.audit.models import Notification
from resellers.choices import ResellerStatus
from resellers.selectors import reseller_customer_usage
from tests.pools.pool_support import (
    allocation_make,
    assignment_make,
    customer_make,
    link_make,
    partner_make,
    pool_make,
)

SECRET = "Contoso Secret Holdings"


@pytest.fixture
def world(partner_beta, partner_alpha):
    """beta (LAR) -> alpha (reseller) with one customer on beta's pool."""
    link = link_make(partner_beta, partner_alpha)
    pool = pool_make(partner_beta, seats=100, name="Beta Backup Pool")
    allocation = allocation_make(pool, partner_alpha, seats=20)
    contoso = customer_make(partner_alpha, SECRET)
    assignment_make(allocation, contoso, seats=5)
    return {"link": link, "contoso": contoso, "allocation": allocation, "pool": pool}


@pytest.fixture
def others(world, partner_alpha):
    """gamma, another LAR, also gives alpha a pool; delta, a partner beta never linked, has a
    customer on one of beta's pools."""
    gamma = partner_make("gamma-lar", large_account_reseller=True)
    link_make(gamma, partner_alpha)
    gamma_allocation = allocation_make(pool_make(gamma, seats=50, name="Gamma Pool"), partner_alpha, seats=10)
    assignment_make(gamma_allocation, customer_make(partner_alpha, "Fabrikam Of Gamma"), seats=7)
    delta = partner_make("delta-corp")
    delta_allocation = allocation_make(world["pool"], delta, seats=3, status=AllocationStatus.ACCEPTED)
    assignment_make(delta_allocation, customer_make(delta, "Delta Private Customer"), seats=2)
    return {"gamma": gamma, "delta": delta}


def test_the_selector_reads_only_this_lars_pools_at_this_reseller(world, others):
    usage = reseller_customer_usage(link=world["link"])
    assert [(row.customer_label, row.pool_name, row.seats) for row in usage.rows] == [(SECRET, "Beta Backup Pool", 5)]
    assert usage.assigned_by_allocation == {world["allocation"].pk: 5}
    assert usage.customer_count == 1


def test_the_selector_asks_one_question_in_the_resellers_schema_and_comes_back(world):
    before = connection.schema_name
    with CaptureQueriesContext(connection) as queries:
        reseller_customer_usage(link=world["link"])
    statements = [query["sql"] for query in queries.captured_queries if not query["sql"].startswith("SET ")]
    assert len(statements) == 1
    assert "pool_assignments_poolassignment" in statements[0]
    assert connection.schema_name == before


def test_an_unmapped_link_reads_nothing(partner_beta):
    link = link_make(partner_beta, None, status=ResellerStatus.UNMAPPED, email="x@y.example")
    with CaptureQueriesContext(connection) as queries:
        usage = reseller_customer_usage(link=link)
    assert usage.rows == [] and len(queries) == 0


def test_names_are_masked_when_the_reseller_hides_them(world):
    world["link"].customers_visible = False
    world["link"].save()
    with CaptureQueriesContext(connection) as queries:
        usage = reseller_customer_usage(link=world["link"])
    (row,) = usage.rows
    assert row.customer_label == f"Hidden customer #{world['contoso'].pk}"
    assert usage.customer_choices() == [(world["contoso"].pk, f"Hidden customer #{world['contoso'].pk}")]
    assert all("customers_customer" not in query["sql"] for query in queries.captured_queries)  # names not even read


def test_the_dashboard_never_shows_other_partners_customers(world, others, beta_admin_client):
    page = beta_admin_client.get("/pools/").content.decode()
    assert SECRET in page
    assert "Fabrikam Of Gamma" not in page and "Gamma Pool" not in page
    assert "Delta Private Customer" not in page and "Delta" not in page


def test_masking_applies_everywhere_the_lar_looks(world, beta_admin_client, partner_beta):
    world["link"].customers_visible = False
    world["link"].save()
    pages = [
        beta_admin_client.get("/pools/").content.decode(),
        beta_admin_client.get("/pools/", {"customers-q": "Contoso"}).content.decode(),
        beta_admin_client.get("/pools/", {"customers-customer": world["contoso"].pk}).content.decode(),
        beta_admin_client.get(
            "/pools/", {"customers-q": "Secret"}, headers={"HX-Request": "true", "HX-Target": "customers-results"}
        ).content.decode(),
        beta_admin_client.get(f"/pools/allocations/{world['allocation'].pk}/edit/").content.decode(),
        beta_admin_client.get("/resellers/").content.decode(),
    ]
    for page in pages:
        assert SECRET not in page
        assert "Holdings" not in page  # a word of the name that no search above typed
    dashboard = pages[0]
    assert f"Hidden customer #{world['contoso'].pk}" in dashboard
    assert 'data-testid="customers-hidden"' in dashboard
    assert 'data-kpi="customers">1<' in dashboard  # still counted
    assert "No customers match" in pages[1]  # the real name finds nothing, and so reveals nothing
    with schema_context(partner_beta.schema_name):
        assert not Notification.objects.filter(title__contains="Contoso").exists()
