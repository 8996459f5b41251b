import re

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerGroup
from portal.core.names import NameFormMixin

PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,38}$")
VAT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9.-]{1,39}$")
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,19}$")

# Form sections of the onboarding screen, in order: (title, fields).
CUSTOMER_FORM_SECTIONS = (
    (_("Organisation"), ("name", "status", "industry", "vat_number")),
    (_("Contact"), ("contact_name", "contact_email", "contact_phone")),
    (_("Address"), ("address_line1", "address_line2", "city", "postal_code", "state", "country")),
    (_("Eligibility"), ("is_academic", "is_government", "is_non_profit")),
    (_("Preferences"), ("preferred_language", "preferred_currency", "groups")),
)


class CustomerForm(NameFormMixin, forms.ModelForm):
    """Onboarding and editing a customer. Customer groups are limited to those the user may assign."""

    class Meta:
        model = Customer
        fields = [field for _title, fields in CUSTOMER_FORM_SECTIONS for field in fields]
        widgets = {
            "groups": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_phone": forms.TextInput(attrs={"autocomplete": "tel", "placeholder": "+49 30 1234567"}),
            "vat_number": forms.TextInput(attrs={"placeholder": "DE123456789"}),
        }
        help_texts = {
            "vat_number": _("With its country prefix for EU VAT numbers, e.g. DE123456789."),
            "is_academic": _("Schools, universities and research institutions: may buy academic offers."),
            "is_government": _("Public sector: may buy government offers."),
            "is_non_profit": _("Registered charities and non-profits: may buy non-profit offers."),
            "groups": _("Roles that cover a group see its customers."),
        }

    def __init__(self, *args, groups=None, groups_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("contact_name", "contact_email", "country"):
            self.fields[name].required = True
        if groups is None:
            del self.fields["groups"]
        else:
            self.fields["groups"].queryset = groups
            self.fields["groups"].required = groups_required
            if groups_required:
                self.fields["groups"].help_text = _(
                    "Choose at least one of your customer groups, or you will not see the customer."
                )

    @property
    def sections(self):
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in CUSTOMER_FORM_SECTIONS
        ]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("Enter a phone number with digits only, optionally starting with +."))
        return phone

    def clean_vat_number(self) -> str:
        vat_number = re.sub(r"\s+", "", self.cleaned_data["vat_number"]).upper()
        if vat_number and not VAT_NUMBER.match(vat_number):
            raise forms.ValidationError(_("Enter a VAT number of letters and digits, e.g. DE123456789."))
        return vat_number

    def clean_postal_code(self) -> str:
        postal_code = self.cleaned_data["postal_code"].strip()
        if postal_code and not POSTAL_CODE.match(postal_code):
            raise forms.ValidationError(_("Enter a postal code of letters, digits, spaces and dashes."))
        return postal_code

    def service_fields(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "groups"}

    def service_groups(self) -> list[CustomerGroup] | None:
        return list(self.cleaned_data["groups"]) if "groups" in self.fields else None


class TypedConfirmationForm(forms.Form):
    """A destructive action confirmed by typing the object's name, as GitHub does for repositories."""

    confirmation = forms.CharField(label=_("Confirmation"), max_length=300)

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirmation"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip()
        if typed != self.expected:
            raise forms.ValidationError(
                _("Type “%(expected)s” exactly to confirm."), code="mismatch", params={"expected": self.expected}
            )
        return typed


class CustomerTenantAddForm(forms.Form):
    domain_or_id = forms.CharField(
        label=_("Tenant ID or domain"),
        max_length=253,
        help_text=_("The directory (tenant) ID, or a verified domain such as contoso.onmicrosoft.com."),
        widget=forms.TextInput(attrs={"placeholder": "contoso.onmicrosoft.com", "autocomplete": "off"}),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)


class ColumnsForm(forms.Form):
    """ "Manage columns": which optional columns a user wants on a list screen."""

    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = choices
