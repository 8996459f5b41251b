"""Reads the API serves that the screens' selectors do not already shape as a list: each narrows to
what the token's user may see exactly as the screens do."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from api.models import ApiToken
from customers.selectors import customers_visible_to
from marketplace.models import MarketplaceAccount
from pools.models import Pool, PoolAllocation
from pools.selectors import pool_allocations_of, pool_allocations_offered_to, pools_of
from portal.partners.models import Partner
from reports.models import BillingStatement


def api_tokens_for_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user", "revoked_by").order_by("-created", "-id")


def marketplace_accounts_for_api() -> QuerySet[MarketplaceAccount]:
    """Marketplace accounts are the partner's, not a customer's: whoever has the module sees them all."""
    return MarketplaceAccount.objects.order_by("marketplace", "display_name", "pk")


def billing_statements_visible_to(*, user) -> QuerySet[BillingStatement]:
    return BillingStatement.objects.filter(customer__in=customers_visible_to(user=user)).order_by(
        "-cycle_start", "customer_name", "pk"
    )


def pools_for_api(*, partner: Partner) -> QuerySet[Pool]:
    """A large account reseller's own pools (none for any other partner)."""
    if not partner.is_large_account_reseller:
        return Pool.objects.none()
    return pools_of(owner=partner)


def pool_allocations_for_api(*, partner: Partner) -> QuerySet[PoolAllocation]:
    """Allocations this partner gave (as a large account reseller) or holds (as a reseller)."""
    given = pool_allocations_of(large_account_reseller=partner) if partner.is_large_account_reseller else None
    held = pool_allocations_offered_to(partner=partner)
    ids = Q(pk__in=held.values("pk"))
    if given is not None:
        ids |= Q(pk__in=given.values("pk"))
    return PoolAllocation.objects.filter(ids).select_related("pool__owner", "reseller").order_by("-created", "-pk")
