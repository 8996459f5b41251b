"""The one way to write the audit trail and notifications. Every service in every app calls these."""

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult, NotificationLevel, notification_kind_for_url
from portal.audit.context import current_ip_address
from portal.audit.models import AuditEvent, Notification

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SYSTEM_ACTOR = "system"


def _json_safe(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    return value


def model_snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of an instance as JSON-safe values, for `before` / `after`."""
    snapshot = {}
    for field in fields:
        value = getattr(instance, field)
        if hasattr(value, "all") and callable(value.all):  # many-to-many manager
            value = sorted(str(item.pk) for item in value.all())
        snapshot[field] = _json_safe(value)
    return snapshot


def audit_record(
    *,
    actor: Actor,
    action: AuditAction,
    target: models.Model | None = None,
    target_label: str | None = None,
    customer_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    result: str = AuditResult.SUCCESS,
    message: "str | StrPromise" = "",
) -> AuditEvent:
    """Record an audit event. `actor` is a user, None or a system actor such as "automation".

    Call it inside the service's transaction, so the event commits with the change it describes
    (and a failure is recorded by a service that catches it, with result=FAILURE).
    """
    if actor is None or isinstance(actor, str):
        user, actor_label = None, actor or SYSTEM_ACTOR
    else:
        user, actor_label = actor, actor.email or actor.username
    changed_before = _json_safe(before or {})
    changed_after = _json_safe(after or {})
    if before is not None and after is not None:
        # keep only what changed, so the trail says what happened, not what stayed
        keys = {
            key for key in set(changed_before) | set(changed_after) if changed_before.get(key) != changed_after.get(key)
        }
        changed_before = {key: changed_before.get(key) for key in keys if key in changed_before}
        changed_after = {key: changed_after.get(key) for key in keys if key in changed_after}
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label[:254],
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label if target_label is not None else (str(target) if target is not None else ""))[:255],
        customer_id=customer_id,
        before=changed_before,
        after=changed_after,
        result=result,
        message=str(message),
        ip_address=current_ip_address.get(),
    )


Text = str | Callable[[], str]


def notification_create(
    *, recipients: Iterable, title: Text, body: Text = "", url: str = "", level: str = NotificationLevel.INFO
) -> list[Notification]:
    """Notify people. Give `title` and `body` as callables that call gettext (a lambda) and each
    recipient reads them in their own language and time zone; a plain string (a marketplace's
    message, a comment someone typed) is shown as it is."""
    from portal.accounts.locale import user_locale

    notifications = []
    for user in recipients:
        if user is None or not user.is_active:
            continue
        with user_locale(user):
            title_text = title() if callable(title) else str(title)
            body_text = body() if callable(body) else str(body)
        notifications.append(
            Notification(
                recipient=user,
                title=title_text[:200],
                body=body_text,
                url=url[:500],
                level=level,
                kind=notification_kind_for_url(url),
            )
        )
    return Notification.objects.bulk_create(notifications)


def notifications_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    with transaction.atomic():
        unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
        if notification_ids is not None:
            unread = unread.filter(pk__in=list(notification_ids))
        return unread.update(read_at=timezone.now())
