"""Lifecycle actions on subscriptions: each checks the marketplace's rules, then becomes an order.

Every action locks the subscription and compares the version the user saw (optimistic concurrency):
when someone else changed the subscription meanwhile, or an order is still changing it, the action is
refused with a `LifecycleConflict` that says what happened, and the user's input is kept for them to
review. Decreases the commitment window does not allow now can be scheduled for the renewal
(`ScheduledChange`), which beat applies after checking the seats again (`scheduled_changes_apply_due`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.choices import BillingCycle
from marketplace.providers.base import Capability
from orders.choices import ORDER_IN_FLIGHT, OrderLineKind, OrderLineStatus
from orders.models import Order, OrderLine
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult, NotificationLevel
from portal.audit.services import audit_record, notification_create
from portal.core.formatting import when_text
from subscriptions import commitment
from subscriptions.choices import SubscriptionStatus
from subscriptions.choices_lifecycle import ChangeTiming, ScheduledChangeStatus
from subscriptions.commitment import (
    commitment_window,
    marketplace_name,
    marketplace_supports,
    quantity_change_preview,
    termination_preview,
)
from subscriptions.lifecycle_orders import LifecycleLine, LifecycleRefused, lifecycle_order_place
from subscriptions.models import ScheduledChange, Subscription, SubscriptionOptions
from subscriptions.selectors_subscriptions import subscription_version

AUTOMATION_ACTOR = "automation"
#: How long after the renewal date a scheduled change waits for the sync to report the renewal.
RENEWAL_GRACE = timedelta(days=3)


class LifecycleConflict(LifecycleRefused):
    """Someone else changed the subscription after the user loaded it, or an order is still changing it."""

    def __init__(self, message: str, *, subscription: Subscription) -> None:
        super().__init__(message)
        self.subscription = subscription


# -- what a user may do ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    key: str
    label: str
    capability: Capability | None
    kind: str | None  # OrderLineKind, None when the console keeps it itself
    destructive: bool = False


def action_specs() -> dict[str, ActionSpec]:
    return {
        spec.key: spec
        for spec in (
            ActionSpec("suspend", _("Suspend"), Capability.SUSPEND, OrderLineKind.SUSPEND, destructive=True),
            ActionSpec("reactivate", _("Reactivate"), Capability.REACTIVATE, OrderLineKind.REACTIVATE),
            ActionSpec("terminate", _("Terminate"), Capability.TERMINATE, OrderLineKind.TERMINATE, destructive=True),
            ActionSpec(
                "revoke_termination",
                _("Revoke termination"),
                Capability.REVOKE_TERMINATION,
                OrderLineKind.REVOKE_TERMINATION,
            ),
            ActionSpec(
                "billing_cycle",
                _("Change billing cycle"),
                Capability.CHANGE_BILLING_CYCLE,
                OrderLineKind.CHANGE_BILLING_CYCLE,
            ),
            ActionSpec("auto_renew", _("Auto-renew"), None, OrderLineKind.SET_AUTO_RENEW),
            ActionSpec("convert_trial", _("Convert to paid"), Capability.PLACE_ORDER, OrderLineKind.NEW_SUBSCRIPTION),
            ActionSpec("friendly_name", _("Friendly name"), None, None),
        )
    }


def switches_auto_renew(slug: str) -> bool:
    """Whether the marketplace's provider switches auto-renew on its own (beyond terminate / revoke
    termination): not in the protocol yet, a provider that can offers `set_auto_renew`."""
    from marketplace.providers.registry import UnknownMarketplace, provider_class

    try:
        return callable(getattr(provider_class(slug), "set_auto_renew", None))
    except UnknownMarketplace:
        return False


@dataclass(frozen=True)
class ActionAvailability:
    spec: ActionSpec
    available: bool
    reason: str = ""


def action_availability(*, subscription: Subscription, key: str) -> ActionAvailability:
    """Whether the marketplace offers the action for this subscription now, and why not."""
    spec = action_specs()[key]
    slug = subscription.account.marketplace
    name = marketplace_name(slug)
    status = subscription.status

    def no(reason: str) -> ActionAvailability:
        return ActionAvailability(spec=spec, available=False, reason=reason)

    if spec.capability is not None and not marketplace_supports(slug, spec.capability):
        return no(_("%(marketplace)s does not offer this action.") % {"marketplace": name})
    if key == "suspend" and status != SubscriptionStatus.ACTIVE:
        return no(_("Only an active subscription can be suspended."))
    if key == "reactivate" and status != SubscriptionStatus.SUSPENDED:
        return no(_("Only a suspended subscription can be reactivated."))
    if key == "terminate":
        preview = termination_preview(subscription=subscription)
        if preview.timing == ChangeTiming.NOT_ALLOWED:
            return no(preview.message)
    if key == "revoke_termination":
        if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
            return no(_("A subscription that has ended cannot be restored."))
        if not subscription.scheduled_termination_date and subscription.auto_renew:
            return no(_("No termination is scheduled."))
    if key == "billing_cycle":
        if subscription.trial:
            return no(_("A trial's billing cycle cannot change."))
        if (subscription.term or "").upper() == "P1M":
            return no(_("A one-month term is billed monthly only."))
        if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
            return no(_("Only an active or suspended subscription can change its billing cycle."))
    if key == "auto_renew":
        if not switches_auto_renew(slug):
            return no(
                _("%(marketplace)s switches auto-renew only through Terminate and Revoke termination.")
                % {"marketplace": name}
            )
        if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
            return no(_("Only an active or suspended subscription renews."))
    if key == "convert_trial":
        if not subscription.trial:
            return no(_("This subscription is not a trial."))
        if not conversion_offers(subscription=subscription):
            return no(_("The marketplace lists no paid plan of this product."))
    return ActionAvailability(spec=spec, available=True)


def conversion_offers(*, subscription: Subscription):
    """The paid plans of the trial's product at the same account, cheapest first."""
    from catalog.models import Offer

    return Offer.objects.filter(
        account_id=subscription.account_id, product_id=subscription.product_id, is_available=True, is_add_on=False
    ).order_by("cost_price", "id")


