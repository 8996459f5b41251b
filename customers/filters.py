import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from customers.choices import CustomerStatus, Industry
from customers.models import Customer
from customers.selectors import customer_countries, customer_groups_visible_to

ELIGIBILITY_CHOICES = (
    ("academic", _("Academic")),
    ("government", _("Government")),
    ("non_profit", _("Non-profit")),
)


class CustomerFilterSet(django_filters.FilterSet):
    """Search and filters of the customers screen; every value lives in the query string."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, contact, email or VAT number")}),
    )
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices, label=_("Status"), empty_label=_("Any status"))
    country = django_filters.ChoiceFilter(label=_("Country"), empty_label=_("Any country"))
    group = django_filters.ModelChoiceFilter(
        field_name="groups", queryset=None, label=_("Customer group"), empty_label=_("Any group")
    )
    industry = django_filters.ChoiceFilter(choices=Industry.choices, label=_("Industry"), empty_label=_("Any industry"))
    eligibility = django_filters.ChoiceFilter(
        method="filter_eligibility", choices=ELIGIBILITY_CHOICES, label=_("Eligibility"), empty_label=_("Any")
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "country", "group", "industry", "eligibility"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["group"].queryset = customer_groups_visible_to(user=user)
        self.filters["country"].extra["choices"] = [
            (code, countries.name(code)) for code in customer_countries(customers=self.queryset)
        ]

    @property
    def groups_available(self) -> bool:
        return self.filters["group"].queryset.exists()

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        for term in value.split():
            queryset = queryset.filter(
                Q(name__icontains=term)
                | Q(contact_name__icontains=term)
                | Q(contact_email__icontains=term)
                | Q(vat_number__icontains=term)
            )
        return queryset

    def filter_eligibility(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        field = {"academic": "is_academic", "government": "is_government", "non_profit": "is_non_profit"}.get(value)
        return queryset.filter(**{field: True}) if field else queryset
