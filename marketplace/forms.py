from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from marketplace.marketplaces import MarketplaceInfo
from marketplace.models import MarketplaceAccount, MarketplaceCustomer
from portal.partners.choices import Currency


class AccountCreateForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100)
    region = forms.ChoiceField(label=_("Region"))
    username = forms.CharField(
        label=_("Username"),
        max_length=254,
        help_text=_(
            "The user at the marketplace. Multi-factor authentication must be off for it, and it needs the roles "
            "Reseller Admin (Limited), Reseller Admin (Sales), Customer Admin (Read-only), Customer Admin (Modify) "
            "and Customer Admin (Advanced)."
        ),
    )
    # Never rendered back: a re-displayed form asks for the password again.
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False), strip=False)

    def __init__(self, *args, marketplace: MarketplaceInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "---------"), *marketplace.regions]


class AccountFieldForm(forms.Form):
    """One field of an account, edited inline ("pencil")."""

    LABELS = {
        "display_name": _("Display name"),
        "region": _("Region"),
        "username": _("Username"),
        "secret": _("Password"),
        "sync_interval_minutes": _("Sync interval (minutes)"),
    }

    def __init__(self, *args, field_name: str, marketplace: MarketplaceInfo, account: MarketplaceAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_name = field_name
        label = self.LABELS[field_name]
        if field_name == "display_name":
            field = forms.CharField(label=label, max_length=100, initial=account.display_name)
        elif field_name == "region":
            field = forms.ChoiceField(label=label, choices=marketplace.regions, initial=account.region)
        elif field_name == "username":
            field = forms.CharField(label=label, max_length=254, initial=account.username)
        elif field_name == "secret":
            field = forms.CharField(
                label=_("New password"), widget=forms.PasswordInput(render_value=False), strip=False
            )
        else:
            field = forms.IntegerField(
                label=label,
                initial=account.sync_interval_minutes,
                validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
            )
        self.fields["value"] = field

    @property
    def value(self):
        return self.cleaned_data["value"]


class TenantAddForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(), empty_label=_("Choose…"))
    customer_tenant = forms.TypedChoiceField(label=_("Tenant"), coerce=int, required=False)

    def __init__(self, *args, customers, tenants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["customer_tenant"].choices = [(tenant.pk, str(tenant)) for tenant in tenants]


class ConnectForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("Reseller"), queryset=MarketplaceAccount.objects.none(), empty_label=_("Choose…")
    )
    customer = forms.ModelChoiceField(
        label=_("Customer at the marketplace"),
        queryset=MarketplaceCustomer.objects.none(),
        empty_label=_("Choose…"),
        required=False,
    )

    def __init__(self, *args, accounts, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["customer"].queryset = customers

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("account") is not None and cleaned.get("customer") is None and not self.errors:
            self.add_error("customer", _("Choose the customer to map the tenant to."))
        return cleaned


class ConfirmWordForm(forms.Form):
    confirmation = forms.CharField(label=_("Type Yes to confirm"), max_length=10)


class UniformPriceForm(forms.Form):
    percentage = forms.DecimalField(
        label=_("Increase (%)"),
        max_digits=8,
        decimal_places=2,
        help_text=_("Percentage over the reseller price, for example 15 or 7.5."),
    )


class PriceAddForm(forms.Form):
    licence = forms.ChoiceField(label=_("License"))
    offer = forms.TypedChoiceField(label=_("Plan"), coerce=int, required=False)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    price = forms.DecimalField(label=_("Price"), max_digits=14, decimal_places=4, min_value=0, required=False)

    def __init__(self, *args, licences, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["licence"].choices = [("", _("Choose…")), *licences]
        self.fields["offer"].choices = [("", _("Choose…")), *((plan.pk, plan_label(plan)) for plan in plans)]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("licence") and not cleaned.get("offer") and "offer" not in self.errors:
            self.add_error("offer", _("Choose a plan."))
        return cleaned


def plan_label(offer) -> str:
    parts = [offer.get_billing_cycle_display()]
    if offer.term:
        parts.append(str(_("term %(term)s") % {"term": offer.term}))
    return " · ".join(str(part) for part in parts)
