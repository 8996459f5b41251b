"""Customers screens: list, onboarding, detail with tabs, tenants and admin consent. Views stay thin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from customers.filters import CustomerFilterSet
from customers.forms import ColumnsForm, CustomerForm, CustomerTenantAddForm, TypedConfirmationForm
from customers.models import Customer
from customers.selectors import (
    customer_audit_events,
    customer_groups_visible_to,
    customer_tenants_of,
    customer_tenants_visible_to,
    customers_for_list,
    customers_visible_to,
)
from customers.services import (
    ConsentFailed,
    ConsentStateMismatch,
    CustomerActionRefused,
    customer_active_subscription_count,
    customer_create,
    customer_delete,
    customer_open_as,
    customer_open_as_leave,
    customer_tenant_add,
    customer_tenant_consent_complete,
    customer_tenant_consent_start,
    customer_tenant_remove,
    customer_update,
    own_organisation_add,
)
from customers.tables import COLUMNS_PREFERENCE, chosen_columns, customer_table, optional_columns
from customers.widgets import CUSTOMER_OPTIONS, customer_options_html
from portal.accounts.acting import ACTING_CUSTOMER_SESSION_KEY
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import (
    permission_check,
    permission_required,
    user_has_permission,
    user_sees_all_customers,
)
from portal.accounts.services import user_preference_set
from portal.core.htmx import partial_for_target, partial_template, post_only
from portal.microsoft.service import handoff_read

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
CUSTOMERS = PermissionModule.CUSTOMERS
PER_PAGE = 25
AUDIT_EVENTS_SHOWN = 100
CONSENT_SESSION_KEY = "customers.consent"
DETAIL_TABS = ("overview", "tenants", "subscriptions", "orders", "audit")


def _can_manage(user) -> bool:
    return user_has_permission(user, CUSTOMERS, MANAGE)


def _can_onboard(user) -> bool:
    """Onboarding and deleting customers is the partner's business, not a customer tenant admin's."""
    return _can_manage(user) and user.kind == UserKind.PARTNER


def _assignable_groups(user):
    """Groups the form offers (None: the user may not change groups), and whether one is required."""
    if user.kind == UserKind.CUSTOMER_ADMIN:
        return None, False
    return customer_groups_visible_to(user=user), not user_sees_all_customers(user)


# -- list -----------------------------------------------------------------------------------------------------------


@permission_required(CUSTOMERS, VIEW)
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    filterset = CustomerFilterSet(
        request.GET or None, queryset=customers_for_list(user=request.user), user=request.user
    )
    columns = chosen_columns(request.user.preferences)
    table = customer_table(filterset.qs, columns=columns, request=request)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "table": table,
        "columns_form": ColumnsForm(
            initial={"columns": columns, "query": request.GET.urlencode()}, choices=optional_columns()
        ),
        "can_onboard": _can_onboard(request.user),
        "total": filterset.queryset.count(),
        "can_add_own_organisation": _can_onboard(request.user)
        and user_sees_all_customers(request.user)
        and not Customer.objects.filter(is_own_organisation=True).exists(),
    }
    return render(request, partial_template(request, "customers/customer_list.html", "results"), context)


@permission_required(CUSTOMERS, VIEW)
@require_POST
def customer_columns(request: HttpRequest) -> HttpResponse:
    """Manage columns: remember the user's choice, then show the list as it was."""
    form = ColumnsForm(request.POST, choices=optional_columns())
    if form.is_valid():
        user_preference_set(user=request.user, key=COLUMNS_PREFERENCE, value=form.cleaned_data["columns"])
        messages.success(request, _("Your columns were saved."))
        query = form.cleaned_data["query"]
    else:
        messages.error(request, _("Those columns are not available."))
        query = ""
    url = reverse("customers:customer_list")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


# -- onboarding, edit, delete ---------------------------------------------------------------------------------------


