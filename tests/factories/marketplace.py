"""Factories for marketplace accounts. They write to the active schema."""

import factory

from marketplace.models import MarketplaceAccount
from marketplace.providers.also.simulator import DEMO_PASSWORD, DEMO_USERNAME
from marketplace.secrets import secret_encrypt


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
