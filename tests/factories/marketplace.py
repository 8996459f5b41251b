"""Factories for marketplace accounts. They write to the active schema."""

import factory

from marketplace.models import MarketplaceAccount
from marketplace.secrets import secret_encrypt
from portal.accounts.choices import AccessLevel, PermissionModule
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME


class AccountFactory(factory.django.DjangoModelFactory):
    """An ALSO account stored directly (no credential check).

    `demo=True` gives it the ALSO simulator's demo reseller credentials, for tests that talk to the simulator.
    """

    class Meta:
        model = MarketplaceAccount

    class Params:
        demo = factory.Trait(
            username=DEMO_USERNAME,
            secret_ciphertext=factory.LazyFunction(lambda: secret_encrypt(DEMO_PASSWORD)),
        )

    marketplace = "also"
    display_name = factory.Sequence(lambda n: f"Reseller {n}")
    region = "de"
    username = factory.Sequence(lambda n: f"reseller{n}@also.example")
    secret_ciphertext = "not-a-secret"


def account_create(*, marketplace: str, username: str, secret: str, region: str, name: str) -> MarketplaceAccount:
    """An account at a marketplace with these credentials (a simulator's), stored without a credential check."""
    return MarketplaceAccount.objects.create(
        marketplace=marketplace,
        display_name=name,
        region=region,
        username=username,
        secret_ciphertext=secret_encrypt(secret),
    )


def connect(account: MarketplaceAccount, tenant, external_id: str = "", name: str = "", connected_at=None):
    """Connect a customer tenant to the marketplace customer `external_id` of `account`."""
    from marketplace.models import TenantConnection

    external_id = external_id or f"C-{tenant.pk}"
    return TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=external_id,
        external_customer_name=name or external_id,
        connected_at=connected_at,
    )


def company_id(simulator, name: str) -> str:
    return str(next(company.account_id for company in simulator.companies.values() if company.name == name))


MARKETPLACE_VIEW = {PermissionModule.MARKETPLACE: AccessLevel.VIEW}
MARKETPLACE_MANAGE = {PermissionModule.MARKETPLACE: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}
