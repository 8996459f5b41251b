from django import forms
from django.core import signing
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pool_assignments.choices import MINIMUM_TERM_DAYS
from portal.core.names import NameFormMixin
from portal.partners.models import Partner

BATCH_SIGNING_SALT = "resellers.batch-invite"
BATCH_MAX_AGE_SECONDS = 60 * 60


class InviteSearchForm(NameFormMixin, forms.Form):
    """Single invite, step one: who to look for (GET, so the search is in the address bar)."""

    normalised_name_fields = ("organisation_name",)

    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("The reseller's tenant owner. Found by this address first, then by its domain and the name."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "owner@reseller.example"}),
    )
    organisation_name = forms.CharField(label=_("Organisation name"), max_length=200, required=False)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class InvitePartnerForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.exclude(schema_name="public"), widget=forms.HiddenInput)
    organisation_name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)


class InviteEmailForm(forms.Form):
    email = forms.EmailField(widget=forms.HiddenInput)
    organisation_name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)


class BatchUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Template file"),
        help_text=_("The XLSX or CSV template with one reseller per row (at most 1,000)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    send_email = forms.BooleanField(
        label=_("Send an invitation email to accounts not registered in the console"), required=False, initial=True
    )


def batch_payload_sign(rows: list[tuple[int, str, str]]) -> str:
    """The previewed rows, signed: the confirmation invites exactly what the user saw, unaltered."""
    return signing.dumps([list(row) for row in rows], salt=BATCH_SIGNING_SALT, compress=True)


class BatchConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)
    send_email = forms.BooleanField(
        label=_("Send an invitation email to accounts not registered in the console"), required=False
    )

    def clean_payload(self) -> list[tuple[int, str, str]]:
        try:
            rows = signing.loads(self.cleaned_data["payload"], salt=BATCH_SIGNING_SALT, max_age=BATCH_MAX_AGE_SECONDS)
        except signing.BadSignature as error:
            raise forms.ValidationError(_("This preview has expired: upload the file again.")) from error
        return [(int(line), str(name), str(email)) for line, name, email in rows]


class MapForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=_("Tenant owner and organisation"), queryset=Partner.objects.none(), widget=forms.RadioSelect
    )

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["partner"].label_from_instance = lambda partner: f"{partner.name} · {partner.owner_email}"


class TypedConfirmationForm(forms.Form):
    confirmation = forms.CharField(
        label=_("Type Yes to confirm"), max_length=10, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class AssignmentForm(forms.Form):
    """The reseller assigns seats of an accepted pool to one of its customers."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    seats = forms.IntegerField(label=_("User seats"), min_value=1)
    expires_on = forms.DateField(
        label=_("Subscription expiration date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["expires_on"].help_text = gettext(
            "Empty: the pool's expiration date. At least %(days)s days from today unless the pool ends sooner."
        ) % {"days": MINIMUM_TERM_DAYS}
