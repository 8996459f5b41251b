"""Factories for the catalog: categories, product groups, offers and customer segments. They write to the
active schema."""

from decimal import Decimal

import factory

from catalog.models import (
    Category,
    CustomerPrice,
    CustomerSegment,
    Offer,
    ProductGroup,
    SegmentMembership,
    SegmentPrice,
)
from customers.models import Customer
from marketplace.models import PriceCustomization
from tests.factories.marketplace import AccountFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductGroup

    name = factory.Sequence(lambda n: f"Product group {n}")
    slug = factory.Sequence(lambda n: f"product-group-{n}")
    category = factory.SubFactory(CategoryFactory)


class OfferFactory(factory.django.DjangoModelFactory):
    """A monthly Microsoft 365 plan at 14.16 (suggested retail 16.87).

    `business_plan=True` gives the plain annual plan the reports and lifecycle tests bill: cost 10.00, no vendor,
    SKU or suggested retail price, and an external ID that names its billing cycle ("OFFER-7|Monthly").
    """

    class Meta:
        model = Offer

    class Params:
        business_plan = factory.Trait(
            external_id=factory.Sequence(lambda n: f"OFFER-{n}|Monthly"),
            product_id=factory.Sequence(lambda n: f"PRODUCT-{n}"),
            name=factory.Sequence(lambda n: f"Business Plan {n}"),
            vendor="",
            sku="",
            term="P1Y",
            cost_price=Decimal("10.00"),
            suggested_retail_price=None,
        )

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"OFFER-{n:05d}")
    product_id = factory.Sequence(lambda n: f"PRODUCT-{n:05d}")
    name = factory.Sequence(lambda n: f"Microsoft 365 Plan {n}")
    vendor = "Microsoft"
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    billing_cycle = "monthly"
    term = "P1M"
    charge_type = "recurring"
    currency = "EUR"
    cost_price = Decimal("14.16")
    suggested_retail_price = Decimal("16.87")


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerSegment

    name = factory.Sequence(lambda n: f"Segment {n}")


def price_customization(offer: Offer, price: str, currency: str | None = None) -> PriceCustomization:
    return PriceCustomization.objects.create(
        account=offer.account, offer=offer, currency=currency or offer.currency, price=Decimal(price)
    )


def segment_with(customer: Customer, offer: Offer, *, name: str = "Education", **rule) -> CustomerSegment:
    segment = SegmentFactory(name=name)
    SegmentMembership.objects.create(segment=segment, customer=customer)
    SegmentPrice.objects.create(segment=segment, offer=offer, **rule)
    return segment


def customer_price(customer: Customer, offer: Offer, **rule) -> CustomerPrice:
    return CustomerPrice.objects.create(customer=customer, offer=offer, **rule)
