from django.db import models
from django.db.models import QuerySet

from portal.audit.choices import NotificationKind
from portal.audit.models import AuditEvent, Notification


def audit_events_for_object(*, target: models.Model) -> QuerySet[AuditEvent]:
    """An object's own audit tab: the same trail, filtered to that object."""
    return AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related(
        "actor"
    )


NOTIFICATION_TABS = ("unread", "all", *(kind for kind in NotificationKind.values if kind != NotificationKind.OTHER))


def notifications_for(*, user, tab: str = "all") -> QuerySet[Notification]:
    """The user's notifications on a tab of the Notifications page: unread, all, or one kind."""
    rows = Notification.objects.filter(recipient=user)
    if tab == "unread":
        return rows.filter(read_at__isnull=True)
    if tab in NotificationKind.values:
        return rows.filter(kind=tab)
    return rows


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def audit_events_all() -> QuerySet[AuditEvent]:
    """The whole trail of this partner, for Settings > Audit logs (settings viewers see everything)."""
    return AuditEvent.objects.select_related("actor")
