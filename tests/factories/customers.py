"""Factories for customers, customer groups and customer tenants. They write to the active schema."""

import uuid

import factory

from customers.choices import ConsentState
from customers.models import Customer, CustomerGroup, CustomerTenant


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Customer {n:03d}")
    contact_name = factory.Faker("name")
    contact_email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    country = "DE"
    city = "Berlin"
    address_line1 = "Hauptstrasse 1"
    postal_code = "10115"

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(extracted)


class CustomerTenantFactory(factory.django.DjangoModelFactory):
    """A tenant that has consented; pass `consent_state=` for one that has not (yet)."""

    class Meta:
        model = CustomerTenant

    customer = factory.SubFactory(CustomerFactory)
    tenant_id = factory.LazyFunction(uuid.uuid4)
    primary_domain = factory.Sequence(lambda n: f"tenant{n}.onmicrosoft.com")
    consent_state = ConsentState.CONSENTED