def add_on_offers(*, subscription: Subscription):
    """The add-ons the marketplace lists for the subscription's product."""
    from catalog.models import Offer

    return Offer.objects.filter(
        account_id=subscription.account_id,
        is_add_on=True,
        is_available=True,
        parent_product_ids__contains=[subscription.product_id],
    ).order_by("name", "id")


# -- locking and conflicts ---------------------------------------------------------------------------------------------


def _in_flight_lines(subscription: Subscription):
    return OrderLine.objects.filter(
        subscription=subscription,
        status__in=(OrderLineStatus.PENDING, OrderLineStatus.SENT),
        order__status__in=ORDER_IN_FLIGHT,
    ).select_related("order")


def _last_change_by(subscription: Subscription) -> str:
    """Who made the change the user missed: the order that applied it, else the marketplace itself."""
    line = (
        OrderLine.objects.filter(subscription=subscription, status=OrderLineStatus.APPLIED, applied_at__isnull=False)
        .select_related("order__created_by")
        .order_by("-applied_at")
        .first()
    )
    if (
        line is not None
        and line.applied_at is not None
        and abs(line.applied_at - subscription.updated) < timedelta(minutes=1)
    ):
        creator = line.order.created_by
        return (creator.email or creator.username) if creator is not None else _("the licence automation")
    return _("the marketplace (seen by the sync)")


def subscription_lock(*, subscription_id: int, version: str | None) -> Subscription:
    """Lock the row for the rest of the transaction; refuse when it changed since `version` (None: no check)."""
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("account", "customer_tenant__customer")
        .get(pk=subscription_id)
    )
    line = _in_flight_lines(subscription).first()
    if line is not None:
        raise LifecycleConflict(
            _(
                "%(order)s is still changing %(name)s (%(change)s). Your change was not sent: wait until that order "
                "has finished, then review and apply it again."
            )
            % {"order": line.order, "name": subscription.name, "change": line.requested_change},
            subscription=subscription,
        )
    if version is not None and subscription_version(subscription) != version:
        raise LifecycleConflict(
            _(
                "%(name)s was changed by %(who)s after you opened it: the quantity is now %(quantity)s. Your change "
                "was not sent: review it and apply it again."
            )
            % {"name": subscription.name, "who": _last_change_by(subscription), "quantity": subscription.quantity},
            subscription=subscription,
        )
    return subscription


