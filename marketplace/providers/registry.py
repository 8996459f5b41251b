"""Marketplace slug -> provider class, the only place the console chooses a provider.

Stored marketplace accounts keep the slug; services and tasks build providers through
`create_provider` so tests can hand in a simulator transport and a fake sleep the same way
for every marketplace.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from functools import cache

import httpx

from marketplace.providers.base import MarketplaceProvider, ProviderBase, ProviderConnection
from marketplace.providers.http import SleepFunction

#: Every marketplace the design names. Each is a package `marketplace/providers/<slug>/` whose
#: `adapter` module holds the provider class and whose `simulator` module holds its simulator.
PROVIDER_PATHS: dict[str, str] = {
    "also": "marketplace.providers.also.adapter.AlsoProvider",
    "partner_center": "marketplace.providers.partner_center.adapter.PartnerCenterProvider",
    "cloudmore": "marketplace.providers.cloudmore.adapter.CloudmoreProvider",
    "alef": "marketplace.providers.alef.adapter.AlefProvider",
}


class UnknownMarketplace(LookupError):
    pass


def _package_exists(slug: str) -> bool:
    try:
        return importlib.util.find_spec(PROVIDER_PATHS[slug].rsplit(".", 1)[0]) is not None
    except ModuleNotFoundError:  # the provider's package itself is not there
        return False


def available_slugs() -> tuple[str, ...]:
    """The marketplaces whose provider package is present."""
    return tuple(sorted(slug for slug in PROVIDER_PATHS if _package_exists(slug)))


@cache
def provider_class(slug: str) -> type[ProviderBase]:
    if slug not in PROVIDER_PATHS:
        raise UnknownMarketplace(f"No marketplace provider is registered as {slug!r}")
    if not _package_exists(slug):
        raise UnknownMarketplace(f"The {slug} marketplace provider is not implemented yet")
    module_path, class_name = PROVIDER_PATHS[slug].rsplit(".", 1)
    return getattr(importlib.import_module(module_path), class_name)


def create_provider(
    *,
    slug: str,
    connection: ProviderConnection,
    transport: httpx.BaseTransport | None = None,
    sleep: SleepFunction = time.sleep,
) -> MarketplaceProvider:
    # every registered provider is also a MarketplaceHttpClient, whose __init__ takes these
    provider: MarketplaceProvider = provider_class(slug)(connection=connection, transport=transport, sleep=sleep)  # type: ignore[call-arg]
    return provider
