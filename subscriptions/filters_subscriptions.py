"""Search and filters of the Subscriptions screen and the commitment calendar; all state in the query string."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES
from customers.selectors import customers_visible_to
from customers.widgets import CustomerPicker
from marketplace.choices import MarketplaceSlug
from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES
from subscriptions.models import Subscription

TRIAL_CHOICES = (("yes", _("Trials only")), ("no", _("Paid only")))


class SubscriptionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Subscription, domain, customer or ID")}),
    )
    status = django_filters.ChoiceFilter(
        choices=SUBSCRIPTION_STATUS_CHOICES, label=_("Status"), empty_label=_("Any status")
    )
    marketplace = django_filters.ChoiceFilter(
        field_name="account__marketplace",
        choices=MarketplaceSlug.choices,
        label=_("Marketplace"),
        empty_label=_("Any marketplace"),
    )
    customer = django_filters.ModelChoiceFilter(
        field_name="customer_tenant__customer",
        queryset=None,
        label=_("Customer"),
        empty_label=_("Any customer"),
        widget=CustomerPicker,
    )
    billing_cycle = django_filters.ChoiceFilter(
        choices=BILLING_CYCLE_CHOICES, label=_("Billing cycle"), empty_label=_("Any billing cycle")
    )
    trial = django_filters.ChoiceFilter(
        method="filter_trial", choices=TRIAL_CHOICES, label=_("Trial"), empty_label=_("Trials and paid")
    )

    class Meta:
        model = Subscription
        fields = ["q", "status", "marketplace", "customer", "billing_cycle", "trial"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # names only: the filter lists every customer (thousands for a large partner)
        self.filters["customer"].queryset = customers_visible_to(user=user).order_by("name").only("id", "name")

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters)

    def search(self, queryset: QuerySet[Subscription], name: str, value: str) -> QuerySet[Subscription]:
        for term in value.split():
            queryset = queryset.filter(
                Q(name__icontains=term)
                | Q(options__friendly_name__icontains=term)
                | Q(customer_tenant__primary_domain__icontains=term)
                | Q(customer_tenant__customer__name__icontains=term)
                | Q(external_id__icontains=term)
                | Q(offer_external_id__icontains=term)
            )
        return queryset

    def filter_trial(self, queryset: QuerySet[Subscription], name: str, value: str) -> QuerySet[Subscription]:
        if value == "yes":
            return queryset.filter(trial=True)
        if value == "no":
            return queryset.filter(trial=False)
        return queryset


class CalendarFilterForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Customer"), empty_label=_("Any customer"), widget=CustomerPicker
    )
    marketplace = forms.ChoiceField(required=False, label=_("Marketplace"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_visible_to(user=user).order_by("name").only("id", "name")
        self.fields["marketplace"].choices = [("", _("Any marketplace")), *MarketplaceSlug.choices]