def _audit(
    actor: Actor, action: AuditAction, subscription: Subscription, *, before=None, after=None, message="", result=None
):
    return audit_record(
        actor=actor,
        action=action,
        target=subscription,
        customer_id=subscription.customer_tenant.customer_id,
        before=before,
        after=after,
        message=message,
        result=result or AuditResult.SUCCESS,
    )


def _order_for(actor: Actor, subscription: Subscription, lines: Sequence[LifecycleLine], *, source: str) -> Order:
    return lifecycle_order_place(
        actor=actor,
        customer_tenant=subscription.customer_tenant,
        account=subscription.account,
        lines=lines,
        source=source,
    )


# -- quantity ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuantityChange:
    subscription_id: int
    quantity: int
    version: str | None
    schedule_if_needed: bool = True


@dataclass
class QuantityChangesResult:
    orders: list[Order]
    scheduled: list[ScheduledChange]


def subscription_quantity_change(
    *, actor: Actor, subscription: Subscription, quantity: int, version: str | None, schedule_if_needed: bool = False
) -> Order | ScheduledChange:
    """Change one subscription's quantity now (an order), or schedule a decrease for the renewal."""
    result = subscriptions_quantities_change(
        actor=actor,
        changes=[
            QuantityChange(
                subscription_id=subscription.pk,
                quantity=quantity,
                version=version,
                schedule_if_needed=schedule_if_needed,
            )
        ],
    )
    return result.orders[0] if result.orders else result.scheduled[0]


def subscriptions_quantities_change(*, actor: Actor, changes: Iterable[QuantityChange]) -> QuantityChangesResult:
    """Apply changes: one order per customer tenant and account, one line per change ("Apply changes").

    All or nothing: a conflict or a refused change anywhere raises before anything is placed, and says
    which subscription; the user's values are theirs to resubmit.
    """
    changes = sorted(changes, key=lambda change: change.subscription_id)  # lock in a stable order
    now = commitment.clock()
    with transaction.atomic():
        now_lines: dict[tuple[int, int], list[tuple[Subscription, LifecycleLine]]] = defaultdict(list)
        to_schedule: list[tuple[Subscription, int]] = []
        for change in changes:
            subscription = subscription_lock(subscription_id=change.subscription_id, version=change.version)
            if change.quantity == subscription.quantity:
                continue
            preview = quantity_change_preview(subscription=subscription, quantity=change.quantity, now=now)
            if preview.timing == ChangeTiming.NOW:
                line = LifecycleLine(
                    kind=OrderLineKind.CHANGE_QUANTITY,
                    subscription=subscription,
                    quantity=change.quantity,
                    previous_quantity=subscription.quantity,
                )
                now_lines[(subscription.customer_tenant_id, subscription.account_id)].append((subscription, line))
            elif preview.timing == ChangeTiming.AT_RENEWAL and change.schedule_if_needed:
                to_schedule.append((subscription, change.quantity))
            else:
                raise LifecycleRefused(f"{subscription.name}: {preview.message}")
        if not now_lines and not to_schedule:
            raise LifecycleRefused(_("No quantity changed: there is nothing to apply."))
        orders = []
        for group in now_lines.values():
            first = group[0][0]
            order = _order_for(actor, first, [line for _subscription, line in group], source="quantity")
            for subscription, line in group:
                _audit(
                    actor,
                    AuditAction.SUBSCRIPTION_QUANTITY_CHANGE,
                    subscription,
                    before={"quantity": line.previous_quantity},
                    after={"quantity": line.quantity},
                    message=_("Ordered in %(order)s.") % {"order": order},
                )
            orders.append(order)
        scheduled = [
            _schedule(actor=actor, subscription=subscription, quantity=quantity, request=None)
            for subscription, quantity in to_schedule
        ]
    return QuantityChangesResult(orders=orders, scheduled=scheduled)


