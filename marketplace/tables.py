"""Tables of the marketplace screens: the module's tenants and the marketplace accounts."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from marketplace.choices import AccountStatus, SyncStatus
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.registry import region_label

_STATUS_BADGES = {
    AccountStatus.NEW: "text-bg-secondary",
    AccountStatus.ACTIVE: "text-bg-success",
    AccountStatus.FAILING: "text-bg-danger",
}


class TenantConnectionTable(tables.Table):
    tenant = tables.Column(
        verbose_name=_("Tenant"),
        accessor="customer_tenant__primary_domain",
        order_by=("customer_tenant__primary_domain",),
    )
    customer = tables.Column(
        verbose_name=_("Customer"),
        accessor="customer_tenant__customer__name",
        order_by=("customer_tenant__customer__name",),
    )
    consent = tables.Column(verbose_name=_("Consent"), accessor="customer_tenant__consent_state")
    connection = tables.Column(
        verbose_name=_("Connection"), accessor="account__display_name", order_by=("account__display_name",)
    )
    external_customer = tables.Column(
        verbose_name=_("Customer at the marketplace"),
        accessor="external_customer_name",
        order_by=("external_customer_name",),
    )
    subscriptions = tables.Column(
        verbose_name=_("Subscriptions"), accessor="subscription_count", order_by=("subscription_count",)
    )
    actions = tables.TemplateColumn(
        template_name="marketplace/partials/tenant_actions.html",
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )

    class Meta:
        model = TenantConnection
        fields = ()
        sequence = ("tenant", "customer", "consent", "connection", "external_customer", "subscriptions", "actions")
        order_by = ("tenant",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_tenant(self, record: TenantConnection):
        tenant = record.customer_tenant
        return format_html(
            '<a class="fw-semibold text-decoration-none" href="{}" data-testid="tenant-link">{}</a>'
            '<div class="small text-body-secondary">{}</div>',
            reverse("subscriptions:tenant_detail", args=[tenant.pk]),
            tenant.display_name or tenant,
            tenant.primary_domain if tenant.display_name else tenant.tenant_id,
        )

    def render_consent(self, record: TenantConnection):
        tenant = record.customer_tenant
        if tenant.is_consented:
            return format_html(
                '<i class="bi bi-check-circle-fill text-success" aria-hidden="true"></i> {}',
                tenant.get_consent_state_display(),
            )
        return format_html('<span class="text-warning-emphasis">{}</span>', tenant.get_consent_state_display())

    def render_connection(self, record: TenantConnection):
        if not record.is_connected:
            return format_html('<span class="badge text-bg-light border">{}</span>', _("Not connected"))
        return format_html(
            '<span class="badge text-bg-success">{}</span> <span class="small">{}</span>',
            _("Connected"),
            record.account,
        )

    def render_external_customer(self, record: TenantConnection, value):
        if not record.is_connected:
            return "—"
        return format_html('{}<div class="small text-body-secondary">{}</div>', value, record.external_customer_id)

    def render_subscriptions(self, value):
        return value or 0


class MarketplaceAccountTable(tables.Table):
    display_name = tables.Column(verbose_name=_("Display name"))
    region = tables.Column(verbose_name=_("Region"))
    username = tables.Column(verbose_name=_("Username"))
    status = tables.Column(verbose_name=_("Status"))
    connected_tenants = tables.Column(verbose_name=_("Connected tenants"))
    last_sync_finished = tables.Column(verbose_name=_("Last sync"), empty_values=())
    actions = tables.TemplateColumn(
        template_name="marketplace/partials/account_actions.html",
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )

    class Meta:
        model = MarketplaceAccount
        fields = ()
        sequence = (
            "display_name",
            "region",
            "username",
            "status",
            "connected_tenants",
            "last_sync_finished",
            "actions",
        )
        order_by = ("display_name",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_display_name(self, record: MarketplaceAccount, value):
        url = reverse("marketplace:account_detail", kwargs={"marketplace": record.marketplace, "account_pk": record.pk})
        return format_html('<a href="{}" class="fw-semibold">{}</a>', url, value)

    def render_region(self, record: MarketplaceAccount):
        return region_label(record.marketplace, record.region)

    def render_status(self, record: MarketplaceAccount):
        badge = format_html(
            '<span class="badge {}">{}</span>',
            _STATUS_BADGES.get(record.status, "text-bg-light"),
            record.get_status_display(),
        )
        if record.status_message:
            return format_html('{}<div class="small text-danger-emphasis">{}</div>', badge, record.status_message)
        return badge

    def render_last_sync_finished(self, record: MarketplaceAccount, value):
        if value is None:
            return _("Never")
        return format_html(
            '{} <span class="small text-body-secondary">({})</span>',
            date_format(localtime(value), "SHORT_DATETIME_FORMAT"),
            SyncStatus(record.last_sync_status).label if record.last_sync_status else "",
        )
