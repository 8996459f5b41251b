from django.db import models
from django.utils.translation import gettext_lazy as _

# The one line-outcome enum is the provider contract's (which stays free of Django); here it gets its labels.
from marketplace.providers.base import OrderLineOutcome as OrderLineOutcome


class OrderStatus(models.TextChoices):
    """An order's state. Draft: a cart or a quote; Submitted: waiting for a worker;
    Provisioning: lines are being placed or the marketplace is still provisioning them."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PROVISIONING = "provisioning", _("Provisioning")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: Orders whose lines are still being worked on.
ORDER_IN_FLIGHT = (OrderStatus.SUBMITTED, OrderStatus.PROVISIONING)


class OrderLineKind(models.TextChoices):
    """What one order line asks the marketplace for. Each kind maps to one provider call
    (`orders.placement.LINE_ACTIONS`)."""

    NEW_SUBSCRIPTION = "new_subscription", _("New subscription")
    CHANGE_QUANTITY = "change_quantity", _("Change quantity")
    ADD_ON_ADD = "add_on_add", _("Add add-on")
    ADD_ON_CHANGE = "add_on_change", _("Change add-on quantity")
    ADD_ON_REMOVE = "add_on_remove", _("Remove add-on")
    SUSPEND = "suspend", _("Suspend")
    REACTIVATE = "reactivate", _("Reactivate")
    TERMINATE = "terminate", _("Terminate")
    REVOKE_TERMINATION = "revoke_termination", _("Revoke termination")
    CHANGE_BILLING_CYCLE = "change_billing_cycle", _("Change billing cycle")
    SET_AUTO_RENEW = "set_auto_renew", _("Auto-renew")


class OrderLineStatus(models.TextChoices):
    """Pending: not sent yet. Sent: handed to the marketplace, outcome not recorded (a retry asks the
    marketplace first). Applied: the marketplace did it. Failed: refused, or gave up; Retry offered."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


#: Of an applied line: did the marketplace finish, or is it still provisioning (Partner Center)?
ORDER_LINE_OUTCOME_CHOICES = [
    (OrderLineOutcome.COMPLETED.value, _("Provisioned")),
    (OrderLineOutcome.PROVISIONING.value, _("Provisioning")),
]


class QuoteStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
