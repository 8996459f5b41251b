"""Tables of the Report center's list screens (querysets of dicts from `reports.selectors`)."""

from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES
from portal.audit.models import SYSTEM_ACTOR_LABELS, action_label
from portal.core.formatting import DATE_CELL
from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES, SubscriptionStatus

_STATUS_CSS = {
    SubscriptionStatus.ACTIVE: "text-bg-success",
    SubscriptionStatus.SUSPENDED: "text-bg-warning",
    SubscriptionStatus.PENDING: "text-bg-info",
    SubscriptionStatus.FAILED: "text-bg-danger",
}
_CYCLES = dict(BILLING_CYCLE_CHOICES)
_STATUSES = dict(SUBSCRIPTION_STATUS_CHOICES)
ATTRS = {"class": "table table-hover align-middle mb-0"}


class UsageSubscriptionTable(tables.Table):
    customer_name = tables.Column(verbose_name=_("Customer"), order_by=("customer_name", "name"))
    name = tables.Column(verbose_name=_("Subscription"))
    account_name = tables.Column(verbose_name=_("Marketplace account"))
    quantity = tables.Column(
        verbose_name=_("Quantity"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    assigned = tables.Column(
        verbose_name=_("Assigned"), default="—", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    unassigned = tables.Column(
        verbose_name=_("Unassigned"), default="—", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    status = tables.Column(verbose_name=_("Status"))
    billing_cycle = tables.Column(verbose_name=_("Billing cycle"))

    class Meta:
        order_by = ("customer_name",)
        empty_text = ""
        attrs = ATTRS

    def render_name(self, record, value):
        if record.get("tracked_pk"):
            return format_html(
                '<a href="{}" class="fw-semibold text-decoration-none">{}</a>',
                reverse("reports:usage_detail", args=[record["tracked_pk"]]),
                value,
            )
        return value

    def render_unassigned(self, record, value):
        if value and value > 0:
            return format_html('<span class="badge text-bg-warning">{}</span>', value)
        return value

    def render_status(self, value):
        return format_html(
            '<span class="badge {}">{}</span>', _STATUS_CSS.get(value, "text-bg-secondary"), _STATUSES.get(value, value)
        )

    def render_billing_cycle(self, value):
        return _CYCLES.get(value, value)


class UsageCustomerTable(tables.Table):
    customer_name = tables.Column(verbose_name=_("Customer"))
    subscriptions = tables.Column(
        verbose_name=_("Subscriptions"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    seats = tables.Column(verbose_name=_("Seats"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    assigned_seats = tables.Column(
        verbose_name=_("Assigned"), default="—", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    unassigned_seats = tables.Column(
        verbose_name=_("Unassigned"), default="—", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )

    class Meta:
        order_by = ("customer_name",)
        empty_text = ""
        attrs = ATTRS

    def __init__(self, *args, subscriptions_url: str = "?view=subscriptions&customer=", **kwargs):
        super().__init__(*args, **kwargs)
        self.subscriptions_url = subscriptions_url

    def render_customer_name(self, record, value):
        return format_html(
            '<a href="{}{}" class="fw-semibold text-decoration-none">{}</a>',
            self.subscriptions_url,
            record["customer_pk"],
            value,
        )


class ActivityTable(tables.Table):
    actor_label = tables.Column(verbose_name=_("User"))
    events = tables.Column(verbose_name=_("Events"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    actions = tables.Column(
        verbose_name=_("Kinds of action"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    failures = tables.Column(
        verbose_name=_("Failures"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    last = tables.DateTimeColumn(verbose_name=_("Last activity"), format="SHORT_DATETIME_FORMAT", attrs=DATE_CELL)

    class Meta:
        order_by = ("-events",)
        empty_text = ""
        attrs = ATTRS

    def __init__(self, *args, actor_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor_url = actor_url

    def render_actor_label(self, value):
        return format_html(
            '<a href="{}{}" class="fw-semibold text-decoration-none">{}</a>',
            self.actor_url,
            quote(value),
            SYSTEM_ACTOR_LABELS.get(value, value),
        )

    def render_failures(self, value):
        if value:
            return format_html('<span class="badge text-bg-danger">{}</span>', value)
        return value


class ActivityEventTable(tables.Table):
    created = tables.DateTimeColumn(verbose_name=_("Time"), format="SHORT_DATETIME_FORMAT", attrs=DATE_CELL)
    action = tables.Column(verbose_name=_("Action"))
    target_label = tables.Column(verbose_name=_("Object"), default="—")
    result = tables.Column(verbose_name=_("Result"))
    ip_address = tables.Column(verbose_name=_("IP address"), default="—")

    class Meta:
        order_by = ("-created",)
        empty_text = ""
        attrs = ATTRS

    def render_action(self, value):
        return action_label(value)

    def render_result(self, record):
        css = "text-bg-success" if record.result == "success" else "text-bg-danger"
        return format_html('<span class="badge {}">{}</span>', css, record.get_result_display())
