"""The reseller dashboard, Add pool, Edit pool, Return to pool, and the reseller's own screen."""

import datetime
import json
import re

import pytest
from django_tenants.utils import schema_context

from pool_assignments.choices import AssignmentStatus
from pool_assignments.models import PoolAssignment
from pools.choices import AllocationStatus, PaymentType, PoolService, PoolSource
from pools.models import PoolAllocation, PoolSnapshot
from portal.audit.models import AuditEvent
from tests.pools.pool_support import (
    allocation_make,
    assignment_make,
    customer_make,
    days,
    link_make,
    pool_make,
    today,
)


@pytest.fixture
def world(partner_beta, partner_alpha):
    link = link_make(partner_beta, partner_alpha)
    backup = pool_make(partner_beta, seats=100, name="Backup Pool", source=PoolSource.ALSO)
    insights = pool_make(
        partner_beta,
        seats=40,
        name="Insights Pool",
        service=PoolService.INSIGHTS,
        payment_type=PaymentType.PAY_AS_YOU_GO,
    )
    accepted = allocation_make(backup, partner_alpha, seats=30)
    pending = allocation_make(insights, partner_alpha, seats=10, status=AllocationStatus.PENDING, expires_on=days(20))
    customer = customer_make(partner_alpha, "Contoso Ltd")
    assignment_make(accepted, customer, seats=12)
    return {
        "link": link,
        "backup": backup,
        "insights": insights,
        "accepted": accepted,
        "pending": pending,
        "customer": customer,
    }