# -- scheduled for renewal -------------------------------------------------------------------------------------------


def _schedule(*, actor: Actor, subscription: Subscription, quantity: int, request) -> ScheduledChange:
    if subscription.term_end is None:
        raise LifecycleRefused(_("This subscription has no renewal date for the change to wait for."))
    replaced = list(
        ScheduledChange.objects.select_for_update().filter(
            subscription=subscription, status=ScheduledChangeStatus.SCHEDULED
        )
    )
    for previous in replaced:
        previous.status = ScheduledChangeStatus.CANCELLED
        previous.result_message = _("Replaced by a newer scheduled change.")
        previous.processed_at = timezone.now()
        previous.save(update_fields=["status", "result_message", "processed_at"])
    change = ScheduledChange.objects.create(
        subscription=subscription,
        quantity=quantity,
        quantity_when_scheduled=subscription.quantity,
        effective_on=subscription.term_end,
        request=request,
        created_by=actor if actor is not None and not isinstance(actor, str) else None,
    )
    _audit(
        actor,
        AuditAction.SUBSCRIPTION_DECREASE_SCHEDULE,
        subscription,
        before={"scheduled_quantity": replaced[0].quantity if replaced else None},
        after={"scheduled_quantity": quantity, "effective_on": subscription.term_end},
        message=_("Decrease to %(quantity)s scheduled for the renewal on %(date)s.")
        % {"quantity": quantity, "date": when_text(subscription.term_end)},
    )
    return change


def scheduled_decrease_create(
    *, actor: Actor, subscription: Subscription, quantity: int, version: str | None, request=None
) -> ScheduledChange:
    """Keep a decrease the window does not allow now, for the renewal."""
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        preview = quantity_change_preview(subscription=subscription, quantity=quantity)
        if preview.timing != ChangeTiming.AT_RENEWAL:
            raise LifecycleRefused(
                _("This change need not wait for the renewal: apply it now.")
                if preview.timing == ChangeTiming.NOW
                else preview.message
            )
        return _schedule(actor=actor, subscription=subscription, quantity=quantity, request=request)


def scheduled_change_cancel(*, actor: Actor, change: ScheduledChange) -> ScheduledChange:
    with transaction.atomic():
        change = (
            ScheduledChange.objects.select_for_update()
            .select_related("subscription__customer_tenant")
            .get(pk=change.pk)
        )
        if change.status != ScheduledChangeStatus.SCHEDULED:
            raise LifecycleRefused(_("This change is no longer scheduled."))
        change.status = ScheduledChangeStatus.CANCELLED
        change.processed_at = timezone.now()
        change.result_message = _("Cancelled by %(who)s.") % {"who": getattr(actor, "email", None) or actor}
        change.save(update_fields=["status", "processed_at", "result_message"])
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_CANCEL,
            change.subscription,
            before={"scheduled_quantity": change.quantity},
            after={"scheduled_quantity": None},
        )
    return change


def _notify_scheduled(
    change: ScheduledChange, *, title: Callable[[], str], body: Callable[[], str], level: str
) -> None:
    from django.urls import reverse

    recipients = [change.created_by] if change.created_by_id else []
    notification_create(
        recipients=recipients,
        title=title,
        body=body,
        url=reverse("subscriptions:subscription_detail", args=[change.subscription_id]),
        level=level,
    )


def _finish(change: ScheduledChange, status: str, message: str, *, order: Order | None = None) -> str:
    change.status = status
    change.result_message = message
    change.processed_at = timezone.now()
    change.order = order
    change.save(update_fields=["status", "result_message", "processed_at", "order"])
    return status


