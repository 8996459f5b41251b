"""Factories and helpers for the marketplace engine tests. They write to the active schema."""

import uuid

import factory

from customers.choices import ConsentState
from customers.models import Customer, CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.also.simulator import DEMO_PASSWORD, DEMO_USERNAME
from marketplace.secrets import secret_encrypt
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from tests.factories import UserFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Engine Customer {n:03d}")
    country = "DE"


class CustomerTenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerTenant

    customer = factory.SubFactory(CustomerFactory)
    tenant_id = factory.LazyFunction(uuid.uuid4)
    primary_domain = factory.Sequence(lambda n: f"engine{n}.onmicrosoft.com")
    consent_state = ConsentState.CONSENTED


class AccountFactory(factory.django.DjangoModelFactory):
    """An ALSO account stored directly (no credential check): the simulator's demo reseller."""

    class Meta:
        model = MarketplaceAccount

    marketplace = "also"
    display_name = factory.Sequence(lambda n: f"ALSO account {n}")
    region = "de"
    username = DEMO_USERNAME
    secret_ciphertext = factory.LazyFunction(lambda: secret_encrypt(DEMO_PASSWORD))


def company_id(simulator, name: str) -> str:
    return str(next(company.account_id for company in simulator.companies.values() if company.name == name))


def connect(account: MarketplaceAccount, tenant: CustomerTenant, external_id: str, name: str = "") -> TenantConnection:
    return TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=external_id,
        external_customer_name=name or external_id,
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


MARKETPLACE_VIEW = {PermissionModule.MARKETPLACE: AccessLevel.VIEW}
MARKETPLACE_MANAGE = {PermissionModule.MARKETPLACE: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}
