"""The reseller side (any partner kind): the large account resellers that invited this partner, the
pools they offer, accepting or declining both, the customer visibility toggle, and assigning
seats of accepted pools to this partner's own customers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import customers_visible_to
from pool_assignments.choices import HOLDING_STATUSES as ASSIGNMENT_HOLDING_STATUSES
from pool_assignments.selectors import pool_assignments_visible_to
from pool_assignments.services import allocation_seats_assigned, pool_assignment_create, pool_assignment_end
from pools.choices import AllocationStatus
from pools.selectors import pool_allocations_offered_to
from pools.services import allocation_accept, allocation_decline
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission
from portal.core.formatting import when_text
from portal.core.htmx import post_only
from resellers.choices import ResellerStatus
from resellers.forms import AssignmentForm
from resellers.selectors import provider_links_of
from resellers.services import (
    reseller_customer_visibility_set,
    reseller_invitation_accept,
    reseller_invitation_decline,
)

RESELLERS = PermissionModule.RESELLERS
VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


@permission_required(RESELLERS, VIEW)
@require_GET
def my_providers(request: HttpRequest) -> HttpResponse:
    partner = request.tenant
    links = list(provider_links_of(reseller=partner))
    allocations = list(pool_allocations_offered_to(partner=partner))
    assignments = list(pool_assignments_visible_to(user=request.user).filter(status__in=ASSIGNMENT_HOLDING_STATUSES))
    assigned: dict[int, int] = {}
    for assignment in assignments:
        assigned[assignment.allocation_id] = assigned.get(assignment.allocation_id, 0) + assignment.seats
    for allocation in allocations:
        allocation.assigned_seats = assigned.get(allocation.pk, 0)
    context = {
        "links": links,
        "pending_links": [link for link in links if link.status == ResellerStatus.PENDING],
        "allocations": allocations,
        "assignments": assignments,
        "can_manage": user_has_permission(request.user, RESELLERS, MANAGE),
        "status": ResellerStatus,
        "allocation_status": AllocationStatus,
    }
    return render(request, "resellers/my_providers.html", context)


def _my_link(request: HttpRequest, pk: int):
    return get_object_or_404(provider_links_of(reseller=request.tenant), pk=pk)


def _my_allocation(request: HttpRequest, pk: int):
    return get_object_or_404(pool_allocations_offered_to(partner=request.tenant), pk=pk)


@permission_required(RESELLERS, MANAGE)
def invitation_answer(request: HttpRequest, pk: int, accept: bool) -> HttpResponse:
    link = _my_link(request, pk)
    if (response := post_only(request)) is not None:
        return response
    service = reseller_invitation_accept if accept else reseller_invitation_decline
    try:
        service(actor=request.user, partner=request.tenant, link=link)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        name = link.large_account_reseller.name
        messages.success(
            request,
            _("You are now a reseller of %(name)s.") % {"name": name}
            if accept
            else _("You declined the invitation of %(name)s.") % {"name": name},
        )
    return redirect("resellers:my_providers")


@permission_required(RESELLERS, MANAGE)
def my_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the reseller decides whether its LAR sees its customers' names (on or off)."""
    link = _my_link(request, pk)
    if (response := post_only(request)) is not None:
        return response
    visible = request.POST.get("visible") == "on"
    try:
        reseller_customer_visibility_set(actor=request.user, partner=request.tenant, link=link, visible=visible)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        name = link.large_account_reseller.name
        messages.success(
            request,
            _("%(name)s can see your customers' names.") % {"name": name}
            if visible
            else _("Your customers' names are hidden from %(name)s.") % {"name": name},
        )
    return redirect("resellers:my_providers")


@permission_required(RESELLERS, MANAGE)
def allocation_answer(request: HttpRequest, pk: int, accept: bool) -> HttpResponse:
    allocation = _my_allocation(request, pk)
    if (response := post_only(request)) is not None:
        return response
    service = allocation_accept if accept else allocation_decline
    try:
        service(actor=request.user, partner=request.tenant, allocation=allocation)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            _("You accepted %(pool)s: assign its seats to your customers.") % {"pool": allocation.pool.name}
            if accept
            else _("You declined %(pool)s.") % {"pool": allocation.pool.name},
        )
    return redirect("resellers:my_providers")


@permission_required(RESELLERS, MANAGE)
@require_http_methods(["GET", "POST"])
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _my_allocation(request, pk)
    if allocation.status != AllocationStatus.ACCEPTED:
        messages.error(request, _("Accept the pool before you assign it."))
        return redirect("resellers:my_providers")
    customers = customers_visible_to(user=request.user).order_by("name")
    chosen = customers.filter(pk=request.GET.get("customer") or 0).first()  # Add service on a customer
    form = AssignmentForm(request.POST or None, customers=customers, initial={"customer": chosen} if chosen else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                assignment = pool_assignment_create(
                    actor=request.user,
                    partner=request.tenant,
                    allocation=allocation,
                    customer=form.cleaned_data["customer"],
                    seats=form.cleaned_data["seats"],
                    expires_on=form.cleaned_data["expires_on"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, _refusal(error))
            else:
                messages.success(
                    request,
                    _("%(seats)s seats of %(pool)s assigned to %(customer)s until %(date)s.")
                    % {
                        "seats": assignment.seats,
                        "pool": allocation.pool.name,
                        "customer": assignment.customer.name,
                        "date": when_text(assignment.expires_on),
                    },
                )
                return redirect("resellers:my_providers")
        messages.error(request, _("Nothing was assigned. Correct the fields marked below."))
    context = {
        "allocation": allocation,
        "form": form,
        "free": allocation.seats - allocation_seats_assigned(allocation=allocation),
    }
    return render(request, "resellers/assignment_form.html", context)


@permission_required(RESELLERS, MANAGE)
def assignment_end(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(pool_assignments_visible_to(user=request.user), pk=pk)
    if (response := post_only(request)) is not None:
        return response
    try:
        assignment = pool_assignment_end(actor=request.user, assignment=assignment)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        if assignment.status in ASSIGNMENT_HOLDING_STATUSES:
            messages.success(
                request,
                _("The subscription ends on %(date)s: a pooled subscription lasts at least 31 days.")
                % {"date": when_text(assignment.expires_on)},
            )
        else:
            messages.success(request, _("The subscription has ended."))
    return redirect("resellers:my_providers")


@permission_required(PermissionModule.CUSTOMERS, AccessLevel.VIEW)
@require_GET
def customer_add_service(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Add service on a customer: a pooled service from a provider's accepted pool, or a marketplace
    offer from the store of one of the customer's tenants."""
    customer = get_object_or_404(customers_visible_to(user=request.user).prefetch_related("tenants"), pk=customer_pk)
    today = timezone.localdate()
    pools = [
        allocation
        for allocation in pool_allocations_offered_to(partner=request.tenant).filter(status=AllocationStatus.ACCEPTED)
        if allocation.expires_on > today
    ]
    return render(
        request,
        "resellers/customer_add_service.html",
        {
            "customer": customer,
            "tenants": list(customer.tenants.all()),
            "pools": pools,
            "can_assign": user_has_permission(request.user, PermissionModule.RESELLERS, AccessLevel.MANAGE),
        },
    )
