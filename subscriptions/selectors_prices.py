"""Reads of subscriptions' price history: the price in effect at a moment, and the prices over a period.

Prices change on whole days for billing: the price of a day is the one whose `effective_from`
falls on or before that day (in the console's time zone), so an order completed at 10:00 prices
its subscription's first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from subscriptions.choices import PriceSource
from subscriptions.models import Subscription, SubscriptionPrice

#: (marketplace account id, subscription external id): what identifies a subscription over its life.
PriceKey = tuple[int, str]


@dataclass(frozen=True)
class PricePeriod:
    """One price over the days `start` to `end` (both inclusive)."""

    start: date
    end: date
    unit_price: Decimal
    cost_price: Decimal | None
    currency: str
    source: str
    effective_from: datetime

    @property
    def source_label(self) -> str:
        return str(PriceSource(self.source).label) if self.source in PriceSource.values else self.source


def day_start(day: date) -> datetime:
    """The first moment of `day` in the console's time zone (what a price "from that day" is stored as)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_of(moment: datetime) -> date:
    return timezone.localdate(moment)


def subscription_price_at(*, subscription: Subscription, moment: datetime | date) -> SubscriptionPrice | None:
    """The price of `subscription` in effect at `moment` (a date means that whole day); None before its history."""
    if isinstance(moment, datetime):
        limit = Q(effective_from__lte=moment)
    else:
        limit = Q(effective_from__lt=day_start(moment + timedelta(days=1)))
    return (
        SubscriptionPrice.objects.filter(account_id=subscription.account_id, external_id=subscription.external_id)
        .filter(limit)
        .order_by("-effective_from", "-id")
        .first()
    )


def subscription_price_history(*, subscription: Subscription) -> QuerySet[SubscriptionPrice]:
    """Every price of the subscription, newest first (the detail screen's "Price history")."""
    return (
        SubscriptionPrice.objects.filter(account_id=subscription.account_id, external_id=subscription.external_id)
        .select_related("actor", "order_line__order")
        .order_by("-effective_from", "-id")
    )


def subscription_price_periods(
    *, keys: Iterable[PriceKey], first: date, last: date
) -> dict[PriceKey, list[PricePeriod]]:
    """{key: the prices in effect over the days `first` to `last`, in day order} for many subscriptions in
    one query (billing asks it for a chunk of customers). Before a subscription's first known price its
    earliest price holds: history that began later (a pinned price, the migration) is the best known
    answer for the days before, and never today's catalog. A subscription without history is absent."""
    keys = set(keys)
    if not keys:
        return {}
    accounts = {account_id for account_id, _external_id in keys}
    external_ids = {external_id for _account_id, external_id in keys}
    rows = (
        SubscriptionPrice.objects.filter(account_id__in=accounts, external_id__in=external_ids)
        .order_by("account_id", "external_id", "effective_from", "id")
        .values_list("account_id", "external_id", "effective_from", "unit_price", "cost_price", "currency", "source")
    )
    by_key: dict[PriceKey, list[tuple]] = {}
    for account_id, external_id, effective_from, *price in rows.iterator(chunk_size=5000):
        key = (account_id, external_id)
        if key not in keys:
            continue
        entries = by_key.setdefault(key, [])
        day = _day_of(effective_from)
        if entries and day > last and entries[-1][0] <= last:
            continue  # a price from after the period: it does not reach into it
        if entries and entries[-1][0] == day:
            entries[-1] = (day, effective_from, *price)  # several on one day: the last one prices the day
        elif entries and entries[-1][0] > last:
            continue  # only the earliest of the prices after the period stands for it
        else:
            entries.append((day, effective_from, *price))
    periods: dict[PriceKey, list[PricePeriod]] = {}
    for key, entries in by_key.items():
        result = []
        for index, (day, effective_from, unit_price, cost_price, currency, source) in enumerate(entries):
            end = entries[index + 1][0] - timedelta(days=1) if index + 1 < len(entries) else last
            if end < first:
                continue
            result.append(
                PricePeriod(
                    start=first if index == 0 else max(day, first),
                    end=end,
                    unit_price=unit_price,
                    cost_price=cost_price,
                    currency=currency,
                    source=source,
                    effective_from=effective_from,
                )
            )
        if result:
            periods[key] = result
    return periods
