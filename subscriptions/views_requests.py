"""License change requests (a section of the left navigation) and Tenant settings > Licenses."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from catalog.pricing import guardrails_check
from customers.selectors import customer_tenants_visible_to, customers_visible_to
from customers.widgets import customer_picker_html
from marketplace.choices import MarketplaceSlug
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import permission_check, permission_required, user_has_permission
from portal.core.htmx import partial_template
from subscriptions.choices_lifecycle import RequestSource, RequestStatus
from subscriptions.commitment import quantity_change_preview
from subscriptions.forms_requests import (
    DecisionForm,
    NewServiceForm,
    RequestForm,
    SubscriptionOptionsForm,
    TenantLicenseSettingsForm,
)
from subscriptions.models import LicenseChangeRequest, Subscription, SubscriptionOptions
from subscriptions.selectors_requests import (
    offers_requestable_for,
    request_audit_events,
    request_get,
    requests_for_list,
    tenant_subscriptions_for_settings,
)
from subscriptions.selectors_subscriptions import subscription_get
from subscriptions.services_requests import (
    RequestRefused,
    license_change_request_create,
    license_change_request_decide,
    license_change_request_new_service,
    request_decision_refusal,
    subscription_options_save,
    tenant_license_settings_for,
    tenant_license_settings_save,
)

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
SUBSCRIPTIONS = PermissionModule.SUBSCRIPTIONS
PER_PAGE = 25


# -- list and detail -------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    queryset = requests_for_list(user=request.user)
    status = request.GET.get("status", "")
    source = request.GET.get("source", "")
    customer = request.GET.get("customer", "")
    search = request.GET.get("q", "").strip()
    if status in RequestStatus.values:
        queryset = queryset.filter(status=status)
    if source in RequestSource.values:
        queryset = queryset.filter(source=source)
    if customer.isdigit():
        queryset = queryset.filter(customer_tenant__customer_id=int(customer))
    tenant = request.GET.get("tenant", "")
    if tenant.isdigit():
        queryset = queryset.filter(customer_tenant_id=int(tenant))
    for term in search.split():
        queryset = queryset.filter(product_name__icontains=term) | queryset.filter(
            customer_tenant__primary_domain__icontains=term
        )
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "statuses": RequestStatus.choices,
        "sources": RequestSource.choices,
        "customer_picker": customer_picker_html(
            name="customer",
            attrs={"id": "request-customer", "class": "form-select"},
            customers=customers_visible_to(user=request.user).order_by("name", "pk").only("id", "name"),
            value=customer,
            empty_label=_("Any customer"),
        ),
        "selected": {"status": status, "source": source, "customer": customer, "q": search},
        "is_filtered": bool(status or source or customer or search),
        "query": query.urlencode(),
        "can_request": user_has_permission(request.user, SUBSCRIPTIONS, MANAGE),
    }
    return render(request, partial_template(request, "subscriptions/request_list.html", "results"), context)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        change_request = request_get(user=request.user, pk=pk)
    except LicenseChangeRequest.DoesNotExist as missing:
        raise Http404 from missing
    refusal = request_decision_refusal(user=request.user, request=change_request)
    context = {
        "change_request": change_request,
        "approvals": list(change_request.approvals.all()),
        "refusal": refusal,
        "can_decide": not refusal,
        "decision_form": DecisionForm(),
        "events": request_audit_events(request=change_request)[:50],
    }
    template = "subscriptions/request_detail.html"
    if request.htmx and request.htmx.target == "audit-events":
        template += "#audit"
    return render(request, template, context)


@permission_required(SUBSCRIPTIONS, VIEW)
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        change_request = request_get(user=request.user, pk=pk)
    except LicenseChangeRequest.DoesNotExist as missing:
        raise Http404 from missing
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or reject."))
        return redirect("subscriptions:request_detail", pk=change_request.pk)
    try:
        decided = license_change_request_decide(
            actor=request.user,
            request=change_request,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )
    except RequestRefused as refused:
        messages.error(request, str(refused))
        return redirect("subscriptions:request_detail", pk=change_request.pk)
    if decided.status == RequestStatus.PENDING:
        messages.success(request, _("Your approval was recorded; a second approver must decide as well."))
    elif decided.status == RequestStatus.REJECTED:
        messages.success(request, _("The request was rejected."))
    elif decided.status == RequestStatus.FAILED:
        messages.error(
            request, _("Approved, but it could not be applied: %(reason)s") % {"reason": decided.result_message}
        )
    else:
        messages.success(request, _("Approved: %(result)s") % {"result": decided.result_message})
    return redirect("subscriptions:request_detail", pk=change_request.pk)


# -- creating ---------------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, MANAGE)
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    """More or fewer licences of one subscription (`?subscription=<pk>`)."""
    raw = request.GET.get("subscription") or request.POST.get("subscription") or ""
    if not raw.isdigit():
        return render(request, "subscriptions/request_form.html", {"subscription": None})
    try:
        subscription = subscription_get(user=request.user, pk=int(raw))
    except Subscription.DoesNotExist as missing:
        raise Http404 from missing
    form = RequestForm(request.POST or None, initial={"quantity": subscription.quantity})
    preview = None
    if form.is_valid():
        preview = quantity_change_preview(subscription=subscription, quantity=form.cleaned_data["quantity"])
    if (
        request.method == "POST"
        and form.is_valid()
        and form.guardrails_enforce(
            guardrails_check(
                currency=subscription.currency or "EUR",
                quantity=form.cleaned_data["quantity"],
                current_quantity=subscription.quantity,
            )
            if form.cleaned_data["quantity"] > subscription.quantity
            else []
        )
    ):
        try:
            created = license_change_request_create(
                actor=request.user,
                subscription=subscription,
                quantity=form.cleaned_data["quantity"],
                reason=form.cleaned_data["reason"],
            )
        except RequestRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Your request was sent: %(change)s.") % {"change": created})
            return redirect("subscriptions:request_detail", pk=created.pk)
    context = {"subscription": subscription, "form": form, "preview": preview}
    return render(request, "subscriptions/request_form.html", context, status=400 if form.errors else 200)


@permission_required(SUBSCRIPTIONS, MANAGE)
@require_http_methods(["GET", "POST"])
def request_new_service(request: HttpRequest) -> HttpResponse:
    """A new service from the store for one of the user's tenants (`?tenant=<pk>&offer=<pk>`)."""
    tenants = customer_tenants_visible_to(user=request.user).order_by("primary_domain")
    raw_tenant = request.POST.get("customer_tenant") or request.GET.get("tenant") or ""
    tenant = tenants.filter(pk=int(raw_tenant)).first() if raw_tenant.isdigit() else tenants.first()
    if raw_tenant and tenant is None:
        raise Http404
    offers = offers_requestable_for(customer_tenant=tenant) if tenant is not None else tenants.none()
    initial = {"customer_tenant": tenant, "offer": request.GET.get("offer")}
    form = NewServiceForm(request.POST or None, tenants=tenants, offers=offers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = license_change_request_new_service(
                actor=request.user,
                customer_tenant=form.cleaned_data["customer_tenant"],
                offer=form.cleaned_data["offer"],
                quantity=form.cleaned_data["quantity"],
                reason=form.cleaned_data["reason"],
            )
        except RequestRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Your request was sent: %(change)s.") % {"change": created})
            return redirect("subscriptions:request_detail", pk=created.pk)
    context = {"form": form, "tenant": tenant, "has_offers": offers.exists() if tenant is not None else False}
    return render(request, "subscriptions/request_new_service.html", context, status=400 if form.errors else 200)


# -- Tenant settings > Licenses -------------------------------------------------------------------------------------


def _partner_only(request: HttpRequest) -> None:
    if request.user.kind != UserKind.PARTNER:
        raise PermissionDenied


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_license_settings(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    tenant = get_object_or_404(customer_tenants_visible_to(user=request.user).select_related("customer"), pk=tenant_pk)
    _partner_only(request)
    can_manage = user_has_permission(request.user, SUBSCRIPTIONS, MANAGE)
    settings = tenant_license_settings_for(customer_tenant=tenant)
    form = TenantLicenseSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            tenant_license_settings_save(
                actor=request.user,
                customer_tenant=tenant,
                fields={name: form.cleaned_data[name] for name in form.fields},
            )
            messages.success(request, _("The licence settings of %(tenant)s were saved.") % {"tenant": tenant})
            return redirect("subscriptions:tenant_license_settings", tenant_pk=tenant.pk)
        messages.error(request, _("The settings were not saved. Correct the fields marked below."))
    context = {
        "tenant": tenant,
        "form": form,
        "can_manage": can_manage,
        "subscriptions": tenant_subscriptions_for_settings(customer_tenant=tenant),
        "marketplaces": dict(MarketplaceSlug.choices),
    }
    return render(request, "subscriptions/request_settings.html", context, status=400 if form.errors else 200)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def subscription_options_edit(request: HttpRequest, tenant_pk: int, pk: int) -> HttpResponse:
    tenant = get_object_or_404(customer_tenants_visible_to(user=request.user), pk=tenant_pk)
    subscription = get_object_or_404(Subscription.objects.filter(customer_tenant=tenant), pk=pk)
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    _partner_only(request)
    instance = (
        subscription.options if hasattr(subscription, "options") else SubscriptionOptions(subscription=subscription)
    )
    form = SubscriptionOptionsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        subscription_options_save(
            actor=request.user,
            subscription=subscription,
            fields={name: form.cleaned_data[name] for name in form.fields},
        )
        messages.success(request, _("The automation settings of %(name)s were saved.") % {"name": subscription.name})
        return redirect("subscriptions:tenant_license_settings", tenant_pk=tenant.pk)
    context = {"tenant": tenant, "subscription": subscription, "form": form}
    return render(request, "subscriptions/request_options.html", context, status=400 if form.errors else 200)
