"""Writes of a reseller's customer assignments from pool allocations (run in the reseller's schema).

Rules of pooled subscriptions:
- assignments never exceed the allocation: the allocation row (public) is locked while the
  seats already assigned are summed and the new assignment is written;
- a customer's expiration date never passes the allocation's, and is at least 31 days after the
  first assignment unless the allocation ends sooner (then it ends with the allocation);
- the most recent license type prevails: a new assignment of a service to a customer replaces the
  customer's earlier ones of that service, which run out their 31-day minimum as Superseded.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from pool_assignments.choices import HOLDING_STATUSES, MINIMUM_TERM_DAYS, AssignmentStatus
from pool_assignments.models import PoolAssignment
from pools.choices import AllocationStatus
from pools.models import PoolAllocation
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import SYSTEM_ACTOR, audit_record, model_snapshot
from portal.core.formatting import when_text
from portal.partners.models import Partner

ASSIGNMENT_AUDIT_FIELDS = ("allocation_id", "service", "license_type", "seats", "expires_on", "status")


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def assignment_minimum_end(*, first_assigned_on: datetime.date, allocation: PoolAllocation) -> datetime.date:
    """The earliest an assignment may end: 31 days after its first assignment, or the allocation's end."""
    return min(first_assigned_on + datetime.timedelta(days=MINIMUM_TERM_DAYS), allocation.expires_on)


def allocation_seats_assigned(*, allocation: PoolAllocation, today: datetime.date | None = None) -> int:
    """Seats of the allocation that this (the reseller's) schema's customers hold."""
    today = _today(today)
    return (
        PoolAssignment.objects.filter(
            allocation=allocation, status__in=HOLDING_STATUSES, expires_on__gt=today
        ).aggregate(total=Sum("seats"))["total"]
        or 0
    )


def pool_assignment_create(
    *,
    actor: Actor,
    partner: Partner,
    allocation: PoolAllocation,
    customer: Customer,
    seats: int,
    expires_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PoolAssignment:
    """Assign seats of an accepted allocation to one of the reseller's customers. `partner` is the
    reseller acting; this runs in its schema, where its customers are."""
    today = _today(today)
    if connection.schema_name != partner.schema_name:  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
        raise ValidationError(_("Assign pools from the reseller's own console."), code="wrong_schema")
    with transaction.atomic():
        allocation = PoolAllocation.objects.select_for_update(of=("self",)).select_related("pool").get(pk=allocation.pk)
        if allocation.reseller_id != partner.pk:
            raise ValidationError(_("This pool is not yours."), code="not_yours")
        if allocation.status != AllocationStatus.ACCEPTED or allocation.expires_on <= today:
            raise ValidationError(_("Only an accepted pool that has not expired can be assigned."), code="not_active")
        if seats is None or seats < 1:
            raise ValidationError({"seats": _("Assign at least one seat.")})
        free = allocation.seats - allocation_seats_assigned(allocation=allocation, today=today)
        if seats > free:
            raise ValidationError({"seats": _("Only %(free)s seats of this pool are left.") % {"free": max(free, 0)}})
        minimum_end = assignment_minimum_end(first_assigned_on=today, allocation=allocation)
        expires_on = expires_on or allocation.expires_on
        if expires_on > allocation.expires_on:
            raise ValidationError(
                {
                    "expires_on": _("The customer's subscription cannot expire after the pool (%(date)s).")
                    % {"date": when_text(allocation.expires_on)}
                }
            )
        if expires_on < minimum_end:
            raise ValidationError(
                {
                    "expires_on": _(
                        "A pooled subscription lasts at least %(days)s days unless the pool ends sooner: "
                        "choose %(date)s or later."
                    )
                    % {"days": MINIMUM_TERM_DAYS, "date": when_text(minimum_end)}
                }
            )
        service = allocation.pool.service
        # The most recent license type prevails: earlier assignments of the service are superseded.
        for earlier in (
            PoolAssignment.objects.select_for_update(of=("self",))
            .select_related("allocation")
            .filter(customer=customer, service=service, status=AssignmentStatus.ACTIVE)
        ):
            before = model_snapshot(earlier, ASSIGNMENT_AUDIT_FIELDS)
            end = max(
                assignment_minimum_end(first_assigned_on=earlier.first_assigned_on, allocation=earlier.allocation),
                today,
            )
            earlier.expires_on = min(earlier.expires_on, end)
            earlier.status = AssignmentStatus.SUPERSEDED if earlier.expires_on > today else AssignmentStatus.EXPIRED
            earlier.save(update_fields=["expires_on", "status"])
            audit_record(
                actor=actor,
                action=AuditAction.POOL_ASSIGNMENT_SUPERSEDE,
                target=earlier,
                customer_id=customer.pk,
                before=before,
                after=model_snapshot(earlier, ASSIGNMENT_AUDIT_FIELDS),
            )
        assignment = PoolAssignment.objects.create(
            allocation=allocation,
            customer=customer,
            service=service,
            license_type=allocation.payment_type,
            seats=seats,
            first_assigned_on=today,
            expires_on=expires_on,
            status=AssignmentStatus.ACTIVE,
            created_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ASSIGNMENT_CREATE,
            target=assignment,
            target_label=f"{allocation.pool.name} → {customer.name}",
            customer_id=customer.pk,
            after=model_snapshot(assignment, ASSIGNMENT_AUDIT_FIELDS),
        )
    return assignment


def pool_assignment_end(
    *, actor: Actor, assignment: PoolAssignment, today: datetime.date | None = None
) -> PoolAssignment:
    """End a customer's pooled subscription as early as the rules allow: today, or when its 31-day
    minimum is over (it then runs until that date)."""
    today = _today(today)
    with transaction.atomic():
        assignment = (
            PoolAssignment.objects.select_for_update(of=("self",)).select_related("allocation").get(pk=assignment.pk)
        )
        if assignment.status not in HOLDING_STATUSES or assignment.expires_on <= today:
            raise ValidationError(_("This subscription has already ended."), code="ended")
        before = model_snapshot(assignment, ASSIGNMENT_AUDIT_FIELDS)
        end = max(
            assignment_minimum_end(first_assigned_on=assignment.first_assigned_on, allocation=assignment.allocation),
            today,
        )
        assignment.expires_on = min(assignment.expires_on, end)
        if assignment.expires_on <= today:
            assignment.status = AssignmentStatus.EXPIRED
        assignment.save(update_fields=["expires_on", "status"])
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ASSIGNMENT_END,
            target=assignment,
            customer_id=assignment.customer_id,
            before=before,
            after=model_snapshot(assignment, ASSIGNMENT_AUDIT_FIELDS),
        )
    return assignment


def pool_assignments_cap_expiry(*, allocation: PoolAllocation, today: datetime.date | None = None) -> int:
    """The allocation was shortened or expired: its customers' subscriptions end with it (a
    customer's license never outlasts the pool). Runs in the reseller's schema."""
    today = _today(today)
    count = 0
    expired = allocation.status != AllocationStatus.ACCEPTED and allocation.status != AllocationStatus.PENDING
    with transaction.atomic():
        for assignment in PoolAssignment.objects.select_for_update().filter(
            allocation_id=allocation.pk, status__in=HOLDING_STATUSES
        ):
            before = model_snapshot(assignment, ASSIGNMENT_AUDIT_FIELDS)
            assignment.expires_on = max(min(assignment.expires_on, allocation.expires_on), assignment.first_assigned_on)
            if expired or assignment.expires_on <= today:
                assignment.status = AssignmentStatus.EXPIRED
            assignment.save(update_fields=["expires_on", "status"])
            audit_record(
                actor=SYSTEM_ACTOR,
                action=AuditAction.POOL_ASSIGNMENT_CAP_EXPIRY,
                target=assignment,
                customer_id=assignment.customer_id,
                before=before,
                after=model_snapshot(assignment, ASSIGNMENT_AUDIT_FIELDS),
                message=_("The pool's expiration date changed."),
            )
            count += 1
    return count


def pool_assignments_expire(*, today: datetime.date | None = None) -> int:
    """Beat, per reseller schema: expire assignments whose date passed or whose allocation ended."""
    today = _today(today)
    with transaction.atomic():
        due = list(
            PoolAssignment.objects.select_for_update(of=("self",))
            .filter(status__in=HOLDING_STATUSES)
            .filter(Q(expires_on__lte=today) | ~Q(allocation__status=AllocationStatus.ACCEPTED))
        )
        for assignment in due:
            assignment.status = AssignmentStatus.EXPIRED
            assignment.save(update_fields=["status"])
            audit_record(
                actor=SYSTEM_ACTOR,
                action=AuditAction.POOL_ASSIGNMENT_EXPIRE,
                target=assignment,
                customer_id=assignment.customer_id,
                before={"status": "holding"},
                after={"status": AssignmentStatus.EXPIRED},
            )
    return len(due)
