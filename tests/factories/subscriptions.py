"""Factories for subscriptions. They write to the active schema."""

import factory

from subscriptions.models import Subscription
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer_tenant = factory.SubFactory(CustomerTenantFactory)
    offer = factory.SubFactory(OfferFactory, business_plan=True)
    account = factory.LazyAttribute(lambda subscription: subscription.offer.account)
    external_id = factory.Sequence(lambda n: f"SUB-{n}")
    offer_external_id = factory.LazyAttribute(lambda subscription: subscription.offer.external_id)
    product_id = factory.LazyAttribute(lambda subscription: subscription.offer.product_id)
    name = factory.LazyAttribute(lambda subscription: subscription.offer.name)
    quantity = 5
    assigned = 5
    status = "active"
    billing_cycle = factory.LazyAttribute(lambda subscription: subscription.offer.billing_cycle)
    currency = "EUR"