@permission_required(CUSTOMERS, MANAGE)
@require_http_methods(["GET", "POST"])
def customer_create_view(request: HttpRequest) -> HttpResponse:
    if not _can_onboard(request.user):
        raise PermissionDenied
    groups, groups_required = _assignable_groups(request.user)
    form = CustomerForm(request.POST or None, groups=groups, groups_required=groups_required)
    if request.method == "POST":
        if form.is_valid():
            try:
                customer = customer_create(
                    actor=request.user, fields=form.service_fields(), groups=form.service_groups() or ()
                )
            except CustomerActionRefused as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, _("%(name)s was onboarded.") % {"name": customer.name})
                return redirect("customers:customer_detail", pk=customer.pk)
        messages.error(request, _("The customer was not saved. Correct the fields marked below."))
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=pk)
    permission_check(request.user, CUSTOMERS, MANAGE)  # after the scoped lookup: out of scope is 404
    groups, groups_required = _assignable_groups(request.user)
    if groups is not None and not user_sees_all_customers(request.user):
        # A scoped user keeps the groups they cannot see; they only choose among their own.
        hidden_groups = list(customer.groups.exclude(pk__in=groups.values("pk")))
    else:
        hidden_groups = []
    form = CustomerForm(request.POST or None, instance=customer, groups=groups, groups_required=groups_required)
    if request.method == "POST":
        if form.is_valid():
            chosen = form.service_groups()
            try:
                customer = customer_update(
                    actor=request.user,
                    customer=customer,
                    fields=form.service_fields(),
                    groups=None if chosen is None else [*chosen, *hidden_groups],
                )
            except CustomerActionRefused as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, _("%(name)s was saved.") % {"name": customer.name})
                return redirect("customers:customer_detail", pk=customer.pk)
        messages.error(request, _("The changes were not saved. Correct the fields marked below."))
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=pk)
    if not _can_onboard(request.user):
        raise PermissionDenied
    form = TypedConfirmationForm(request.POST or None, expected=customer.name)
    active = customer_active_subscription_count(customer=customer)
    if request.method == "POST":
        if form.is_valid():
            try:
                customer_delete(actor=request.user, customer=customer)
            except CustomerActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("%(name)s was deleted.") % {"name": customer.name})
                return redirect("customers:customer_list")
        else:
            messages.error(request, _("Nothing was deleted: the confirmation did not match."))
    context = {"customer": customer, "form": form, "active_subscriptions": active, "tenants": customer.tenants.all()}
    return render(request, "customers/customer_delete.html", context)


# -- detail ---------------------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, customer: Customer, *, tab: str, tenant_form=None) -> dict:
    context = {
        "customer": customer,
        "tab": tab,
        "tabs": DETAIL_TABS,
        "can_manage": _can_manage(request.user),
        "can_onboard": _can_onboard(request.user),
    }
    if tab in ("overview", "tenants"):
        tenants = list(customer_tenants_of(customer=customer))
        context["tenants"] = tenants
        context["consented_count"] = sum(1 for tenant in tenants if tenant.is_consented)
    if tab == "tenants":
        context["tenant_form"] = tenant_form or CustomerTenantAddForm()
    if tab == "audit":
        context["events"] = customer_audit_events(customer=customer)[:AUDIT_EVENTS_SHOWN]
    return context


@permission_required(CUSTOMERS, VIEW)
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=pk)
    tab = request.GET.get("tab", "overview")
    if tab not in DETAIL_TABS:
        tab = "overview"
    template = partial_for_target(
        request, "customers/customer_detail.html", {"audit-events": "audit"}, default="tab_content"
    )
    return render(request, template, _detail_context(request, customer, tab=tab))


