"""Reads of pools, allocations, the reseller dashboard and its chart (public schema, plus the one
cross-partner read of `resellers.selectors.reseller_customer_usage`)."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from pools.choices import HOLDING_STATUSES, AllocationStatus, PoolSource, PoolStatus
from pools.models import Pool, PoolAllocation, PoolSnapshot
from portal.core.formatting import when_text
from portal.partners.models import Partner
from resellers.models import ResellerLink
from resellers.selectors import ResellerCustomerUsage, reseller_customer_usage

CHART_DAYS = 183  # six months of daily snapshots
CHART_COLOURS = 8  # the chart's palette (pools/available_licences_chart.js, .chart-key-N in console.css)
EXPIRING_DAYS = 30


def pools_of(*, owner: Partner) -> QuerySet[Pool]:
    """The LAR's pools with `allocated` (seats held by resellers) and `free` annotated."""
    return (
        Pool.objects.filter(owner=owner)
        .annotate(
            allocated=Coalesce(
                Sum("allocations__seats", filter=Q(allocations__status__in=HOLDING_STATUSES)),
                Value(0),
                output_field=IntegerField(),
            )
        )
        .annotate(free=F("seats") - F("allocated"))
        .order_by("name", "pk")
    )


def pools_assignable(*, owner: Partner, today: datetime.date | None = None) -> QuerySet[Pool]:
    today = today or timezone.localdate()
    return pools_of(owner=owner).filter(status=PoolStatus.ACTIVE, expires_on__gt=today)


def pool_allocations_for_link(*, link: ResellerLink) -> QuerySet[PoolAllocation]:
    """Every allocation (any status) of the LAR's pools to this reseller."""
    if link.reseller_id is None:
        return PoolAllocation.objects.none()
    return PoolAllocation.objects.filter(
        pool__owner_id=link.large_account_reseller_id, reseller_id=link.reseller_id
    ).select_related("pool")


def pool_allocations_of(*, large_account_reseller: Partner) -> QuerySet[PoolAllocation]:
    """Allocations of the LAR's pools: a LAR looks its allocations up here, so others' are a 404."""
    return PoolAllocation.objects.filter(pool__owner=large_account_reseller).select_related("pool", "reseller")


def pool_allocations_offered_to(*, partner: Partner) -> QuerySet[PoolAllocation]:
    """The reseller side: pools offered to this partner by the LARs whose directory it is in."""
    return (
        PoolAllocation.objects.filter(reseller=partner)
        .select_related("pool__owner")
        .order_by("pool__owner__name", "pool__name", "pk")
    )


@dataclass(frozen=True)
class ResellerKpis:
    pools: int
    customers: int
    total_seats: int
    allocated_seats: int
    pending_seats: int
    expiring_seats: int


@dataclass
class ResellerDashboard:
    link: ResellerLink
    kpis: ResellerKpis
    usage: ResellerCustomerUsage


def reseller_dashboard(*, link: ResellerLink, today: datetime.date | None = None) -> ResellerDashboard:
    """KPIs of one reseller: pools, customers with active pooled subscriptions, seats
    given, assigned to customers, pending acceptance, expiring in 30 days."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=EXPIRING_DAYS)
    totals = (
        pool_allocations_for_link(link=link)
        .filter(status__in=HOLDING_STATUSES)
        .aggregate(
            pools=Count("pk"),
            total=Sum("seats"),
            pending=Sum("seats", filter=Q(status=AllocationStatus.PENDING)),
            expiring=Sum("seats", filter=Q(expires_on__lte=horizon)),
        )
    )
    usage = reseller_customer_usage(link=link, today=today)
    kpis = ResellerKpis(
        pools=totals["pools"] or 0,
        customers=usage.customer_count,
        total_seats=totals["total"] or 0,
        allocated_seats=usage.assigned_seats,
        pending_seats=totals["pending"] or 0,
        expiring_seats=totals["expiring"] or 0,
    )
    return ResellerDashboard(link=link, kpis=kpis, usage=usage)


def available_licences_chart(*, link: ResellerLink, today: datetime.date | None = None) -> dict:
    """The available licences chart of one reseller: per allocation, per day of the last six
    months, the percentage still available with the purchased and allocated counts (one query)."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=CHART_DAYS - 1)
    days = [start + datetime.timedelta(days=offset) for offset in range(CHART_DAYS)]
    index = {day: position for position, day in enumerate(days)}
    series: dict[int, dict] = {}
    if link.reseller_id is not None:
        rows = (
            PoolSnapshot.objects.filter(
                allocation__pool__owner_id=link.large_account_reseller_id,
                allocation__reseller_id=link.reseller_id,
                day__gte=start,
                day__lte=today,
            )
            .order_by("allocation__pool__name", "allocation_id", "day")
            .values_list(
                "allocation_id",
                "allocation__pool__name",
                "allocation__pool__source",
                "allocation__expires_on",
                "day",
                "purchased",
                "allocated",
            )
        )
        sources = dict(PoolSource.choices)
        for allocation_id, pool_name, source, expires_on, day, purchased, allocated in rows:
            entry = series.setdefault(
                allocation_id,
                {
                    "id": allocation_id,
                    # two pools of one name differ by source or dates: the label says which
                    "label": f"{pool_name} · {sources.get(source, source)} · {when_text(expires_on)}",
                    "percent": [None] * CHART_DAYS,
                    "purchased": [None] * CHART_DAYS,
                    "allocated": [None] * CHART_DAYS,
                },
            )
            position = index[day]
            entry["percent"][position] = round(100 * max(purchased - allocated, 0) / purchased, 1) if purchased else 0.0
            entry["purchased"][position] = purchased
            entry["allocated"][position] = allocated
    drawn = list(series.values())
    for position, entry in enumerate(drawn):
        entry["colour"] = position % CHART_COLOURS  # the legend's key and the line share it
    return {"days": [day.isoformat() for day in days], "series": drawn}
