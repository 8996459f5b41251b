"""A customer tenant's page: its Subscriptions, Store and Audit logs tabs, its licence change requests
one click away. Views stay thin."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from catalog import selectors as catalog_selectors
from catalog.pricing import prices_resolve
from customers.selectors import customer_tenants_visible_to
from marketplace.models import TenantConnection
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission, user_sees_cost_prices
from portal.core.htmx import partial_template
from subscriptions.choices_lifecycle import RequestStatus
from subscriptions.selectors_requests import requests_visible_to
from subscriptions.selectors_subscriptions import subscriptions_for_list, tenant_audit_events

TENANT_TABS = ("subscriptions", "store", "audit")
PER_PAGE = 25
AUDIT_EVENTS_SHOWN = 100


@permission_required(PermissionModule.SUBSCRIPTIONS, AccessLevel.VIEW)
@require_GET
def tenant_detail(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    tenant = get_object_or_404(customer_tenants_visible_to(user=request.user).select_related("customer"), pk=tenant_pk)
    tab = request.GET.get("tab") if request.GET.get("tab") in TENANT_TABS else "subscriptions"
    connections = list(
        TenantConnection.objects.filter(customer_tenant=tenant, account__isnull=False).select_related("account")
    )
    requests = requests_visible_to(user=request.user).filter(customer_tenant=tenant)
    context = {
        "tenant": tenant,
        "customer": tenant.customer,
        "tab": tab,
        "tabs": TENANT_TABS,
        "connections": connections,
        "open_requests": requests.filter(status=RequestStatus.PENDING).count(),
        "can_purchase": user_has_permission(request.user, PermissionModule.SUBSCRIPTIONS, AccessLevel.MANAGE),
    }
    if tab == "subscriptions":
        subscriptions = subscriptions_for_list(user=request.user).filter(customer_tenant=tenant)
        context["page"] = Paginator(subscriptions, PER_PAGE).get_page(request.GET.get("page"))
    elif tab == "store":
        offers = catalog_selectors.offers_orderable_by(customer=tenant.customer, tenant=tenant, include_add_ons=False)
        page = Paginator(catalog_selectors.store_products(offers=offers), PER_PAGE).get_page(request.GET.get("page"))
        products = catalog_selectors.store_page_products(offers=offers, rows=list(page.object_list))
        context.update(
            {
                "page": page,
                "products": products,
                "prices": prices_resolve(
                    offers=[plan for product in products for plan in product.plans], customer=tenant.customer
                ),
                "sees_cost": user_sees_cost_prices(request.user),
            }
        )
    else:
        context["events"] = tenant_audit_events(customer_tenant=tenant)[:AUDIT_EVENTS_SHOWN]
    return render(request, partial_template(request, "subscriptions/tenant_detail.html", "tab_content"), context)
