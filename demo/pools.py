"""Demo pools of the demo large account reseller: pools from the vendor and marketplaces, allocations
to its resellers in every status, customer assignments at the resellers, and six months of daily
snapshots so the available licences chart has a history. Runs after demo.resellers; idempotent."""

import datetime
import math

from django.utils import timezone
from django_tenants.utils import schema_context

from customers.models import Customer
from pool_assignments.choices import AssignmentStatus
from pool_assignments.models import PoolAssignment
from pools.choices import (
    HOLDING_STATUSES,
    SERVICE_UNITS,
    AllocationStatus,
    ExpiryMode,
    PaymentType,
    PoolService,
    PoolSource,
    PoolStatus,
    PoolUnit,
)
from pools.models import Pool, PoolAllocation, PoolSnapshot
from portal.partners.models import Partner
from portal.partners.selectors import partner_by_slug

HISTORY_DAYS = 183

# name, service, source, payment type, seats, started (days ago), expires (days from today)
POOLS = [
    (
        "Cloud Backup for Microsoft 365 · 2026",
        PoolService.BACKUP_M365,
        PoolSource.VENDOR,
        PaymentType.PREPAID,
        1000,
        200,
        165,
    ),
    ("Cloud Management · ALSO", PoolService.CLOUD_MANAGEMENT, PoolSource.ALSO, PaymentType.PAY_AS_YOU_GO, 400, 340, 25),
    ("Insights · Cloudmore", PoolService.INSIGHTS, PoolSource.CLOUDMORE, PaymentType.PREPAID, 200, 65, 300),
    ("Cloud Governance · ALEF", PoolService.CLOUD_GOVERNANCE, PoolSource.ALEF, PaymentType.PREPAID, 150, 275, 90),
    ("Cloud Archiving · 2025", PoolService.CLOUD_ARCHIVING, PoolSource.VENDOR, PaymentType.PREPAID, 120, 375, -10),
]
# pool name, reseller slug, seats, status, payment type
ALLOCATIONS = [
    ("Cloud Backup for Microsoft 365 · 2026", "demo-northwind", 300, AllocationStatus.ACCEPTED, PaymentType.PREPAID),
    ("Cloud Management · ALSO", "demo-northwind", 120, AllocationStatus.ACCEPTED, PaymentType.PAY_AS_YOU_GO),
    ("Insights · Cloudmore", "demo-northwind", 50, AllocationStatus.PENDING, PaymentType.PREPAID),
    ("Cloud Governance · ALEF", "demo-northwind", 40, AllocationStatus.RETURNED, PaymentType.PREPAID),
    ("Cloud Archiving · 2025", "demo-northwind", 80, AllocationStatus.EXPIRED, PaymentType.PREPAID),
    (
        "Cloud Backup for Microsoft 365 · 2026",
        "demo-fabrikam",
        200,
        AllocationStatus.ACCEPTED,
        PaymentType.PAY_AS_YOU_GO,
    ),
    ("Insights · Cloudmore", "demo-fabrikam", 60, AllocationStatus.DECLINED, PaymentType.PREPAID),
]
# reseller slug, pool name, customer, seats, first assigned (days ago)
ASSIGNMENTS = [
    ("demo-northwind", "Cloud Backup for Microsoft 365 · 2026", "Contoso Pharma", 120, 150),
    ("demo-northwind", "Cloud Backup for Microsoft 365 · 2026", "Blue Yonder Airlines", 90, 60),
    ("demo-northwind", "Cloud Management · ALSO", "Proseware Inc.", 60, 20),
    ("demo-fabrikam", "Cloud Backup for Microsoft 365 · 2026", "Woodgrove Bank", 150, 120),
    ("demo-fabrikam", "Cloud Backup for Microsoft 365 · 2026", "Coho Winery", 30, 10),
]


def _days(count: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=count)


