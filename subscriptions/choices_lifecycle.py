"""Choices of the subscription lifecycle: commitment windows, scheduled changes, licence change
requests and licence assignment. Kept apart from `choices.py`, which the order machinery grows."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeTiming(models.TextChoices):
    """When a change can happen, as the marketplace's rule decides (e.g. Microsoft NCE's 7-day cancellation window)."""

    NOW = "now", _("Now")
    AT_RENEWAL = "at_renewal", _("At renewal")
    NOT_ALLOWED = "not_allowed", _("Not allowed")


class ScheduledChangeStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ORDERED = "ordered", _("Ordered")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class RequestKind(models.TextChoices):
    CHANGE_QUANTITY = "change_quantity", _("Change licences")
    NEW_SUBSCRIPTION = "new_subscription", _("New service")


class RequestSource(models.TextChoices):
    """Who asked: a person (customer tenant admin or partner user) or the automation."""

    USER = "user", _("User")
    AUTO_PURCHASE = "auto_purchase", _("Auto-purchase")
    AUTO_DECREASE = "auto_decrease", _("Auto-decrease")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
