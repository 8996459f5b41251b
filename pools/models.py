"""Pools (pooled subscriptions), their allocations to resellers and daily snapshots (public schema)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from pools.choices import AllocationStatus, ExpiryMode, PaymentType, PoolService, PoolSource, PoolStatus, PoolUnit


class Pool(models.Model):
    """Seats (user seats, objects or capacity) of one service that a large account reseller bought,
    to hand out to its resellers. Written only by `pools.services`."""

    owner = models.ForeignKey(
        "partners.Partner", verbose_name=_("large account reseller"), on_delete=models.CASCADE, related_name="pools"
    )
    name = models.CharField(_("name"), max_length=200)
    service = models.CharField(_("service"), max_length=40, choices=PoolService.choices)
    unit = models.CharField(_("unit"), max_length=16, choices=PoolUnit.choices, default=PoolUnit.USER_SEATS)
    source = models.CharField(_("source"), max_length=16, choices=PoolSource.choices, default=PoolSource.VENDOR)
    payment_type = models.CharField(
        _("payment type"), max_length=16, choices=PaymentType.choices, default=PaymentType.PREPAID
    )
    seats = models.PositiveIntegerField(_("purchased"))
    starts_on = models.DateField(_("start date"))
    # The pool's last day of service is the day before; on this day it is expired (see pools_expire).
    expires_on = models.DateField(_("expiration date"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=PoolStatus.choices, default=PoolStatus.ACTIVE)
    # The expiration date the 30-day warning was sent for: a renewal re-arms the warning.
    expiry_notified_for = models.DateField(null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        constraints = [models.CheckConstraint(condition=models.Q(seats__gt=0), name="pools_pool_seats_positive")]

    def __str__(self) -> str:
        return self.name


class PoolAllocation(models.Model):
    """Seats of a pool that a LAR gives one of its resellers, until the reseller accepts, declines,
    the LAR returns them to the pool, or they expire. Pending and accepted allocations hold seats.

    A reseller's customer assignments from an allocation live in the reseller's schema
    (`pool_assignments.PoolAssignment`); this row never points at them.
    """

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="allocations")
    reseller = models.ForeignKey(
        "partners.Partner", verbose_name=_("reseller"), on_delete=models.CASCADE, related_name="pool_allocations"
    )
    payment_type = models.CharField(_("payment type"), max_length=16, choices=PaymentType.choices)
    seats = models.PositiveIntegerField(_("user seats"))
    expiry_mode = models.CharField(
        _("subscription expiration date"), max_length=16, choices=ExpiryMode.choices, default=ExpiryMode.SAME_AS_POOL
    )
    expires_on = models.DateField(_("expiration date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AllocationStatus.choices, default=AllocationStatus.PENDING, db_index=True
    )
    expiry_notified_for = models.DateField(null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=254, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["pool__name", "id"]
        verbose_name = _("pool allocation")
        verbose_name_plural = _("pool allocations")
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gt=0), name="pools_allocation_seats_positive"),
        ]
        indexes = [models.Index(fields=["reseller", "status"])]

    def __str__(self) -> str:
        return f"{self.pool.name} → {self.reseller.name}"


class PoolSnapshot(models.Model):
    """One day of a pool (allocation empty: purchased = pool seats, allocated = seats given to
    resellers) or of an allocation (purchased = allocation seats, allocated = seats the reseller
    assigned to customers). Recorded daily by beat; feeds the available licences chart."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="snapshots")
    allocation = models.ForeignKey(
        PoolAllocation, on_delete=models.CASCADE, related_name="snapshots", null=True, blank=True
    )
    day = models.DateField(_("day"))
    purchased = models.PositiveIntegerField(_("purchased"))
    allocated = models.PositiveIntegerField(_("allocated"))

    class Meta:
        ordering = ["day", "id"]
        verbose_name = _("pool snapshot")
        verbose_name_plural = _("pool snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "day"], condition=models.Q(allocation__isnull=True), name="pools_snapshot_pool_day"
            ),
            models.UniqueConstraint(
                fields=["allocation", "day"],
                condition=models.Q(allocation__isnull=False),
                name="pools_snapshot_allocation_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id}/{self.allocation_id or '-'} {self.day}"

    @property
    def available_percent(self) -> float:
        if not self.purchased:
            return 0.0
        return round(100 * max(self.purchased - self.allocated, 0) / self.purchased, 1)
