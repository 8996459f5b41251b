"""Forms of the order screens: Buy now (the order page), the cart, quotes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.forms import GuardrailForm
from catalog.models import Offer
from catalog.pricing import PriceOption
from customers.models import Customer
from orders.services import MAX_QUANTITY

PRICE_DEFAULT = ""
PRICE_MARKUP = "markup"
PRICE_TARGET = "target"
QUOTE_VALID_DAYS = 30


CLIENT_TOKEN_MISSING = _(
    "This order form was sent without its token, so a second click could not be told from a new order, "
    "and nothing was placed. Check the order and place it again."
)


def require_client_token(form: forms.Form) -> None:
    """Placing an order needs the form's token (a UUID made when the form was shown): it is what makes two
    clicks, or two requests at once, place one order. A missing or malformed token is a clear error, and
    the form shown again carries a fresh token, so the person's next click can place the order."""
    if form.cleaned_data.get("client_token") is not None:
        return
    form.errors.pop("client_token", None)  # a hidden field's error would not be shown
    form.add_error(None, CLIENT_TOKEN_MISSING)
    form.data = form.data.copy()
    form.data[form.add_prefix("client_token")] = str(uuid.uuid4())


class TenantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.customer.name})"


TERM_LABELS = {"P1M": _("1-month term"), "P1Y": _("1-year term"), "P3Y": _("3-year term")}


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Offer) -> str:
        billing = _("%(cycle)s billing") % {"cycle": obj.get_billing_cycle_display()}
        if not obj.term:
            return str(billing)
        return f"{billing} · {TERM_LABELS.get(obj.term, obj.term)}"


