from django.db import models
from django.utils.translation import gettext_lazy as _

# The one billing-cycle enum is the provider contract's (which stays free of Django); here it gets its labels.
from marketplace.providers.base import BillingCycle as BillingCycle

#: A billing cycle's choices for model fields, filters and labels.
BILLING_CYCLE_CHOICES = [
    (BillingCycle.MONTHLY.value, _("Monthly")),
    (BillingCycle.ANNUAL.value, _("Annual")),
    (BillingCycle.TRIENNIAL.value, _("Every three years")),
    (BillingCycle.ONE_TIME.value, _("One time")),
    (BillingCycle.NONE.value, _("None")),
]


class ChargeType(models.TextChoices):
    RECURRING = "recurring", _("Recurring")
    USAGE = "usage", _("Usage")
    ONE_TIME = "one_time", _("One time")
    OTHER = "other", _("Other")


class Eligibility(models.TextChoices):
    """Who may buy an offer: everyone, or only customers with the matching flag (academic, government, non-profit)."""

    EVERYONE = "", _("All customers")
    ACADEMIC = "academic", _("Academic customers only")
    GOVERNMENT = "government", _("Government customers only")
    NON_PROFIT = "non_profit", _("Non-profit customers only")
