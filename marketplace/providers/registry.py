"""Marketplace slug -> description and provider class, the only place the console chooses a provider.

Each marketplace is a package `marketplace/providers/<slug>/` whose `DESCRIPTION`
(marketplace.providers.description) says what the marketplace is and names its provider class (in
the package's `adapter` module; its simulator is the package's `simulator` module). Stored marketplace
accounts keep the slug; services and tasks build providers through `create_provider` so tests can hand
in a simulator transport and a fake sleep the same way for every marketplace.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import httpx

from marketplace.providers.base import MarketplaceProvider, ProviderBase, ProviderConnection
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.http import SleepFunction

#: The provider packages, in the order the screens list their marketplaces.
PROVIDER_PACKAGES: tuple[str, ...] = (
    "marketplace.providers.also",
    "marketplace.providers.partner_center",
    "marketplace.providers.cloudmore",
    "marketplace.providers.alef",
)


class UnknownMarketplace(LookupError):
    pass


class ImproperlyRegistered(RuntimeError):
    """A provider package's description does not name it, or two packages describe one slug."""


@cache
def marketplaces() -> Mapping[str, MarketplaceDescription]:
    """Every marketplace the console can reach by slug, in the order the screens list them."""
    descriptions: dict[str, MarketplaceDescription] = {}
    for package in PROVIDER_PACKAGES:
        description: MarketplaceDescription = importlib.import_module(package).DESCRIPTION
        if description.package != package or description.slug in descriptions:
            raise ImproperlyRegistered(f"{package} describes {description.slug!r} with its provider elsewhere")
        descriptions[description.slug] = description
    return MappingProxyType(descriptions)


def marketplace_description(slug: str) -> MarketplaceDescription:
    try:
        return marketplaces()[slug]
    except KeyError:
        raise UnknownMarketplace(f"No marketplace provider is registered as {slug!r}") from None


def available_slugs() -> tuple[str, ...]:
    """The slugs of every registered marketplace, sorted."""
    return tuple(sorted(marketplaces()))


def region_label(slug: str, region: str) -> str:
    """How the screens show an account's region (its code when the marketplace is unknown)."""
    description = marketplaces().get(slug)
    return description.region_label_of(region) if description else str(region)


@cache
def provider_class(slug: str) -> type[ProviderBase]:
    module_path, class_name = marketplace_description(slug).provider.rsplit(".", 1)
    provider: type[ProviderBase] = getattr(importlib.import_module(module_path), class_name)
    return provider


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
