"""Forms of customer self-registration: the public sign-up form and Settings > Customer registration."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from customers.forms import PHONE
from portal.accounts.models import Role
from portal.core.names import NameFormMixin


class CustomerRegistrationForm(NameFormMixin, forms.Form):
    """What an organisation enters to become the partner's customer. The service checks everything again."""

    normalised_name_fields = ("company_name",)

    company_name = forms.CharField(label=_("Organisation name"), max_length=200)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("We send a link to this address to verify it."))
    phone = forms.CharField(label=_("Phone number"), max_length=40, required=False)
    address_line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country/region"))
    vat_number = forms.CharField(label=_("VAT number"), max_length=40, required=False)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose your country or region")), *countries]

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("Enter a phone number of digits, spaces and + ( ) . / -."))
        return phone

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class CustomerRegistrationSettingsForm(forms.Form):
    allow_registration = forms.BooleanField(
        label=_("Customers may register"),
        required=False,
        help_text=_("A sign-up form on your console's address lets organisations register as your customers."),
    )
    auto_approve = forms.BooleanField(
        label=_("Approve registrations automatically"),
        required=False,
        help_text=_("A registration whose email address is verified becomes a customer at once, without review."),
    )
    role = forms.ModelChoiceField(
        label=_("Role of the customer's administrator"),
        queryset=Role.objects.filter(is_builtin=False).order_by("name"),
        required=False,
        help_text=_("Capped like every customer tenant admin: customers, subscriptions and the catalog."),
    )
