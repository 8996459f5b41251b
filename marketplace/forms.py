from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from marketplace.models import MarketplaceAccount, MarketplaceCustomer
from marketplace.providers.description import AccountOption, MarketplaceDescription
from portal.partners.choices import Currency


def _region_field(
    marketplace: MarketplaceDescription, *, initial: str | None = None, with_empty: bool = True
) -> forms.Field:
    if marketplace.regions:
        choices = [("", "---------"), *marketplace.regions] if with_empty else list(marketplace.regions)
        return forms.ChoiceField(
            label=marketplace.region_label, choices=choices, initial=initial, help_text=marketplace.region_help
        )
    return forms.CharField(
        label=marketplace.region_label, max_length=63, initial=initial, help_text=marketplace.region_help
    )


def _option_field(option: AccountOption, *, initial: str | None = None, editing: bool = False) -> forms.Field:
    if option.secret:
        # Never rendered back: a re-displayed form asks for it again.
        return forms.CharField(
            label=option.label,
            required=option.required,
            strip=False,
            widget=forms.PasswordInput(render_value=False),
            help_text=option.help_text
            if not editing
            else _("Leave empty to remove it.")
            if not option.required
            else "",
        )
    if option.choices:
        return forms.ChoiceField(
            label=option.label,
            required=option.required,
            choices=[("", "---------"), *option.choices],
            initial=initial,
            help_text=option.help_text,
        )
    return forms.CharField(
        label=option.label, required=option.required, max_length=255, initial=initial, help_text=option.help_text
    )


class AccountCreateForm(forms.Form):
    """An account's sign-in: the fields every marketplace has, then the marketplace's own options
    (`option_<name>`, declared by the marketplace's description)."""

    display_name = forms.CharField(label=_("Display name"), max_length=100)

    def __init__(self, *args, marketplace: MarketplaceDescription, **kwargs):
        super().__init__(*args, **kwargs)
        self.marketplace = marketplace
        self.fields["region"] = _region_field(marketplace)
        self.fields["username"] = forms.CharField(
            label=marketplace.username_label, max_length=254, help_text=marketplace.username_help
        )
        # Never rendered back: a re-displayed form asks for the password again.
        self.fields["password"] = forms.CharField(
            label=marketplace.secret_label, widget=forms.PasswordInput(render_value=False), strip=False
        )
        for option in marketplace.options:
            self.fields[f"option_{option.name}"] = _option_field(option)

    @property
    def options(self) -> dict[str, str]:
        return {
            option.name: self.cleaned_data.get(f"option_{option.name}") or "" for option in self.marketplace.options
        }


class AccountFieldForm(forms.Form):
    """One field of an account, edited inline ("pencil"). `field_name` is a service field or
    `option:<name>` for one of the marketplace's options."""

    LABELS = {
        "display_name": _("Display name"),
        "sync_interval_minutes": _("Sync interval (minutes)"),
        "sync_concurrency": _("Requests in flight during a sync"),
        "requests_per_second": _("Requests per second"),
    }

    def __init__(
        self, *args, field_name: str, marketplace: MarketplaceDescription, account: MarketplaceAccount, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.field_name = field_name
        if field_name.startswith("option:"):
            option = marketplace.option(field_name.split(":", 1)[1])
            if option is None:
                raise KeyError(field_name)
            field = _option_field(option, initial=(account.options or {}).get(option.name), editing=True)
            if option.secret:
                field.label = _("New %(label)s") % {"label": option.label}
        elif field_name == "display_name":
            field = forms.CharField(label=self.LABELS[field_name], max_length=100, initial=account.display_name)
        elif field_name == "region":
            field = _region_field(marketplace, initial=account.region, with_empty=False)
        elif field_name == "username":
            field = forms.CharField(label=marketplace.username_label, max_length=254, initial=account.username)
        elif field_name == "secret":
            field = forms.CharField(
                label=_("New %(label)s") % {"label": marketplace.secret_label},
                widget=forms.PasswordInput(render_value=False),
                strip=False,
            )
        elif field_name == "sync_concurrency":
            field = forms.IntegerField(
                label=self.LABELS[field_name],
                initial=account.sync_concurrency,
                required=False,
                validators=[MinValueValidator(1), MaxValueValidator(32)],
                help_text=_("1 to 32. Empty: the marketplace's default, %(default)d.")
                % {"default": marketplace.sync_concurrency},
            )
        elif field_name == "requests_per_second":
            field = forms.IntegerField(
                label=self.LABELS[field_name],
                initial=account.requests_per_second,
                required=False,
                validators=[MinValueValidator(1), MaxValueValidator(1000)],
                help_text=_(
                    "Shared by syncs, orders and changes, from every worker. Empty: the marketplace's default, "
                    "%(default)d."
                )
                % {"default": marketplace.requests_per_second},
            )
        else:
            field = forms.IntegerField(
                label=self.LABELS["sync_interval_minutes"],
                initial=account.sync_interval_minutes,
                validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
            )
        self.fields["value"] = field

    @property
    def value(self):
        return self.cleaned_data["value"]

    @property
    def changes(self) -> dict:
        """What to hand to `marketplace_account_update`."""
        if self.field_name.startswith("option:"):
            return {"options": {self.field_name.split(":", 1)[1]: self.value or ""}}
        return {self.field_name: self.value}


class TenantAddForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        empty_label=_("Choose…"),
        error_messages={"required": _("Choose the customer whose tenant to add.")},
    )
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
    licence = forms.ChoiceField(label=_("Licence"))
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


class TenantCreateForm(forms.Form):
    """A new Microsoft tenant for a customer: where (an account that can create tenants), the domain
    prefix, and the first admin, whose credentials go to `email`. Pre-filled from the customer."""

    account = forms.ModelChoiceField(
        label=_("Marketplace account"), queryset=MarketplaceAccount.objects.none(), empty_label=None
    )
    domain_prefix = forms.CharField(
        label=_("Domain"),
        max_length=27,
        help_text=_("Letters and digits: the tenant's domain becomes <prefix>.onmicrosoft.com."),
    )
    first_name = forms.CharField(label=_("Admin first name"), max_length=100)
    last_name = forms.CharField(label=_("Admin last name"), max_length=100)
    email = forms.EmailField(label=_("Send the credentials to"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)

    def __init__(self, *args, accounts, check_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        live_check = {
            "hx-get": check_url,
            "hx-target": "#domain-availability",
            "hx-include": "[name=account],[name=domain_prefix]",
        }
        self.fields["domain_prefix"].widget.attrs.update(
            {**live_check, "hx-trigger": "input changed delay:400ms, load", "autocomplete": "off"}
        )
        self.fields["account"].widget.attrs.update({**live_check, "hx-trigger": "change"})

    def clean_domain_prefix(self) -> str:
        value = self.cleaned_data["domain_prefix"].strip().lower().removesuffix(".onmicrosoft.com")
        if not value.isascii() or not value.isalnum():
            raise forms.ValidationError(_("Use letters and digits only."))
        return value
