"""Settings > Webhooks: endpoints, their signing secret, the delivery log, redelivery and a test event."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required
from portal.accounts.views_settings import form_add_service_error, paginate, service_error_text, settings_context
from portal.core.htmx import partial_template
from portal.webhooks.forms import WebhookEndpointEditForm, WebhookEndpointForm
from portal.webhooks.models import WebhookEndpoint
from portal.webhooks.selectors import webhook_deliveries_of, webhook_endpoints_for_list
from portal.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_ping,
    webhook_redeliver,
)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, webhook_endpoints_for_list())
    context = settings_context(request, "webhooks", page=page, endpoints=page.object_list)
    return render(request, partial_template(request, "settings/webhook_list.html", "results"), context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def webhook_create_view(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The endpoint is added. Configure its signing secret in your receiver."))
            return redirect("settings:webhook_detail", pk=endpoint.pk)
    context = settings_context(
        request, "webhooks", form=form, title=_("New webhook endpoint"), cancel_url=reverse("settings:webhook_list")
    )
    return render(request, "settings/form.html", context, status=400 if form.errors else 200)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def webhook_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {field: getattr(endpoint, field) for field in ("url", "description", "events", "is_active")}
    form = WebhookEndpointEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The endpoint is saved."))
            return redirect("settings:webhook_detail", pk=endpoint.pk)
    context = settings_context(
        request,
        "webhooks",
        form=form,
        title=_("Edit webhook endpoint"),
        cancel_url=reverse("settings:webhook_detail", kwargs={"pk": endpoint.pk}),
    )
    return render(request, "settings/form.html", context, status=400 if form.errors else 200)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    page = paginate(request, webhook_deliveries_of(endpoint=endpoint))
    context = settings_context(request, "webhooks", endpoint=endpoint, page=page, deliveries=page.object_list)
    return render(request, partial_template(request, "settings/webhook_detail.html", "deliveries"), context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_POST
def webhook_ping_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_ping(actor=request.user, endpoint=endpoint)
    messages.success(request, _("A test event is on its way; its delivery appears below."))
    return redirect("settings:webhook_detail", pk=endpoint.pk)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_POST
def webhook_redeliver_view(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    delivery = get_object_or_404(endpoint.deliveries, pk=delivery_pk)
    try:
        webhook_redeliver(actor=request.user, delivery=delivery)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, _("The event is sent again."))
    return redirect("settings:webhook_detail", pk=endpoint.pk)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def webhook_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
        return redirect("settings:webhook_list")
    context = settings_context(
        request,
        "webhooks",
        title=_("Delete the webhook endpoint %(url)s?") % {"url": endpoint.url},
        message=_("No more events are sent there, and its delivery log is deleted with it."),
        button_label=_("Delete"),
        cancel_url=reverse("settings:webhook_detail", kwargs={"pk": endpoint.pk}),
    )
    return render(request, "settings/confirm.html", context)
