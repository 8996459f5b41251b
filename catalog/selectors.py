"""Reads of the catalog. Each returns a queryset or a small structure in a fixed number of queries,
whatever the number of offers, so pages built on them do not grow with the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Min, Q, QuerySet

from catalog.choices import Eligibility
from catalog.models import (
    DEFAULT_MARKUP_PERCENT,
    CatalogSettings,
    Category,
    CustomerPrice,
    CustomerSegment,
    Offer,
    ProductGroup,
    SegmentMembership,
    SegmentPrice,
)
from customers.models import Customer, CustomerTenant
from customers.selectors import customers_visible_to
from portal.audit.models import AuditEvent
from portal.audit.selectors import audit_events_for_object

OTHER = "none"  # the query-string value of "no category" / "no product group"


def catalog_settings() -> CatalogSettings:
    """The partner's settings row, or the defaults (unsaved) before anyone changed them."""
    return CatalogSettings.objects.order_by("pk").first() or CatalogSettings(
        default_markup_percent=DEFAULT_MARKUP_PERCENT
    )


def offers_all() -> QuerySet[Offer]:
    """Every offer of every marketplace account, with what the catalog pages show next to it."""
    return Offer.objects.select_related("account", "product_group__category")


def offers_visible() -> QuerySet[Offer]:
    """What customers and visitors may see: listed at the marketplace, and not hidden by the partner
    (Catalog > Customize), neither the offer nor its product group."""
    return offers_all().filter(is_available=True, is_visible=True).exclude(product_group__is_visible=False)


def offers_one_per_plan(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    """One offer per plan (SKU, billing cycle, term, eligibility): visitors buy a product, not the marketplace
    account the partner gets it through, so a plan several accounts sell is listed once."""
    first_of_each = (
        offers.exclude(sku="")
        .order_by()
        .values("sku", "billing_cycle", "term", "eligibility")
        .annotate(first=Min("pk"))
        .values("first")
    )
    return offers.filter(Q(sku="") | Q(pk__in=first_of_each))


def eligibilities_of(customer: Customer) -> list[str]:
    allowed: list[str] = [Eligibility.EVERYONE]
    if customer.is_academic:
        allowed.append(Eligibility.ACADEMIC)
    if customer.is_government:
        allowed.append(Eligibility.GOVERNMENT)
    if customer.is_non_profit:
        allowed.append(Eligibility.NON_PROFIT)
    return allowed


def offers_orderable_by(
    *, customer: Customer, tenant: CustomerTenant | None = None, include_add_ons: bool = True
) -> QuerySet[Offer]:
    """The offers a customer (or one of its tenants) may buy: visible, listed at the marketplace, for
    every customer or for one of the customer's flags (academic, government, non-profit), and sold by a
    marketplace account the customer's tenant is connected through. One query, whatever its size."""
    from marketplace.models import TenantConnection

    connections = TenantConnection.objects.filter(account__isnull=False)
    connections = (
        connections.filter(customer_tenant=tenant)
        if tenant is not None
        else connections.filter(customer_tenant__customer=customer)
    )
    offers = offers_visible().filter(
        eligibility__in=eligibilities_of(customer), account_id__in=connections.values("account_id")
    )
    if not include_add_ons:
        offers = offers.filter(is_add_on=False)
    return offers


def offer_is_orderable_by(*, offer: Offer, customer: Customer, tenant: CustomerTenant | None = None) -> bool:
    return offers_orderable_by(customer=customer, tenant=tenant).filter(pk=offer.pk).exists()


# -- the tree: categories -> product groups -> offers ------------------------------------------------------------------


@dataclass
class GroupNode:
    group: ProductGroup | None  # None: offers not placed in a group yet
    count: int

    @property
    def key(self) -> str:
        return str(self.group.pk) if self.group else OTHER

    @property
    def name(self) -> str:
        from django.utils.translation import gettext

        return self.group.name if self.group else gettext("Not sorted yet")


@dataclass
class CategoryNode:
    category: Category | None  # None: product groups without a category
    groups: list[GroupNode] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.category.pk) if self.category else OTHER

    @property
    def name(self) -> str:
        from django.utils.translation import gettext

        return self.category.label if self.category else gettext("Other")

    @property
    def count(self) -> int:
        return sum(node.count for node in self.groups)


def catalog_tree(*, offers: QuerySet[Offer], include_empty: bool = False) -> list[CategoryNode]:
    """Categories with their product groups and how many of `offers` each holds, in three queries.
    Without `include_empty`, categories and groups with none of the offers are left out."""
    counts = dict(offers.order_by().values_list("product_group_id").annotate(count=Count("pk")))
    groups = ProductGroup.objects.select_related("category")
    if not include_empty:
        groups = groups.filter(pk__in=[pk for pk in counts if pk is not None])
    nodes: dict[int | None, CategoryNode] = {}
    categories = Category.objects.all() if include_empty else Category.objects.filter(product_groups__in=groups)
    for category in categories.distinct():
        nodes[category.pk] = CategoryNode(category=category)
    for group in groups:
        node = nodes.get(group.category_id)
        if node is None:
            node = nodes.setdefault(None, CategoryNode(category=None))
        node.groups.append(GroupNode(group=group, count=counts.get(group.pk, 0)))
    if counts.get(None):
        nodes.setdefault(None, CategoryNode(category=None)).groups.append(GroupNode(group=None, count=counts[None]))
    ordered = [node for key, node in nodes.items() if key is not None]
    if None in nodes:
        ordered.append(nodes[None])
    return ordered


