"""Demo data of the catalog: the synced offers sorted into categories and product groups, the legacy
and trial plans hidden from customers, an "Education" segment with its prices, and customer prices.
The default markup stays at 5%. Runs after demo.marketplace (the offers exist). Idempotent."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from catalog import services
from catalog.choices import Eligibility
from catalog.models import DEFAULT_MARKUP_PERCENT, CatalogSettings, CustomerPrice, CustomerSegment, Offer, SegmentPrice
from catalog.pricing import money_round
from customers.models import Customer

SEGMENT_NAME = "Education"
HIDDEN_WORDS = ("legacy", "trial")


def _actor():
    return get_user_model().objects.filter(username="admin").first() or "demo"


def seed(partner) -> list[str]:
    actor = _actor()
    services.default_categories_ensure()
    placed = services.offers_classify(actor=actor)
    if not CatalogSettings.objects.exists():
        services.catalog_settings_update(actor=actor, default_markup_percent=DEFAULT_MARKUP_PERCENT)

    hidden = 0
    for word in HIDDEN_WORDS:
        ids = list(Offer.objects.filter(name__icontains=word, is_visible=True).values_list("pk", flat=True))
        hidden += services.offers_visibility_set(actor=actor, offer_ids=ids, is_visible=False)

    base_offers = list(
        Offer.objects.filter(is_available=True, is_visible=True, is_add_on=False, eligibility=Eligibility.EVERYONE)
        .exclude(product_group__is_visible=False)
        .order_by("name", "billing_cycle", "pk")[:6]
    )
    segment = CustomerSegment.objects.filter(name__iexact=SEGMENT_NAME).first() or services.segment_create(
        actor=actor, name=SEGMENT_NAME, description="Schools and universities: 2% over cost on the core suites."
    )
    for offer in base_offers[:3]:
        if not SegmentPrice.objects.filter(segment=segment, offer=offer).exists():
            services.segment_price_set(actor=actor, segment=segment, offer=offer, markup_percent=Decimal("2"))

    customers = list(Customer.objects.order_by("name", "pk"))
    members = [customer for customer in customers if customer.is_academic][:2] or customers[-1:]
    for customer in members:
        if not hasattr(customer, "catalog_segment_membership"):
            services.segment_member_add(actor=actor, segment=segment, customer=customer)

    priced = 0
    for customer, offer in zip(customers[:2], base_offers[3:5], strict=False):
        if not CustomerPrice.objects.filter(customer=customer, offer=offer).exists():
            price = money_round(offer.cost_price * Decimal("1.03"), offer.currency)
            services.customer_price_set(actor=actor, customer=customer, offer=offer, price=price)
            priced += 1

    offers = Offer.objects.count()
    return [
        f"Catalog: {offers} offers ({placed} newly sorted into product groups, {hidden} hidden from customers); "
        f"segment {segment.name} with {segment.memberships.count()} customers and {segment.prices.count()} prices; "
        f"{CustomerPrice.objects.count()} customer prices; default markup "
        f"{CatalogSettings.objects.order_by('pk').first().default_markup_percent.normalize()}%"
    ]
