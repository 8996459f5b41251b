"""Forms of the lifecycle screens. Each carries the subscription version the user saw (`version`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.choices import BillingCycle
from catalog.forms import GuardrailForm

CHANGEABLE_BILLING_CYCLES = ((BillingCycle.MONTHLY, _("Monthly")), (BillingCycle.ANNUAL, _("Annual")))


class VersionedForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class QuantityForm(VersionedForm, GuardrailForm):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000)
    schedule = forms.BooleanField(
        label=_("If the window does not allow it now, schedule the decrease for the renewal"),
        required=False,
        initial=True,
    )


class ConfirmForm(VersionedForm):
    confirm = forms.BooleanField(label=_("I understand what this does"), required=True)


class BillingCycleForm(VersionedForm):
    billing_cycle = forms.ChoiceField(label=_("Billing cycle"), choices=CHANGEABLE_BILLING_CYCLES)


class AutoRenewForm(VersionedForm):
    enabled = forms.TypedChoiceField(
        label=_("Auto-renew"),
        choices=(("1", _("On: renew at the end of the term")), ("0", _("Off: end with the term"))),
        coerce=lambda value: value == "1",
    )


class FriendlyNameForm(forms.Form):
    friendly_name = forms.CharField(
        label=_("Friendly name"),
        max_length=120,
        required=False,
        help_text=_("Shown on every subscription view and on billing reports."),
    )


class ConvertTrialForm(VersionedForm):
    offer = forms.ModelChoiceField(label=_("Paid plan"), queryset=None, empty_label=None)

    def __init__(self, *args, offers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers


class AddOnAddForm(VersionedForm):
    offer = forms.ModelChoiceField(label=_("Add-on"), queryset=None, empty_label=None)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000, initial=1)

    def __init__(self, *args, offers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers


class AddOnChangeForm(VersionedForm):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000)


class ColumnsForm(forms.Form):
    """Manage columns of the Subscriptions screen."""

    columns = forms.MultipleChoiceField(
        label=_("Columns"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
    )
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = choices
