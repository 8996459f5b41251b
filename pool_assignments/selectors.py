"""Reads of the reseller's own customer assignments (its own schema; no other partner is read)."""

from django.db.models import QuerySet

from customers.models import Customer
from customers.selectors import customers_visible_to
from pool_assignments.choices import HOLDING_STATUSES, AssignmentStatus
from pool_assignments.models import PoolAssignment


def pool_assignments_visible_to(*, user) -> QuerySet[PoolAssignment]:
    """The assignments of the customers this user may see, newest first."""
    return (
        PoolAssignment.objects.filter(customer__in=customers_visible_to(user=user))
        .select_related("customer", "allocation__pool__owner")
        .order_by("-first_assigned_on", "-pk")
    )


def pool_assignments_holding(*, user) -> QuerySet[PoolAssignment]:
    return pool_assignments_visible_to(user=user).filter(status__in=HOLDING_STATUSES)


def customer_license_type(*, customer: Customer, service: str) -> str | None:
    """The customer's license type for a service: the most recent assignment's (it prevails)."""
    return (
        PoolAssignment.objects.filter(customer=customer, service=service, status=AssignmentStatus.ACTIVE)
        .order_by("-first_assigned_on", "-pk")
        .values_list("license_type", flat=True)
        .first()
    )
