"""Licence change requests, their approval rules, and Tenant settings > Licenses.

A request is created by a customer tenant admin, a partner user or the automation (auto-purchase,
auto-decrease), all through `license_change_request_create` / `license_change_request_new_service`, so
the same rules and audit trail apply to each: approval required or not per customer tenant; above a
threshold in seats or in monthly money a second approver; nobody decides their own request.
An approved request becomes an order through the order machinery, or, for a
decrease the commitment window does not allow now, a change scheduled for the renewal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.pricing import money_round, price_resolve
from customers.models import CustomerTenant
from customers.selectors import customers_visible_to
from marketplace.models import TenantConnection
from marketplace.providers.base import billing_cycle_months
from orders.choices import OrderLineKind, OrderStatus
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import User
from portal.accounts.permissions import user_has_permission
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction, AuditResult, NotificationLevel
from portal.audit.services import audit_record, model_snapshot, notification_create
from subscriptions.choices_lifecycle import (
    ApprovalDecision,
    ChangeTiming,
    RequestKind,
    RequestSource,
    RequestStatus,
    ScheduledChangeStatus,
)
from subscriptions.commitment import quantity_change_preview
from subscriptions.lifecycle_orders import LifecycleLine, lifecycle_order_place
from subscriptions.models import (
    LicenseChangeApproval,
    LicenseChangeRequest,
    Subscription,
    SubscriptionOptions,
    TenantLicenseSettings,
)
from subscriptions.selectors_subscriptions import customer_unit_prices
from subscriptions.services_lifecycle import AUTOMATION_ACTOR, LifecycleRefused, _schedule, subscription_lock

OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.APPROVED)
SETTINGS_FIELDS = (
    "approval_required",
    "second_approval_seats",
    "second_approval_amount",
    "auto_purchase_enabled",
    "auto_purchase_step",
    "auto_purchase_cap",
    "auto_decrease_enabled",
    "auto_decrease_buffer",
    "auto_decrease_lead_days",
)
OPTIONS_FIELDS = ("friendly_name", "auto_purchase_excluded", "auto_decrease_excluded", "auto_decrease_buffer")


class RequestRefused(Exception):
    """A rule refuses the request or the decision; the message says why. Nothing was saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- Tenant settings > Licenses --------------------------------------------------------------------------------------


def tenant_license_settings_for(*, customer_tenant: CustomerTenant) -> TenantLicenseSettings:
    """The tenant's settings, or the defaults (unsaved) when nobody changed them yet."""
    found = TenantLicenseSettings.objects.filter(customer_tenant=customer_tenant).first()
    return found or TenantLicenseSettings(customer_tenant=customer_tenant)


def tenant_license_settings_save(
    *, actor: Actor, customer_tenant: CustomerTenant, fields: dict[str, Any]
) -> TenantLicenseSettings:
    with transaction.atomic():
        settings, _created = TenantLicenseSettings.objects.select_for_update().get_or_create(
            customer_tenant=customer_tenant
        )
        before = model_snapshot(settings, SETTINGS_FIELDS)
        for name in SETTINGS_FIELDS:
            if name in fields:
                setattr(settings, name, fields[name])
        settings.updated_by = actor_user(actor)
        settings.save()
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_LICENSE_SETTINGS_UPDATE,
            target=customer_tenant,
            customer_id=customer_tenant.customer_id,
            before=before,
            after=model_snapshot(settings, SETTINGS_FIELDS),
        )
    return settings


def subscription_options_save(
    *, actor: Actor, subscription: Subscription, fields: dict[str, Any]
) -> SubscriptionOptions:
    with transaction.atomic():
        options, _created = SubscriptionOptions.objects.select_for_update().get_or_create(subscription=subscription)
        before = model_snapshot(options, OPTIONS_FIELDS)
        for name in OPTIONS_FIELDS:
            if name in fields:
                setattr(options, name, fields[name])
        options.save()
        audit_record(
            actor=actor,
            action=AuditAction.SUBSCRIPTION_LICENSE_OPTIONS_UPDATE,
            target=subscription,
            customer_id=subscription.customer_tenant.customer_id,
            before=before,
            after=model_snapshot(options, OPTIONS_FIELDS),
        )
    return options


