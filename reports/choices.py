from django.db import models
from django.utils.translation import gettext_lazy as _


class BillingLineKind(models.TextChoices):
    """The transactions of a billing report (cycle fee, refund, pro-rata billing)."""

    CYCLE_FEE = "cycle_fee", _("Cycle fee")
    PRO_RATA = "pro_rata", _("Pro-rata")
    REFUND = "refund", _("Refund")
    NO_REFUND = "no_refund", _("Decrease without refund")
    ONE_TIME = "one_time", _("One-time charge")
    #: Only on issued statements: a difference learned after an earlier cycle was issued.
    ADJUSTMENT = "adjustment", _("Adjustment")


class BillingPreset(models.TextChoices):
    LAST_CYCLE = "last_cycle", _("Last month (the last complete cycle)")
    CURRENT_CYCLE = "current_cycle", _("Current cycle (so far)")
    LAST_3 = "last_3", _("Last 3 cycles")
    LAST_12 = "last_12", _("Last 12 cycles")
    CUSTOM = "custom", _("Custom range of months")


class GapKind(models.TextChoices):
    """What a reconciliation row can find wrong, each with the action that closes it."""

    OVER_BILLED = "over_billed", _("Over-billed")
    UNDER_BILLED = "under_billed", _("Under-billed")
    UNASSIGNED_SEATS = "unassigned_seats", _("Unassigned seats")
    UNBILLED = "unbilled", _("Unbilled")


class InvoiceImportStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Fetched")
    FAILED = "failed", _("Failed")
    UNSUPPORTED = "unsupported", _("Not offered by the marketplace")


class CustomDimension(models.TextChoices):
    """What a custom report groups subscriptions by."""

    CUSTOMER = "customer", _("Customer")
    MARKETPLACE = "marketplace", _("Marketplace account")
    PRODUCT = "product", _("Product")
    BILLING_CYCLE = "billing_cycle", _("Billing cycle")
    STATUS = "status", _("Status")
    COUNTRY = "country", _("Customer country")


class CustomMeasure(models.TextChoices):
    """What a custom report counts or sums; the money measures need cost prices for the cost one."""

    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    SEATS = "seats", _("Seats (quantity)")
    ASSIGNED = "assigned", _("Assigned seats")
    UNASSIGNED = "unassigned", _("Unassigned seats")
    REVENUE = "revenue", _("Monthly revenue")
    COST = "cost", _("Monthly cost")
