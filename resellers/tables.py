"""The reseller directory table: columns, sorting, and which columns a user chose to see."""

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portal.core.formatting import DATE_CELL
from resellers.choices import ResellerStatus
from resellers.models import ResellerLink

COLUMNS_PREFERENCE = "resellers.directory.columns"
ALWAYS_SHOWN = ("organisation", "actions")
DEFAULT_COLUMNS = ("tenant_owner", "status", "pools", "customers_visible", "invited_at")

STATUS_BADGES = {
    ResellerStatus.MAPPED: "text-bg-success",
    ResellerStatus.PENDING: "text-bg-warning",
    ResellerStatus.UNMAPPED: "text-bg-secondary",
    ResellerStatus.DECLINED: "text-bg-danger",
}


class ResellerTable(tables.Table):
    organisation = tables.Column(
        verbose_name=_("Organisation name"), accessor="organisation_name", order_by=("organisation_name", "email")
    )
    tenant_owner = tables.Column(verbose_name=_("Tenant owner"), accessor="email", order_by=("email",))
    status = tables.Column(verbose_name=_("Status"))
    pools = tables.Column(verbose_name=_("Pools"), accessor="pool_count", order_by=("pool_count",))
    customers_visible = tables.Column(verbose_name=_("View reseller's customers"))
    invited_at = tables.DateColumn(verbose_name=_("Invited"), attrs=DATE_CELL)
    invited_by = tables.Column(verbose_name=_("Invited by"))
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs={"td": {"class": "text-end"}})

    class Meta:
        model = ResellerLink
        fields = ()
        sequence = (
            "organisation",
            "tenant_owner",
            "status",
            "pools",
            "customers_visible",
            "invited_at",
            "invited_by",
            "actions",
        )
        order_by = ("organisation",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def __init__(self, *args, can_manage: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_manage = can_manage

    def render_organisation(self, record: ResellerLink):
        name = record.display_name
        if record.is_mapped:
            url = reverse("pools:dashboard") + f"?reseller={record.pk}"
            return format_html('<a href="{}" class="fw-semibold">{}</a>', url, name)
        return format_html('<span class="fw-semibold">{}</span>', name)

    def render_tenant_owner(self, record: ResellerLink):
        return record.tenant_owner or "—"

    def render_status(self, record: ResellerLink):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(record.status, "text-bg-light"),
            record.get_status_display(),
        )

    def render_customers_visible(self, record: ResellerLink):
        if not record.customers_visible:
            return format_html(
                '<div class="form-check form-switch mb-0" title="{}">'
                '<input class="form-check-input" type="checkbox" role="switch" disabled aria-label="{}">'
                '<span class="small text-body-secondary">{}</span></div>',
                _("Only the reseller can turn this back on."),
                _("View reseller's customers"),
                _("Off · the reseller can turn it on"),
            )
        if not self.can_manage or record.reseller_id is None:
            return format_html('<span class="small">{}</span>', _("On"))
        url = reverse("resellers:visibility_off", args=[record.pk])
        return format_html(
            '<form method="post" action="{}" class="form-check form-switch mb-0">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input class="form-check-input" type="checkbox" role="switch" checked aria-label="{}" data-confirm="{}" '
            "data-auto-submit "
            'data-testid="visibility-switch">'
            '<noscript><button type="submit" class="btn btn-link btn-sm p-0">{}</button></noscript></form>',
            url,
            get_token(self.request),
            _("View reseller's customers"),
            _("Hide this reseller's customer names? Only the reseller can turn this back on."),
            _("Turn off"),
        )

    def render_invited_by(self, record: ResellerLink):
        return record.invited_by or "—"

    def render_actions(self, record: ResellerLink):
        if not self.can_manage:
            return ""
        items = []
        if record.is_mapped:
            items.append((reverse("pools:allocation_add") + f"?reseller={record.pk}", "plus-square", _("Add pool"), ""))
            items.append((reverse("pools:dashboard") + f"?reseller={record.pk}", "speedometer2", _("Dashboard"), ""))
        if record.status == ResellerStatus.UNMAPPED:
            items.append((reverse("resellers:map", args=[record.pk]), "link-45deg", _("Map"), ""))
        items.append((reverse("resellers:delete", args=[record.pk]), "trash", _("Delete"), "text-danger"))
        links = format_html_join(
            "",
            '<li><a class="dropdown-item {}" href="{}"><i class="bi bi-{} me-2" aria-hidden="true"></i>{}</a></li>',
            ((css, url, icon, label) for url, icon, label, css in items),
        )
        return format_html(
            '<div class="dropdown"><button class="btn btn-sm btn-outline-secondary dropdown-toggle" type="button" '
            'data-bs-toggle="dropdown" data-bs-popper-config=\'{{"strategy":"fixed"}}\' '
            'aria-expanded="false">{}</button>'
            '<ul class="dropdown-menu dropdown-menu-end">{}</ul></div>',
            _("Actions"),
            links,
        )


def optional_columns() -> list[tuple[str, str]]:
    """(name, label) of every column a user may show or hide."""
    return [
        (name, str(column.verbose_name))
        for name, column in ResellerTable.base_columns.items()
        if name not in ALWAYS_SHOWN
    ]


def reseller_table(data, *, columns: list[str], **kwargs) -> ResellerTable:
    hidden = [name for name, _label in optional_columns() if name not in columns]
    return ResellerTable(data, exclude=hidden, **kwargs)
