import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Quote
from orders.selectors import order_search


class OrderFilterSet(django_filters.FilterSet):
    """Search and filters of the Orders screen; every value lives in the query string."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Order, tenant, customer, product, friendly name or PO")}
        ),
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"), empty_label=_("Any status"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Created by me"), widget=forms.CheckboxInput)

    class Meta:
        model = Order
        fields = ["q", "status", "mine"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return order_search(queryset, value)

    def filter_mine(self, queryset: QuerySet[Order], name: str, value: bool) -> QuerySet[Order]:
        return queryset.filter(created_by=self.user) if value else queryset


class QuoteFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Quote, tenant or customer")}),
    )
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices, label=_("Status"), empty_label=_("Any status"))

    class Meta:
        model = Quote
        fields = ["q", "status"]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[Quote], name: str, value: str) -> QuerySet[Quote]:
        for term in value.split():
            queryset = queryset.filter(
                Q(number__icontains=term)
                | Q(order__customer_tenant__primary_domain__icontains=term)
                | Q(order__customer_tenant__customer__name__icontains=term)
            )
        return queryset
