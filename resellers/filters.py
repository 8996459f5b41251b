import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from resellers.choices import ResellerStatus
from resellers.models import ResellerLink


class ResellerFilterSet(django_filters.FilterSet):
    """Search by tenant owner (and organisation name) and filter by status; all in the query string."""

    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Tenant owner or organisation name")}),
    )
    status = django_filters.ChoiceFilter(choices=ResellerStatus.choices, label=_("Status"), empty_label=_("Any status"))

    class Meta:
        model = ResellerLink
        fields = ["q", "status"]

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[ResellerLink], name: str, value: str) -> QuerySet[ResellerLink]:
        for term in value.split():
            queryset = queryset.filter(
                Q(email__icontains=term)
                | Q(reseller__owner_email__icontains=term)
                | Q(organisation_name__icontains=term)
                | Q(reseller__name__icontains=term)
            )
        return queryset
