import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.accounts.choices import UserKind
from portal.accounts.models import Role
from portal.accounts.selectors import UserStatus


class UserFilterSet(django_filters.FilterSet):
    """Settings > Users: search plus kind, role and status; all in the query string."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Name, username or email"), "type": "search"}),
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=UserKind.choices, empty_label=_("Any kind"))
    role = django_filters.ModelChoiceFilter(
        label=_("Role"), field_name="roles", queryset=Role.objects.all(), empty_label=_("Any role")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=UserStatus.choices, empty_label=_("Any status"))

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(username__icontains=word)
                | Q(email__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
            )
        return queryset


class CustomerGroupFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Group name"), "type": "search"}),
    )

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