# -- who decides -----------------------------------------------------------------------------------------------------


def approvers_for(*, customer_tenant: CustomerTenant) -> list[User]:
    """Partner users who may approve requests of this tenant: Subscriptions "manage" and the customer in scope."""
    users = User.objects.filter(is_active=True, kind=UserKind.PARTNER).prefetch_related("roles").order_by("pk")
    return [
        user
        for user in users
        if user_has_permission(user, PermissionModule.SUBSCRIPTIONS, AccessLevel.MANAGE)
        and customers_visible_to(user=user).filter(pk=customer_tenant.customer_id).exists()
    ]


def request_decision_refusal(*, user, request: LicenseChangeRequest) -> str:
    """Why `user` may not approve or reject `request` now ("" when they may)."""
    if request.status != RequestStatus.PENDING:
        return _("This request is %(status)s: it is no longer waiting for a decision.") % {
            "status": request.get_status_display().lower()
        }
    if user.kind != UserKind.PARTNER or not user_has_permission(
        user, PermissionModule.SUBSCRIPTIONS, AccessLevel.MANAGE
    ):
        return _("Only partner users who manage subscriptions decide licence change requests.")
    if request.requested_by_id == user.pk:
        return _("Nobody approves their own request: another person must decide it.")
    if any(approval.approver_id == user.pk for approval in request.approvals.all()):
        return _("You approved this request already: it needs a second, different approver.")
    return ""


# -- money ----------------------------------------------------------------------------------------------------------


def _per_month(unit: Decimal | None, billing_cycle: str) -> Decimal | None:
    months = billing_cycle_months(billing_cycle)
    if unit is None or months is None:
        return None
    return unit / months


def _subscription_monthly_unit(subscription: Subscription) -> tuple[Decimal | None, str]:
    price = customer_unit_prices([subscription]).get(subscription.pk)
    if price is None:
        price = subscription.unit_cost_price
    return _per_month(price, subscription.billing_cycle), subscription.currency


def _offer_monthly_unit(offer, customer) -> tuple[Decimal | None, str]:
    price = price_resolve(offer=offer, customer=customer).amount
    return _per_month(price, offer.billing_cycle), offer.currency


def _approvals_required(settings: TenantLicenseSettings, *, seats: int, amount: Decimal | None) -> int:
    if settings.second_approval_seats is not None and abs(seats) > settings.second_approval_seats:
        return 2
    if (
        settings.second_approval_amount is not None
        and amount is not None
        and abs(amount) > settings.second_approval_amount
    ):
        return 2
    return 1


# -- creating requests -----------------------------------------------------------------------------------------------


def _request_url(request: LicenseChangeRequest) -> str:
    return reverse("subscriptions:request_detail", args=[request.pk])


def _actor_user(actor: Actor) -> User | None:
    return actor if actor is not None and not isinstance(actor, str) else None


def _request_snapshot(request: LicenseChangeRequest) -> dict[str, Any]:
    return model_snapshot(
        request,
        ("kind", "source", "status", "product_name", "current_quantity", "requested_quantity", "amount", "currency"),
    )


def _after_create(actor: Actor, request: LicenseChangeRequest, settings: TenantLicenseSettings) -> LicenseChangeRequest:
    audit_record(
        actor=actor,
        action=AuditAction.LICENSE_REQUEST_CREATE,
        target=request,
        customer_id=request.customer_tenant.customer_id,
        after=_request_snapshot(request),
        message=request.reason,
    )
    if not settings.approval_required:
        request.status = RequestStatus.APPROVED
        request.decided_at = timezone.now()
        request.decision_comment = _("No approval required for this tenant.")
        request.save(update_fields=["status", "decided_at", "decision_comment", "updated"])
        audit_record(
            actor=AUTOMATION_ACTOR,
            action=AuditAction.LICENSE_REQUEST_APPROVE,
            target=request,
            customer_id=request.customer_tenant.customer_id,
            after={"status": request.status},
            message=request.decision_comment,
        )
        return _fulfil(request, actor=actor)
    approvers = [
        user for user in approvers_for(customer_tenant=request.customer_tenant) if user.pk != request.requested_by_id
    ]
    notification_create(
        recipients=approvers,
        title=lambda: (
            _("Licence change request for %(tenant)s: %(change)s")
            % {"tenant": request.customer_tenant, "change": request}
        ),
        body=lambda: (
            _("Requested by %(who)s (%(source)s). %(approvals)s approval(s) needed.")
            % {
                "who": request.requested_by or _("automation"),
                "source": request.get_source_display(),
                "approvals": request.approvals_required,
            }
        ),
        url=_request_url(request),
        level=NotificationLevel.WARNING if request.source != RequestSource.USER else NotificationLevel.INFO,
    )
    return request


