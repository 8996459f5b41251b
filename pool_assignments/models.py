"""A reseller's customer subscriptions whose source is a pool allocation (partner schema)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pool_assignments.choices import AssignmentStatus
from pools.choices import PaymentType, PoolService


class PoolAssignment(models.Model):
    """Seats of an accepted pool allocation that the reseller gave one of its customers.

    Lives in the reseller's schema with its customers; points at the public allocation (a partner
    table may reference a public one, never the reverse). Written only by
    `pool_assignments.services`, which locks the allocation row so assignments never exceed it.
    """

    # DO_NOTHING: a public row never looks into partner schemas (the deletion collector would, from
    # the public schema, where this table does not exist). No database constraint either: one from
    # every partner schema would hang two triggers per partner on the public table, fired by every
    # update of an allocation, and lock that table while each new partner's schema is created. An
    # allocation is never deleted while a reseller exists (it is returned or expires instead).
    allocation = models.ForeignKey(
        "pools.PoolAllocation",
        verbose_name=_("pool"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="pool_assignments"
    )
    # Copied from the allocation when assigned: "the most recent license type prevails" compares them.
    service = models.CharField(_("service"), max_length=40, choices=PoolService.choices)
    license_type = models.CharField(_("licence type"), max_length=16, choices=PaymentType.choices)
    seats = models.PositiveIntegerField(_("user seats"))
    first_assigned_on = models.DateField(_("first assigned"))
    expires_on = models.DateField(_("expiration date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE, db_index=True
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-first_assigned_on", "-id"]
        verbose_name = _("pool assignment")
        verbose_name_plural = _("pool assignments")
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gt=0), name="pool_assignments_seats_positive"),
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("first_assigned_on")),
                name="pool_assignments_expiry_after_start",
            ),
        ]
        indexes = [models.Index(fields=["customer", "service", "status"])]

    def __str__(self) -> str:
        return f"{self.get_service_display()} · {self.seats}"
