"""Writes of customer groups (Settings > Customer groups): named sets of customers that roles cover.

The model lives with the customers (customers.models.CustomerGroup); the screens and these writes
belong to Settings because a group exists to scope roles.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer, CustomerGroup
from customers.selectors import customers_visible_to
from portal.accounts.models import User
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.core.names import name_checked

GROUP_AUDIT_FIELDS = ("name", "description", "customers")


def _name_check(name: str, *, exclude_pk: int | None = None) -> str:
    """Normalised, free of invisible and control characters, and unlike every other group's name."""
    if not name.strip():
        raise ValidationError({"name": _("Give the group a name.")})
    return name_checked(
        name,
        queryset=CustomerGroup.objects.all(),
        exclude_pk=exclude_pk,
        max_length=CustomerGroup._meta.get_field("name").max_length,
        duplicate_message=_("A customer group called %(name)s already exists."),
    )


def customer_group_create(
    *, actor: User, name: str, description: str = "", customers: Iterable[Customer] = ()
) -> CustomerGroup:
    with transaction.atomic():
        group = CustomerGroup.objects.create(name=_name_check(name), description=description.strip())
        group.customers.set(list(customers))
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_GROUP_CREATE,
            target=group,
            after=model_snapshot(group, GROUP_AUDIT_FIELDS),
        )
    return group


def customer_group_update(
    *, actor: User, group: CustomerGroup, name: str, description: str = "", customers: Iterable[Customer] = ()
) -> CustomerGroup:
    """Members the actor cannot see stay members: a scoped editor only changes what they see."""
    with transaction.atomic():
        group = CustomerGroup.objects.select_for_update().get(pk=group.pk)
        before = model_snapshot(group, GROUP_AUDIT_FIELDS)
        group.name = _name_check(name, exclude_pk=group.pk)
        group.description = description.strip()
        group.save(update_fields=["name", "description"])
        hidden = group.customers.exclude(pk__in=customers_visible_to(user=actor).values("pk"))
        group.customers.set([*customers, *hidden])
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_GROUP_UPDATE,
            target=group,
            before=before,
            after=model_snapshot(group, GROUP_AUDIT_FIELDS),
        )
    return group


def customer_group_delete(*, actor: User, group: CustomerGroup) -> None:
    """The customers stay; roles that covered the group no longer cover them through it."""
    with transaction.atomic():
        group = CustomerGroup.objects.select_for_update().get(pk=group.pk)
        before = model_snapshot(group, GROUP_AUDIT_FIELDS)
        before["roles"] = sorted(role.name for role in group.roles.all())
        audit_record(actor=actor, action=AuditAction.CUSTOMER_GROUP_DELETE, target=group, before=before)
        group.delete()
