"""Template helpers for the audit trail and the notifications bell."""

import json

from django import template

from portal.audit.models import SYSTEM_ACTOR_LABELS, AuditEvent, action_label
from portal.audit.selectors import notifications_unread_count

register = template.Library()


def _display(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def audit_changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field an event recorded, for the expandable "Changes" cell."""
    before = event.before or {}
    after = event.after or {}
    keys = sorted(set(before) | set(after))
    return [
        (key, _display(before.get(key)) if key in before else "", _display(after.get(key)) if key in after else "")
        for key in keys
    ]


@register.filter
def audit_action(action: str) -> str:
    """An audit action's label in the reader's language, for screens that hold the stored value."""
    return action_label(action)


@register.filter
def audit_actor(actor_label: str) -> str:
    """Who acted: a person's email, or the console's own actors in the reader's language."""
    return str(SYSTEM_ACTOR_LABELS.get(actor_label, actor_label))


@register.simple_tag(takes_context=True)
def notifications_unread(context) -> int:
    """The signed-in user's unread notifications (one COUNT query), for the bell's badge."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return notifications_unread_count(user=user)
