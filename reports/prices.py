"""The prices billing uses: a subscription's price history, else today's catalog price (`catalog.price_book`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from catalog.price_book import PriceBook
from catalog.pricing import PriceStep, ResolvedPrice, money_round
from marketplace.providers.base import billing_cycle_months

ONE = Decimal(1)


def monthly_amount(unit_price: Decimal, billing_cycle: str) -> Decimal:
    """A price per billing period as a monthly run rate (unrounded; round totals, not parts)."""
    months = billing_cycle_months(billing_cycle)  # usage and one-time: nothing recurring
    return unit_price / months if months else Decimal(0)


# -- the price billing uses: the subscription's price history, else today's catalog price ------------------------------


@dataclass(frozen=True)
class PeriodPrice:
    """The unit price (and cost) of a subscription over the days `start` to `end` of a billing cycle."""

    start: date
    end: date
    amount: Decimal
    cost: Decimal | None
    currency: str


class BillingPrices:
    """What billing charges a subscription over a period: the prices in effect then (`SubscriptionPrice`),
    never today's price for a day already billed. A subscription with no price history (an add-on, one the
    sync found after history began and no price edit touched) is charged the catalog price (`PriceBook`).

    Loaded per chunk of subscriptions in one query (`remember`), asked per subscription and cycle."""

    def __init__(self, *, book: PriceBook) -> None:
        self.book = book
        self._history: dict[tuple[int, str], list] = {}

    def remember(self, keys: Iterable[tuple[int, str]], *, first: date, last: date) -> None:
        """Load the history of these (account id, external id) subscriptions over `first` to `last`."""
        from subscriptions.selectors_prices import subscription_price_periods

        self._history = subscription_price_periods(keys=keys, first=first, last=last)

    def prices_over(
        self, *, account_id: int, external_id: str, offer_id: int | None, customer, start: date, end: date
    ) -> tuple[list[PeriodPrice], ResolvedPrice | None]:
        """The prices over the days `start` to `end` in day order (empty: no price known), and the price to
        show as how it came about (its steps say where each price in effect came from)."""
        history = self._history.get((account_id, external_id))
        if not history:
            resolved = self.book.price(offer_id=offer_id, customer=customer)
            if resolved is None:
                return [], None
            return [PeriodPrice(start, end, resolved.amount, resolved.cost, resolved.currency)], resolved
        inside = [period for period in history if period.end >= start and period.start <= end]
        if not inside:  # every known price starts after `end`: the earliest one is the best known
            inside = [history[0]]
        periods = []
        for index, period in enumerate(inside):
            periods.append(
                PeriodPrice(
                    start=start if index == 0 else max(period.start, start),
                    end=end if index == len(inside) - 1 else min(period.end, end),
                    amount=period.unit_price,
                    cost=period.cost_price,
                    currency=period.currency,
                )
            )
        last = inside[-1]
        steps = tuple(
            PriceStep(
                label=_("%(source)s, from %(day)s")
                % {
                    "source": period.source_label,
                    "day": date_format(timezone.localdate(period.effective_from), "SHORT_DATE_FORMAT"),
                },
                amount=money_round(period.unit_price, period.currency),
            )
            for period in inside
        )
        cost = last.cost_price
        if cost is None:  # a price without its cost (the marketplace's own sales price): the catalog's cost
            catalog = self.book.price(offer_id=offer_id, customer=customer)
            cost = catalog.cost if catalog is not None else Decimal(0)
        shown = ResolvedPrice(
            amount=last.unit_price,
            currency=last.currency,
            cost=cost,
            suggested_retail=None,
            steps=steps,
        )
        return periods, shown
