"""Factories for the catalog tests. They write to the active schema."""

from decimal import Decimal

from catalog.models import (
    CustomerPrice,
    CustomerSegment,
    Offer,
    SegmentMembership,
    SegmentPrice,
)
from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount, PriceCustomization, TenantConnection
from portal.accounts.models import Role
from tests.factories import UserFactory
from tests.factories.catalog import SegmentFactory


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
