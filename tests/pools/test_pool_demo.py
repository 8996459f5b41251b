"""The demo seed: a LAR with resellers in each status, pools, allocations in each status, customer
assignments and six months of snapshots; a second run changes nothing."""

from django_tenants.utils import schema_context

from demo import pools as pools_demo
from demo import resellers as resellers_demo
from pool_assignments.models import PoolAssignment
from pools.choices import AllocationStatus
from pools.models import Pool, PoolAllocation, PoolSnapshot
from pools.selectors import available_licences_chart
from portal.partners.selectors import partner_by_slug
from resellers.choices import ResellerStatus
from resellers.models import ResellerLink


def _state(partner):
    northwind = partner_by_slug(slug="demo-northwind")
    with schema_context(northwind.schema_name):
        assignments = PoolAssignment.objects.count()
    return (
        sorted(ResellerLink.objects.filter(large_account_reseller=partner).values_list("status", flat=True)),
        Pool.objects.filter(owner=partner).count(),
        sorted(PoolAllocation.objects.filter(pool__owner=partner).values_list("status", flat=True)),
        PoolSnapshot.objects.filter(pool__owner=partner).count(),
        assignments,
    )


def test_the_demo_seed_covers_every_status_and_is_idempotent(partner_beta):
    with schema_context(partner_beta.schema_name):
        lines = resellers_demo.seed(partner_beta) + pools_demo.seed(partner_beta)
        first = _state(partner_beta)
        resellers_demo.seed(partner_beta)
        pools_demo.seed(partner_beta)
        second = _state(partner_beta)
    assert first == second
    statuses, pools, allocation_statuses, snapshots, assignments = first
    assert set(statuses) == set(ResellerStatus.values)
    assert set(allocation_statuses) == set(AllocationStatus.values)
    assert pools == 5 and assignments == 3
    assert snapshots > 5 * 150
    assert any("demo-reseller-pass" in line for line in lines)
    link = ResellerLink.objects.get(large_account_reseller=partner_beta, reseller__slug="demo-northwind")
    chart = available_licences_chart(link=link)
    assert len(chart["series"]) == 3  # two accepted, one pending
    assert sum(value is not None for value in chart["series"][0]["percent"]) > 150
