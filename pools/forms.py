from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pools.choices import ExpiryMode, PaymentType, PoolService, PoolSource
from pools.models import Pool, PoolAllocation
from portal.core.formatting import when_text


def pool_label(pool: Pool) -> str:
    """A pool as a choice names everything that tells two pools of one name apart: source, payment
    type, free seats, start and expiration dates."""
    return gettext("%(name)s · %(source)s · %(payment)s · %(free)s of %(seats)s free · %(start)s to %(date)s") % {
        "name": pool.name,
        "source": pool.get_source_display(),
        "payment": pool.get_payment_type_display(),
        "free": getattr(pool, "free", pool.seats),
        "seats": pool.seats,
        "start": when_text(pool.starts_on),
        "date": when_text(pool.expires_on),
    }


class ServicesForm(forms.Form):
    """Add pool, step one: the services to give, chosen as cards."""

    service = forms.MultipleChoiceField(
        label=_("Online services"),
        choices=PoolService.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Select at least one online service to give.")},
    )

    def __init__(self, *args, available: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available

    def clean_service(self) -> list[str]:
        services = self.cleaned_data["service"]
        missing = [str(PoolService(service).label) for service in services if service not in self.available]
        if missing:
            raise forms.ValidationError(
                gettext("You have no pool with free seats for %(services)s.") % {"services": ", ".join(missing)}
            )
        return services


class _ExpiryFields(forms.Form):
    expiry_mode = forms.ChoiceField(
        label=_("Subscription expiration date"),
        choices=ExpiryMode.choices,
        initial=ExpiryMode.SAME_AS_POOL,
        widget=forms.RadioSelect,
        help_text=_("If you do not renew your pool, the reseller's pool expires when yours does."),
    )
    expires_on = forms.DateField(
        label=_("Expiration date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    confirm_expire_now = forms.BooleanField(
        label=_("Yes, end the reseller's pool today"),
        required=False,
        help_text=_("Expire now ends the reseller's seats at once; its customers lose them."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("expiry_mode") == ExpiryMode.DATE and not cleaned.get("expires_on"):
            self.add_error("expires_on", gettext("Choose a date, or another expiration option."))
        if cleaned.get("expiry_mode") == ExpiryMode.NOW and not cleaned.get("confirm_expire_now"):
            self.add_error("confirm_expire_now", gettext("Expire now cannot be undone: tick the box to confirm it."))
        return cleaned


class AllocationAddForm(_ExpiryFields):
    """Add pool, step two: the subscription information of one service."""

    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none())
    source = forms.ChoiceField(
        label=_("Source"),
        choices=PoolSource.choices,
        help_text=_("Where the pool you give was bought: the vendor or a marketplace."),
    )
    payment_type = forms.ChoiceField(label=_("Payment type"), choices=PaymentType.choices)
    seats = forms.IntegerField(label=_("User seats"), min_value=1)

    field_order = ["pool", "source", "payment_type", "seats", "expiry_mode", "expires_on", "confirm_expire_now"]

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        self.fields["pool"].label_from_instance = pool_label

    def clean(self):
        cleaned = super().clean()
        pool, source = cleaned.get("pool"), cleaned.get("source")
        if pool is not None and source and pool.source != source:
            self.add_error(
                "source",
                gettext("This pool was bought from %(source)s.") % {"source": pool.get_source_display()},
            )
        return cleaned


class AllocationEditForm(_ExpiryFields):
    payment_type = forms.ChoiceField(label=_("Payment type"), choices=PaymentType.choices)
    seats = forms.IntegerField(label=_("User seats"), min_value=1)

    field_order = ["payment_type", "seats", "expiry_mode", "expires_on", "confirm_expire_now"]

    def __init__(self, *args, allocation: PoolAllocation, assigned: int, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "payment_type": allocation.payment_type,
                "seats": allocation.seats,
                "expiry_mode": allocation.expiry_mode,
                "expires_on": allocation.expires_on,
            },
        )
        super().__init__(*args, **kwargs)
        if assigned:
            field = self.fields["payment_type"]
            field.disabled = True
            field.help_text = gettext(
                "The reseller assigned %(count)s seats to customers: the payment type can no longer change."
            ) % {"count": assigned}
        self.fields["seats"].help_text = gettext("At least %(count)s: the seats the reseller assigned.") % {
            "count": assigned
        }
