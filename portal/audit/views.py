"""Settings > Audit logs (the whole trail, filtered, exported) and the notifications bell."""

import json

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_tenants.utils import schema_context

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required
from portal.accounts.views_settings import paginate, settings_context
from portal.audit.choices import NotificationKind
from portal.audit.filters import AuditEventFilterSet
from portal.audit.selectors import NOTIFICATION_TABS, audit_events_all, notifications_for, notifications_unread_count
from portal.audit.services import notifications_mark_read
from portal.core.exports import csv_row
from portal.core.htmx import partial_template, wants_partial

PANEL_SIZE = 8
CSV_HEADER = (
    "time",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "customer_id",
    "result",
    "message",
    "ip_address",
    "before",
    "after",
)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    filterset = AuditEventFilterSet(request.GET or None, queryset=audit_events_all())
    page = paginate(request, filterset.qs, per_page=50)
    query = request.GET.copy()
    query.pop("page", None)
    context = settings_context(
        request, "audit_log", filter=filterset, page=page, events=page.object_list, export_query=query.urlencode()
    )
    return render(request, partial_template(request, "settings/audit_log.html", "results"), context)


def _csv_rows(schema_name: str, queryset):
    yield csv_row(CSV_HEADER)
    # The body streams after the view returned: stay in this partner's schema explicitly.
    with schema_context(schema_name):
        for event in queryset.iterator(chunk_size=1000):
            yield csv_row(
                [
                    event.created.isoformat(),
                    event.actor_label,
                    event.action,
                    event.target_type,
                    event.target_id,
                    event.target_label,
                    event.customer_id or "",
                    event.result,
                    event.message,
                    event.ip_address or "",
                    json.dumps(event.before, ensure_ascii=False, sort_keys=True) if event.before else "",
                    json.dumps(event.after, ensure_ascii=False, sort_keys=True) if event.after else "",
                ]
            )


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def audit_log_export(request: HttpRequest) -> StreamingHttpResponse:
    """The same events as the screen with the same filters, as CSV, streamed (the trail can be long)."""
    filterset = AuditEventFilterSet(request.GET or None, queryset=audit_events_all())
    queryset = filterset.qs.select_related(None)
    response = StreamingHttpResponse(_csv_rows(connection.schema_name, queryset), content_type="text/csv")
    filename = f"audit-log-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Notifications -----------------------------------------------------------------------------------


NOTIFICATION_TAB_LABELS = {
    "unread": gettext_lazy("Unread"),
    "all": gettext_lazy("All"),
    **{kind: label for kind, label in NotificationKind.choices},
}


def _panel_context(request: HttpRequest) -> dict:
    return {
        "notifications": notifications_for(user=request.user)[:PANEL_SIZE],
        "unread_count": notifications_unread_count(user=request.user),
    }


@login_required
@require_GET
def notification_panel(request: HttpRequest) -> HttpResponse:
    """The bell's panel (htmx) or, opened on its own, the page of all the user's notifications."""
    if wants_partial(request) and request.htmx.target == "notification-panel":
        return render(request, "audit/notifications.html#panel", _panel_context(request))
    tab = request.GET.get("tab", "")
    tab = tab if tab in NOTIFICATION_TABS else "all"
    page = paginate(request, notifications_for(user=request.user, tab=tab))
    tabs = [(name, NOTIFICATION_TAB_LABELS[name]) for name in NOTIFICATION_TABS]
    context = {**_panel_context(request), "page": page, "all_notifications": page.object_list, "tab": tab, "tabs": tabs}
    return render(request, partial_template(request, "audit/notifications.html", "results"), context)


@login_required
@require_POST
def notifications_mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    if request.htmx:
        return render(request, "audit/notifications.html#panel", {**_panel_context(request), "oob_badge": True})
    return redirect("audit:notification_panel")


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = get_object_or_404(notifications_for(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("audit:notification_panel")