class OrderNewForm(GuardrailForm):
    """Buy now: tenant, licences, billing period, price option, add-ons, friendly name, PO number."""

    customer = forms.ModelChoiceField(
        queryset=None, label=_("Customer"), empty_label=_("Choose a customer"), required=False
    )
    tenant = TenantChoiceField(queryset=None, label=_("Tenant"), empty_label=_("Choose a tenant"))
    plan = PlanChoiceField(queryset=None, label=_("Billing period"), empty_label=None, widget=forms.RadioSelect)
    quantity = forms.IntegerField(
        label=_("Number of licences"), min_value=1, max_value=MAX_QUANTITY, initial=1, widget=forms.NumberInput()
    )
    price_mode = forms.ChoiceField(
        label=_("Price options"),
        choices=(
            (PRICE_DEFAULT, _("Customer price")),
            (PRICE_MARKUP, _("Markup %")),
            (PRICE_TARGET, _("Target customer price")),
        ),
        required=False,
        widget=forms.RadioSelect,
    )
    markup_percent = forms.DecimalField(
        label=_("Markup %"),
        required=False,
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("-99.99")), MaxValueValidator(Decimal("1000"))],
        help_text=_("Positive or negative: added to or subtracted from your default markup on the partner price."),
    )
    target_price = forms.DecimalField(
        label=_("Target customer price"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        help_text=_("The unit price the customer pays."),
    )
    friendly_name = forms.CharField(
        label=_("Friendly name"),
        max_length=120,
        required=False,
        help_text=_("Optional: shown on every subscription view and on billing reports."),
    )
    po_number = forms.CharField(
        label=_("PO number"),
        max_length=64,
        required=False,
        help_text=_("Optional: appears on the billing export to match costs against purchase orders."),
    )
    terms_accepted = forms.BooleanField(
        label=_("I accept the product terms (Microsoft Customer Agreement and Online Services Terms)"),
        required=False,
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, tenants, plans, add_ons, price_options: bool, placing: bool = False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.placing = placing  # "Place now" needs the token; the price preview and "Add to cart" do not
        customers = Customer.objects.filter(pk__in=tenants.values("customer_id")).order_by("name", "pk")
        self.fields["customer"].queryset = customers
        self.fields["tenant"].queryset = tenants  # what validates: any tenant the user may order for here
        self.customer = self._customer_chosen(customers)
        if self.customer is not None and not self.is_bound:
            self.initial["customer"] = self.customer
        # What the list offers: the chosen customer's tenants only, so an order cannot go to another
        # customer's tenant by a slip of the mouse; `clean` refuses one sent anyway.
        field = self.fields["tenant"]
        shown = tenants.filter(customer=self.customer) if self.customer is not None else tenants.none()
        field.widget.choices = [("", field.empty_label), *((t.pk, field.label_from_instance(t)) for t in shown)]
        self.fields["plan"].queryset = plans
        self.add_on_offers = list(add_ons)
        for offer in self.add_on_offers:
            self.fields[f"add_on_{offer.pk}"] = forms.IntegerField(
                label=offer.name, min_value=0, max_value=MAX_QUANTITY, required=False, initial=0
            )
        self.price_options = price_options
        if not price_options:
            for name in ("price_mode", "markup_percent", "target_price"):
                del self.fields[name]

    def _customer_chosen(self, customers) -> Customer | None:
        """The customer whose tenants the list offers: the one sent, else the preselected tenant's, else
        the only one there is (a customer's own portal)."""
        raw = str(self.data.get(self.add_prefix("customer")) or "") if self.is_bound else ""
        if raw.isdigit():
            return customers.filter(pk=int(raw)).first()
        if self.is_bound and not raw:
            raw_tenant = str(self.data.get(self.add_prefix("tenant")) or "")
            tenant = self.fields["tenant"].queryset.filter(pk=int(raw_tenant)).first() if raw_tenant.isdigit() else None
            if tenant is not None:
                return tenant.customer
        initial = self.initial.get("customer")
        if isinstance(initial, Customer):
            return initial
        tenant = self.initial.get("tenant")
        if tenant is not None:
            return tenant.customer
        only = list(customers[:2])
        return only[0] if len(only) == 1 else None

    def add_on_fields(self):
        return [(offer, self[f"add_on_{offer.pk}"]) for offer in self.add_on_offers]

    def clean(self):
        cleaned = super().clean()
        if self.placing:
            require_client_token(self)
        customer, tenant = cleaned.get("customer"), cleaned.get("tenant")
        if customer is not None and tenant is not None and tenant.customer_id != customer.pk:
            self.add_error(
                "tenant",
                _("%(tenant)s is a tenant of %(owner)s, not of %(customer)s. Choose one of %(customer)s's tenants.")
                % {"tenant": tenant, "owner": tenant.customer.name, "customer": customer.name},
            )
        if not self.price_options:
            return cleaned
        mode = cleaned.get("price_mode") or PRICE_DEFAULT
        if mode == PRICE_MARKUP and cleaned.get("markup_percent") is None:
            self.add_error("markup_percent", _("Enter the markup in percent."))
        if mode == PRICE_TARGET and cleaned.get("target_price") is None:
            self.add_error("target_price", _("Enter the customer price."))
        return cleaned

    def price_option(self) -> PriceOption | None:
        if not self.price_options or not hasattr(self, "cleaned_data"):
            return None
        mode = self.cleaned_data.get("price_mode") or PRICE_DEFAULT
        if mode == PRICE_MARKUP and self.cleaned_data.get("markup_percent") is not None:
            return PriceOption(markup_percent=self.cleaned_data["markup_percent"])
        if mode == PRICE_TARGET and self.cleaned_data.get("target_price") is not None:
            return PriceOption(target_price=self.cleaned_data["target_price"])
        return None

    def add_on_quantities(self) -> list[tuple[Offer, int]]:
        chosen = []
        for offer in self.add_on_offers:
            quantity = self.cleaned_data.get(f"add_on_{offer.pk}") or 0
            if quantity > 0:
                chosen.append((offer, quantity))
        return chosen


class OrderDetailsForm(forms.Form):
    friendly_name = forms.CharField(label=_("Friendly name"), max_length=120, required=False)
    po_number = forms.CharField(label=_("PO number"), max_length=64, required=False)


class OrderSubmitForm(forms.Form):
    """Place order: the product terms, the form's token (a double click places one order) and, after
    prices changed, the confirmation of the new prices."""

    terms_accepted = forms.BooleanField(
        label=_("I accept the product terms (Microsoft Customer Agreement and Online Services Terms)"),
        required=False,
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    price_confirmation = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_token", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.is_bound:
            require_client_token(self)
        return cleaned


class QuoteCreateForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("Message to the customer"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "valid_until", timezone.localdate() + timedelta(days=QUOTE_VALID_DAYS)
        )
        super().__init__(*args, **kwargs)