def scheduled_change_apply(*, change_id: int, now: datetime | None = None) -> str:
    """Apply one scheduled decrease if its renewal has come: returns the change's status afterwards,
    or "waiting" while the sync has not reported the renewal yet."""
    now = now or commitment.clock()
    with transaction.atomic():
        change = ScheduledChange.objects.select_for_update().get(pk=change_id)
        if change.status != ScheduledChangeStatus.SCHEDULED:
            return change.status
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("account", "customer_tenant__customer")
            .get(pk=change.subscription_id)
        )
        if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
            message = _("The subscription is %(status)s: nothing to decrease.") % {
                "status": subscription.get_status_display().lower()
            }
            _audit(AUTOMATION_ACTOR, AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_SKIP, subscription, message=message)
            return _finish(change, ScheduledChangeStatus.CANCELLED, message)
        renewed = subscription.term_end is not None and subscription.term_end > change.effective_on
        if not renewed:
            if now.date() <= change.effective_on + RENEWAL_GRACE:
                return "waiting"

            def describe():
                return _(
                    "The renewal on %(date)s was not reported by the marketplace; the decrease was not applied."
                ) % {"date": when_text(change.effective_on)}

            message = describe()
            _audit(
                AUTOMATION_ACTOR,
                AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_SKIP,
                subscription,
                message=message,
                result=AuditResult.FAILURE,
            )
            _notify_scheduled(
                change,
                title=lambda: _("Scheduled decrease not applied"),
                body=describe,
                level=NotificationLevel.WARNING,
            )
            return _finish(change, ScheduledChangeStatus.FAILED, message)
        if subscription.quantity <= change.quantity:
            message = _("The quantity is already %(quantity)s: nothing to decrease.") % {
                "quantity": subscription.quantity
            }
            return _finish(change, ScheduledChangeStatus.SKIPPED, message)
        if subscription.assigned is not None and subscription.assigned > change.quantity:

            def describe():
                return _(
                    "%(assigned)s seats were assigned at the renewal, more than the %(quantity)s scheduled: the "
                    "decrease was skipped and nothing was ordered."
                ) % {"assigned": subscription.assigned, "quantity": change.quantity}

            message = describe()
            _audit(
                AUTOMATION_ACTOR,
                AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_SKIP,
                subscription,
                message=message,
                result=AuditResult.FAILURE,
            )
            _notify_scheduled(
                change, title=lambda: _("Scheduled decrease skipped"), body=describe, level=NotificationLevel.WARNING
            )
            return _finish(change, ScheduledChangeStatus.SKIPPED, message)
        preview = quantity_change_preview(subscription=subscription, quantity=change.quantity, now=now)
        if preview.timing != ChangeTiming.NOW:

            def describe():  # the preview is pure: asked again, it explains itself in the reader's language
                reason = quantity_change_preview(subscription=subscription, quantity=change.quantity, now=now).message
                return _("Not applied: %(reason)s") % {"reason": reason}

            message = describe()
            _audit(
                AUTOMATION_ACTOR,
                AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_SKIP,
                subscription,
                message=message,
                result=AuditResult.FAILURE,
            )
            _notify_scheduled(
                change,
                title=lambda: _("Scheduled decrease not applied"),
                body=describe,
                level=NotificationLevel.WARNING,
            )
            return _finish(change, ScheduledChangeStatus.FAILED, message)
        if _in_flight_lines(subscription).exists():
            return "waiting"
        order = _order_for(
            change.created_by,
            subscription,
            [
                LifecycleLine(
                    kind=OrderLineKind.CHANGE_QUANTITY,
                    subscription=subscription,
                    quantity=change.quantity,
                    previous_quantity=subscription.quantity,
                    parameters={"scheduled_change": change.pk},
                )
            ],
            source="scheduled",
        )
        message = _("Ordered at the renewal in %(order)s.") % {"order": order}
        _audit(
            AUTOMATION_ACTOR,
            AuditAction.SUBSCRIPTION_SCHEDULED_DECREASE_APPLY,
            subscription,
            before={"quantity": subscription.quantity},
            after={"quantity": change.quantity},
            message=message,
        )
        _notify_scheduled(
            change,
            title=lambda: _("Scheduled decrease ordered"),
            body=lambda: _("Ordered at the renewal in %(order)s.") % {"order": order},
            level=NotificationLevel.INFO,
        )
        return _finish(change, ScheduledChangeStatus.ORDERED, message, order=order)


