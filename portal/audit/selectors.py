from django.db import models
from django.db.models import QuerySet

from portal.audit.models import AuditEvent, Notification


def audit_events_for_object(*, target: models.Model) -> QuerySet[AuditEvent]:
    """An object's own audit tab: the same trail, filtered to that object."""
    return AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related(
        "actor"
    )


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def audit_events_all() -> QuerySet[AuditEvent]:
    """The whole trail of this partner, for Settings > Audit logs (settings viewers see everything)."""
    return AuditEvent.objects.select_related("actor")