def _kpis(content: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-kpi="(\w+)">(\d+)<', content)}


def _chart(content: str) -> dict:
    return json.loads(
        re.search(r'id="available-licences-data" type="application/json">(.*?)</script>', content, re.S).group(1)
    )


def test_the_dashboard_shows_kpis_chart_pools_and_customers(world, beta_admin_client):
    PoolSnapshot.objects.create(
        pool=world["backup"], allocation=world["accepted"], day=today().replace(day=1), purchased=30, allocated=12
    )
    response = beta_admin_client.get("/pools/")
    assert response.status_code == 200
    content = response.content.decode()
    assert _kpis(content) == {
        "pools": 2,
        "customers": 1,
        "total": 40,
        "allocated": 12,
        "pending": 10,
        "expiring": 10,
    }
    chart = _chart(content)
    (series,) = chart["series"]
    assert series["label"].startswith("Backup Pool · ALSO · ")  # what tells two pools of one name apart
    position = chart["days"].index(today().replace(day=1).isoformat())
    assert (series["percent"][position], series["purchased"][position], series["allocated"][position]) == (60.0, 30, 12)
    assert len(chart["days"]) == 183
    assert "/static/vendor/chartjs/chart.umd.js" in content
    assert 'data-chart-series="0"' in content
    pools = content.split('data-testid="pool-table"', 1)[1].split("</table>", 1)[0]
    assert "Backup Pool" in pools and "Insights Pool" in pools and "Return to pool" in pools
    customers = content.split('data-testid="customer-table"', 1)[1].split("</table>", 1)[0]
    assert "Contoso Ltd" in customers


def test_the_pools_table_filters_with_chips(world, beta_admin_client):
    content = beta_admin_client.get("/pools/", {"source": "also", "reseller": world["link"].pk}).content.decode()
    pools = content.split('data-testid="pool-table"', 1)[1].split("</table>", 1)[0]
    assert "Backup Pool" in pools and "Insights Pool" not in pools
    assert "Source:</span> ALSO" in content
    assert f'href="/pools/?reseller={world["link"].pk}"' in content  # the chip's remove link
    content = beta_admin_client.get(
        "/pools/", {"status": "pending", "q": "insights"}, headers={"HX-Request": "true", "HX-Target": "pools-results"}
    ).content.decode()
    assert content.lstrip().startswith('<div id="pools-results">')
    assert "Insights Pool" in content and "Backup Pool" not in content


def test_the_customers_table_filters_by_pool_and_customer(world, beta_admin_client, partner_alpha):
    other = customer_make(partner_alpha, "Northwind Traders")
    assignment_make(world["accepted"], other, seats=1)
    content = beta_admin_client.get("/pools/", {"customers-customer": other.pk}).content.decode()
    customers = content.split('data-testid="customer-table"', 1)[1].split("</table>", 1)[0]
    assert "Northwind Traders" in customers and "Contoso Ltd" not in customers
    assert "Customer:</span> Northwind Traders" in content
    content = beta_admin_client.get("/pools/", {"customers-q": "contoso"}).content.decode()
    customers = content.split('data-testid="customer-table"', 1)[1].split("</table>", 1)[0]
    assert "Contoso Ltd" in customers and "Northwind Traders" not in customers


def test_manage_columns_of_a_dashboard_table(world, beta_admin_client):
    response = beta_admin_client.post(
        "/pools/columns/", {"table": "pools", "pools-columns": ["seats"], "pools-query": "reseller=1"}
    )
    assert response.status_code == 302 and response["Location"] == "/pools/?reseller=1"
    content = beta_admin_client.get("/pools/").content.decode()
    pools = content.split('data-testid="pool-table"', 1)[1].split("</thead>", 1)[0]
    assert 'data-column="seats"' in pools and 'data-column="source"' not in pools


def test_the_dashboard_without_a_mapped_reseller(partner_beta, beta_admin_client):
    pool_make(partner_beta, name="Lonely Pool")
    content = beta_admin_client.get("/pools/").content.decode()
    assert "No mapped reseller yet" in content
    assert "Lonely Pool" in content


def test_add_pool_picks_services_then_saves_each(world, beta_admin_client, partner_beta):
    url = f"/pools/add/?reseller={world['link'].pk}"
    content = beta_admin_client.get(url).content.decode()
    assert 'value="backup_m365" id="service-backup_m365">' in content  # available
    assert 'value="opus" id="service-opus" disabled' in content  # no pool for it
    step_two = f"{url}&service=backup_m365&service=insights"
    content = beta_admin_client.get(step_two).content.decode()
    assert "Step 2 of 2" in content and "View details of available user seats" in content
    data = {
        "backup_m365-pool": world["backup"].pk,
        "backup_m365-source": PoolSource.ALSO,
        "backup_m365-payment_type": PaymentType.PREPAID,
        "backup_m365-seats": 70,
        "backup_m365-expiry_mode": "same_as_pool",
        "insights-pool": world["insights"].pk,
        "insights-source": PoolSource.VENDOR,
        "insights-payment_type": PaymentType.PAY_AS_YOU_GO,
        "insights-seats": 31,  # 10 of 40 are pending at alpha already
        "insights-expiry_mode": "date",
        "insights-expires_on": days(60).isoformat(),
    }
    response = beta_admin_client.post(step_two, data)
    assert response.status_code == 200
    assert "Only 30 seats of this pool are free." in response.content.decode()
    assert PoolAllocation.objects.count() == 2  # neither service was saved
    data["insights-seats"] = 30
    response = beta_admin_client.post(step_two, data)
    assert response.status_code == 302
    created = PoolAllocation.objects.exclude(pk__in=[world["accepted"].pk, world["pending"].pk])
    assert sorted((a.pool.name, a.seats, a.status) for a in created) == [
        ("Backup Pool", 70, AllocationStatus.PENDING),
        ("Insights Pool", 30, AllocationStatus.PENDING),
    ]
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="pool.allocation_create").count() == 2


def test_add_pool_next_without_a_service_says_so(world, beta_admin_client):
    content = beta_admin_client.get(f"/pools/add/?reseller={world['link'].pk}&step=details").content.decode()
    assert "Step 1 of 2" in content
    assert "Select at least one online service to give." in content


def test_add_pool_shows_every_services_errors_at_once_and_requires_a_source(world, beta_admin_client):
    step_two = f"/pools/add/?reseller={world['link'].pk}&service=backup_m365&service=insights"
    content = beta_admin_client.get(step_two).content.decode()
    assert "Any source" not in content
    assert 'value="also" selected' in content  # the first pool's source, chosen, not a filter
    data = {
        "backup_m365-pool": world["backup"].pk,
        "backup_m365-source": PoolSource.ALSO,
        "backup_m365-payment_type": PaymentType.PREPAID,
        "backup_m365-seats": 500,  # more than is free
        "backup_m365-expiry_mode": "same_as_pool",
        "insights-pool": world["insights"].pk,
        "insights-source": "",
        "insights-payment_type": PaymentType.PAY_AS_YOU_GO,
        "insights-seats": 1,
        "insights-expiry_mode": "same_as_pool",
    }
    content = beta_admin_client.post(step_two, data).content.decode()
    assert content.count('data-testid="tab-errors"') == 2
    assert "Correct the fields of: Backup for Microsoft 365" in content or 'data-testid="failing-services"' in content
    assert "seats of this pool are free" in content
    assert PoolAllocation.objects.count() == 2


