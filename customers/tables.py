"""The customers table: columns, sorting, and which columns a user chose to see."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from customers.choices import CustomerStatus, Industry
from customers.models import Customer
from portal.core.formatting import DATE_CELL

COLUMNS_PREFERENCE = "customers.customer_list.columns"


def _label(choices, value) -> str:
    """A choice's label by enum lookup: `get_FOO_display` flattens and hashes every choice on each
    call, which was most of a 25-row page's rendering."""
    return str(choices(value).label) if value in choices.values else value


ALWAYS_SHOWN = ("name",)
DEFAULT_COLUMNS = ("status", "contact", "country", "industry", "groups", "tenants", "created")


class CustomerTable(tables.Table):
    name = tables.Column(verbose_name=_("Customer"), order_by=("name", "id"))
    # Choice fields are read through `pk`: for a model field with choices django-tables2 calls
    # `get_FOO_display` on every cell, which flattens every choice (250 countries) each time.
    status = tables.Column(verbose_name=_("Status"), accessor="pk", order_by=("status",))
    contact = tables.Column(verbose_name=_("Contact"), accessor="contact_name", order_by=("contact_name",))
    contact_email = tables.Column(verbose_name=_("Email"))
    contact_phone = tables.Column(verbose_name=_("Phone"), orderable=False)
    country = tables.Column(verbose_name=_("Country"), accessor="pk", order_by=("country",))
    city = tables.Column(verbose_name=_("City"))
    industry = tables.Column(verbose_name=_("Industry"), accessor="pk", order_by=("industry",))
    vat_number = tables.Column(verbose_name=_("VAT number"))
    eligibility = tables.Column(verbose_name=_("Eligibility"), accessor="pk", orderable=False)
    groups = tables.Column(verbose_name=_("Groups"), accessor="pk", orderable=False)
    tenants = tables.Column(verbose_name=_("Tenants"), accessor="tenant_count", order_by=("tenant_count",))
    preferred_currency = tables.Column(verbose_name=_("Currency"))
    created = tables.DateColumn(verbose_name=_("Onboarded"), attrs=DATE_CELL)

    class Meta:
        model = Customer
        fields = ()
        sequence = (
            "name",
            "status",
            "contact",
            "contact_email",
            "contact_phone",
            "country",
            "city",
            "industry",
            "vat_number",
            "eligibility",
            "groups",
            "tenants",
            "preferred_currency",
            "created",
        )
        order_by = ("name",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_name(self, record: Customer, value: str):
        link = format_html(
            '<a href="{}" class="fw-semibold text-decoration-none">{}</a>',
            reverse("customers:customer_detail", args=[record.pk]),
            value,
        )
        if record.is_own_organisation:
            return format_html(
                '{} <span class="badge text-bg-info" data-testid="own-organisation">{}</span>', link, _("You")
            )
        return link

    def render_status(self, record: Customer):
        css = "text-bg-success" if record.status == CustomerStatus.ACTIVE else "text-bg-secondary"
        return format_html('<span class="badge {}">{}</span>', css, _label(CustomerStatus, record.status))

    def render_contact(self, record: Customer):
        if not record.contact_email:
            return record.contact_name
        return format_html(
            '{}<div class="small text-body-secondary">{}</div>', record.contact_name, record.contact_email
        )

    def render_country(self, record: Customer):
        if not record.country:
            return "—"
        return format_html('<span title="{}">{}</span>', record.country.name, record.country.code)

    def render_industry(self, record: Customer):
        return _label(Industry, record.industry)

    def render_eligibility(self, record: Customer):
        labels = [
            label
            for flag, label in (
                (record.is_academic, _("Academic")),
                (record.is_government, _("Government")),
                (record.is_non_profit, _("Non-profit")),
            )
            if flag
        ]
        if not labels:
            return "—"
        return format_html_join(
            " ", '<span class="badge text-bg-light border">{}</span>', ((label,) for label in labels)
        )

    def render_groups(self, record: Customer):
        groups = list(record.groups.all())
        if not groups:
            return "—"
        return format_html_join(
            " ", '<span class="badge bg-primary-subtle text-primary-emphasis">{}</span>', ((g.name,) for g in groups)
        )

    def render_tenants(self, record: Customer, value: int):
        consented = getattr(record, "consented_tenant_count", 0)
        if not consented:
            return value
        return format_html(
            '{} <span class="small text-success text-nowrap" title="{}"><i class="bi bi-check-circle-fill" '
            'aria-hidden="true"></i> {}</span>',
            value,
            _("consented"),
            consented,
        )


def optional_columns() -> list[tuple[str, str]]:
    """(name, label) of every column a user may show or hide."""
    table = CustomerTable([])
    return [(name, str(column.verbose_name)) for name, column in table.base_columns.items() if name not in ALWAYS_SHOWN]


def chosen_columns(preferences: dict) -> list[str]:
    """The optional columns a user chose (Manage columns), or the defaults."""
    known = {name for name, _label in optional_columns()}
    saved = preferences.get(COLUMNS_PREFERENCE)
    if not isinstance(saved, list):
        return list(DEFAULT_COLUMNS)
    return [name for name in saved if name in known]


def customer_table(data, *, columns: list[str], **kwargs) -> CustomerTable:
    hidden = [name for name, _label in optional_columns() if name not in columns]
    return CustomerTable(data, exclude=hidden, **kwargs)
