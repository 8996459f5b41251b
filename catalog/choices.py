from django.db import models
from django.utils.translation import gettext_lazy as _


class BillingCycle(models.TextChoices):
    """How often a plan is invoiced; the values are `marketplace.providers.base.BillingCycle`'s."""

    MONTHLY = "monthly", _("Monthly")
    ANNUAL = "annual", _("Annual")
    TRIENNIAL = "triennial", _("Every three years")
    ONE_TIME = "one_time", _("One time")
    NONE = "none", _("None")


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
