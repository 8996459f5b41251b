"""Forms of the Report center: every report's state is in the query string, parsed by these."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.widgets import CustomerPicker
from reports.billing import (
    BillingCycle,
    billing_cycle_containing,
    billing_cycles_ending_between,
    last_complete_cycle,
    recent_cycles,
)
from reports.choices import BillingPreset, CustomDimension, CustomMeasure, GapKind
from reports.models import MONTH_END
from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES

MAX_CYCLES = 24


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, date):
            return value.strftime("%Y-%m")
        return value


class MonthField(forms.DateField):
    """A month as YYYY-MM (the browser's month input); the value is the month's first day."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class CustomerChoiceField(forms.ModelChoiceField):
    widget = CustomerPicker

    def label_from_instance(self, obj) -> str:
        return obj.name


# -- periods ---------------------------------------------------------------------------------------------------------


PERIOD_PRESETS = (
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("90d", _("Last 90 days")),
    ("custom", _("Custom period")),
)


DEFAULT_PERIOD = "30d"


class PeriodForm(forms.Form):
    """A period of whole days: a preset or a custom start and end.

    A query string without a period means the default preset, and the form says so (the select shows
    the preset the rows cover). A custom range that cannot be read is refused, never swapped for
    another period: `period_bounds` is then None and the report shows the error instead of rows."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_PRESETS, required=False, initial=DEFAULT_PERIOD)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name")}),
    )

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("period"):
            data = data.copy()
            data["period"] = DEFAULT_PERIOD
        super().__init__(data, *args, **kwargs)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Choose the first and the last day of the period."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days > 3 * 366:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        elif period == "7d":
            start, end = today - timedelta(days=6), today
        elif period == "90d":
            start, end = today - timedelta(days=89), today
        elif period == "this_month":
            start, end = today.replace(day=1), today
        elif period == "last_month":
            end = today.replace(day=1) - timedelta(days=1)
            start = end.replace(day=1)
        else:
            start, end = today - timedelta(days=29), today
        data["period"], data["start"], data["end"] = period, start, end
        return data

    def period_bounds(self) -> tuple[date, date] | None:
        """The first and last day of the chosen period; None when the period was refused."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return None


class OperationsForm(PeriodForm):
    customer = CustomerChoiceField(label=_("Customer"), queryset=None, required=False, empty_label=_("All customers"))
    status = forms.ChoiceField(label=_("Job status"), required=False)
    # The online service (marketplace) whose card was clicked; empty: every service.
    service = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, customers, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["status"].choices = [("", _("Any status")), *statuses]


# -- subscription usage -------------------------------------------------------------------------------------------


USAGE_VIEWS = (("subscriptions", _("Per subscription")), ("customers", _("Per customer")))


class UsageForm(forms.Form):
    view = forms.ChoiceField(choices=USAGE_VIEWS, required=False)
    day = forms.DateField(
        label=_("Usage on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today. The 1st of a month shows that billing cycle."),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Subscription or customer")}),
    )
    customer = CustomerChoiceField(label=_("Customer"), queryset=None, required=False, empty_label=_("All customers"))
    account = forms.ModelChoiceField(
        label=_("Marketplace account"), queryset=None, required=False, empty_label=_("All accounts")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *SUBSCRIPTION_STATUS_CHOICES], required=False
    )

    def __init__(self, *args, customers, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["account"].queryset = accounts

    def clean_day(self):
        day = self.cleaned_data.get("day")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("Usage is known up to today."))
        return day


# -- custom report ------------------------------------------------------------------------------------------------


class CustomReportForm(forms.Form):
    dimension = forms.ChoiceField(
        label=_("Group by"), choices=CustomDimension.choices, initial=CustomDimension.CUSTOMER
    )
    measure = forms.ChoiceField(label=_("Measure"), choices=CustomMeasure.choices, initial=CustomMeasure.SEATS)
    currency = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, sees_cost: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_cost:
            self.fields["measure"].choices = [
                choice for choice in CustomMeasure.choices if choice[0] != CustomMeasure.COST
            ]


class SavedReportForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    dimension = forms.ChoiceField(choices=CustomDimension.choices, widget=forms.HiddenInput)
    measure = forms.ChoiceField(choices=CustomMeasure.choices, widget=forms.HiddenInput)


# -- billing --------------------------------------------------------------------------------------------------------


class BillingForm(forms.Form):
    preset = forms.ChoiceField(label=_("Billing cycles"), choices=BillingPreset.choices, required=False)
    first_month = MonthField(label=_("From month"), required=False)
    last_month = MonthField(label=_("To month"), required=False)
    customer = CustomerChoiceField(label=_("Customer"), queryset=None, required=False, empty_label=_("All customers"))
    account = forms.ModelChoiceField(
        label=_("Marketplace account"), queryset=None, required=False, empty_label=_("All accounts")
    )

    def __init__(self, *args, customers, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["account"].queryset = accounts

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or BillingPreset.LAST_CYCLE
        data["preset"] = preset
        if preset == BillingPreset.CUSTOM:
            first, last = data.get("first_month"), data.get("last_month")
            if not first or not last:
                raise forms.ValidationError(_("Choose the first and the last month."))
            if last < first:
                raise forms.ValidationError(_("The last month is before the first."))
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            if months > MAX_CYCLES:
                raise forms.ValidationError(_("Choose at most %(count)s months at a time.") % {"count": MAX_CYCLES})
        return data

    def cycles(self, *, cycle_end_day: int, today: date | None = None) -> list[BillingCycle]:
        """The billing cycles the form asks for, oldest first."""
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {"preset": BillingPreset.LAST_CYCLE}
        preset = data["preset"]
        if preset == BillingPreset.CURRENT_CYCLE:
            return [billing_cycle_containing(today, cycle_end_day=cycle_end_day)]
        if preset == BillingPreset.LAST_3:
            return recent_cycles(today, 3, cycle_end_day=cycle_end_day)
        if preset == BillingPreset.LAST_12:
            return recent_cycles(today, 12, cycle_end_day=cycle_end_day)
        if preset == BillingPreset.CUSTOM:
            return billing_cycles_ending_between(data["first_month"], data["last_month"], cycle_end_day=cycle_end_day)
        return [last_complete_cycle(today, cycle_end_day=cycle_end_day)]


class BillingDayForm(forms.Form):
    cycle_end_day = forms.IntegerField(
        label=_("The billing cycle ends on day"),
        min_value=1,
        max_value=MONTH_END,
        help_text=_("31 (or 29, 30 in shorter months) means the month's last day: calendar months."),
    )
    account = forms.ModelChoiceField(
        label=_("For"), queryset=None, required=False, empty_label=_("The partner (every account without its own day)")
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts


# -- reconciliation ---------------------------------------------------------------------------------------------------


class ReconciliationForm(forms.Form):
    cycle = forms.DateField(label=_("Billing cycle"), required=False, widget=forms.HiddenInput)
    month = MonthField(label=_("Cycle ending in"), required=False)
    customer = CustomerChoiceField(label=_("Customer"), queryset=None, required=False, empty_label=_("All customers"))
    account = forms.ModelChoiceField(
        label=_("Marketplace account"), queryset=None, required=False, empty_label=_("All accounts")
    )
    gap = forms.ChoiceField(
        label=_("Gap"),
        choices=[("", _("Every row")), ("any", _("Rows with a gap")), *GapKind.choices],
        required=False,
    )

    def __init__(self, *args, customers, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["account"].queryset = accounts