def test_add_pool_refuses_a_date_past_the_pool(world, beta_admin_client):
    url = f"/pools/add/?reseller={world['link'].pk}&service=backup_m365"
    response = beta_admin_client.post(
        url,
        {
            "backup_m365-pool": world["backup"].pk,
            "backup_m365-source": PoolSource.ALSO,
            "backup_m365-payment_type": PaymentType.PREPAID,
            "backup_m365-seats": 1,
            "backup_m365-expiry_mode": "date",
            "backup_m365-expires_on": (world["backup"].expires_on + datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert "cannot expire after the pool" in response.content.decode()


def test_edit_pool_locks_the_payment_type_once_assigned(world, beta_admin_client):
    url = f"/pools/allocations/{world['accepted'].pk}/edit/"
    content = beta_admin_client.get(url).content.decode()
    assert "the payment type can no longer change" in content
    assert re.search(r'<select name="payment_type"[^>]*disabled', content)
    response = beta_admin_client.post(
        url, {"payment_type": PaymentType.PAY_AS_YOU_GO, "seats": 40, "expiry_mode": "same_as_pool"}
    )
    assert response.status_code == 302
    world["accepted"].refresh_from_db()
    assert (world["accepted"].seats, world["accepted"].payment_type) == (40, PaymentType.PREPAID)
    response = beta_admin_client.post(url, {"seats": 11, "expiry_mode": "same_as_pool"})
    assert "assigned 12 seats to customers" in response.content.decode()


def test_expire_now_asks_for_confirmation(world, beta_admin_client):
    url = f"/pools/allocations/{world['pending'].pk}/edit/"
    data = {"payment_type": PaymentType.PAY_AS_YOU_GO, "seats": 10, "expiry_mode": "now"}
    response = beta_admin_client.post(url, data)
    assert response.status_code == 200
    assert "Expire now cannot be undone" in response.content.decode()
    world["pending"].refresh_from_db()
    assert world["pending"].status == AllocationStatus.PENDING
    response = beta_admin_client.post(url, {**data, "confirm_expire_now": "on"})
    assert response.status_code == 302
    world["pending"].refresh_from_db()
    assert world["pending"].status == AllocationStatus.EXPIRED


def test_return_to_pool_only_while_pending(world, beta_admin_client):
    accepted_url = f"/pools/allocations/{world['accepted'].pk}/return/"
    response = beta_admin_client.post(accepted_url, follow=True)
    assert "Only a pool pending the reseller&#x27;s acceptance can be returned." in response.content.decode()
    pending_url = f"/pools/allocations/{world['pending'].pk}/return/"
    assert "Return Insights Pool to your pool?" in beta_admin_client.get(pending_url).content.decode()
    beta_admin_client.post(pending_url)
    world["pending"].refresh_from_db()
    assert world["pending"].status == AllocationStatus.RETURNED


def test_pool_screens_are_a_404_for_a_service_provider_and_for_others_allocations(
    world, alpha_admin_client, beta_admin_client, partner_alpha
):
    for path in (
        f"/pools/add/?reseller={world['link'].pk}",
        f"/pools/allocations/{world['accepted'].pk}/edit/",
        f"/pools/allocations/{world['pending'].pk}/return/",
    ):
        assert alpha_admin_client.get(path).status_code == 404, path
    foreign = allocation_make(pool_make(partner_alpha, name="Not Beta's"), partner_alpha)
    assert beta_admin_client.get(f"/pools/allocations/{foreign.pk}/edit/").status_code == 404
    assert beta_admin_client.post(f"/pools/allocations/{foreign.pk}/return/").status_code == 404
    assert beta_admin_client.get("/pools/", {"reseller": "999999"}).status_code == 404
    assert beta_admin_client.get("/pools/", {"reseller": "abc"}).status_code == 404


# --- the reseller side --------------------------------------------------------------------------


def test_the_reseller_accepts_a_pool_and_assigns_it(world, alpha_admin_client, partner_alpha):
    page = alpha_admin_client.get("/resellers/my-providers/").content.decode()
    assert "Insights Pool" in page and "Beta Distribution" in page
    alpha_admin_client.post(f"/resellers/my-providers/pools/{world['pending'].pk}/accept/")
    world["pending"].refresh_from_db()
    assert world["pending"].status == AllocationStatus.ACCEPTED

    url = f"/resellers/my-providers/pools/{world['pending'].pk}/assign/"
    assert "10 of 10 seats are free" in alpha_admin_client.get(url).content.decode()
    response = alpha_admin_client.post(url, {"customer": world["customer"].pk, "seats": 11})
    assert "Only 10 seats of this pool are left." in response.content.decode()
    response = alpha_admin_client.post(url, {"customer": world["customer"].pk, "seats": 4})
    assert response.status_code == 302
    with schema_context(partner_alpha.schema_name):
        assignment = PoolAssignment.objects.get(allocation_id=world["pending"].pk)
        assert (assignment.seats, assignment.expires_on) == (4, days(20))  # ends with the pool, under 31 days
        assert AuditEvent.objects.filter(action="pool_assignment.create", customer_id=world["customer"].pk).exists()
    page = alpha_admin_client.get("/resellers/my-providers/").content.decode()
    assert "Contoso Ltd" in page

    response = alpha_admin_client.post(f"/resellers/my-providers/assignments/{assignment.pk}/end/", follow=True)
    assert "The subscription ends on" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.ACTIVE and assignment.expires_on == days(20)


def test_the_reseller_cannot_touch_another_partners_pools(world, partner_beta, beta_admin_client):
    # beta is a partner too: alpha's allocations are not offered to it
    assert beta_admin_client.post(f"/resellers/my-providers/pools/{world['pending'].pk}/accept/").status_code == 404
    assert beta_admin_client.get(f"/resellers/my-providers/pools/{world['accepted'].pk}/assign/").status_code == 404
    world["pending"].refresh_from_db()
    assert world["pending"].status == AllocationStatus.PENDING


# --- query counts -------------------------------------------------------------------------------


def test_the_dashboard_runs_a_constant_number_of_queries(
    world, partner_beta, partner_alpha, beta_admin_client, django_assert_max_num_queries
):
    beta_admin_client.get("/pools/")  # the first request after sign-in also binds the session
    with django_assert_max_num_queries(24) as small:
        assert beta_admin_client.get("/pools/").status_code == 200
    customers = [customer_make(partner_alpha, f"Customer {number:02d}") for number in range(10)]
    snapshots = []
    for number in range(48):
        pool = pool_make(partner_beta, seats=100, name=f"Pool {number:02d}", service=PoolService.CLOUD_MANAGEMENT)
        allocation = allocation_make(pool, partner_alpha, seats=20)
        assignment_make(allocation, customers[number % 10], seats=2)
        snapshots += [
            PoolSnapshot(pool=pool, allocation=allocation, day=days(-offset), purchased=20, allocated=offset % 20)
            for offset in range(0, 180, 3)
        ]
    PoolSnapshot.objects.bulk_create(snapshots)
    assert PoolAllocation.objects.filter(reseller=partner_alpha).count() == 50
    with django_assert_max_num_queries(24) as large:
        response = beta_admin_client.get("/pools/", {"sort": "-seats"})
    assert response.status_code == 200
    assert len(_chart(response.content.decode())["series"]) == 48
    assert len(large) == len(small)


def test_the_pools_menu_opens_the_lars_own_pools(world, beta_admin_client):
    home = beta_admin_client.get("/").content.decode()
    assert 'href="/pools/own/"' in home
    page = beta_admin_client.get("/pools/own/").content.decode()
    # Backup Pool: 100 bought, 30 accepted at alpha; Insights Pool: 40 bought, 10 pending at alpha
    assert 'data-kpi="bought">140<' in page
    assert 'data-kpi="handed_out">40<' in page
    assert 'data-kpi="left">100<' in page
    assert "Backup Pool" in page and "Insights Pool" in page


def test_a_reseller_has_my_providers_in_its_navigation(world, alpha_admin_client, partner_alpha):
    page = alpha_admin_client.get("/").content.decode()
    assert 'href="/resellers/my-providers/"' in page


def test_pools_of_one_name_are_told_apart_in_add_pool(world, beta_admin_client, partner_beta):
    pool_make(partner_beta, seats=20, name="Backup Pool", source=PoolSource.VENDOR)
    step_two = f"/pools/add/?reseller={world['link'].pk}&service=backup_m365"
    content = beta_admin_client.get(step_two).content.decode()
    assert "Backup Pool · ALSO · Prepaid" in content and "Backup Pool · Vendor (direct) · Prepaid" in content