def scheduled_changes_apply_due(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: every scheduled change whose renewal date has come. Returns {status: count}."""
    now = now or commitment.clock()
    counts: dict[str, int] = defaultdict(int)
    due = ScheduledChange.objects.filter(
        status=ScheduledChangeStatus.SCHEDULED, effective_on__lte=now.date()
    ).values_list("pk", flat=True)
    for change_id in list(due):
        counts[scheduled_change_apply(change_id=change_id, now=now)] += 1
    return dict(counts)


# -- manage subscription -------------------------------------------------------------------------------------------


def subscription_action(
    *, actor: Actor, subscription: Subscription, key: str, version: str | None, billing_cycle: str = "", enabled=None
) -> Order:
    """Suspend, reactivate, terminate, revoke termination, change billing cycle or auto-renew: one order line."""
    spec = action_specs()[key]
    if spec.kind is None or key == "convert_trial":
        raise ValueError(f"{key} is not an order action")
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        availability = action_availability(subscription=subscription, key=key)
        if not availability.available:
            raise LifecycleRefused(availability.reason)
        line = LifecycleLine(kind=spec.kind, subscription=subscription)
        before: dict = {"status": subscription.status}
        after: dict = {"requested": key}
        if key == "billing_cycle":
            if billing_cycle not in (BillingCycle.MONTHLY, BillingCycle.ANNUAL):
                raise LifecycleRefused(_("Choose monthly or annual billing."))
            if billing_cycle == subscription.billing_cycle:
                raise LifecycleRefused(_("The subscription is already billed that way."))
            line = LifecycleLine(kind=spec.kind, subscription=subscription, billing_cycle=billing_cycle)
            before, after = {"billing_cycle": subscription.billing_cycle}, {"billing_cycle": billing_cycle}
        if key == "auto_renew":
            if enabled is None or bool(enabled) == subscription.auto_renew:
                raise LifecycleRefused(_("Auto-renew is already set that way."))
            line = LifecycleLine(kind=spec.kind, subscription=subscription, auto_renew=bool(enabled))
            before, after = {"auto_renew": subscription.auto_renew}, {"auto_renew": bool(enabled)}
        order = _order_for(actor, subscription, [line], source=key)
        _audit(
            actor,
            AuditAction(f"subscription.{key}"),
            subscription,
            before=before,
            after=after,
            message=_("Ordered in %(order)s.") % {"order": order},
        )
    return order


def subscription_trial_convert(*, actor: Actor, subscription: Subscription, offer, version: str | None) -> Order:
    """Convert a trial: buy the chosen paid plan of the same product for the trial's seats."""
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        availability = action_availability(subscription=subscription, key="convert_trial")
        if not availability.available:
            raise LifecycleRefused(availability.reason)
        if not conversion_offers(subscription=subscription).filter(pk=offer.pk).exists():
            raise LifecycleRefused(_("Choose a paid plan of this product."))
        order = _order_for(
            actor,
            subscription,
            [
                LifecycleLine(
                    kind=OrderLineKind.NEW_SUBSCRIPTION,
                    subscription=None,
                    offer=offer,
                    quantity=subscription.quantity,
                    parameters={"converts_trial": subscription.external_id},
                )
            ],
            source="convert_trial",
        )
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_CONVERT_TRIAL,
            subscription,
            after={"offer": offer.external_id, "quantity": subscription.quantity},
            message=_("Ordered in %(order)s.") % {"order": order},
        )
    return order


def subscription_friendly_name_set(
    *, actor: Actor, subscription: Subscription, friendly_name: str
) -> SubscriptionOptions:
    """The console keeps friendly names itself (no marketplace contract carries them)."""
    friendly_name = friendly_name.strip()[:120]
    with transaction.atomic():
        options, _created = SubscriptionOptions.objects.select_for_update().get_or_create(subscription=subscription)
        before = options.friendly_name
        options.friendly_name = friendly_name
        options.save(update_fields=["friendly_name", "updated"])
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_FRIENDLY_NAME_SET,
            subscription,
            before={"friendly_name": before},
            after={"friendly_name": friendly_name},
        )
    return options


# -- add-ons -----------------------------------------------------------------------------------------------------------


def add_on_find(subscription: Subscription, add_on_external_id: str) -> dict | None:
    return next(
        (add_on for add_on in subscription.add_ons or [] if add_on.get("external_id") == add_on_external_id), None
    )


