import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from marketplace.models import MarketplaceAccount

CONNECTION_STATES = (("connected", _("Connected")), ("not_connected", _("Not connected")))


class TenantConnectionFilterSet(django_filters.FilterSet):
    """Search and filters of a marketplace's tenants list; every value lives in the query string."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Tenant, domain or customer"), "type": "search"}),
    )
    state = django_filters.ChoiceFilter(
        label=_("Connection"), choices=CONNECTION_STATES, method="by_state", empty_label=_("Any connection")
    )
    account = django_filters.ModelChoiceFilter(
        label=_("Reseller"), queryset=MarketplaceAccount.objects.none(), empty_label=_("Any reseller")
    )

    def __init__(self, *args, accounts: QuerySet[MarketplaceAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["account"].queryset = accounts

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer_tenant__primary_domain__icontains=value)
            | Q(customer_tenant__display_name__icontains=value)
            | Q(customer_tenant__customer__name__icontains=value)
            | Q(external_customer_name__icontains=value)
        )

    def by_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "connected":
            return queryset.filter(account__isnull=False)
        if value == "not_connected":
            return queryset.filter(account__isnull=True)
        return queryset
