"""Tables of the Orders and Quotes screens."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Quote
from portal.core.formatting import DATE_CELL

LINES_SHOWN = 3

ORDER_STATUS_BADGES = {
    OrderStatus.DRAFT: "text-bg-light border",
    OrderStatus.SUBMITTED: "text-bg-info",
    OrderStatus.PROVISIONING: "text-bg-primary",
    OrderStatus.COMPLETED: "text-bg-success",
    OrderStatus.FAILED: "text-bg-danger",
    OrderStatus.CANCELLED: "text-bg-secondary",
}
QUOTE_STATUS_BADGES = {
    QuoteStatus.OPEN: "text-bg-info",
    QuoteStatus.ACCEPTED: "text-bg-success",
    QuoteStatus.WITHDRAWN: "text-bg-secondary",
}


def order_url(order: Order) -> str:
    """A draft opens as the cart (resume it); anything else as the order."""
    if order.status == OrderStatus.DRAFT:
        return reverse("orders:order_cart", kwargs={"order_pk": order.pk})
    return reverse("orders:order_detail", kwargs={"order_pk": order.pk})


def order_status_badge(order: Order):
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        ORDER_STATUS_BADGES.get(order.status, "text-bg-light"),
        order.status,
        order.get_status_display(),
    )


class OrderTable(tables.Table):
    number = tables.Column(verbose_name=_("Order ID / # of items"), order_by=("created", "id"))
    tenant = tables.Column(
        verbose_name=_("Tenant"),
        accessor="customer_tenant__primary_domain",
        order_by=("customer_tenant__primary_domain",),
    )
    requested_change = tables.Column(verbose_name=_("Requested change"), accessor="pk", orderable=False)
    created_by = tables.Column(verbose_name=_("Created by"), order_by=("created_by__last_name", "created_by__username"))
    created = tables.DateTimeColumn(verbose_name=_("Date"), format="SHORT_DATETIME_FORMAT", attrs=DATE_CELL)
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Order
        fields = ()
        sequence = ("number", "tenant", "requested_change", "created_by", "created", "status")
        order_by = ("-created",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_number(self, record: Order):
        count = getattr(record, "line_count", None)
        if count is None:
            count = len(record.lines.all())
        return format_html(
            '<a href="{}" class="fw-semibold text-decoration-none text-nowrap">{}</a>'
            '<div class="small text-body-secondary">{}</div>',
            order_url(record),
            _("Order %(number)s") % {"number": record.number},
            ngettext("%(count)d item", "%(count)d items", count) % {"count": count},
        )

    def render_tenant(self, record: Order):
        return format_html(
            '<span class="text-break">{}</span><div class="small text-body-secondary">{}</div>',
            record.customer_tenant,
            record.customer_tenant.customer.name,
        )

    def render_requested_change(self, record: Order):
        lines = list(record.lines.all())
        if not lines:
            return "—"
        shown = format_html_join(
            "",
            '<div>{} <span class="text-body-secondary text-nowrap">{}</span></div>',
            ((line.offer_name, line.requested_change) for line in lines[:LINES_SHOWN]),
        )
        if len(lines) > LINES_SHOWN:
            more = _("and %(count)d more") % {"count": len(lines) - LINES_SHOWN}
            return format_html('{}<div class="small text-body-secondary">{}</div>', shown, more)
        return shown

    def render_created_by(self, record: Order):
        user = record.created_by
        if user is None:
            return _("Automation")
        return user.get_full_name() or user.username

    def render_status(self, record: Order):
        return order_status_badge(record)


class QuoteTable(tables.Table):
    number = tables.Column(verbose_name=_("Quote"), order_by=("created", "id"))
    tenant = tables.Column(
        verbose_name=_("Tenant"),
        accessor="order__customer_tenant__primary_domain",
        order_by=("order__customer_tenant__primary_domain",),
    )
    items = tables.Column(verbose_name=_("Items"), accessor="line_count", orderable=False)
    created_by = tables.Column(verbose_name=_("Created by"), order_by=("created_by__last_name", "created_by__username"))
    created = tables.DateColumn(verbose_name=_("Created"), attrs=DATE_CELL)
    valid_until = tables.DateColumn(verbose_name=_("Valid until"), attrs=DATE_CELL)
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Quote
        fields = ()
        sequence = ("number", "tenant", "items", "created_by", "created", "valid_until", "status")
        order_by = ("-created",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_number(self, record: Quote):
        return format_html(
            '<a href="{}" class="fw-semibold text-decoration-none">{}</a>',
            reverse("orders:quote_detail", kwargs={"quote_pk": record.pk}),
            _("Quote %(number)s") % {"number": record.number},
        )

    def render_tenant(self, record: Quote):
        return format_html(
            '{}<div class="small text-body-secondary">{}</div>',
            record.order.customer_tenant,
            record.order.customer_tenant.customer.name,
        )

    def render_created_by(self, record: Quote):
        user = record.created_by
        return (user.get_full_name() or user.username) if user else "—"

    def render_status(self, record: Quote):
        css = "text-bg-warning" if record.is_expired else QUOTE_STATUS_BADGES.get(record.status, "text-bg-light")
        return format_html('<span class="badge {}">{}</span>', css, record.display_status)
