"""Demo data of the subscription lifecycle: every state appears.

Tenant settings > Licenses with approvals, thresholds and automation; a friendly name and an automation
exclusion; a decrease scheduled for a renewal; licence change requests Pending (a tenant admin's and an
auto-purchase's), Approved (its order waits for the worker), Rejected, Applied and Failed. Runs after the
order demo (`demo.orders` calls it) on the ALSO account of demo.marketplace. Requests that become
orders are placed at the simulator by the same code the task runs. Idempotent: each demo request is found
by its reason.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from marketplace.models import MarketplaceAccount
from portal.accounts.choices import UserKind
from portal.accounts.types import Actor
from subscriptions import commitment
from subscriptions.choices import SubscriptionStatus
from subscriptions.choices_lifecycle import ChangeTiming, RequestSource, RequestStatus, ScheduledChangeStatus
from subscriptions.models import (
    LicenseChangeRequest,
    ScheduledChange,
    Subscription,
    SubscriptionOptions,
    TenantLicenseSettings,
)
from subscriptions.services_lifecycle import LifecycleRefused, scheduled_decrease_create
from subscriptions.services_requests import (
    RequestRefused,
    license_change_request_create,
    license_change_request_decide,
    license_change_requests_settle,
)

PREFIX = "Demo: "


def _live(account: MarketplaceAccount):
    """Active subscriptions the simulator's demo seeding made (an in-process simulator of a later seeding
    run knows those, not what earlier demo orders bought at another one)."""
    return (
        Subscription.objects.filter(account=account, status=SubscriptionStatus.ACTIVE, trial=False)
        .exclude(order_reference__startswith="msp-")
        .order_by("customer_tenant__primary_domain", "name", "pk")
    )


def _request(reason: str) -> LicenseChangeRequest | None:
    return LicenseChangeRequest.objects.filter(reason=PREFIX + reason).first()


def seed(partner) -> list[str]:
    from demo.orders import _also_simulator  # the order demo's simulator context (same seeding)
    from orders.placement import order_execute

    users = get_user_model().objects
    admin = users.filter(username="admin").first()
    support = users.filter(username="support").first()
    tenant_admin = users.filter(username="tenant.admin", kind=UserKind.CUSTOMER_ADMIN).first()
    account = MarketplaceAccount.objects.filter(marketplace="also").order_by("pk").first()
    if admin is None or account is None or not _live(account).exists():
        return ["  Lifecycle: no administrator, ALSO account or active subscription yet; skipped"]
    approver = support or admin
    subscriptions = list(_live(account))
    admin_tenants = set(tenant_admin.customers.values_list("tenants__pk", flat=True)) if tenant_admin else set()
    theirs = [s for s in subscriptions if s.customer_tenant_id in admin_tenants]
    made: list[str] = []

    # Tenant settings > Licenses: the first tenant asks for approval, with thresholds and automation;
    # the second needs no approval.
    tenants = list(dict.fromkeys(s.customer_tenant for s in subscriptions))
    if tenants and not TenantLicenseSettings.objects.filter(customer_tenant=tenants[0]).exists():
        TenantLicenseSettings.objects.create(
            customer_tenant=tenants[0],
            approval_required=True,
            second_approval_seats=10,
            second_approval_amount=Decimal("500"),
            auto_purchase_enabled=True,
            auto_purchase_step=5,
            auto_purchase_cap=100,
            auto_decrease_enabled=True,
            auto_decrease_buffer=2,
            auto_decrease_lead_days=2,
            updated_by=admin,
        )
        made.append("licence settings")
    if len(tenants) > 2 and not TenantLicenseSettings.objects.filter(customer_tenant=tenants[-1]).exists():
        TenantLicenseSettings.objects.create(customer_tenant=tenants[-1], approval_required=False, updated_by=admin)
    first = subscriptions[0]
    SubscriptionOptions.objects.get_or_create(subscription=first, defaults={"friendly_name": "Head office licences"})
    if len(subscriptions) > 1:
        SubscriptionOptions.objects.get_or_create(
            subscription=subscriptions[-1], defaults={"auto_decrease_excluded": True, "auto_purchase_excluded": True}
        )

    # A decrease the window does not allow now, scheduled for the renewal.
    if not ScheduledChange.objects.filter(status=ScheduledChangeStatus.SCHEDULED).exists():
        for subscription in subscriptions:
            if subscription.quantity < 3:
                continue
            preview = commitment.quantity_change_preview(subscription=subscription, quantity=subscription.quantity - 2)
            if preview.timing == ChangeTiming.AT_RENEWAL:
                try:
                    scheduled_decrease_create(
                        actor=admin, subscription=subscription, quantity=subscription.quantity - 2, version=None
                    )
                    made.append("scheduled decrease")
                except LifecycleRefused:
                    continue
                break

    def ask(reason: str, subscription: Subscription, quantity: int, actor: Actor, source=RequestSource.USER):
        existing = _request(reason)
        if existing is not None:
            return existing
        try:
            return license_change_request_create(
                actor=actor, subscription=subscription, quantity=quantity, reason=PREFIX + reason, source=source
            )
        except RequestRefused:
            return None

    without_approval = set(
        TenantLicenseSettings.objects.filter(approval_required=False).values_list("customer_tenant_id", flat=True)
    )
    free = [
        s
        for s in subscriptions
        if s.customer_tenant_id not in without_approval
        and not LicenseChangeRequest.objects.filter(subscription=s).exists()
    ]
    requester_pool = [s for s in (theirs or subscriptions) if s in free] or free
    with _also_simulator():
        # Rejected, Applied and Failed close their request: they can share one subscription.
        closed = requester_pool[0] if requester_pool else None
        if closed is not None and _request("trial for the interns") is None:
            request = ask("trial for the interns", closed, closed.quantity + 20, tenant_admin or support or admin)
            if request is not None and request.status == RequestStatus.PENDING:
                license_change_request_decide(
                    actor=admin if request.requested_by != admin else approver,
                    request=request,
                    approve=False,
                    comment="Interns use shared devices: no extra licences.",
                )
                made.append("rejected request")
        if closed is not None and _request("new sales team") is None:
            closed.refresh_from_db()
            request = ask("new sales team", closed, closed.quantity + 2, tenant_admin or support or admin)
            if request is not None and request.status == RequestStatus.PENDING:
                decider = approver if request.requested_by != approver else admin
                request = license_change_request_decide(actor=decider, request=request, approve=True, comment="OK")
            if request is not None and request.order_id:
                order_execute(order_id=request.order_id)
                made.append("applied request")
        if closed is not None and _request("company-wide roll-out") is None:
            license_change_requests_settle()
            closed.refresh_from_db()
            # ALSO sells at most 300 licences per subscription: the marketplace refuses this one.
            by_tenant_admin = tenant_admin is not None and closed.customer_tenant_id in admin_tenants
            request = ask(
                "company-wide roll-out",
                closed,
                500,
                tenant_admin if by_tenant_admin else "automation",
                RequestSource.USER if by_tenant_admin else RequestSource.AUTO_PURCHASE,
            )
            if request is not None and request.status == RequestStatus.PENDING:
                request = license_change_request_decide(actor=admin, request=request, approve=True, comment="Go")
                if request.status == RequestStatus.PENDING and approver != admin:  # above the thresholds
                    request = license_change_request_decide(actor=approver, request=request, approve=True)
            if request is not None and request.order_id:
                order_execute(order_id=request.order_id)
                made.append("failed request")
        open_ones = [s for s in free if s != closed]
        # Pending: a tenant admin's request (or the support desk's), waiting for a partner user.
        target = next((s for s in open_ones if s in requester_pool), None) or next(iter(open_ones), None)
        if target is not None and _request("three new colleagues start on Monday") is None:
            ask("three new colleagues start on Monday", target, target.quantity + 3, tenant_admin or support or admin)
            made.append("pending request")
        if target is not None:
            open_ones.remove(target)
        # Pending from the automation.
        target = next(iter(open_ones), None)
        if target is not None and _request("every seat is assigned") is None:
            ask("every seat is assigned", target, target.quantity + 5, "automation", RequestSource.AUTO_PURCHASE)
        if target is not None:
            open_ones.remove(target)
        # Approved: its order is left for the worker of the run command.
        target = next(iter(open_ones), None)
        if target is not None and _request("second office opens") is None:
            request = ask("second office opens", target, target.quantity + 1, support or admin)
            if request is not None and request.status == RequestStatus.PENDING:
                decider = admin if request.requested_by != admin else approver
                license_change_request_decide(actor=decider, request=request, approve=True)
                made.append("approved request")
    license_change_requests_settle()
    counts = ", ".join(
        f"{LicenseChangeRequest.objects.filter(status=status).count()} {label.lower()}"
        for status, label in RequestStatus.choices
    )
    scheduled = ScheduledChange.objects.filter(status=ScheduledChangeStatus.SCHEDULED).count()
    return [
        f"  Lifecycle: licence change requests {counts}; {scheduled} decrease(s) scheduled for renewal"
        + (f" (new: {', '.join(made)})" if made else " (nothing new)")
    ]
