"""Factories for the catalog tests. They write to the active schema."""

import uuid
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
from customers.choices import ConsentState
from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount, PriceCustomization, TenantConnection
from portal.accounts.models import Role
from tests.factories import UserFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Catalog Customer {n:03d}")
    country = "DE"


class CustomerTenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerTenant

    customer = factory.SubFactory(CustomerFactory)
    tenant_id = factory.LazyFunction(uuid.uuid4)
    primary_domain = factory.Sequence(lambda n: f"catalog{n}.onmicrosoft.com")
    consent_state = ConsentState.CONSENTED


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketplaceAccount

    marketplace = "also"
    display_name = factory.Sequence(lambda n: f"Catalog reseller {n}")
    region = "de"
    username = factory.Sequence(lambda n: f"catalog{n}@also.example")
    secret_ciphertext = "not-a-secret"


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
    class Meta:
        model = Offer

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


def connect(account: MarketplaceAccount, tenant: CustomerTenant, external_id: str = "") -> TenantConnection:
    return TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=external_id or f"C-{tenant.pk}",
        external_customer_name=external_id or f"C-{tenant.pk}",
    )


def user_with(username: str, levels: dict[str, int], *, all_customers: bool = True, **user_fields):
    role = Role.objects.create(
        name=f"{username} role",
        permissions={module: int(level) for module, level in levels.items()},
        all_customers=all_customers,
    )
    user = UserFactory(username=username, **user_fields)
    user.roles.add(role)
    return user
