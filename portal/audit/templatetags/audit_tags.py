"""Template helpers for the audit trail and the notifications bell."""

import json

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext

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


def _event_row(event: AuditEvent) -> SafeString:
    changes = audit_changes(event)
    created = template_localtime(event.created)
    cells = [
        format_html(
            '<td class="text-nowrap"><time datetime="{}">{}<br><span class="text-body-secondary">{}</span></time></td>',
            date_filter(created, "c"),
            date_filter(created, "SHORT_DATE_FORMAT"),
            date_filter(created, "H:i:s"),
        ),
        format_html(
            '<td class="text-break">{}{}</td>',
            event.actor_display,
            format_html('<div class="small text-body-secondary">{}</div>', event.ip_address)
            if event.ip_address
            else "",
        ),
        format_html("<td>{}</td>", event.action_label),
        format_html(
            '<td class="text-break"><span translate="no">{}</span>{}</td>',
            event.target_label or "—",
            format_html('<div class="small text-body-secondary">{}</div>', event.target_type_label)
            if event.target_type_label
            else "",
        ),
        format_html(
            '<td><span class="badge {}">{}</span>{}</td>',
            "text-bg-success" if event.result == "success" else "text-bg-danger",
            event.get_result_display(),
            format_html('<div class="small text-body-secondary">{}</div>', event.message_display)
            if event.message
            else "",
        ),
    ]
    if changes:
        cells.append(
            format_html(
                '<td><button type="button" class="btn btn-link btn-sm p-0 text-nowrap audit-changes-toggle" '
                'data-bs-toggle="collapse" data-bs-target="#audit-event-{pk}" aria-expanded="false" '
                'aria-controls="audit-event-{pk}"><i class="bi bi-chevron-down" aria-hidden="true"></i> {count}'
                "</button></td>",
                pk=event.pk,
                count=ngettext("%(counter)s field", "%(counter)s fields", len(changes)) % {"counter": len(changes)},
            )
        )
    else:
        cells.append(mark_safe('<td><span class="text-body-secondary">—</span></td>'))
    row = format_html('<tr data-event="{}">{}</tr>', event.pk, mark_safe("".join(cells)))  # noqa: S308 - escaped above
    if not changes:
        return row
    return row + format_html(
        '<tr class="collapse audit-changes" id="audit-event-{}"><td colspan="6" class="bg-body-tertiary">'
        '<table class="table table-sm table-bordered mb-0"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table></td></tr>',
        event.pk,
        gettext("Field"),
        gettext("Before"),
        gettext("After"),
        format_html_join(
            "",
            '<tr><th scope="row"><code>{}</code></th><td class="text-break">{}</td><td class="text-break">{}</td></tr>',
            changes,
        ),
    )


@register.simple_tag
def audit_event_rows(events) -> SafeString:
    """The audit table's body rows, written in Python: the template engine took most of the audit
    log's time for its 50 rows. The markup is the one the event table's template wrote per row."""
    return mark_safe("\n".join(_event_row(event) for event in events))  # noqa: S308 - each row is escaped
