"""The reseller dashboard of a large account reseller, and adding, editing and returning the pools it
gives a reseller. Every screen is a 404 at a partner that is not a LAR. Views stay thin."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from pools.choices import HOLDING_STATUSES, PoolService, PoolStatus
from pools.filters import AllocationFilterSet, CustomerFilterForm
from pools.forms import AllocationAddForm, AllocationEditForm, ServicesForm
from pools.selectors import (
    available_licences_chart,
    pool_allocations_for_link,
    pool_allocations_of,
    pools_assignable,
    pools_of,
    reseller_dashboard,
)
from pools.services import allocation_create, allocation_return, allocation_update
from pools.tables import (
    CUSTOMER_COLUMNS_PREFERENCE,
    CUSTOMER_DEFAULT_COLUMNS,
    POOL_COLUMNS_PREFERENCE,
    POOL_DEFAULT_COLUMNS,
    allocation_table,
    customer_optional_columns,
    customer_usage_table,
    pool_optional_columns,
)
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.services import user_preference_set
from portal.core.htmx import partial_for_target
from resellers.listing import ColumnsForm, chosen_columns, filter_chips, large_account_reseller_required
from resellers.selectors import reseller_customer_usage, reseller_link_of, reseller_links_mapped

RESELLERS = PermissionModule.RESELLERS
VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
PER_PAGE = 25
# The pools table's own query parameters (the customers table's start with "customers-").
POOL_QUERY_KEYS = {"q", "source", "payment_type", "status", "page", "sort"}
COLUMN_TABLES = {
    "pools": (POOL_COLUMNS_PREFERENCE, pool_optional_columns, POOL_DEFAULT_COLUMNS),
    "customers": (CUSTOMER_COLUMNS_PREFERENCE, customer_optional_columns, CUSTOMER_DEFAULT_COLUMNS),
}


#: The dashboard's two lists, each swapped on its own by the element htmx targets.
DASHBOARD_PARTIALS = {"pools-results": "pools_results", "customers-results": "customers_results"}


def _reseller_id(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404(_("No such reseller.")) from None


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, " ".join(error.messages))


def _columns(request: HttpRequest, table: str) -> tuple[list[str], ColumnsForm]:
    key, optional, default = COLUMN_TABLES[table]
    columns = chosen_columns(
        request.user.preferences, key, known=[name for name, _label in optional()], default=default
    )
    form = ColumnsForm(initial={"columns": columns, "query": request.GET.urlencode()}, choices=optional(), prefix=table)
    return columns, form


# -- dashboard ------------------------------------------------------------------------------------


@permission_required(RESELLERS, VIEW)
@large_account_reseller_required
@require_GET
def own_pools(request: HttpRequest) -> HttpResponse:
    """The LAR's own pools: what it bought, handed out to resellers, and has left."""
    pools = list(pools_of(owner=request.tenant))
    active = [pool for pool in pools if pool.status == PoolStatus.ACTIVE]
    totals = {
        "bought": sum(pool.seats for pool in active),
        "handed_out": sum(pool.allocated for pool in active),
        "left": sum(max(pool.free, 0) for pool in active),
    }
    page = Paginator(pools, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "pools/own_pools.html",
        {
            "own_pools": page.object_list,
            "page": page,
            "totals": totals,
            "links": reseller_links_mapped(large_account_reseller=request.tenant).exists(),
        },
    )


