"""Search and filters of the catalog screens; every value lives in the query string."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES, Eligibility
from catalog.models import Category, CustomerPrice, Offer, ProductGroup
from catalog.selectors import OTHER, offers_in


def _search(queryset: QuerySet[Offer], value: str, prefix: str = "") -> QuerySet[Offer]:
    for term in value.split():
        queryset = queryset.filter(
            Q(**{f"{prefix}name__icontains": term})
            | Q(**{f"{prefix}sku__icontains": term})
            | Q(**{f"{prefix}vendor__icontains": term})
            | Q(**{f"{prefix}product_id__iexact": term})
        )
    return queryset


class CatalogFilterSet(django_filters.FilterSet):
    """The public catalog and the store: search and a category."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, vendor or item code")}),
    )
    category = django_filters.ChoiceFilter(
        method="filter_category", label=_("Category"), empty_label=_("All categories")
    )

    class Meta:
        model = Offer
        fields = ["q", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["category"].extra["choices"] = [
            *((str(pk), name) for pk, name in Category.objects.values_list("pk", "name")),
            (OTHER, _("Other")),
        ]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return _search(queryset, value)

    def filter_category(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return offers_in(queryset, category=value)


class OfferFilterSet(CatalogFilterSet):
    """The partner's catalog: also by product group, marketplace account, billing cycle, visibility."""

    group = django_filters.ChoiceFilter(method="filter_group", label=_("Product group"), empty_label=_("All groups"))
    account = django_filters.ModelChoiceFilter(
        queryset=None, label=_("Marketplace account"), empty_label=_("All accounts")
    )
    billing_cycle = django_filters.ChoiceFilter(
        choices=BILLING_CYCLE_CHOICES, label=_("Billing cycle"), empty_label=_("Any billing cycle")
    )
    eligibility = django_filters.ChoiceFilter(
        choices=[(value or "everyone", label) for value, label in Eligibility.choices],
        method="filter_eligibility",
        label=_("Eligibility"),
        empty_label=_("Any"),
    )
    visibility = django_filters.ChoiceFilter(
        choices=(
            ("visible", _("Shown to customers")),
            ("hidden", _("Hidden from customers")),
            ("unavailable", _("No longer at the marketplace")),
        ),
        method="filter_visibility",
        label=_("Visibility"),
        empty_label=_("Available offers"),
    )

    class Meta:
        model = Offer
        fields = ["q", "category", "group", "account", "billing_cycle", "eligibility", "visibility"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from marketplace.models import MarketplaceAccount

        self.filters["account"].queryset = MarketplaceAccount.objects.all()
        self.filters["group"].extra["choices"] = [
            *((str(pk), name) for pk, name in ProductGroup.objects.values_list("pk", "name")),
            (OTHER, _("Not sorted yet")),
        ]

    def filter_queryset(self, queryset: QuerySet[Offer]) -> QuerySet[Offer]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("visibility"):
            queryset = queryset.filter(is_available=True)
        return queryset

    def filter_group(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return offers_in(queryset, group=value)

    def filter_eligibility(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return queryset.filter(eligibility="" if value == "everyone" else value)

    def filter_visibility(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        if value == "unavailable":
            return queryset.filter(is_available=False)
        hidden = Q(is_visible=False) | Q(product_group__is_visible=False)
        queryset = queryset.filter(is_available=True)
        return queryset.filter(hidden) if value == "hidden" else queryset.exclude(hidden)


class CustomerPriceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer or offer")}),
    )
    customer = django_filters.ModelChoiceFilter(queryset=None, label=_("Customer"), empty_label=_("All customers"))

    class Meta:
        model = CustomerPrice
        fields = ["q", "customer"]

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["customer"].queryset = customers

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[CustomerPrice], name: str, value: str) -> QuerySet[CustomerPrice]:
        for term in value.split():
            queryset = queryset.filter(
                Q(customer__name__icontains=term) | Q(offer__name__icontains=term) | Q(offer__sku__icontains=term)
            )
        return queryset
