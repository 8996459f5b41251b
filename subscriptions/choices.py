from django.db import models
from django.utils.translation import gettext_lazy as _

# The one subscription-status enum is the provider contract's (which stays free of Django); here it gets its
# labels.
from marketplace.providers.base import SubscriptionStatus as SubscriptionStatus

#: A subscription status's choices for model fields, filters and labels.
SUBSCRIPTION_STATUS_CHOICES = [
    (SubscriptionStatus.PENDING.value, _("Pending")),
    (SubscriptionStatus.ACTIVE.value, _("Active")),
    (SubscriptionStatus.SUSPENDED.value, _("Suspended")),
    (SubscriptionStatus.TERMINATED.value, _("Terminated")),
    (SubscriptionStatus.FAILED.value, _("Failed")),
]


# -- prices -----------------------------------------------------------------------------------------------------------


class PriceSource(models.TextChoices):
    """Where a subscription's price in effect from some moment came from."""

    ORDER = "order", _("Order")
    PRICE_EDIT = "price_edit", _("Price edit")
    SYNC = "sync", _("Catalog price when first seen")
    MIGRATION = "migration", _("Price when price history began")


class PriceApplication(models.TextChoices):
    """Whether a catalog price edit reaches the subscriptions already bought, and from when."""

    NONE = "none", _("Not at all: existing subscriptions keep their price")
    NEXT_CYCLE = "next_cycle", _("From the next billing cycle")
    FROM_DATE = "from_date", _("From a date")