def offers_in(offers: QuerySet[Offer], *, category: str = "", group: str = "") -> QuerySet[Offer]:
    """Narrow to a category or product group by the tree's keys (a pk, or OTHER)."""
    if category == OTHER:
        offers = offers.filter(Q(product_group__isnull=True) | Q(product_group__category__isnull=True))
    elif category.isdigit():
        offers = offers.filter(product_group__category_id=int(category))
    if group == OTHER:
        offers = offers.filter(product_group__isnull=True)
    elif group.isdigit():
        offers = offers.filter(product_group_id=int(group))
    return offers


# -- one offer ---------------------------------------------------------------------------------------------------------


@dataclass
class OfferFamily:
    """An offer's relatives at the same marketplace account."""

    plans: list[Offer]  # every plan of the same product (billing cycles, terms), the offer included
    add_ons: list[Offer]  # offers that can be added to this product
    required: list[Offer]  # for an add-on: the products it can be added to


def offer_family(*, offer: Offer, offers: QuerySet[Offer] | None = None) -> OfferFamily:
    """Three queries; `offers` narrows the relatives (e.g. to what a customer may buy)."""
    pool = (offers if offers is not None else offers_all()).filter(account_id=offer.account_id)
    plans = list(pool.filter(product_id=offer.product_id).order_by("billing_cycle", "term", "pk"))
    if offer not in plans:
        plans = sorted([*plans, offer], key=lambda item: (item.billing_cycle, item.term, item.pk))
    add_ons = list(pool.filter(is_add_on=True, parent_product_ids__contains=[offer.product_id]).order_by("name", "pk"))
    required: list[Offer] = []
    if offer.parent_product_ids:
        required = list(pool.filter(product_id__in=offer.parent_product_ids, is_add_on=False).order_by("name", "pk"))
    return OfferFamily(plans=plans, add_ons=add_ons, required=required)


def offer_audit_events(*, offer: Offer, customer: Customer | None = None, limit: int = 100) -> list[AuditEvent]:
    """The offer's audit log; for a customer's store, only what concerns that customer."""
    events = audit_events_for_object(target=offer)
    if customer is not None:
        events = events.filter(customer_id=customer.pk)
    return list(events.order_by("-created", "-pk")[:limit])


# -- the store -------------------------------------------------------------------------------------------------------


@dataclass
class StoreProduct:
    """One service of the store: a product of a marketplace account with the plans the tenant may buy."""

    offer: Offer  # the plan that stands for the product (its first)
    plans: list[Offer]


def store_products(*, offers: QuerySet[Offer]) -> QuerySet:
    """The products among `offers`, one row each {account_id, product_id, name, first_pk, plans}, sorted
    by name: what the store paginates before loading the page's plans."""
    return (
        offers.order_by()
        .values("account_id", "product_id")
        .annotate(name=Min("name"), first_pk=Min("pk"), plans=Count("pk"))
        .order_by("name", "product_id", "account_id")
    )


def store_page_products(*, offers: QuerySet[Offer], rows: list[dict]) -> list[StoreProduct]:
    """The plans of one page of `store_products` rows, in one query."""
    if not rows:
        return []
    condition = Q()
    for row in rows:
        condition |= Q(account_id=row["account_id"], product_id=row["product_id"])
    plans: dict[tuple[int, str], list[Offer]] = {}
    for offer in offers.filter(condition).order_by("billing_cycle", "term", "pk"):
        plans.setdefault((offer.account_id, offer.product_id), []).append(offer)
    products = []
    for row in rows:
        found = plans.get((row["account_id"], row["product_id"]), [])
        if found:
            first = next((offer for offer in found if offer.pk == row["first_pk"]), found[0])
            products.append(StoreProduct(offer=first, plans=found))
    return products


# -- segments and customer prices ------------------------------------------------------------------------------------


def segments_for_list() -> QuerySet[CustomerSegment]:
    return CustomerSegment.objects.annotate(
        customer_count=Count("memberships", distinct=True), price_count=Count("prices", distinct=True)
    )


def segment_members_visible_to(*, user, segment: CustomerSegment) -> QuerySet[SegmentMembership]:
    """A segment's customers that the user may see (the others are counted, never named)."""
    return segment.memberships.filter(customer__in=customers_visible_to(user=user)).select_related("customer")


def segment_prices_of(*, segment: CustomerSegment) -> QuerySet[SegmentPrice]:
    return segment.prices.select_related("offer__account", "offer__product_group")


def customers_for_segment_add(*, user) -> QuerySet[Customer]:
    """Visible customers not in any segment yet."""
    return customers_visible_to(user=user).filter(catalog_segment_membership__isnull=True).order_by("name", "pk")


def customer_prices_visible_to(*, user) -> QuerySet[CustomerPrice]:
    """Customer prices of the customers the user may see: another customer's is a 404."""
    return CustomerPrice.objects.filter(customer__in=customers_visible_to(user=user)).select_related(
        "customer", "offer__account", "offer__product_group"
    )


def offers_for_pricing() -> QuerySet[Offer]:
    """The offers a segment or customer price may be set for: those the marketplace lists."""
    return Offer.objects.filter(is_available=True).select_related("account").order_by("name", "billing_cycle", "pk")


def product_groups_for_customize() -> QuerySet[ProductGroup]:
    return ProductGroup.objects.select_related("category").annotate(
        offer_count=Count("offers", distinct=True),
        hidden_count=Count("offers", filter=Q(offers__is_visible=False), distinct=True),
    )


def categories_for_customize() -> QuerySet[Category]:
    return Category.objects.annotate(group_count=Count("product_groups", distinct=True))


def offers_unplaced_count() -> int:
    return Offer.objects.filter(product_group__isnull=True).count()