# -- tenants --------------------------------------------------------------------------------------------------------


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_tenant_add_view(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=customer_pk)
    permission_check(request.user, CUSTOMERS, MANAGE)  # after the scoped lookup: out of scope is 404
    if not_allowed := post_only(request):
        return not_allowed
    form = CustomerTenantAddForm(request.POST)
    detail_url = reverse("customers:customer_detail", args=[customer.pk]) + "?tab=tenants"
    if form.is_valid():
        try:
            tenant = customer_tenant_add(
                actor=request.user,
                customer=customer,
                domain_or_id=form.cleaned_data["domain_or_id"],
                display_name=form.cleaned_data["display_name"],
            )
        except CustomerActionRefused as exc:
            form.add_error("domain_or_id", str(exc))
        else:
            messages.success(
                request,
                _("Tenant %(tenant)s was added. Ask the customer's admin to consent with Authenticate.")
                % {"tenant": tenant},
            )
            if not request.htmx:
                return HttpResponseRedirect(detail_url)
            form = None
    if form is not None:
        messages.error(request, _("The tenant was not added."))
    context = _detail_context(request, customer, tab="tenants", tenant_form=form)
    return render(request, partial_template(request, "customers/customer_detail.html", "tenants"), context)


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_tenant_remove_view(request: HttpRequest, customer_pk: int, tenant_pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=customer_pk)
    tenant = get_object_or_404(customer_tenants_of(customer=customer), pk=tenant_pk)
    permission_check(request.user, CUSTOMERS, MANAGE)  # after the scoped lookup: out of scope is 404
    form = TypedConfirmationForm(request.POST or None, expected=tenant.primary_domain or str(tenant.tenant_id))
    if request.method == "POST":
        if form.is_valid():
            try:
                customer_tenant_remove(actor=request.user, customer_tenant=tenant)
            except CustomerActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Tenant %(tenant)s was removed.") % {"tenant": tenant})
                return HttpResponseRedirect(reverse("customers:customer_detail", args=[customer.pk]) + "?tab=tenants")
        else:
            messages.error(request, _("Nothing was removed: the confirmation did not match."))
    return render(
        request, "customers/customer_tenant_remove.html", {"customer": customer, "tenant": tenant, "form": form}
    )


# -- admin consent --------------------------------------------------------------------------------------------------


def _return_to(request: HttpRequest) -> str:
    """Where a consent started from a wizard (Add tenant) goes back to, on this host only."""
    raw = request.POST.get("next", "")
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()}, require_https=False):
        return raw
    return ""


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_tenant_consent_start_view(request: HttpRequest, customer_pk: int, tenant_pk: int) -> HttpResponse:
    """ "Authenticate": send the customer's admin to Microsoft to grant the console's app in their tenant."""
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=customer_pk)
    tenant = get_object_or_404(customer_tenants_of(customer=customer), pk=tenant_pk)
    permission_check(request.user, CUSTOMERS, MANAGE)  # after the scoped lookup: out of scope is 404
    if not_allowed := post_only(request):
        return not_allowed
    try:
        start = customer_tenant_consent_start(
            actor=request.user,
            customer_tenant=tenant,
            schema_name=connection.schema_name,
            return_path=reverse("customers:customer_tenant_consent_complete"),
        )
    except CustomerActionRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("customers:customer_detail", args=[customer.pk]) + "?tab=tenants")
    request.session[CONSENT_SESSION_KEY] = {
        "state": start.state,
        "tenant_pk": tenant.pk,
        "tenant_id": str(tenant.tenant_id),
        "started_at": start.started_at,
        "return_to": _return_to(request),
    }
    return HttpResponseRedirect(start.url)


@permission_required(CUSTOMERS, MANAGE)
@require_GET
def customer_tenant_consent_complete_view(request: HttpRequest) -> HttpResponse:
    """Where the public Microsoft callback hands the admin consent answer back to this partner."""
    flow = request.session.get(CONSENT_SESSION_KEY)
    tenant = None
    if isinstance(flow, dict):
        tenant = customer_tenants_visible_to(user=request.user).filter(pk=flow.get("tenant_pk")).first()
    if tenant is None:
        message = _(
            "No consent was started in this browser, or it was already completed. "
            "Start it again from the customer's tenants."
        )
        return render(request, "customers/consent_problem.html", {"message": message})
    tenants_url = reverse("customers:customer_detail", args=[tenant.customer_id]) + "?tab=tenants"
    try:
        params = handoff_read(request.GET.get("handoff", ""))
    except signing.BadSignature:
        messages.error(
            request,
            _("This consent answer is not valid or has expired. Nothing was saved; start again with Authenticate."),
        )
        return HttpResponseRedirect(tenants_url)
    try:
        customer_tenant_consent_complete(
            actor=request.user,
            customer_tenant=tenant,
            params=params,
            expected_state=str(flow.get("state", "")),
            started_at=float(flow.get("started_at", 0)),
        )
    except ConsentStateMismatch as exc:
        messages.error(request, str(exc))  # the flow this browser started may still complete: keep it
        return HttpResponseRedirect(tenants_url)
    except ConsentFailed as exc:
        request.session.pop(CONSENT_SESSION_KEY, None)
        messages.error(request, str(exc))
        return HttpResponseRedirect(tenants_url)
    request.session.pop(CONSENT_SESSION_KEY, None)
    messages.success(request, _("Consent granted: the console can now work in tenant %(tenant)s.") % {"tenant": tenant})
    return_to = str(flow.get("return_to") or "")
    if return_to:
        separator = "&" if "?" in return_to else "?"
        return HttpResponseRedirect(f"{return_to}{separator}customer_tenant={tenant.pk}")
    return HttpResponseRedirect(tenants_url)


