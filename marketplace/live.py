"""Reads the console asks a marketplace for at the moment a screen shows them, not kept by the sync:
the credit an account has left and the licences a customer tenant holds. Each answer is cached for
a few minutes (the cache key carries the partner's schema), and a marketplace that cannot answer
gives its message instead of a page error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from marketplace.connections import provider_for_account
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.base import Capability, CreditLimitRecord, ProviderError, TenantLicenceRecord
from marketplace.providers.registry import marketplace_description

LIVE_CACHE_SECONDS = 300


@dataclass(frozen=True)
class CreditAnswer:
    record: CreditLimitRecord | None
    error: str = ""

    @property
    def used(self) -> Decimal | None:
        if self.record is None or self.record.limit is None or self.record.remaining is None:
            return None
        return self.record.limit - self.record.remaining

    @property
    def used_percent(self) -> int | None:
        used = self.used
        if used is None or not self.record or not self.record.limit:
            return None
        return max(0, min(100, int(used * 100 / self.record.limit)))


@dataclass(frozen=True)
class LicenceAnswer:
    connection: TenantConnection
    records: tuple[TenantLicenceRecord, ...] = ()
    error: str = ""


def account_supports(account: MarketplaceAccount, capability: Capability) -> bool:
    return capability in marketplace_description(account.marketplace).capabilities


def account_credit(*, account: MarketplaceAccount) -> CreditAnswer:
    """The account's credit limit at its marketplace and what remains of it this billing period."""
    key = f"marketplace:credit:{account.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    provider = provider_for_account(account)
    try:
        answer = CreditAnswer(record=provider.credit_limit())
    except ProviderError as error:
        return CreditAnswer(record=None, error=str(error))
    finally:
        provider.close()
    cache.set(key, answer, LIVE_CACHE_SECONDS)
    return answer


def tenant_licences(*, connections: list[TenantConnection]) -> list[LicenceAnswer]:
    """Per connected account that can tell, the tenant's licences: seats purchased against seats assigned."""
    answers = []
    for connection in connections:
        account = connection.account
        if account is None or not connection.external_customer_id:
            continue
        if not account_supports(account, Capability.LIST_TENANT_LICENCES):
            continue
        key = f"marketplace:licences:{account.pk}:{connection.external_customer_id}"
        cached = cache.get(key)
        if cached is not None:
            answers.append(LicenceAnswer(connection=connection, records=cached))
            continue
        provider = provider_for_account(account)
        try:
            records = tuple(provider.list_tenant_licences(customer_external_id=connection.external_customer_id))
        except ProviderError as error:
            answers.append(LicenceAnswer(connection=connection, error=str(error)))
            continue
        finally:
            provider.close()
        cache.set(key, records, LIVE_CACHE_SECONDS)
        answers.append(LicenceAnswer(connection=connection, records=records))
    return answers
