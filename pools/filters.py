import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pools.choices import AllocationStatus, PaymentType, PoolSource
from pools.models import PoolAllocation
from resellers.selectors import CustomerAssignmentRow


class AllocationFilterSet(django_filters.FilterSet):
    """The reseller dashboard's pools table: search by pool name; filter by source, payment type, status."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Pool name")}),
    )
    source = django_filters.ChoiceFilter(
        field_name="pool__source", choices=PoolSource.choices, label=_("Source"), empty_label=_("Any source")
    )
    payment_type = django_filters.ChoiceFilter(
        choices=PaymentType.choices, label=_("Payment type"), empty_label=_("Any payment type")
    )
    status = django_filters.ChoiceFilter(
        choices=AllocationStatus.choices, label=_("Status"), empty_label=_("Any status")
    )

    class Meta:
        model = PoolAllocation
        fields = ["q", "source", "payment_type", "status"]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[PoolAllocation], name: str, value: str) -> QuerySet[PoolAllocation]:
        for term in value.split():
            queryset = queryset.filter(pool__name__icontains=term)
        return queryset


class CustomerFilterForm(forms.Form):
    """The reseller dashboard's customers table: search by organisation name; filter by customer and pool.

    The rows come from the cross-partner selector, already masked: a hidden customer's name is
    never searched, so a search cannot reveal it."""

    prefix = "customers"

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer's organisation name")}),
    )
    customer = forms.TypedChoiceField(label=_("Customer"), coerce=int, required=False, empty_value=None)
    pool = forms.TypedChoiceField(label=_("Pool"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, customers: list[tuple[int, str]], pools: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", _("Any customer"))] + customers
        self.fields["pool"].choices = [("", _("Any pool"))] + pools

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())

    def apply(self, rows: list[CustomerAssignmentRow]) -> list[CustomerAssignmentRow]:
        if not self.is_bound or not self.is_valid():
            return rows
        terms = self.cleaned_data["q"].lower().split()
        customer, pool = self.cleaned_data["customer"], self.cleaned_data["pool"]
        return [
            row
            for row in rows
            if all(term in row.customer_label.lower() for term in terms)
            and (customer is None or row.customer_id == customer)
            and (pool is None or row.allocation_id == pool)
        ]
