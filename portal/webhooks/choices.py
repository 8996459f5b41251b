from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEventType(models.TextChoices):
    """What a partner's systems can be told about. The values are the `type` of the payload: never change them."""

    ORDER_COMPLETED = "order.completed", _("Order completed")
    ORDER_FAILED = "order.failed", _("Order failed")
    SUBSCRIPTION_CHANGED = "subscription.changed", _("Subscription changed by an order")
    LICENSE_CHANGE_REQUEST_CREATED = "license_change_request.created", _("Licence change request created")
    LICENSE_CHANGE_REQUEST_DECIDED = "license_change_request.decided", _("Licence change request approved or rejected")
    POOL_ALLOCATION_ACCEPTED = "pool_allocation.accepted", _("Pool allocation accepted by the reseller")
    POOL_ALLOCATION_RETURNED = "pool_allocation.returned", _("Pool allocation returned")
    SYNC_FAILED = "sync.failed", _("Marketplace sync failed")
    CREDENTIAL_EXPIRING = "credential.expiring", _("Marketplace credential expiring")
    PING = "ping", _("Test event")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")
