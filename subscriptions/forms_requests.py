"""Forms of licence change requests and Tenant settings > Licenses."""

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.forms import GuardrailForm
from subscriptions.models import SubscriptionOptions, TenantLicenseSettings


class RequestForm(GuardrailForm):
    quantity = forms.IntegerField(label=_("Licences wanted"), min_value=1, max_value=1_000_000)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NewServiceForm(forms.Form):
    customer_tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=None, empty_label=None)
    offer = forms.ModelChoiceField(label=_("Service"), queryset=None, empty_label=None)
    quantity = forms.IntegerField(label=_("Licences"), min_value=1, max_value=1_000_000, initial=1)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, tenants, offers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_tenant"].queryset = tenants
        self.fields["offer"].queryset = offers


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("approve", _("Approve")), ("reject", _("Reject"))), widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TenantLicenseSettingsForm(forms.ModelForm):
    class Meta:
        model = TenantLicenseSettings
        fields = [
            "approval_required",
            "second_approval_seats",
            "second_approval_amount",
            "auto_purchase_enabled",
            "auto_purchase_step",
            "auto_purchase_cap",
            "auto_decrease_enabled",
            "auto_decrease_buffer",
            "auto_decrease_lead_days",
        ]

    def clean_auto_purchase_step(self):
        step = self.cleaned_data["auto_purchase_step"]
        if step < 1:
            raise forms.ValidationError(_("Buy at least one seat at a time."))
        return step

    def clean_auto_decrease_lead_days(self):
        days = self.cleaned_data["auto_decrease_lead_days"]
        if days > 7:
            raise forms.ValidationError(_("The cancellation window lasts 7 days: act at most 7 days before it closes."))
        return days


class SubscriptionOptionsForm(forms.ModelForm):
    class Meta:
        model = SubscriptionOptions
        fields = ["friendly_name", "auto_purchase_excluded", "auto_decrease_excluded", "auto_decrease_buffer"]
