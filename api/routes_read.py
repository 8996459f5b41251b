"""Read endpoints of customers, customer tenants, marketplace accounts, billing statements and pools."""

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from api.problems import ApiProblem
from api.schemas import (
    BillingStatementOut,
    CustomerOut,
    CustomerTenantOut,
    MarketplaceAccountOut,
    PoolAllocationOut,
    PoolOut,
)
from api.security import ApiTokenAuth
from api.selectors import (
    billing_statements_visible_to,
    marketplace_accounts_for_api,
    pool_allocations_for_api,
    pools_for_api,
)
from customers.selectors import customer_tenants_visible_to, customers_visible_to
from portal.accounts.choices import PermissionModule

customers = Router(tags=["Customers"], auth=ApiTokenAuth(PermissionModule.CUSTOMERS))
marketplace = Router(tags=["Marketplace accounts"], auth=ApiTokenAuth(PermissionModule.MARKETPLACE))
reports = Router(tags=["Billing statements"], auth=ApiTokenAuth(PermissionModule.REPORTS))
pools = Router(tags=["Pools"], auth=ApiTokenAuth(PermissionModule.RESELLERS))


def one(queryset, pk: int):
    """The object in the user's scope, or 404: out of scope and missing look the same."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ApiProblem(404)
    return found


@customers.get("/customers", response=list[CustomerOut], url_name="customer_list")
@paginate(LimitOffsetPagination)
def customer_list(request: HttpRequest):
    return customers_visible_to(user=request.user).order_by("name", "pk")


@customers.get("/customers/{customer_id}", response=CustomerOut, url_name="customer_detail")
def customer_detail(request: HttpRequest, customer_id: int):
    return one(customers_visible_to(user=request.user), customer_id)


@customers.get("/customer-tenants", response=list[CustomerTenantOut], url_name="customer_tenant_list")
@paginate(LimitOffsetPagination)
def customer_tenant_list(request: HttpRequest, customer_id: int | None = None):
    tenants = customer_tenants_visible_to(user=request.user).order_by("customer_id", "primary_domain", "pk")
    return tenants.filter(customer_id=customer_id) if customer_id is not None else tenants


@customers.get("/customer-tenants/{customer_tenant_id}", response=CustomerTenantOut, url_name="customer_tenant_detail")
def customer_tenant_detail(request: HttpRequest, customer_tenant_id: int):
    return one(customer_tenants_visible_to(user=request.user), customer_tenant_id)


@marketplace.get("/marketplace-accounts", response=list[MarketplaceAccountOut], url_name="marketplace_account_list")
@paginate(LimitOffsetPagination)
def marketplace_account_list(request: HttpRequest):
    return marketplace_accounts_for_api()


@marketplace.get(
    "/marketplace-accounts/{account_id}", response=MarketplaceAccountOut, url_name="marketplace_account_detail"
)
def marketplace_account_detail(request: HttpRequest, account_id: int):
    return one(marketplace_accounts_for_api(), account_id)


@reports.get("/billing-statements", response=list[BillingStatementOut], url_name="billing_statement_list")
@paginate(LimitOffsetPagination)
def billing_statement_list(request: HttpRequest):
    return billing_statements_visible_to(user=request.user)


@reports.get("/billing-statements/{statement_id}", response=BillingStatementOut, url_name="billing_statement_detail")
def billing_statement_detail(request: HttpRequest, statement_id: int):
    return one(billing_statements_visible_to(user=request.user), statement_id)


@pools.get("/pools", response=list[PoolOut], url_name="pool_list")
@paginate(LimitOffsetPagination)
def pool_list(request: HttpRequest):
    return pools_for_api(partner=request.tenant)


@pools.get("/pool-allocations", response=list[PoolAllocationOut], url_name="pool_allocation_list")
@paginate(LimitOffsetPagination)
def pool_allocation_list(request: HttpRequest):
    return pool_allocations_for_api(partner=request.tenant)