def _open_request_exists(subscription: Subscription) -> bool:
    return LicenseChangeRequest.objects.filter(subscription=subscription, status__in=OPEN_STATUSES).exists()


def license_change_request_create(
    *, actor: Actor, subscription: Subscription, quantity: int, reason: str = "", source: str = RequestSource.USER
) -> LicenseChangeRequest:
    """Ask for `quantity` licences of a subscription. The automation passes its source and actor "automation"."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("account", "customer_tenant__customer")
            .get(pk=subscription.pk)
        )
        if quantity == subscription.quantity:
            raise RequestRefused(_("The subscription already has %(quantity)s licences.") % {"quantity": quantity})
        preview = quantity_change_preview(subscription=subscription, quantity=quantity)
        if preview.timing == ChangeTiming.NOT_ALLOWED:
            raise RequestRefused(preview.message)
        if _open_request_exists(subscription):
            raise RequestRefused(
                _("A request for %(name)s is already waiting: decide it before asking again.")
                % {"name": subscription.name}
            )
        settings = tenant_license_settings_for(customer_tenant=subscription.customer_tenant)
        seats = quantity - subscription.quantity
        unit, currency = _subscription_monthly_unit(subscription)
        amount = money_round(unit * seats, currency) if unit is not None else None
        request = LicenseChangeRequest.objects.create(
            customer_tenant=subscription.customer_tenant,
            kind=RequestKind.CHANGE_QUANTITY,
            source=source,
            subscription=subscription,
            offer=subscription.offer,
            product_name=subscription.name,
            current_quantity=subscription.quantity,
            requested_quantity=quantity,
            currency=currency,
            amount=amount,
            approvals_required=_approvals_required(settings, seats=seats, amount=amount),
            window_closes_at=subscription.cancellation_allowed_until,
            reason=reason.strip(),
            requested_by=_actor_user(actor),
        )
        return _after_create(actor, request, settings)


def license_change_requests_create(
    *, actor: Actor, changes: list[tuple[Subscription, int]], reason: str = ""
) -> list[LicenseChangeRequest]:
    """Several requests at once ("Request changes" on the Subscriptions list): all or none."""
    with transaction.atomic():
        return [
            license_change_request_create(actor=actor, subscription=subscription, quantity=quantity, reason=reason)
            for subscription, quantity in changes
        ]


def license_change_request_new_service(
    *, actor: Actor, customer_tenant: CustomerTenant, offer, quantity: int, reason: str = ""
) -> LicenseChangeRequest:
    """Ask for a new service from the store (a plan of a marketplace the tenant is connected to)."""
    if quantity < 1:
        raise RequestRefused(_("The quantity must be at least 1."))
    connected = TenantConnection.objects.filter(customer_tenant=customer_tenant, account_id=offer.account_id).exists()
    if not connected or not offer.is_available or offer.is_add_on:
        raise RequestRefused(_("This service cannot be bought for this tenant."))
    with transaction.atomic():
        settings = tenant_license_settings_for(customer_tenant=customer_tenant)
        unit, currency = _offer_monthly_unit(offer, customer_tenant.customer)
        amount = money_round(unit * quantity, currency) if unit is not None else None
        request = LicenseChangeRequest.objects.create(
            customer_tenant=customer_tenant,
            kind=RequestKind.NEW_SUBSCRIPTION,
            source=RequestSource.USER,
            offer=offer,
            product_name=offer.name,
            current_quantity=None,
            requested_quantity=quantity,
            currency=currency,
            amount=amount,
            approvals_required=_approvals_required(settings, seats=quantity, amount=amount),
            reason=reason.strip(),
            requested_by=_actor_user(actor),
        )
        return _after_create(actor, request, settings)


# -- deciding --------------------------------------------------------------------------------------------------------


def license_change_request_decide(
    *, actor: User, request: LicenseChangeRequest, approve: bool, comment: str = ""
) -> LicenseChangeRequest:
    """Approve or reject. A rejection decides at once; approvals count until `approvals_required`."""
    with transaction.atomic():
        request = (
            LicenseChangeRequest.objects.select_for_update(of=("self",))
            .select_related("customer_tenant__customer", "subscription__account", "offer", "requested_by")
            .get(pk=request.pk)
        )
        refusal = request_decision_refusal(user=actor, request=request)
        if refusal:
            raise RequestRefused(refusal)
        comment = comment.strip()
        if not approve and not comment:
            raise RequestRefused(_("Say why you reject the request: the requester sees your comment."))
        LicenseChangeApproval.objects.create(
            request=request,
            approver=actor,
            decision=ApprovalDecision.APPROVE if approve else ApprovalDecision.REJECT,
            comment=comment,
        )
        approvals = request.approvals.filter(decision=ApprovalDecision.APPROVE).count()
        before = {"status": request.status}
        if not approve:
            request.status = RequestStatus.REJECTED
        elif approvals >= request.approvals_required:
            request.status = RequestStatus.APPROVED
        if request.status != RequestStatus.PENDING:
            request.decided_by = actor
            request.decided_at = timezone.now()
            request.decision_comment = comment
        request.save()
        audit_record(
            actor=actor,
            action=AuditAction.LICENSE_REQUEST_APPROVE if approve else AuditAction.LICENSE_REQUEST_REJECT,
            target=request,
            customer_id=request.customer_tenant.customer_id,
            before=before,
            after={"status": request.status, "approvals": approvals, "approvals_required": request.approvals_required},
            message=comment,
        )
        if request.status == RequestStatus.PENDING:
            others = [
                user
                for user in approvers_for(customer_tenant=request.customer_tenant)
                if user.pk not in (actor.pk, request.requested_by_id)
            ]
            notification_create(
                recipients=others,
                title=lambda: _("A second approval is needed: %(change)s") % {"change": request},
                body=lambda: _("%(who)s approved; the change is above the tenant's threshold.") % {"who": actor},
                url=_request_url(request),
                level=NotificationLevel.WARNING,
            )
            return request
        notification_create(
            recipients=[request.requested_by] if request.requested_by else [],
            title=lambda: (
                (
                    _("Your licence change request was approved: %(change)s")
                    if approve
                    else _("Your licence change request was rejected: %(change)s")
                )
                % {"change": request}
            ),
            body=comment,
            url=_request_url(request),
            level=NotificationLevel.SUCCESS if approve else NotificationLevel.WARNING,
        )
        if request.status == RequestStatus.APPROVED:
            return _fulfil(request, actor=actor)
    return request


def _fail(request: LicenseChangeRequest, message: str, *, actor: Actor) -> LicenseChangeRequest:
    request.status = RequestStatus.FAILED
    request.result_message = message
    request.save(update_fields=["status", "result_message", "updated"])
    audit_record(
        actor=actor,
        action=AuditAction.LICENSE_REQUEST_FAIL,
        target=request,
        customer_id=request.customer_tenant.customer_id,
        after={"status": request.status},
        result=AuditResult.FAILURE,
        message=message,
    )
    notification_create(
        recipients=[request.requested_by] if request.requested_by else [],
        title=lambda: _("Your licence change request could not be applied: %(change)s") % {"change": request},
        body=message,
        url=_request_url(request),
        level=NotificationLevel.ERROR,
    )
    return request


def _fulfil(request: LicenseChangeRequest, *, actor: Actor) -> LicenseChangeRequest:
    """An approved request becomes an order (or a decrease scheduled for the renewal). Inside the caller's
    transaction; a refusal fails the request with the reason, it does not undo the approval."""
    order_actor = _actor_user(actor) or request.requested_by
    try:
        with transaction.atomic():
            if request.kind == RequestKind.NEW_SUBSCRIPTION:
                if request.offer is None:
                    raise LifecycleRefused(_("The requested service is no longer offered."))
                order = lifecycle_order_place(
                    actor=order_actor,
                    customer_tenant=request.customer_tenant,
                    account=request.offer.account,
                    lines=[
                        LifecycleLine(
                            kind=OrderLineKind.NEW_SUBSCRIPTION,
                            offer=request.offer,
                            quantity=request.requested_quantity,
                            parameters={"license_request": request.pk},
                        )
                    ],
                    source="request",
                )
                request.order = order
                request.result_message = _("Ordered in %(order)s.") % {"order": order}
            else:
                if request.subscription_id is None:
                    raise LifecycleRefused(_("The subscription no longer exists."))
                subscription = subscription_lock(subscription_id=request.subscription_id, version=None)
                preview = quantity_change_preview(subscription=subscription, quantity=request.requested_quantity)
                if preview.timing == ChangeTiming.NOW:
                    order = lifecycle_order_place(
                        actor=order_actor,
                        customer_tenant=subscription.customer_tenant,
                        account=subscription.account,
                        lines=[
                            LifecycleLine(
                                kind=OrderLineKind.CHANGE_QUANTITY,
                                subscription=subscription,
                                quantity=request.requested_quantity,
                                previous_quantity=subscription.quantity,
                                parameters={"license_request": request.pk},
                            )
                        ],
                        source="request",
                    )
                    request.order = order
                    request.result_message = _("Ordered in %(order)s.") % {"order": order}
                elif preview.timing == ChangeTiming.AT_RENEWAL:
                    change = _schedule(
                        actor=order_actor,
                        subscription=subscription,
                        quantity=request.requested_quantity,
                        request=request,
                    )
                    request.result_message = _("Scheduled for the renewal on %(date)s.") % {"date": change.effective_on}
                else:
                    raise LifecycleRefused(preview.message)
            request.save(update_fields=["order", "result_message", "updated"])
    except LifecycleRefused as refused:
        return _fail(request, str(refused), actor=actor)
    return request


# -- settling --------------------------------------------------------------------------------------------------------


def license_change_requests_settle() -> int:
    """Approved requests follow their order (or scheduled change): Applied when it completed, Failed with
    the marketplace's reason otherwise. Returns how many requests changed status."""
    changed = 0
    approved = LicenseChangeRequest.objects.filter(status=RequestStatus.APPROVED).select_related(
        "order", "customer_tenant"
    )
    for request in approved:
        outcome, message = None, ""
        if request.order is not None:
            if request.order.status == OrderStatus.COMPLETED:
                outcome, message = RequestStatus.APPLIED, _("Applied by %(order)s.") % {"order": request.order}
            elif request.order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED):
                errors = [line.error_message for line in request.order.lines.all() if line.error_message]
                outcome = RequestStatus.FAILED
                message = "; ".join(errors) or _("%(order)s did not complete.") % {"order": request.order}
        else:
            change = request.scheduled_changes.order_by("-pk").select_related("order").first()
            if change is None:
                continue
            if change.status == ScheduledChangeStatus.ORDERED and change.order is not None:
                if change.order.status == OrderStatus.COMPLETED:
                    outcome, message = RequestStatus.APPLIED, change.result_message
                elif change.order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED):
                    outcome, message = RequestStatus.FAILED, change.result_message
            elif change.status in (
                ScheduledChangeStatus.SKIPPED,
                ScheduledChangeStatus.FAILED,
                ScheduledChangeStatus.CANCELLED,
            ):
                outcome, message = RequestStatus.FAILED, change.result_message
        if outcome is None:
            continue
        with transaction.atomic():
            request.status = outcome
            request.result_message = message
            request.save(update_fields=["status", "result_message", "updated"])
            audit_record(
                actor=AUTOMATION_ACTOR,
                action=AuditAction.LICENSE_REQUEST_APPLY
                if outcome == RequestStatus.APPLIED
                else AuditAction.LICENSE_REQUEST_FAIL,
                target=request,
                customer_id=request.customer_tenant.customer_id,
                after={"status": outcome},
                result=AuditResult.SUCCESS if outcome == RequestStatus.APPLIED else AuditResult.FAILURE,
                message=message,
            )
        changed += 1
    return changed


def license_change_requests_open_for(*, subscription: Subscription) -> QuerySet[LicenseChangeRequest]:
    return LicenseChangeRequest.objects.filter(subscription=subscription, status__in=OPEN_STATUSES)
