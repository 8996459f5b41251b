"""Licence automation per customer tenant (Tenant settings > Licenses): auto-purchase and auto-decrease.

Neither changes anything by itself: each files a licence change request (source auto_purchase or
auto_decrease) through `license_change_request_create`, so the tenant's approval rules, the audit trail
and the notifications are the same as for a person's request. Requests that
need no approval become orders at once.

- Auto-purchase: when every purchased seat of a subscription is assigned, ask for `step` more, never
  above the cap.
- Auto-decrease: when a subscription's cancellation window closes within `lead days`, ask to go down to
  the assigned seats plus a buffer. It acts only inside a window, where a decrease is possible at all,
  so it never proposes what the marketplace would refuse (it alerts only when action
  is possible).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from subscriptions import commitment
from subscriptions.choices import SubscriptionStatus
from subscriptions.choices_lifecycle import ChangeTiming, RequestSource, RequestStatus
from subscriptions.commitment import quantity_change_preview
from subscriptions.models import LicenseChangeRequest, Subscription, TenantLicenseSettings
from subscriptions.services_lifecycle import AUTOMATION_ACTOR
from subscriptions.services_requests import OPEN_STATUSES, RequestRefused, license_change_request_create

#: A failed automatic request is not filed again for the same subscription within this time.
RETRY_AFTER_FAILURE = timedelta(days=1)


@dataclass
class AutomationResult:
    created: list[LicenseChangeRequest] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # subscription pk -> why


def _options(subscription: Subscription):
    return subscription.options if hasattr(subscription, "options") else None


def _candidates(settings_filter: dict):
    tenants = TenantLicenseSettings.objects.filter(**settings_filter).values_list("customer_tenant_id", flat=True)
    return (
        Subscription.objects.filter(customer_tenant_id__in=list(tenants), status=SubscriptionStatus.ACTIVE, trial=False)
        .select_related("account", "customer_tenant__customer", "customer_tenant__license_settings", "options")
        .order_by("pk")
    )


def _recently_failed(subscription: Subscription, source: str, now: datetime) -> bool:
    return LicenseChangeRequest.objects.filter(
        subscription=subscription,
        source=source,
        status__in=(RequestStatus.FAILED, RequestStatus.REJECTED),
        updated__gte=now - RETRY_AFTER_FAILURE,
    ).exists()


def _open_request(subscription: Subscription) -> bool:
    return LicenseChangeRequest.objects.filter(subscription=subscription, status__in=OPEN_STATUSES).exists()


def auto_purchase_run(*, now: datetime | None = None) -> AutomationResult:
    now = now or commitment.clock()
    result = AutomationResult()
    for subscription in _candidates({"auto_purchase_enabled": True}):
        settings = subscription.customer_tenant.license_settings
        options = _options(subscription)
        if options is not None and options.auto_purchase_excluded:
            continue
        if subscription.assigned is None or subscription.assigned < subscription.quantity:
            continue
        target = subscription.quantity + max(settings.auto_purchase_step, 1)
        if settings.auto_purchase_cap is not None:
            target = min(target, settings.auto_purchase_cap)
        if target <= subscription.quantity:
            result.skipped[subscription.pk] = "at the cap"
            continue
        if _open_request(subscription) or _recently_failed(subscription, RequestSource.AUTO_PURCHASE, now):
            result.skipped[subscription.pk] = "already requested"
            continue
        try:
            result.created.append(
                license_change_request_create(
                    actor=AUTOMATION_ACTOR,
                    subscription=subscription,
                    quantity=target,
                    source=RequestSource.AUTO_PURCHASE,
                    reason=f"All {subscription.quantity} seats are assigned: auto-purchase adds "
                    f"{target - subscription.quantity}"
                    + (f" (cap {settings.auto_purchase_cap})." if settings.auto_purchase_cap else "."),
                )
            )
        except RequestRefused as refused:
            result.skipped[subscription.pk] = refused.message
    return result


def auto_decrease_run(*, now: datetime | None = None) -> AutomationResult:
    now = now or commitment.clock()
    result = AutomationResult()
    for subscription in _candidates({"auto_decrease_enabled": True}):
        settings = subscription.customer_tenant.license_settings
        options = _options(subscription)
        if options is not None and options.auto_decrease_excluded:
            continue
        closes = subscription.cancellation_allowed_until
        if closes is None or closes < now or closes - now > timedelta(days=settings.auto_decrease_lead_days):
            continue
        if subscription.assigned is None:
            result.skipped[subscription.pk] = "assigned seats unknown"
            continue
        buffer = options.auto_decrease_buffer if options and options.auto_decrease_buffer is not None else None
        buffer = settings.auto_decrease_buffer if buffer is None else buffer
        target = max(subscription.assigned + buffer, 1)
        if target >= subscription.quantity:
            continue
        this_window = LicenseChangeRequest.objects.filter(
            subscription=subscription, source=RequestSource.AUTO_DECREASE, window_closes_at=closes
        ).exists()
        if this_window or _open_request(subscription):
            result.skipped[subscription.pk] = "already requested"
            continue
        if quantity_change_preview(subscription=subscription, quantity=target, now=now).timing != ChangeTiming.NOW:
            result.skipped[subscription.pk] = "not allowed now"
            continue
        try:
            result.created.append(
                license_change_request_create(
                    actor=AUTOMATION_ACTOR,
                    subscription=subscription,
                    quantity=target,
                    source=RequestSource.AUTO_DECREASE,
                    reason=f"{subscription.assigned} of {subscription.quantity} seats are assigned and the "
                    f"cancellation window closes {closes:%Y-%m-%d %H:%M} UTC: auto-decrease keeps {buffer} spare.",
                )
            )
        except RequestRefused as refused:
            result.skipped[subscription.pk] = refused.message
    return result