def add_on_add(*, actor: Actor, subscription: Subscription, offer, quantity: int, version: str | None) -> Order:
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        if not marketplace_supports(subscription.account.marketplace, Capability.ADD_ADD_ON):
            raise LifecycleRefused(
                _("%(marketplace)s does not add add-ons.")
                % {"marketplace": marketplace_name(subscription.account.marketplace)}
            )
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise LifecycleRefused(_("Add-ons can only be added to an active subscription."))
        if quantity < 1:
            raise LifecycleRefused(_("The quantity must be at least 1."))
        if not add_on_offers(subscription=subscription).filter(pk=offer.pk).exists():
            raise LifecycleRefused(_("This add-on cannot be added to this subscription."))
        order = _order_for(
            actor,
            subscription,
            [LifecycleLine(kind=OrderLineKind.ADD_ON_ADD, subscription=subscription, offer=offer, quantity=quantity)],
            source="add_on_add",
        )
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_ADD_ON_ADD,
            subscription,
            after={"add_on": offer.name, "quantity": quantity},
            message=_("Ordered in %(order)s.") % {"order": order},
        )
    return order


def add_on_change(
    *, actor: Actor, subscription: Subscription, add_on_external_id: str, quantity: int, version: str | None
) -> Order:
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        add_on = add_on_find(subscription, add_on_external_id)
        if add_on is None:
            raise LifecycleRefused(_("This add-on is no longer on the subscription."))
        if not marketplace_supports(subscription.account.marketplace, Capability.CHANGE_ADD_ON):
            raise LifecycleRefused(_("The marketplace does not change add-on quantities."))
        if quantity < 1:
            raise LifecycleRefused(_("The quantity must be at least 1; remove the add-on to end it."))
        if quantity == add_on.get("quantity"):
            raise LifecycleRefused(_("The quantity stays the same."))
        window = commitment_window(subscription=subscription)
        if quantity < int(add_on.get("quantity") or 0) and window.applies and not window.is_open:
            raise LifecycleRefused(
                _("Add-on decreases follow the cancellation window, which closed on %(date)s.")
                % {"date": window.closes_at.date() if window.closes_at else ""}
            )
        order = _order_for(
            actor,
            subscription,
            [
                LifecycleLine(
                    kind=OrderLineKind.ADD_ON_CHANGE,
                    subscription=subscription,
                    add_on_external_id=add_on_external_id,
                    quantity=quantity,
                    previous_quantity=add_on.get("quantity"),
                    parameters={"add_on_name": add_on.get("name", "")},
                )
            ],
            source="add_on_change",
        )
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_ADD_ON_CHANGE,
            subscription,
            before={"add_on": add_on.get("name"), "quantity": add_on.get("quantity")},
            after={"add_on": add_on.get("name"), "quantity": quantity},
            message=_("Ordered in %(order)s.") % {"order": order},
        )
    return order


def add_on_remove(*, actor: Actor, subscription: Subscription, add_on_external_id: str, version: str | None) -> Order:
    with transaction.atomic():
        subscription = subscription_lock(subscription_id=subscription.pk, version=version)
        add_on = add_on_find(subscription, add_on_external_id)
        if add_on is None:
            raise LifecycleRefused(_("This add-on is no longer on the subscription."))
        if not marketplace_supports(subscription.account.marketplace, Capability.REMOVE_ADD_ON):
            raise LifecycleRefused(_("The marketplace does not remove add-ons."))
        order = _order_for(
            actor,
            subscription,
            [
                LifecycleLine(
                    kind=OrderLineKind.ADD_ON_REMOVE,
                    subscription=subscription,
                    add_on_external_id=add_on_external_id,
                    parameters={"add_on_name": add_on.get("name", "")},
                )
            ],
            source="add_on_remove",
        )
        _audit(
            actor,
            AuditAction.SUBSCRIPTION_ADD_ON_REMOVE,
            subscription,
            before={"add_on": add_on.get("name"), "quantity": add_on.get("quantity")},
            message=_("Ordered in %(order)s.") % {"order": order},
        )
    return order
