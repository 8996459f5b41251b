"""Create a customer's new Microsoft tenant at a marketplace: the form, the live domain check. Views stay thin."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import customers_visible_to
from marketplace.forms import TenantCreateForm
from marketplace.selectors import accounts_creating_tenants
from marketplace.services import MarketplaceActionRefused
from marketplace.services_tenants import (
    customer_tenant_create,
    domain_availability_check,
    domain_prefix_suggest,
    tenant_address_missing_labels,
)
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_check, permission_required
from portal.partners.selectors import partner_current

MARKETPLACE = PermissionModule.MARKETPLACE


def _customer(request: HttpRequest, customer_pk: int):
    customer = get_object_or_404(customers_visible_to(user=request.user), pk=customer_pk)
    permission_check(request.user, MARKETPLACE, AccessLevel.MANAGE)  # after the scoped lookup: out of scope is 404
    return customer


def _initial(request: HttpRequest, customer, accounts) -> dict:
    first, _space, last = customer.contact_name.strip().partition(" ")
    raw_account = request.GET.get("account", "")
    account = accounts.filter(pk=int(raw_account)).first() if raw_account.isdigit() else None
    return {
        "account": account or accounts.first(),
        "domain_prefix": domain_prefix_suggest(customer),
        "first_name": first,
        "last_name": last,
        "email": customer.contact_email,
        "phone": customer.contact_phone,
    }


def _next_url(request: HttpRequest) -> str:
    """Where "Create new" on the order page came from, to return there with the new tenant chosen."""
    raw = request.POST.get("next") or request.GET.get("next") or ""
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()}):
        return raw
    return ""


@permission_required(MARKETPLACE, AccessLevel.VIEW)
@require_GET
def tenant_create_start(request: HttpRequest) -> HttpResponse:
    """ "Create new" on the order page: choose the customer the new tenant is for, then the form."""
    permission_check(request.user, MARKETPLACE, AccessLevel.MANAGE)
    customers = customers_visible_to(user=request.user).order_by("name")
    raw = request.GET.get("customer", "")
    if raw.isdigit():
        customer = get_object_or_404(customers, pk=int(raw))
        query = request.GET.copy()
        query.pop("customer", None)
        url = reverse("marketplace:tenant_create", args=[customer.pk])
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    context = {"customers": customers, "next_url": _next_url(request), "account": request.GET.get("account", "")}
    return render(request, "marketplace/tenant_create_start.html", context)


@permission_required(MARKETPLACE, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def tenant_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """ "Create a Microsoft tenant": pre-filled from the customer, checked as the user types, created
    at the chosen account's marketplace; then on to buying the first subscription."""
    customer = _customer(request, customer_pk)
    accounts = accounts_creating_tenants()
    next_url = _next_url(request)
    check_url = reverse("marketplace:tenant_create_domain_check", args=[customer.pk])
    if request.method == "POST":
        form = TenantCreateForm(request.POST, accounts=accounts, check_url=check_url)
    else:
        form = TenantCreateForm(initial=_initial(request, customer, accounts), accounts=accounts, check_url=check_url)
    missing = tenant_address_missing_labels(customer)
    if request.method == "POST" and form.is_valid() and not missing:
        data = form.cleaned_data
        partner = partner_current()
        try:
            creation = customer_tenant_create(
                actor=request.user,
                customer=customer,
                account=data["account"],
                domain_prefix=data["domain_prefix"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                partner_name=getattr(partner, "name", ""),
            )
        except MarketplaceActionRefused as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            tenant = creation.customer_tenant
            created = creation.created
            if created.admin_password:
                sent = _("The admin %(user)s's credentials were emailed to %(email)s.")
            else:
                sent = _("%(account)s emails the admin %(user)s's credentials to %(email)s.")
            messages.success(
                request,
                _("Tenant %(tenant)s was created and connected; nothing was charged.") % {"tenant": tenant}
                + " "
                + sent
                % {
                    "user": created.admin_user_name or "",
                    "email": created.credentials_sent_to or data["email"],
                    "account": data["account"],
                },
            )
            if next_url:
                separator = "&" if "?" in next_url else "?"
                return redirect(f"{next_url}{separator}tenant={tenant.pk}")
            return redirect("catalog:store", tenant_pk=tenant.pk)
    context = {
        "customer": customer,
        "form": form,
        "accounts": accounts,
        "missing": missing,
        "next_url": next_url,
        "customer_edit_url": reverse("customers:customer_update", args=[customer.pk]),
    }
    return render(request, "marketplace/tenant_create.html", context)


@permission_required(MARKETPLACE, AccessLevel.VIEW)
@require_GET
def tenant_create_domain_check(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The live answer under the domain field (htmx, as the user types)."""
    _customer(request, customer_pk)
    raw_account = request.GET.get("account", "")
    account = accounts_creating_tenants().filter(pk=int(raw_account)).first() if raw_account.isdigit() else None
    domain = request.GET.get("domain_prefix", "")
    context: dict = {"domain": domain}
    if account is not None and domain.strip():
        try:
            context["availability"] = domain_availability_check(account=account, domain=domain)
        except MarketplaceActionRefused as refusal:
            context["error"] = refusal.message
    return render(request, "marketplace/partials/domain_availability.html", context)
