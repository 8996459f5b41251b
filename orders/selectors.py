"""Reads of orders, carts and quotes, always scoped to the customers the user may see.

An order is visible when its customer tenant is: a customer tenant admin sees the orders of their own
customers' tenants, anything else is a 404 because it is never returned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from catalog.models import Offer
from customers.models import Customer, CustomerTenant
from customers.selectors import customer_tenants_visible_to
from marketplace.models import MarketplaceAccount
from orders.choices import OrderStatus
from orders.models import Order, OrderLine, Quote
from portal.accounts.choices import UserKind


def orders_visible_to(*, user) -> QuerySet[Order]:
    return Order.objects.filter(customer_tenant__in=customer_tenants_visible_to(user=user))


def _lines_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=OrderLine.objects.order_by("position", "pk"))


def orders_for_list(*, user) -> QuerySet[Order]:
    """The Orders screen: every visible order but the drafts that hold a quote's lines (those are on
    the Quotes screen), with what the rows show in a constant number of queries."""
    return (
        orders_visible_to(user=user)
        .exclude(status=OrderStatus.DRAFT, quote__isnull=False)
        .select_related("customer_tenant__customer", "account", "created_by")
        .annotate(line_count=Count("lines"))
        .prefetch_related(_lines_prefetch())
    )


def order_for_detail(*, user, pk: int) -> Order | None:
    return (
        orders_visible_to(user=user)
        .select_related(
            "customer_tenant__customer", "account", "created_by", "submitted_by", "terms_accepted_by", "quote"
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("offer", "subscription", "parent_line").order_by(
                    "position", "pk"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )


def order_with_lines(*, order_id: int) -> Order | None:
    """An order and its lines, unscoped: for tasks, which act for the system."""
    return (
        Order.objects.select_related("customer_tenant", "account", "created_by", "submitted_by")
        .prefetch_related(_lines_prefetch())
        .filter(pk=order_id)
        .first()
    )


def cart_for(*, user, customer_tenant: CustomerTenant, account: MarketplaceAccount) -> Order | None:
    """The user's cart for a tenant at an account: their latest draft there that is not a quote."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Order.objects.filter(
            created_by=user,
            customer_tenant=customer_tenant,
            account=account,
            status=OrderStatus.DRAFT,
            quote__isnull=True,
        )
        .order_by("-updated", "-pk")
        .first()
    )


def carts_of(*, user) -> QuerySet[Order]:
    """The user's carts (drafts that are not quotes), most recently changed first."""
    return (
        orders_visible_to(user=user)
        .filter(created_by=user, status=OrderStatus.DRAFT, quote__isnull=True)
        .order_by("-updated", "-pk")
    )


def quotes_visible_to(*, user) -> QuerySet[Quote]:
    return Quote.objects.filter(order__customer_tenant__in=customer_tenants_visible_to(user=user))


def quotes_for_list(*, user) -> QuerySet[Quote]:
    return (
        quotes_visible_to(user=user)
        .select_related("order__customer_tenant__customer", "order__account", "created_by")
        .annotate(line_count=Count("order__lines"))
        .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.order_by("position", "pk")))
    )


def quote_for_detail(*, user, pk: int) -> Quote | None:
    return (
        quotes_visible_to(user=user)
        .select_related("order__customer_tenant__customer", "order__account", "created_by", "accepted_by")
        .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.select_related("offer")))
        .filter(pk=pk)
        .first()
    )


# -- what can be ordered ------------------------------------------------------------------------------------------


def offers_orderable_by(*, user) -> QuerySet[Offer]:
    """Offers a user may start an order with: available base offers; customer tenant admins only see
    the offers the partner lets customers see and buy (Catalog > Customize)."""
    offers = Offer.objects.filter(is_available=True, is_add_on=False).select_related("account")
    if user.kind == UserKind.CUSTOMER_ADMIN:
        offers = offers.filter(is_visible=True)
    return offers


def offer_billing_options(*, offer: Offer) -> QuerySet[Offer]:
    """The offers of the same product at the same account: the billing periods to choose from."""
    return Offer.objects.filter(
        account_id=offer.account_id, product_id=offer.product_id, is_add_on=False, is_available=True
    ).order_by("term", "-billing_cycle", "pk")  # shortest commitment first, monthly before annual


def offer_add_ons(*, offer: Offer, user=None) -> QuerySet[Offer]:
    """Add-on offers of the account that can be attached to the offer's product."""
    add_ons = Offer.objects.filter(
        account_id=offer.account_id, is_add_on=True, is_available=True, parent_product_ids__contains=[offer.product_id]
    )
    if user is not None and user.kind == UserKind.CUSTOMER_ADMIN:
        add_ons = add_ons.filter(is_visible=True)
    return add_ons.order_by("name", "pk")


def tenants_orderable_at(*, user, account: MarketplaceAccount) -> QuerySet[CustomerTenant]:
    """Visible customer tenants connected to the account: the tenants an order there can be for."""
    return (
        customer_tenants_visible_to(user=user)
        .filter(marketplace_connections__account=account)
        .select_related("customer")
        .order_by("primary_domain", "pk")
        .distinct()
    )


def offer_eligible_for(*, offer: Offer, customer: Customer) -> bool:
    """Academic, government and non-profit offers only for customers with the matching flag."""
    eligibility = getattr(offer, "eligibility", "") or ""
    if not eligibility:
        return True
    return bool(getattr(customer, f"is_{eligibility}", False))


# -- money ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderTotal:
    currency: str
    price: Decimal
    cost: Decimal | None

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.price - self.cost


def order_totals(lines) -> list[OrderTotal]:
    """Per currency: what the customer pays for the priced lines, and the partner's cost."""
    prices: dict[str, Decimal] = defaultdict(Decimal)
    costs: dict[str, Decimal | None] = {}
    for line in lines:
        if line.total_price is None or not line.currency:
            continue
        prices[line.currency] += line.total_price
        if line.total_cost is None:
            costs[line.currency] = None
        elif costs.get(line.currency, Decimal(0)) is not None:
            costs[line.currency] = costs.get(line.currency, Decimal(0)) + line.total_cost
    return [OrderTotal(currency=c, price=prices[c], cost=costs.get(c)) for c in sorted(prices)]


def order_search(queryset: QuerySet[Order], value: str) -> QuerySet[Order]:
    """Number, friendly name, PO number, tenant domain, customer or product."""
    for term in value.split():
        matching_lines = OrderLine.objects.filter(offer_name__icontains=term).values("order_id")
        queryset = queryset.filter(
            Q(number__icontains=term)
            | Q(friendly_name__icontains=term)
            | Q(po_number__icontains=term)
            | Q(customer_tenant__primary_domain__icontains=term)
            | Q(customer_tenant__customer__name__icontains=term)
            | Q(pk__in=matching_lines)
        )
    return queryset
