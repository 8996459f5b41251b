"""Beat: pools, allocations and customer assignments expire when due; administrators are warned
30 days ahead, once per expiration date; daily snapshots feed the chart."""

from django.conf import settings
from django.utils.formats import date_format
from django_tenants.utils import schema_context

from pool_assignments.choices import AssignmentStatus
from pools.choices import AllocationStatus, PoolStatus
from pools.models import Pool, PoolSnapshot
from pools.services import pool_snapshots_record, pool_update, pools_expire
from pools.tasks import pool_snapshots_record_task, pools_expire_task
from portal.audit.models import AuditEvent, Notification
from tests.pools.pool_support import (
    allocation_make,
    assignment_make,
    customer_make,
    days,
    link_make,
    pool_make,
    today,
)


def _notifications(partner) -> list[str]:
    with schema_context(partner.schema_name):
        return sorted(Notification.objects.values_list("title", flat=True))


def test_beat_runs_both_tasks(partner_beta):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"pools.tasks.pools_expire", "pools.tasks.pool_snapshots_record"} <= tasks


def test_what_is_due_expires_with_its_customer_assignments(partner_beta, partner_alpha):
    link_make(partner_beta, partner_alpha)
    due_pool = pool_make(partner_beta, name="Due Pool", expires_in=30)
    Pool.objects.filter(pk=due_pool.pk).update(expires_on=today())
    with_pool = allocation_make(due_pool, partner_alpha, seats=5, expires_on=today())
    living_pool = pool_make(partner_beta, name="Living Pool", expires_in=300)
    own_date = allocation_make(living_pool, partner_alpha, seats=5, expires_on=today())
    pending = allocation_make(living_pool, partner_alpha, seats=5, status=AllocationStatus.PENDING, expires_on=today())
    lasting = allocation_make(living_pool, partner_alpha, seats=5)
    customer = customer_make(partner_alpha, "Contoso")
    ending = assignment_make(with_pool, customer, seats=1, first_assigned_on=days(-40), expires_on=today())
    own_end = assignment_make(lasting, customer, seats=1, first_assigned_on=days(-40), expires_on=today())
    staying = assignment_make(lasting, customer_make(partner_alpha, "Fabrikam"), seats=1)

    result = pools_expire_task.delay().get()

    assert result == {"pools_expired": 1, "allocations_expired": 3, "assignments_expired": 2, "warnings_sent": 0}
    due_pool.refresh_from_db()
    assert due_pool.status == PoolStatus.EXPIRED
    for allocation, status in (
        (with_pool, AllocationStatus.EXPIRED),
        (own_date, AllocationStatus.EXPIRED),
        (pending, AllocationStatus.EXPIRED),
        (lasting, AllocationStatus.ACCEPTED),
    ):
        allocation.refresh_from_db()
        assert allocation.status == status
    with schema_context(partner_alpha.schema_name):
        for assignment, status in (
            (ending, AssignmentStatus.EXPIRED),
            (own_end, AssignmentStatus.EXPIRED),
            (staying, AssignmentStatus.ACTIVE),
        ):
            assignment.refresh_from_db()
            assert assignment.status == status
        assert AuditEvent.objects.filter(action="pool_assignment.expire").count() == 2
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="pool.expire", target_id=str(due_pool.pk)).count() == 1
        assert AuditEvent.objects.filter(action="pool.allocation_expire").count() == 3
    assert pools_expire().allocations_expired == 0  # nothing left to do


def test_administrators_are_warned_30_days_ahead_once(partner_beta, partner_alpha):
    link_make(partner_beta, partner_alpha)
    soon = pool_make(partner_beta, name="Soon Pool", expires_in=30)
    later = pool_make(partner_beta, name="Later Pool", expires_in=31)
    allocation_make(soon, partner_alpha, seats=5)
    allocation_make(later, partner_alpha, seats=5)

    run = pools_expire()

    assert run.warnings_sent == 2  # one administrator each at beta and alpha
    day = date_format(days(30), "DATE_FORMAT")  # in the administrators' language, English here
    assert _notifications(partner_beta) == [f"Pool Soon Pool expires on {day}"]
    assert _notifications(partner_alpha) == [f"Your pool Soon Pool expires on {day}"]
    with schema_context(partner_beta.schema_name):
        assert Notification.objects.get().level == "warning"
    assert pools_expire().warnings_sent == 0  # warned once per date
    # tomorrow the later pool is 30 days away
    assert pools_expire(today=days(1)).warnings_sent == 2


def test_a_renewal_rearms_the_warning(partner_beta):
    pool = pool_make(partner_beta, name="Renewed Pool", expires_in=10)
    assert pools_expire().warnings_sent == 1
    with schema_context(partner_beta.schema_name):
        pool_update(actor="automation", pool=pool, expires_on=days(20))
    assert pools_expire().warnings_sent == 1
    assert len(_notifications(partner_beta)) == 2


def test_snapshots_record_purchased_and_allocated_once_a_day(partner_beta, partner_alpha):
    link_make(partner_beta, partner_alpha)
    pool = pool_make(partner_beta, seats=100)
    allocation = allocation_make(pool, partner_alpha, seats=30)
    allocation_make(pool, partner_alpha, seats=10, status=AllocationStatus.PENDING)
    allocation_make(pool, partner_alpha, seats=50, status=AllocationStatus.RETURNED)
    assignment_make(allocation, customer_make(partner_alpha, "Contoso"), seats=12)

    assert pool_snapshots_record_task.delay().get() == 3
    pool_level = PoolSnapshot.objects.get(pool=pool, allocation=None)
    assert (pool_level.day, pool_level.purchased, pool_level.allocated) == (today(), 100, 40)
    reseller_level = PoolSnapshot.objects.get(allocation=allocation)
    assert (reseller_level.purchased, reseller_level.allocated, reseller_level.available_percent) == (30, 12, 60.0)

    assignment_make(allocation, customer_make(partner_alpha, "Fabrikam"), seats=3)
    assert pool_snapshots_record() == 3  # the same day again replaces, never duplicates
    assert PoolSnapshot.objects.filter(day=today()).count() == 3
    assert PoolSnapshot.objects.get(allocation=allocation).allocated == 15
