"""The reseller dashboard's tables: the reseller's pools, and its customers with pooled subscriptions."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from pool_assignments.choices import AssignmentStatus
from pools.choices import HOLDING_STATUSES, AllocationStatus
from pools.models import PoolAllocation
from portal.core.formatting import DATE_CELL

POOL_COLUMNS_PREFERENCE = "pools.dashboard.pool_columns"
CUSTOMER_COLUMNS_PREFERENCE = "pools.dashboard.customer_columns"
POOL_ALWAYS_SHOWN = ("name", "actions")
POOL_DEFAULT_COLUMNS = ("service", "source", "payment_type", "seats", "assigned", "available", "expires_on", "status")
CUSTOMER_ALWAYS_SHOWN = ("customer",)
CUSTOMER_DEFAULT_COLUMNS = ("pool", "license_type", "seats", "first_assigned_on", "expires_on", "status")

ALLOCATION_BADGES = {
    AllocationStatus.ACCEPTED: "text-bg-success",
    AllocationStatus.PENDING: "text-bg-warning",
    AllocationStatus.DECLINED: "text-bg-danger",
    AllocationStatus.RETURNED: "text-bg-secondary",
    AllocationStatus.EXPIRED: "text-bg-light border",
}


class AllocationTable(tables.Table):
    name = tables.Column(verbose_name=_("Pool"), accessor="pool__name", order_by=("pool__name", "pk"))
    service = tables.Column(verbose_name=_("Service"), accessor="pool__service")
    source = tables.Column(verbose_name=_("Source"), accessor="pool__source")
    payment_type = tables.Column(verbose_name=_("Payment type"))
    seats = tables.Column(verbose_name=_("User seats"))
    assigned = tables.Column(verbose_name=_("Allocated to customers"), accessor="pk", orderable=False)
    available = tables.Column(verbose_name=_("Available"), accessor="pk", orderable=False)
    expires_on = tables.DateColumn(verbose_name=_("Expiration date"), attrs=DATE_CELL)
    status = tables.Column(verbose_name=_("Status"))
    created = tables.DateColumn(verbose_name=_("Added"), attrs=DATE_CELL)
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs={"td": {"class": "text-end"}})

    class Meta:
        model = PoolAllocation
        fields = ()
        sequence = (
            "name",
            "service",
            "source",
            "payment_type",
            "seats",
            "assigned",
            "available",
            "expires_on",
            "status",
            "created",
            "actions",
        )
        order_by = ("name",)
        empty_text = ""
        attrs = {"class": "table table-sm table-hover align-middle mb-0 small"}

    def __init__(self, *args, assigned: dict[int, int], can_manage: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.assigned = assigned
        self.can_manage = can_manage

    def render_name(self, record: PoolAllocation, value: str):
        return format_html('<span class="fw-semibold">{}</span>', value)

    def render_service(self, record: PoolAllocation):
        return record.pool.get_service_display()

    def render_source(self, record: PoolAllocation):
        return record.pool.get_source_display()

    def render_payment_type(self, record: PoolAllocation):
        return record.get_payment_type_display()

    def render_seats(self, record: PoolAllocation, value: int):
        return format_html(
            '{} <span class="small text-body-secondary">{}</span>', value, record.pool.get_unit_display()
        )

    def render_assigned(self, record: PoolAllocation):
        return self.assigned.get(record.pk, 0)

    def render_available(self, record: PoolAllocation):
        if record.status not in HOLDING_STATUSES:
            return "—"
        return max(record.seats - self.assigned.get(record.pk, 0), 0)

    def render_status(self, record: PoolAllocation):
        return format_html(
            '<span class="badge {}">{}</span>',
            ALLOCATION_BADGES.get(record.status, "text-bg-light"),
            record.get_status_display(),
        )

    def render_actions(self, record: PoolAllocation):
        if not self.can_manage or record.status not in HOLDING_STATUSES:
            return ""
        buttons = [
            format_html(
                '<a class="btn btn-sm btn-outline-secondary" href="{}">{}</a>',
                reverse("pools:allocation_edit", args=[record.pk]),
                _("Edit"),
            )
        ]
        if record.status == AllocationStatus.PENDING:
            buttons.append(
                format_html(
                    '<a class="btn btn-sm btn-outline-danger" href="{}">{}</a>',
                    reverse("pools:allocation_return", args=[record.pk]),
                    _("Return to pool"),
                )
            )
        return format_html(
            '<div class="d-inline-flex gap-1">{}</div>', format_html_join("", "{}", ((button,) for button in buttons))
        )


class CustomerUsageTable(tables.Table):
    """Rows are `resellers.selectors.CustomerAssignmentRow`: names already masked when hidden."""

    customer = tables.Column(verbose_name=_("Customer"), accessor="customer_label")
    pool = tables.Column(verbose_name=_("Pool"), accessor="pool_name")
    service = tables.Column(verbose_name=_("Service"), accessor="service_label")
    license_type = tables.Column(verbose_name=_("Licence type"), accessor="license_type_label")
    seats = tables.Column(verbose_name=_("User seats"))
    first_assigned_on = tables.DateColumn(verbose_name=_("First assigned"), attrs=DATE_CELL)
    expires_on = tables.DateColumn(verbose_name=_("Expiration date"), attrs=DATE_CELL)
    status = tables.Column(verbose_name=_("Status"), accessor="status_label")

    class Meta:
        sequence = (
            "customer",
            "pool",
            "service",
            "license_type",
            "seats",
            "first_assigned_on",
            "expires_on",
            "status",
        )
        order_by = ("customer",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_customer(self, value: str):
        return format_html('<span class="fw-semibold" data-testid="customer-name">{}</span>', value)

    def render_status(self, record, value: str):
        css = "text-bg-success" if record.status == AssignmentStatus.ACTIVE else "text-bg-secondary"
        return format_html('<span class="badge {}">{}</span>', css, value)


def _optional(table_class, always_shown) -> list[tuple[str, str]]:
    return [
        (name, str(column.verbose_name))
        for name, column in table_class.base_columns.items()
        if name not in always_shown
    ]


def pool_optional_columns() -> list[tuple[str, str]]:
    return _optional(AllocationTable, POOL_ALWAYS_SHOWN)


def customer_optional_columns() -> list[tuple[str, str]]:
    return _optional(CustomerUsageTable, CUSTOMER_ALWAYS_SHOWN)


def allocation_table(data, *, columns: list[str], **kwargs) -> AllocationTable:
    hidden = [name for name, _label in pool_optional_columns() if name not in columns]
    return AllocationTable(data, exclude=hidden, **kwargs)


def customer_usage_table(data, *, columns: list[str], **kwargs) -> CustomerUsageTable:
    hidden = [name for name, _label in customer_optional_columns() if name not in columns]
    return CustomerUsageTable(data, exclude=hidden, prefix="customers-", **kwargs)
