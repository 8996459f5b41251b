"""The storage consumption report: each consented customer tenant's mailbox, OneDrive and SharePoint
storage, read daily from Microsoft Graph's usage reports into `StorageSnapshot` rows, and the reads
of the report screens (a summary, a card per customer, a customer's tenants with their trend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Max

from customers.choices import ConsentState
from customers.models import Customer, CustomerTenant
from customers.selectors import customers_visible_to
from portal.microsoft.graph_reports import GraphReportError, graph_reports
from reports.models import StorageSnapshot

WORKLOADS = ("mailbox", "onedrive", "sharepoint")


@dataclass
class StorageRefresh:
    tenants: int = 0
    days: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def storage_snapshots_refresh(*, tenants=None, period: str = "D30") -> StorageRefresh:
    """Read the storage reports of every consented tenant (or of `tenants`) and store each day. A tenant
    Graph refuses is reported and skipped; the others are stored. Idempotent: a day read again replaces its row."""
    result = StorageRefresh()
    reader = graph_reports()
    if tenants is None:
        tenants = CustomerTenant.objects.filter(consent_state=ConsentState.CONSENTED)
    for tenant in tenants:
        try:
            history = reader.storage_history(tenant_id=str(tenant.tenant_id), period=period)
        except GraphReportError as error:
            result.failures[str(tenant)] = str(error)
            continue
        with transaction.atomic():
            for day in history:
                StorageSnapshot.objects.update_or_create(
                    customer_tenant=tenant,
                    day=day.day,
                    defaults={f"{workload}_bytes": day.used.get(workload, 0) for workload in WORKLOADS},
                )
        result.tenants += 1
        result.days += len(history)
    return result


@dataclass
class StorageUse:
    mailbox: int = 0
    onedrive: int = 0
    sharepoint: int = 0

    @property
    def total(self) -> int:
        return self.mailbox + self.onedrive + self.sharepoint

    def add(self, snapshot: StorageSnapshot) -> None:
        self.mailbox += snapshot.mailbox_bytes
        self.onedrive += snapshot.onedrive_bytes
        self.sharepoint += snapshot.sharepoint_bytes


@dataclass
class CustomerStorage:
    customer: Customer
    use: StorageUse
    tenants: int
    day: date | None


def storage_by_customer(*, user) -> tuple[StorageUse, list[CustomerStorage]]:
    """The summary of every visible customer's latest storage, and a card per customer (largest first)."""
    customers = customers_visible_to(user=user)
    latest = (
        StorageSnapshot.objects.filter(customer_tenant__customer__in=customers)
        .values("customer_tenant_id")
        .annotate(day=Max("day"))
    )
    wanted = {(row["customer_tenant_id"], row["day"]) for row in latest}
    snapshots = StorageSnapshot.objects.filter(
        customer_tenant_id__in={tenant for tenant, _day in wanted}, day__in={day for _tenant, day in wanted}
    ).select_related("customer_tenant__customer")
    summary, cards = StorageUse(), {}
    for snapshot in snapshots:
        if (snapshot.customer_tenant_id, snapshot.day) not in wanted:
            continue
        customer = snapshot.customer_tenant.customer
        card = cards.setdefault(customer.pk, CustomerStorage(customer=customer, use=StorageUse(), tenants=0, day=None))
        card.use.add(snapshot)
        card.tenants += 1
        card.day = max(card.day, snapshot.day) if card.day else snapshot.day
        summary.add(snapshot)
    return summary, sorted(cards.values(), key=lambda card: (-card.use.total, card.customer.name.lower()))


def storage_of_customer(*, customer: Customer) -> list[tuple[CustomerTenant, list[StorageSnapshot]]]:
    """Each of the customer's tenants with its daily snapshots, oldest first (the details and the trend)."""
    rows = []
    for tenant in customer.tenants.order_by("primary_domain"):
        rows.append((tenant, list(tenant.storage_snapshots.order_by("day"))))
    return rows
