"""Marketplace slug -> provider class, the only place the console chooses a provider.

Stored marketplace accounts keep the slug; services and tasks build providers through
`create_provider` so tests can hand in a simulator transport and a fake sleep the same way
for every marketplace.
"""

from __future__ import annotations

import time

import httpx

from marketplace.providers.also.adapter import AlsoProvider
from marketplace.providers.base import MarketplaceProvider, ProviderBase, ProviderConnection
from marketplace.providers.http import SleepFunction

PROVIDER_CLASSES: dict[str, type[ProviderBase]] = {
    AlsoProvider.slug: AlsoProvider,
}

#: Marketplaces the design names but that have no provider package yet.
PLANNED_SLUGS: tuple[str, ...] = ("partner_center", "cloudmore", "alef")


class UnknownMarketplace(LookupError):
    pass


def available_slugs() -> tuple[str, ...]:
    return tuple(sorted(PROVIDER_CLASSES))


def provider_class(slug: str) -> type[ProviderBase]:
    try:
        return PROVIDER_CLASSES[slug]
    except KeyError:
        if slug in PLANNED_SLUGS:
            raise UnknownMarketplace(f"The {slug} marketplace provider is not implemented yet") from None
        raise UnknownMarketplace(f"No marketplace provider is registered as {slug!r}") from None


def create_provider(
    *,
    slug: str,
    connection: ProviderConnection,
    transport: httpx.BaseTransport | None = None,
    sleep: SleepFunction = time.sleep,
) -> MarketplaceProvider:
    provider: MarketplaceProvider = provider_class(slug)(connection=connection, transport=transport, sleep=sleep)
    return provider
