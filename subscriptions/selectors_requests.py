"""Reads of licence change requests and licence settings, scoped to the customers the user may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from catalog.models import Offer
from customers.models import CustomerTenant
from customers.selectors import customer_tenants_visible_to
from portal.audit.models import AuditEvent
from portal.audit.selectors import audit_events_for_object
from subscriptions.choices_lifecycle import ApprovalDecision, RequestStatus
from subscriptions.models import LicenseChangeRequest, Subscription


def requests_visible_to(*, user) -> QuerySet[LicenseChangeRequest]:
    return LicenseChangeRequest.objects.filter(customer_tenant__in=customer_tenants_visible_to(user=user))


def requests_for_list(*, user) -> QuerySet[LicenseChangeRequest]:
    return (
        requests_visible_to(user=user)
        .select_related("customer_tenant__customer", "subscription", "requested_by", "decided_by", "order")
        .annotate(approval_count=Count("approvals", filter=Q(approvals__decision=ApprovalDecision.APPROVE)))
        .order_by("-created", "-id")
    )


def request_get(*, user, pk: int) -> LicenseChangeRequest:
    return (
        requests_visible_to(user=user)
        .select_related(
            "customer_tenant__customer", "subscription__account", "offer", "requested_by", "decided_by", "order"
        )
        .prefetch_related("approvals__approver", "scheduled_changes")
        .get(pk=pk)
    )


def request_audit_events(*, request: LicenseChangeRequest) -> QuerySet[AuditEvent]:
    return audit_events_for_object(target=request).order_by("-created", "-id")


def pending_request_count(*, user) -> int:
    return requests_visible_to(user=user).filter(status=RequestStatus.PENDING).count()


def tenant_subscriptions_for_settings(*, customer_tenant: CustomerTenant) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(customer_tenant=customer_tenant)
        .select_related("options", "account")
        .order_by("name", "pk")
    )


def offers_requestable_for(*, customer_tenant: CustomerTenant) -> QuerySet[Offer]:
    """Services a tenant may ask for: available plans, visible in the catalog, of the marketplace accounts
    the tenant is connected through."""
    queryset = Offer.objects.filter(
        account__tenant_connections__customer_tenant=customer_tenant, is_available=True, is_add_on=False
    )
    if any(field.name == "is_visible" for field in Offer._meta.get_fields()):
        queryset = queryset.filter(is_visible=True)
    return queryset.select_related("account").order_by("name", "billing_cycle", "pk").distinct()