def _history(*, start: datetime.date, purchased: int, current: int, seed: int) -> list[tuple[datetime.date, int]]:
    """A plausible daily history: use grows from a third of today's towards today's, with a ripple."""
    today = timezone.localdate()
    first = max(start, today - datetime.timedelta(days=HISTORY_DAYS - 1))
    span = max((today - first).days, 1)
    points = []
    for offset in range(span + 1):
        day = first + datetime.timedelta(days=offset)
        progress = offset / span
        value = current * (0.35 + 0.65 * progress) + current * 0.06 * math.sin((offset + seed) / 9)
        points.append((day, max(0, min(purchased, round(value if offset < span else current)))))
    return points


def seed(partner: Partner) -> list[str]:
    pools = {}
    for name, service, source, payment_type, seats, started, expires in POOLS:
        pools[name], _created = Pool.objects.get_or_create(
            owner=partner,
            name=name,
            defaults={
                "service": service,
                "unit": SERVICE_UNITS.get(service, PoolUnit.USER_SEATS),
                "source": source,
                "payment_type": payment_type,
                "seats": seats,
                "starts_on": _days(-started),
                "expires_on": _days(expires),
                "status": PoolStatus.ACTIVE if expires > 0 else PoolStatus.EXPIRED,
            },
        )
    resellers = {slug: partner_by_slug(slug=slug) for slug in {slug for _pool, slug, *_rest in ALLOCATIONS}}
    allocations = {}
    for pool_name, slug, seats, status, payment_type in ALLOCATIONS:
        reseller, pool = resellers[slug], pools[pool_name]
        if reseller is None:
            continue
        ended = status not in HOLDING_STATUSES
        allocations[(pool_name, slug)], _created = PoolAllocation.objects.get_or_create(
            pool=pool,
            reseller=reseller,
            status=status,
            defaults={
                "payment_type": payment_type,
                "seats": seats,
                "expiry_mode": ExpiryMode.SAME_AS_POOL,
                "expires_on": pool.expires_on,
                "created_by": "admin@demo.example",
                "responded_at": timezone.now() if status != AllocationStatus.PENDING else None,
                "ended_at": timezone.now() if ended else None,
            },
        )
    assigned: dict[int, int] = {}
    for slug, pool_name, customer_name, seats, started in ASSIGNMENTS:
        allocation = allocations.get((pool_name, slug))
        if allocation is None:
            continue
        with schema_context(allocation.reseller.schema_name):
            customer = Customer.objects.filter(name=customer_name).first()
            if customer is None:
                continue
            PoolAssignment.objects.get_or_create(
                allocation=allocation,
                customer=customer,
                defaults={
                    "service": allocation.pool.service,
                    "license_type": allocation.payment_type,
                    "seats": seats,
                    "first_assigned_on": _days(-started),
                    "expires_on": allocation.expires_on,
                    "status": AssignmentStatus.ACTIVE,
                },
            )
        assigned[allocation.pk] = assigned.get(allocation.pk, 0) + seats

    snapshots = []
    for index, pool in enumerate(pools.values()):
        if pool.status != PoolStatus.ACTIVE:
            continue
        held = sum(a.seats for a in allocations.values() if a.pool_id == pool.pk and a.status in HOLDING_STATUSES)
        for day, value in _history(start=pool.starts_on, purchased=pool.seats, current=held, seed=index * 7):
            snapshots.append(PoolSnapshot(pool=pool, allocation=None, day=day, purchased=pool.seats, allocated=value))
    for index, allocation in enumerate(allocations.values()):
        if allocation.status not in HOLDING_STATUSES:
            continue
        for day, value in _history(
            start=allocation.pool.starts_on,
            purchased=allocation.seats,
            current=assigned.get(allocation.pk, 0),
            seed=index * 5,
        ):
            snapshots.append(
                PoolSnapshot(
                    pool=allocation.pool, allocation=allocation, day=day, purchased=allocation.seats, allocated=value
                )
            )
    before = PoolSnapshot.objects.filter(pool__owner=partner).count()
    PoolSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
    added = PoolSnapshot.objects.filter(pool__owner=partner).count() - before
    return [
        f"Pools: {len(pools)} pools, {len(allocations)} allocations to resellers, "
        f"{len(ASSIGNMENTS)} customer assignments, {added} daily snapshots added"
    ]
