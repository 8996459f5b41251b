from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from portal.core.names import NameFormMixin


class SignUpForm(NameFormMixin, forms.Form):
    """What an organisation enters to get its console. The service checks everything again."""

    normalised_name_fields = ("organisation_name",)

    organisation_name = forms.CharField(label=_("Organisation name"), max_length=200)
    slug = forms.CharField(
        label=_("Console address"),
        max_length=50,
        required=False,
    )
    country = forms.ChoiceField(label=_("Country/region"))
    is_service_provider = forms.BooleanField(
        label=_("Service provider: we sell and manage subscriptions for our customers"), required=False, initial=True
    )
    is_large_account_reseller = forms.BooleanField(
        label=_("Large account reseller: we buy pooled subscriptions and hand them out to resellers"), required=False
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    admin_email = forms.EmailField(
        label=_("Administrator email"), help_text=_("We send a link to this address to verify it.")
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    terms = forms.BooleanField(label=_("I accept the terms of service"), required=False)
    invitation = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = _(
            "Your console will be at this name followed by .%(domain)s. Empty: made from the organisation name."
        ) % {"domain": settings.PORTAL_DOMAIN}
        self.fields["country"].choices = [("", _("Choose your country or region")), *countries]
        self.fields["country"].widget.attrs.update(
            {"hx-get": "/sign-up/data-centre/", "hx-target": "#data-centre", "hx-trigger": "change"}
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned
