"""Writes of pools and their allocations to resellers, with the rules of pooled subscriptions.

- An allocation never exceeds its pool's free seats, also under concurrent requests: every write
  that takes seats locks the pool row first (then the allocation), so the sum is read and written
  by one transaction at a time.
- A reseller's expiration date never passes the pool's; an allocation "same as pooled
  subscription" follows the pool when it is renewed, and every allocation expires with its pool.
- The payment type can change only while the reseller has assigned nothing; seats never drop
  below what the reseller assigned; only a pending allocation can be returned to the pool.

LAR-side writes are audited in the LAR's schema, reseller-side ones (accept, decline) in the
reseller's; the other side is notified in its own schema.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from pool_assignments.services import pool_assignments_cap_expiry, pool_assignments_expire
from pools.choices import (
    HOLDING_STATUSES,
    SERVICE_UNITS,
    AllocationStatus,
    ExpiryMode,
    PaymentType,
    PoolService,
    PoolSource,
    PoolStatus,
    PoolUnit,
)
from pools.models import Pool, PoolAllocation, PoolSnapshot
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import SYSTEM_ACTOR, audit_record, model_snapshot
from portal.core.formatting import when_text
from portal.partners.models import Partner
from portal.webhooks.choices import WebhookEventType
from portal.webhooks.services import webhook_event_emit
from resellers.models import ResellerLink
from resellers.notifications import partner_administrators_notify
from resellers.selectors import reseller_customer_usage, reseller_link_of

POOL_AUDIT_FIELDS = ("name", "service", "source", "payment_type", "seats", "expires_on", "status")
ALLOCATION_AUDIT_FIELDS = ("payment_type", "seats", "expiry_mode", "expires_on", "status")


def _actor_label(actor: Actor) -> str:
    if actor is None or isinstance(actor, str):
        return actor or SYSTEM_ACTOR
    return actor.email or actor.username


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def pool_seats_allocated(*, pool: Pool, exclude: PoolAllocation | None = None) -> int:
    """Seats of the pool held by pending and accepted allocations."""
    allocations = PoolAllocation.objects.filter(pool=pool, status__in=HOLDING_STATUSES)
    if exclude is not None:
        allocations = allocations.exclude(pk=exclude.pk)
    return allocations.aggregate(total=Sum("seats"))["total"] or 0


def _lock_pool(pool: Pool) -> Pool:
    return Pool.objects.select_for_update().select_related("owner").get(pk=pool.pk)


# --- Pools --------------------------------------------------------------------------------------


def pool_create(
    *,
    actor: Actor,
    owner: Partner,
    service: str,
    seats: int,
    expires_on: datetime.date,
    name: str = "",
    source: str = PoolSource.VENDOR,
    payment_type: str = PaymentType.PREPAID,
    starts_on: datetime.date | None = None,
    unit: str | None = None,
) -> Pool:
    """Record a pool the LAR bought (from the vendor or a marketplace). Audited in the current schema."""
    starts_on = starts_on or timezone.localdate()
    errors = {}
    if not owner.is_large_account_reseller:
        errors["owner"] = _("Only a large account reseller holds pools.")
    if service not in PoolService.values:
        errors["service"] = _("Choose a service.")
    if seats is None or seats < 1:
        errors["seats"] = _("A pool holds at least one seat.")
    if expires_on <= starts_on:
        errors["expires_on"] = _("The expiration date must come after the start date.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pool = Pool.objects.create(
            owner=owner,
            name=" ".join(name.split()) or str(PoolService(service).label),
            service=service,
            unit=unit or SERVICE_UNITS.get(service, PoolUnit.USER_SEATS),
            source=source,
            payment_type=payment_type,
            seats=seats,
            starts_on=starts_on,
            expires_on=expires_on,
            status=PoolStatus.ACTIVE if expires_on > timezone.localdate() else PoolStatus.EXPIRED,
        )
        audit_record(
            actor=actor, action=AuditAction.POOL_CREATE, target=pool, after=model_snapshot(pool, POOL_AUDIT_FIELDS)
        )
    return pool


def pool_update(
    *, actor: Actor, pool: Pool, seats: int | None = None, expires_on: datetime.date | None = None, today=None
) -> Pool:
    """Change a pool's seats or renew it. Allocations "same as pooled subscription" follow the new
    date; allocations that would outlast a shortened pool are cut back to it."""
    today = _today(today)
    with transaction.atomic():
        pool = _lock_pool(pool)
        before = model_snapshot(pool, POOL_AUDIT_FIELDS)
        if seats is not None:
            allocated = pool_seats_allocated(pool=pool)
            if seats < max(allocated, 1):
                raise ValidationError(
                    {
                        "seats": _("%(count)s seats are allocated to resellers: keep at least that many.")
                        % {"count": allocated}
                    }
                )
            pool.seats = seats
        if expires_on is not None:
            pool.expires_on = expires_on
            pool.status = PoolStatus.ACTIVE if expires_on > today else PoolStatus.EXPIRED
        pool.save()
        if expires_on is not None:
            holding = PoolAllocation.objects.filter(pool=pool, status__in=HOLDING_STATUSES)
            for allocation in holding.select_for_update().select_related("reseller"):
                if allocation.expiry_mode == ExpiryMode.SAME_AS_POOL or allocation.expires_on > expires_on:
                    _allocation_expiry_set(allocation, expires_on, today=today)
        audit_record(
            actor=actor,
            action=AuditAction.POOL_UPDATE,
            target=pool,
            before=before,
            after=model_snapshot(pool, POOL_AUDIT_FIELDS),
        )
    return pool


def _allocation_expiry_set(allocation: PoolAllocation, expires_on: datetime.date, *, today) -> None:
    """Set an allocation's date; when it ends today or earlier it expires, with its customer assignments."""
    shortened = expires_on < allocation.expires_on
    allocation.expires_on = expires_on
    fields = ["expires_on"]
    if expires_on <= today:
        allocation.status = AllocationStatus.EXPIRED
        allocation.ended_at = timezone.now()
        fields += ["status", "ended_at"]
    allocation.save(update_fields=fields)
    if shortened or allocation.status == AllocationStatus.EXPIRED:
        with schema_context(allocation.reseller.schema_name):
            pool_assignments_cap_expiry(allocation=allocation, today=today)


# --- Allocations (LAR side) ---------------------------------------------------------------------


def allocation_expiry_resolve(
    *, pool: Pool, expiry_mode: str, expires_on: datetime.date | None, today: datetime.date
) -> datetime.date:
    """The date an expiry choice means, or a ValidationError: never past the pool's date."""
    if expiry_mode == ExpiryMode.SAME_AS_POOL:
        return pool.expires_on
    if expiry_mode == ExpiryMode.NOW:
        return today
    if expiry_mode != ExpiryMode.DATE or expires_on is None:
        raise ValidationError({"expires_on": _("Choose the reseller's expiration date.")})
    if expires_on <= today:
        raise ValidationError({"expires_on": _("Choose a date after today, or Expire now.")})
    if expires_on > pool.expires_on:
        raise ValidationError(
            {
                "expires_on": _("The reseller's subscription cannot expire after the pool (%(date)s).")
                % {"date": when_text(pool.expires_on)}
            }
        )
    return expires_on


def _free_seats_error(free: int) -> ValidationError:
    return ValidationError({"seats": _("Only %(free)s seats of this pool are free.") % {"free": max(free, 0)}})


def allocation_create(
    *,
    actor: Actor,
    link: ResellerLink,
    pool: Pool,
    payment_type: str,
    seats: int,
    expiry_mode: str = ExpiryMode.SAME_AS_POOL,
    expires_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PoolAllocation:
    """Offer seats of the LAR's pool to a mapped reseller: Pending acceptance until it answers."""
    today = _today(today)
    if not link.is_mapped:
        raise ValidationError(_("Pools can be added to a mapped reseller only."), code="not_mapped")
    if payment_type not in PaymentType.values:
        raise ValidationError({"payment_type": _("Choose a payment type.")})
    if seats is None or seats < 1:
        raise ValidationError({"seats": _("Give at least one seat.")})
    with transaction.atomic():
        pool = _lock_pool(pool)
        if pool.owner_id != link.large_account_reseller_id:
            raise ValidationError({"pool": _("This pool is not yours.")})
        if pool.status != PoolStatus.ACTIVE or pool.expires_on <= today:
            raise ValidationError({"pool": _("This pool has expired.")})
        resolved = allocation_expiry_resolve(pool=pool, expiry_mode=expiry_mode, expires_on=expires_on, today=today)
        expired = resolved <= today
        free = pool.seats - pool_seats_allocated(pool=pool)
        if not expired and seats > free:
            raise _free_seats_error(free)
        allocation = PoolAllocation.objects.create(
            pool=pool,
            reseller=link.reseller,
            payment_type=payment_type,
            seats=seats,
            expiry_mode=expiry_mode,
            expires_on=resolved,
            status=AllocationStatus.EXPIRED if expired else AllocationStatus.PENDING,
            ended_at=timezone.now() if expired else None,
            created_by=_actor_label(actor),
        )
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ALLOCATION_CREATE,
            target=allocation,
            target_label=f"{pool.name} → {link.display_name}",
            after=model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS),
        )
        if not expired:
            lar_name, pool_name = pool.owner.name, pool.name
            partner_administrators_notify(
                partner=link.reseller,
                title=lambda: (
                    _("%(name)s offers you %(seats)s seats of %(pool)s")
                    % {"name": lar_name, "seats": seats, "pool": pool_name}
                ),
                body=lambda: _("Accept or decline the pool under Reseller directory > My providers."),
                url=reverse("resellers:my_providers"),
            )
    return allocation


def _assigned_seats(allocation: PoolAllocation, link: ResellerLink | None) -> int:
    if link is None:
        return 0
    return reseller_customer_usage(link=link).assigned_by_allocation.get(allocation.pk, 0)


def allocation_update(
    *,
    actor: Actor,
    allocation: PoolAllocation,
    payment_type: str,
    seats: int,
    expiry_mode: str,
    expires_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PoolAllocation:
    """Edit pool: payment type only while the reseller assigned nothing; seats between what the
    reseller assigned and the pool's free seats; expiration date never past the pool's."""
    today = _today(today)
    with transaction.atomic():
        pool = _lock_pool(allocation.pool)
        allocation = PoolAllocation.objects.select_for_update().select_related("reseller").get(pk=allocation.pk)
        if allocation.status not in HOLDING_STATUSES:
            raise ValidationError(
                _("A pool that is %(status)s cannot be edited.") % {"status": allocation.get_status_display().lower()},
                code="ended",
            )
        before = model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS)
        link = reseller_link_of(large_account_reseller=pool.owner, reseller=allocation.reseller)
        assigned = _assigned_seats(allocation, link)
        errors = {}
        if payment_type not in PaymentType.values:
            errors["payment_type"] = _("Choose a payment type.")
        elif payment_type != allocation.payment_type and assigned:
            errors["payment_type"] = _(
                "The payment type can change only while the reseller has assigned none of this pool to customers."
            )
        try:
            resolved = allocation_expiry_resolve(pool=pool, expiry_mode=expiry_mode, expires_on=expires_on, today=today)
        except ValidationError as error:
            errors.update(error.message_dict)
            resolved = allocation.expires_on
        free = pool.seats - pool_seats_allocated(pool=pool, exclude=allocation)
        if seats is None or seats < 1:
            errors["seats"] = _("Give at least one seat.")
        elif seats < assigned:
            errors["seats"] = _("The reseller assigned %(count)s seats to customers: keep at least that many.") % {
                "count": assigned
            }
        elif seats > free and resolved > today:
            errors["seats"] = _("Only %(free)s seats of this pool are free.") % {"free": max(free, 0)}
        if errors:
            raise ValidationError(errors)
        allocation.payment_type = payment_type
        allocation.seats = seats
        allocation.expiry_mode = expiry_mode
        allocation.save(update_fields=["payment_type", "seats", "expiry_mode"])
        if resolved != allocation.expires_on or resolved <= today:
            _allocation_expiry_set(allocation, resolved, today=today)
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ALLOCATION_UPDATE,
            target=allocation,
            target_label=f"{pool.name} → {allocation.reseller.name}",
            before=before,
            after=model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS),
        )
    return allocation


def allocation_return(*, actor: Actor, allocation: PoolAllocation) -> PoolAllocation:
    """Return to pool: only while the reseller has not accepted yet; the seats are free again."""
    with transaction.atomic():
        pool = _lock_pool(allocation.pool)
        allocation = PoolAllocation.objects.select_for_update().select_related("reseller").get(pk=allocation.pk)
        if allocation.status != AllocationStatus.PENDING:
            raise ValidationError(
                _("Only a pool pending the reseller's acceptance can be returned."), code="not_pending"
            )
        before = model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS)
        allocation.status = AllocationStatus.RETURNED
        allocation.ended_at = timezone.now()
        allocation.save(update_fields=["status", "ended_at"])
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ALLOCATION_RETURN,
            target=allocation,
            target_label=f"{pool.name} → {allocation.reseller.name}",
            before=before,
            after=model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS),
        )
        _allocation_event(WebhookEventType.POOL_ALLOCATION_RETURNED, allocation, pool, partner=allocation.reseller)
        lar_name, pool_name = pool.owner.name, pool.name
        partner_administrators_notify(
            partner=allocation.reseller,
            title=lambda: _("%(name)s withdrew its offer of %(pool)s") % {"name": lar_name, "pool": pool_name},
            url=reverse("resellers:my_providers"),
        )
    return allocation


def _allocation_event(event_type: str, allocation: PoolAllocation, pool: Pool, *, partner: Partner) -> None:
    """Tell `partner`'s systems (its webhooks live in its own schema) what happened to the allocation."""
    with schema_context(partner.schema_name):
        webhook_event_emit(
            type=event_type,
            data={
                "pool_allocation_id": allocation.pk,
                "pool_id": pool.pk,
                "pool_name": pool.name,
                "large_account_reseller": pool.owner.slug,
                "reseller": allocation.reseller.slug,
                "seats": allocation.seats,
                "status": allocation.status,
            },
        )


# --- Allocations (reseller side) ----------------------------------------------------------------


def _allocation_answer(
    *, actor: Actor, partner: Partner, allocation: PoolAllocation, accept: bool, today
) -> PoolAllocation:
    today = _today(today)
    with transaction.atomic():
        pool = _lock_pool(allocation.pool)
        allocation = PoolAllocation.objects.select_for_update().get(pk=allocation.pk)
        if allocation.reseller_id != partner.pk:
            raise ValidationError(_("This pool was not offered to you."), code="not_yours")
        if allocation.status != AllocationStatus.PENDING:
            raise ValidationError(_("This pool offer was already answered or withdrawn."), code="answered")
        if accept and allocation.expires_on <= today:
            raise ValidationError(_("This pool offer has expired."), code="expired")
        before = model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS)
        allocation.status = AllocationStatus.ACCEPTED if accept else AllocationStatus.DECLINED
        allocation.responded_at = timezone.now()
        allocation.ended_at = None if accept else allocation.responded_at
        allocation.save(update_fields=["status", "responded_at", "ended_at"])
        audit_record(
            actor=actor,
            action=AuditAction.POOL_ALLOCATION_ACCEPT if accept else AuditAction.POOL_ALLOCATION_DECLINE,
            target=allocation,
            target_label=f"{pool.name} ({pool.owner.name})",
            before=before,
            after=model_snapshot(allocation, ALLOCATION_AUDIT_FIELDS),
        )
        if accept:
            _allocation_event(WebhookEventType.POOL_ALLOCATION_ACCEPTED, allocation, pool, partner=pool.owner)
        reseller_name, pool_name = partner.name, pool.name
        partner_administrators_notify(
            partner=pool.owner,
            title=(lambda: _("%(name)s accepted %(pool)s") % {"name": reseller_name, "pool": pool_name})
            if accept
            else (lambda: _("%(name)s declined %(pool)s") % {"name": reseller_name, "pool": pool_name}),
            url=reverse("pools:dashboard"),
        )
    return allocation


def allocation_accept(*, actor: Actor, partner: Partner, allocation: PoolAllocation, today=None) -> PoolAllocation:
    return _allocation_answer(actor=actor, partner=partner, allocation=allocation, accept=True, today=today)


def allocation_decline(*, actor: Actor, partner: Partner, allocation: PoolAllocation, today=None) -> PoolAllocation:
    return _allocation_answer(actor=actor, partner=partner, allocation=allocation, accept=False, today=today)


# --- Beat: expiry and warnings ------------------------------------------------------------------

EXPIRY_WARNING_DAYS = 30


@dataclass
class ExpiryRun:
    pools_expired: int = 0
    allocations_expired: int = 0
    assignments_expired: int = 0
    warnings_sent: int = 0


def pools_expire(*, today: datetime.date | None = None) -> ExpiryRun:
    """Expire what is due (pools, their allocations, the customer assignments of both) and warn the
    administrators 30 days ahead, once per expiration date. Safe to run any number of times."""
    today = _today(today)
    run = ExpiryRun()
    now = timezone.now()
    with transaction.atomic():
        due_pools = list(
            Pool.objects.select_for_update()
            .select_related("owner")
            .filter(status=PoolStatus.ACTIVE, expires_on__lte=today)
        )
        for pool in due_pools:
            pool.status = PoolStatus.EXPIRED
            pool.save(update_fields=["status"])
            with schema_context(pool.owner.schema_name):
                audit_record(
                    actor=SYSTEM_ACTOR,
                    action=AuditAction.POOL_EXPIRE,
                    target=pool,
                    before={"status": PoolStatus.ACTIVE},
                    after={"status": PoolStatus.EXPIRED},
                )
        run.pools_expired = len(due_pools)
        # An allocation expires on its own date, and with its pool whatever its own date says.
        due_allocations = list(
            PoolAllocation.objects.select_for_update(of=("self",))
            .select_related("pool__owner", "reseller")
            .filter(status__in=HOLDING_STATUSES)
            .exclude(expires_on__gt=today, pool__status=PoolStatus.ACTIVE)
        )
        for allocation in due_allocations:
            allocation.status = AllocationStatus.EXPIRED
            allocation.ended_at = now
            allocation.save(update_fields=["status", "ended_at"])
            with schema_context(allocation.pool.owner.schema_name):
                audit_record(
                    actor=SYSTEM_ACTOR,
                    action=AuditAction.POOL_ALLOCATION_EXPIRE,
                    target=allocation,
                    target_label=f"{allocation.pool.name} → {allocation.reseller.name}",
                    before={"status": "holding"},
                    after={"status": AllocationStatus.EXPIRED},
                )
        run.allocations_expired = len(due_allocations)

        # Customer assignments live in reseller schemas: visit each partner that ever accepted a pool.
        resellers = Partner.objects.filter(pool_allocations__responded_at__isnull=False).distinct()
        for reseller in resellers:
            with schema_context(reseller.schema_name):
                run.assignments_expired += pool_assignments_expire(today=today)

        horizon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        for pool in (
            Pool.objects.select_for_update()
            .select_related("owner")
            .filter(status=PoolStatus.ACTIVE, expires_on__gt=today, expires_on__lte=horizon)
        ):
            if pool.expiry_notified_for == pool.expires_on:
                continue
            pool.expiry_notified_for = pool.expires_on
            pool.save(update_fields=["expiry_notified_for"])
            pool_name, date = pool.name, pool.expires_on
            run.warnings_sent += partner_administrators_notify(
                partner=pool.owner,
                title=lambda pool_name=pool_name, date=date: (
                    _("Pool %(pool)s expires on %(date)s") % {"pool": pool_name, "date": when_text(date)}
                ),
                body=lambda: _("Renew it, or the resellers' pools from it expire with it."),
                url=reverse("pools:dashboard"),
                level="warning",
            )
        for allocation in (
            PoolAllocation.objects.select_for_update(of=("self",))
            .select_related("pool__owner", "reseller")
            .filter(status__in=HOLDING_STATUSES, expires_on__gt=today, expires_on__lte=horizon)
        ):
            if allocation.expiry_notified_for == allocation.expires_on:
                continue
            allocation.expiry_notified_for = allocation.expires_on
            allocation.save(update_fields=["expiry_notified_for"])
            lar_name, pool_name, date = allocation.pool.owner.name, allocation.pool.name, allocation.expires_on
            run.warnings_sent += partner_administrators_notify(
                partner=allocation.reseller,
                title=lambda pool_name=pool_name, date=date: (
                    _("Your pool %(pool)s expires on %(date)s") % {"pool": pool_name, "date": when_text(date)}
                ),
                body=lambda lar_name=lar_name: (
                    _("Ask %(name)s to extend it, or its customer subscriptions end.") % {"name": lar_name}
                ),
                url=reverse("resellers:my_providers"),
                level="warning",
            )
    return run