# -- open as customer -----------------------------------------------------------------------------------------------


@permission_required(CUSTOMERS, VIEW)
@require_http_methods(["GET", "POST"])
def customer_open_as_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Open as customer": from now on this session sees the console as the customer's admins do."""
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=pk)
    if request.user.kind != UserKind.PARTNER:
        raise Http404  # a customer tenant admin (or a partner already acting for one) has nothing to open
    if not_allowed := post_only(request):
        return not_allowed
    try:
        customer_open_as(actor=request.user, customer=customer)
    except CustomerActionRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("customers:customer_detail", args=[customer.pk]))
    request.session[ACTING_CUSTOMER_SESSION_KEY] = {"id": customer.pk, "name": customer.name}
    messages.info(request, _("You are now working in %(customer)s's account.") % {"customer": customer.name})
    return redirect("core:home")


@login_required
@require_POST
def customer_open_as_leave_view(request: HttpRequest) -> HttpResponse:
    """Back to the partner's console from a customer's account (to that customer's page)."""
    acting = request.session.pop(ACTING_CUSTOMER_SESSION_KEY, None)
    if not isinstance(acting, dict) or not isinstance(acting.get("id"), int):
        return redirect("core:home")
    customer_open_as_leave(actor=request.user, customer_id=acting["id"], customer_name=str(acting.get("name", "")))
    messages.info(request, _("You are back in your partner console."))
    return redirect("customers:customer_detail", pk=acting["id"])


@permission_required(CUSTOMERS, MANAGE)
@require_POST
def own_organisation_add_view(request: HttpRequest) -> HttpResponse:
    """ "Add your own organisation": the partner itself among its customers, to buy for itself."""
    if request.user.kind != UserKind.PARTNER or not user_sees_all_customers(request.user):
        raise PermissionDenied
    partner = getattr(request, "tenant", None)
    try:
        customer = own_organisation_add(actor=request.user, name=getattr(partner, "name", "") or _("Our organisation"))
    except CustomerActionRefused as exc:
        messages.error(request, str(exc))
        return redirect("customers:customer_list")
    messages.success(
        request,
        _("%(name)s is listed as your own organisation. Add its Microsoft tenant to buy for yourself.")
        % {"name": customer.name},
    )
    return redirect("customers:customer_detail", pk=customer.pk)


#: Who may ask for customer names to filter by: anyone whose screens have a customer filter.
CUSTOMER_FILTER_MODULES = (PermissionModule.CUSTOMERS, PermissionModule.SUBSCRIPTIONS, PermissionModule.REPORTS)


@login_required
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """The options of a customer filter as the user types (`customers.widgets`): the visible customers
    whose name holds the text, at most CUSTOMER_OPTIONS, the chosen one kept."""
    if not any(user_has_permission(request.user, module, AccessLevel.VIEW) for module in CUSTOMER_FILTER_MODULES):
        raise PermissionDenied
    customers = customers_visible_to(user=request.user).order_by("name", "pk").only("id", "name")
    text = request.GET.get("customer_search", "").strip()[:100]
    selected_pk = request.GET.get("selected", "")
    selected = customers.filter(pk=int(selected_pk)).first() if selected_pk.isdigit() else None
    if text:
        customers = customers.filter(name__icontains=text)
    empty_label = request.GET.get("empty", "")[:100] or _("All customers")
    return HttpResponse(customer_options_html(customers[:CUSTOMER_OPTIONS], selected=selected, empty_label=empty_label))