@permission_required(RESELLERS, VIEW)
@large_account_reseller_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The reseller dashboard: KPIs, available licences chart, pools and customers tables,
    for the reseller chosen in the query string (the first mapped one by default)."""
    partner = request.tenant
    links = list(reseller_links_mapped(large_account_reseller=partner).order_by("organisation_name", "pk"))
    wanted = _reseller_id(request.GET.get("reseller"))
    if wanted is not None:
        link = next((candidate for candidate in links if candidate.pk == wanted), None)
        if link is None:
            raise Http404(_("No such reseller."))
    else:
        link = links[0] if links else None
    can_manage = user_has_permission(request.user, RESELLERS, MANAGE)
    context = {"links": links, "link": link, "own_pools": list(pools_of(owner=partner)), "can_manage": can_manage}
    if link is None:
        return render(request, "pools/dashboard.html", context)

    data = reseller_dashboard(link=link)
    assigned = data.usage.assigned_by_allocation
    filterset = AllocationFilterSet(request.GET or None, queryset=pool_allocations_for_link(link=link))
    pool_columns, pool_columns_form = _columns(request, "pools")
    pool_table = allocation_table(
        filterset.qs, columns=pool_columns, request=request, assigned=assigned, can_manage=can_manage
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(pool_table)

    pool_names = sorted({(row.allocation_id, row.pool_name) for row in data.usage.rows}, key=lambda item: item[1])
    customer_form = CustomerFilterForm(request.GET or None, customers=data.usage.customer_choices(), pools=pool_names)
    customer_rows = customer_form.apply(data.usage.rows)
    customer_columns, customer_columns_form = _columns(request, "customers")
    customer_table = customer_usage_table(customer_rows, columns=customer_columns, request=request)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(customer_table)

    context.update(
        kpis=data.kpis,
        customers_visible=data.usage.customers_visible,
        filterset=filterset,
        pool_chips=filter_chips(filterset.form, request.GET),
        pool_table=pool_table,
        pool_columns_form=pool_columns_form,
        customer_form=customer_form,
        customer_chips=filter_chips(customer_form, request.GET, reset=("customers-page",)),
        customer_table=customer_table,
        customer_columns_form=customer_columns_form,
        customer_total=len(data.usage.rows),
        pool_query_hidden=[
            (name, value) for name, values in request.GET.lists() for value in values if name in POOL_QUERY_KEYS
        ],
        customer_query_hidden=[
            (name, value) for name, values in request.GET.lists() for value in values if name.startswith("customers-")
        ],
        chart={
            **available_licences_chart(link=link),
            "words": {"available": _("available"), "purchased": _("purchased"), "allocated": _("allocated")},
        },
    )
    return render(request, partial_for_target(request, "pools/dashboard.html", DASHBOARD_PARTIALS), context)


@permission_required(RESELLERS, VIEW)
@large_account_reseller_required
@require_POST
def columns(request: HttpRequest) -> HttpResponse:
    """Manage columns of either dashboard table: remember the choice, then show the page as it was."""
    table = request.POST.get("table", "")
    if table not in COLUMN_TABLES:
        raise Http404(_("No such table."))
    key, optional, _default = COLUMN_TABLES[table]
    form = ColumnsForm(request.POST, choices=optional(), prefix=table)
    query = ""
    if form.is_valid():
        user_preference_set(user=request.user, key=key, value=form.cleaned_data["columns"])
        messages.success(request, _("Your columns were saved."))
        query = form.cleaned_data["query"]
    else:
        messages.error(request, _("Those columns are not available."))
    url = reverse("pools:dashboard")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


# -- add, edit, return ----------------------------------------------------------------------------


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def allocation_add(request: HttpRequest) -> HttpResponse:
    """Add pool: pick services as cards (step one, GET), then each service's pool, source, payment
    type, seats and expiration date (step two); all services are saved together or not at all."""
    partner = request.tenant
    link = get_object_or_404(
        reseller_links_mapped(large_account_reseller=partner), pk=_reseller_id(request.GET.get("reseller")) or 0
    )
    own_pools = list(pools_of(owner=partner))
    assignable = list(pools_assignable(owner=partner))
    available = {pool.service for pool in assignable if pool.free > 0}
    chosen = "service" in request.GET or "step" in request.GET  # "Next" sends step, even with no service ticked
    services_form = ServicesForm(request.GET if chosen else None, available=available)
    context = {"link": link, "own_pools": own_pools, "services_form": services_form}
    cards = [
        (value, label, value in available, [pool for pool in assignable if pool.service == value])
        for value, label in PoolService.choices
    ]
    if not services_form.is_bound or not services_form.is_valid():
        return render(request, "pools/allocation_add.html", {**context, "step": "services", "cards": cards})

    forms = []
    for service in services_form.cleaned_data["service"]:
        pools = pools_assignable(owner=partner).filter(service=service)
        first = next((pool for pool in assignable if pool.service == service), None)
        initial = {"pool": first.pk, "source": first.source, "payment_type": first.payment_type} if first else {}
        forms.append(
            (
                service,
                PoolService(service).label,
                AllocationAddForm(request.POST or None, prefix=service, pools=pools, initial=initial),
            )
        )
    if request.method == "POST":
        # every form is checked, and every valid one tried, so every error shows at once
        valid = [form for _service, _label, form in forms if form.is_valid()]
        if _allocations_create(request, link, valid, commit=len(valid) == len(forms)):
            messages.success(
                request,
                _("%(count)s pool(s) added for %(name)s, pending the reseller's acceptance.")
                % {"count": len(forms), "name": link.display_name},
            )
            return redirect(reverse("pools:dashboard") + f"?reseller={link.pk}")
        messages.error(request, _("No pool was added. Correct the fields marked below."))
    failing = [label for _service, label, form in forms if form.errors]
    return render(
        request, "pools/allocation_add.html", {**context, "step": "details", "forms": forms, "failing": failing}
    )


def _allocations_create(request: HttpRequest, link, forms, *, commit: bool) -> bool:
    """Create every service's allocation, or none: each is tried (in order, so later ones see the seats
    earlier ones took) and its refusal marked on its form; any refusal, or `commit` False (another
    service's form is invalid), rolls all of them back."""
    refused = False
    with transaction.atomic():
        for form in forms:
            try:
                with transaction.atomic():
                    allocation_create(
                        actor=request.user,
                        link=link,
                        pool=form.cleaned_data["pool"],
                        payment_type=form.cleaned_data["payment_type"],
                        seats=form.cleaned_data["seats"],
                        expiry_mode=form.cleaned_data["expiry_mode"],
                        expires_on=form.cleaned_data["expires_on"],
                    )
            except ValidationError as error:
                _apply_errors(form, error)
                refused = True
        if refused or not commit:
            transaction.set_rollback(True)
    return commit and not refused


def _allocation_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(pool_allocations_of(large_account_reseller=request.tenant), pk=pk)


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def allocation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    link = reseller_link_of(large_account_reseller=request.tenant, reseller=allocation.reseller)
    back = reverse("pools:dashboard") + (f"?reseller={link.pk}" if link else "")
    if allocation.status not in HOLDING_STATUSES:
        messages.error(request, _("A pool that has ended cannot be edited."))
        return redirect(back)
    assigned = reseller_customer_usage(link=link).assigned_by_allocation.get(allocation.pk, 0) if link else 0
    form = AllocationEditForm(request.POST or None, allocation=allocation, assigned=assigned)
    if request.method == "POST":
        if form.is_valid():
            try:
                allocation_update(
                    actor=request.user,
                    allocation=allocation,
                    payment_type=form.cleaned_data["payment_type"],
                    seats=form.cleaned_data["seats"],
                    expiry_mode=form.cleaned_data["expiry_mode"],
                    expires_on=form.cleaned_data["expires_on"],
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("%(pool)s was saved.") % {"pool": allocation.pool.name})
                return redirect(back)
        messages.error(request, _("The pool was not saved. Correct the fields marked below."))
    context = {
        "allocation": allocation,
        "link": link,
        "form": form,
        "assigned": assigned,
        "own_pools": list(pools_of(owner=request.tenant)),
        "back": back,
    }
    return render(request, "pools/allocation_edit.html", context)


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def allocation_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(request, pk)
    link = reseller_link_of(large_account_reseller=request.tenant, reseller=allocation.reseller)
    back = reverse("pools:dashboard") + (f"?reseller={link.pk}" if link else "")
    if request.method == "POST":
        try:
            allocation_return(actor=request.user, allocation=allocation)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(pool)s was returned to your pool.") % {"pool": allocation.pool.name})
        return redirect(back)
    return render(request, "pools/allocation_return.html", {"allocation": allocation, "link": link, "back": back})
