from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.choices import Eligibility
from catalog.models import MARKUP_VALIDATORS, Category, CustomerSegment, ProductGroup
from catalog.pricing import Guardrail, guardrails_check, guardrails_token, markup_apply, money_round
from subscriptions.choices import PriceApplication


class GuardrailForm(forms.Form):
    """A form whose prices or quantities may need an explicit "I confirm ..." (catalog.pricing guardrails).

    The view or `clean` passes what it found to `guardrails_enforce`; the template shows one checkbox that
    names every amount (core/partials/guardrails.html). The checkbox's value is a digest of the messages,
    so a confirmation of other amounts (the user changed the price after ticking) does not count."""

    confirm_guardrails = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.guardrails: list[Guardrail] = []

    @property
    def guardrails_token(self) -> str:
        return guardrails_token(self.guardrails)

    def guardrails_enforce(self, guardrails: list[Guardrail]) -> bool:
        """Record what needs confirming; True when nothing does or the user confirmed exactly this."""
        self.guardrails = list(guardrails)
        if not self.guardrails:
            return True
        confirmed = (self.data.get(self.add_prefix("confirm_guardrails")) or "") == self.guardrails_token
        if not confirmed:
            self.add_error("confirm_guardrails", _("Tick the box to confirm these amounts, or change them."))
        return confirmed


class PriceApplicationForm(forms.Form):
    """Whether a price edit reaches the subscriptions already bought, and from when: never before the next
    billing cycle or a date not in the past, so a billed cycle keeps its prices."""

    apply_to_subscriptions = forms.ChoiceField(
        label=_("Existing subscriptions"),
        choices=PriceApplication.choices,
        initial=PriceApplication.NEXT_CYCLE,
        required=False,  # a form that does not ask (an API client, an old page) gets the default
        widget=forms.RadioSelect,
        help_text=_("Billed days always keep the price they were billed at."),
    )
    apply_from = forms.DateField(
        label=_("Apply from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_('Only with "From a date": today or later.'),
    )

    def clean(self):
        cleaned = super().clean()
        application, day = cleaned.get("apply_to_subscriptions"), cleaned.get("apply_from")
        if application == PriceApplication.FROM_DATE:
            if day is None:
                self.add_error("apply_from", _("Enter the date from which the new price applies."))
            elif day < timezone.localdate():
                self.add_error("apply_from", _("The date cannot be in the past: billed days keep their price."))
        return cleaned

    def price_apply(self):
        from subscriptions.services_prices import PriceApply

        application = self.cleaned_data.get("apply_to_subscriptions") or PriceApplication.NEXT_CYCLE
        day = self.cleaned_data.get("apply_from") if application == PriceApplication.FROM_DATE else None
        return PriceApply(application=application, from_date=day)


class DefaultMarkupForm(PriceApplicationForm):
    default_markup_percent = forms.DecimalField(
        label=_("Default markup (%)"),
        max_digits=7,
        decimal_places=2,
        validators=MARKUP_VALIDATORS,
        help_text=_("Customer prices are the cost price plus this markup, unless a custom price is set."),
    )
    large_quantity_seats = forms.IntegerField(
        label=_("Confirm orders above (seats)"),
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text=_(
            "An order or quantity change above this many seats, or ten times the current quantity, "
            "asks for a confirmation."
        ),
    )


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProductGroupForm(forms.ModelForm):
    class Meta:
        model = ProductGroup
        fields = ["name", "category", "description", "is_visible", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"is_visible": _("Hidden: none of the group's offers is shown to customers or visitors.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].empty_label = _("— no category (Other) —")


class OfferCustomizeForm(forms.Form):
    is_visible = forms.BooleanField(
        label=_("Customers may see and buy this offer"),
        required=False,
        help_text=_("Hidden offers stay in your catalog; customers, visitors and the store do not see them."),
    )
    eligibility = forms.ChoiceField(label=_("Who may buy it"), choices=Eligibility.choices, required=False)
    product_group = forms.ModelChoiceField(label=_("Product group"), queryset=ProductGroup.objects.all())


class OfferVisibilityForm(forms.Form):
    offers = forms.TypedMultipleChoiceField(coerce=int, choices=(), error_messages={"required": _("Select offers.")})
    is_visible = forms.TypedChoiceField(coerce=lambda value: value == "1", choices=(("1", _("Show")), ("0", _("Hide"))))
    next = forms.CharField(required=False)

    def __init__(self, *args, offer_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offers"].choices = [(pk, pk) for pk in offer_ids]


class SegmentForm(forms.ModelForm):
    class Meta:
        model = CustomerSegment
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class SegmentMemberForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)

    def __init__(self, *args, customers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class PriceRuleForm(PriceApplicationForm, GuardrailForm):
    """A markup on the cost price or a fixed unit price, in the offer's currency."""

    KIND_CHOICES = (("markup", _("Markup on the cost price (%)")), ("price", _("Fixed unit price")))

    offer = forms.ModelChoiceField(label=_("Offer"), queryset=None)
    kind = forms.ChoiceField(label=_("Price"), choices=KIND_CHOICES, widget=forms.RadioSelect, initial="markup")
    value = forms.DecimalField(
        label=_("Markup (%) or price"),
        max_digits=14,
        decimal_places=4,
        help_text=_("A markup may be negative (above -100%). A price is in the offer's currency."),
    )

    def __init__(self, *args, offers, customers=None, fixed_offer=False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers
        if fixed_offer:
            self.fields["offer"].disabled = True
        if customers is not None:
            self.fields["customer"] = forms.ModelChoiceField(label=_("Customer"), queryset=customers)
        self.order_fields(["customer", "offer", "kind", "value"])

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if value is None:
            return cleaned
        if kind == "markup":
            if value <= Decimal(-100):
                self.add_error("value", _("A markup must be above -100%."))
            elif value > Decimal(1000):
                self.add_error("value", _("A markup cannot be above 1000%."))
            elif value != value.quantize(Decimal("0.01")):
                self.add_error("value", _("A markup has at most two decimals."))
        elif value < 0:
            self.add_error("value", _("A price cannot be negative."))
        offer = cleaned.get("offer")
        if offer is not None and not self.errors:
            cost = money_round(offer.cost_price, offer.currency)
            if kind == "price":
                price = money_round(value, offer.currency)
            else:
                price = markup_apply(cost, value, offer.currency)[0]
            self.guardrails_enforce(guardrails_check(currency=offer.currency, price=price, cost=cost))
        return cleaned

    def rule(self) -> dict[str, Decimal | None]:
        value = self.cleaned_data["value"]
        if self.cleaned_data["kind"] == "markup":
            return {"markup_percent": value, "price": None}
        return {"markup_percent": None, "price": value}

    @staticmethod
    def initial_for(rule) -> dict:
        if rule.price is not None:
            return {"offer": rule.offer_id, "kind": "price", "value": rule.price.normalize()}
        return {"offer": rule.offer_id, "kind": "markup", "value": rule.markup_percent.normalize()}
