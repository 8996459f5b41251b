"""Building providers for marketplace accounts: the one place the console reaches a marketplace.

`provider_transport_override` lets tests, the demo seeder and the benchmark point a marketplace at
an in-process simulator (`httpx.WSGITransport(app=simulator)`), with a fake sleep so retries cost
no time. Otherwise the provider talks HTTP to the simulator named by `<SLUG>_SIMULATOR_URL`
(development) or to the marketplace itself (production).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType

import httpx
from django.conf import settings

from marketplace.models import MarketplaceAccount
from marketplace.providers.base import MarketplaceProvider, ProviderConnection
from marketplace.providers.http import GatedTransport, RequestGate, SleepFunction
from marketplace.providers.registry import create_provider
from marketplace.rate_budget import account_rate_budget
from marketplace.secrets import secret_decrypt, secret_encrypt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransportOverride:
    transport: httpx.BaseTransport
    sleep: SleepFunction = time.sleep


#: marketplace slug -> transport (and sleep) every provider for that marketplace uses.
provider_transport_override: dict[str, TransportOverride] = {}


@contextmanager
def override_provider_transport(
    slug: str, transport: httpx.BaseTransport, *, sleep: SleepFunction = time.sleep
) -> Iterator[None]:
    previous = provider_transport_override.get(slug)
    provider_transport_override[slug] = TransportOverride(transport=transport, sleep=sleep)
    try:
        yield
    finally:
        if previous is None:
            provider_transport_override.pop(slug, None)
        else:
            provider_transport_override[slug] = previous


def server_url_for(slug: str) -> str | None:
    """The simulator to use instead of the marketplace, from `<SLUG>_SIMULATOR_URL`, if set: the Django
    setting when there is one, else the environment (tools/devenv.py sets one per simulator). Never with
    DEBUG off: the provider would send the account's decrypted credentials to whatever server is named."""
    name = f"{slug.upper()}_SIMULATOR_URL"
    if hasattr(settings, name):
        return getattr(settings, name) or None
    value = os.environ.get(name, "")
    if value and not settings.SIMULATORS_ENABLED:
        logger.warning("%s is set but ignored: simulators are for development only (DEBUG is off).", name)
        return None
    return value or None


def provider_for_credentials(
    *,
    marketplace: str,
    region: str,
    username: str,
    secret: str,
    options: Mapping[str, str] | None = None,
    gate: RequestGate | None = None,
) -> MarketplaceProvider:
    """A provider for these credentials; with a `gate`, every request it sends waits for that budget."""
    override = provider_transport_override.get(marketplace)
    connection = ProviderConnection(
        region=region,
        username=username,
        secret=secret,
        server_url=server_url_for(marketplace),
        options=MappingProxyType({key: value for key, value in (options or {}).items() if value not in (None, "")}),
    )
    if override is not None:
        transport: httpx.BaseTransport = override.transport
        if gate is not None:
            transport = GatedTransport(transport, gate=gate, sleep=override.sleep)
        return create_provider(slug=marketplace, connection=connection, transport=transport, sleep=override.sleep)
    if gate is not None:
        return create_provider(
            slug=marketplace, connection=connection, transport=GatedTransport(httpx.HTTPTransport(), gate=gate)
        )
    return create_provider(slug=marketplace, connection=connection)


def secret_options_decrypt(ciphertext: str) -> dict[str, str]:
    """The account's secret options (empty when none are stored)."""
    return json.loads(secret_decrypt(ciphertext)) if ciphertext else {}


def secret_options_encrypt(options: Mapping[str, str]) -> str:
    return secret_encrypt(json.dumps(dict(options), sort_keys=True)) if options else ""


def account_connection_options(account: MarketplaceAccount) -> dict[str, str]:
    """Every connection option of the account, the secret ones decrypted (only to build a provider)."""
    return {**(account.options or {}), **secret_options_decrypt(account.secret_options_ciphertext)}


def provider_for_account(account: MarketplaceAccount, *, reserve_ahead: int = 1) -> MarketplaceProvider:
    """The account's provider. Its requests share the account's budget with every other worker's
    (`marketplace.rate_budget`), whether they sync, place orders or change subscriptions; a caller
    that keeps many requests in flight reserves `reserve_ahead` of them per round trip to Redis."""
    return provider_for_credentials(
        marketplace=account.marketplace,
        region=account.region,
        username=account.username,
        secret=secret_decrypt(account.secret_ciphertext),
        options=account_connection_options(account),
        gate=account_rate_budget(account, reserve_ahead=reserve_ahead),
    )