# --- Beat: daily snapshots ----------------------------------------------------------------------


def pool_snapshots_record(*, day: datetime.date | None = None) -> int:
    """Record today's snapshot of every active pool and of every allocation holding seats (the
    chart's data). Recording the same day again replaces that day's rows."""
    day = _today(day)
    pools = list(Pool.objects.filter(status=PoolStatus.ACTIVE))
    allocated = dict(
        PoolAllocation.objects.filter(pool__in=pools, status__in=HOLDING_STATUSES)
        .order_by()
        .values("pool_id")
        .annotate(total=Sum("seats"))
        .values_list("pool_id", "total")
    )
    allocations = list(PoolAllocation.objects.filter(status__in=HOLDING_STATUSES).select_related("pool"))
    pairs = {(allocation.pool.owner_id, allocation.reseller_id) for allocation in allocations}
    links = [
        link
        for link in ResellerLink.objects.select_related("reseller").filter(
            reseller_id__in={reseller_id for _owner_id, reseller_id in pairs},
            large_account_reseller_id__in={owner_id for owner_id, _reseller_id in pairs},
        )
        if (link.large_account_reseller_id, link.reseller_id) in pairs
    ]
    assigned: dict[int, int] = {}
    for link in links:
        assigned.update(reseller_customer_usage(link=link, today=day).assigned_by_allocation)
    snapshots = [
        PoolSnapshot(pool=pool, allocation=None, day=day, purchased=pool.seats, allocated=allocated.get(pool.pk, 0))
        for pool in pools
    ] + [
        PoolSnapshot(
            pool_id=allocation.pool_id,
            allocation=allocation,
            day=day,
            purchased=allocation.seats,
            allocated=assigned.get(allocation.pk, 0),
        )
        for allocation in allocations
    ]
    with transaction.atomic():
        PoolSnapshot.objects.filter(day=day).filter(
            Q(allocation__isnull=True, pool__in=pools) | Q(allocation__in=allocations)
        ).delete()
        PoolSnapshot.objects.bulk_create(snapshots)
    return len(snapshots)
