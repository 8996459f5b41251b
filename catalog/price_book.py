"""Customer prices for many subscriptions at once, through the one pricing chain (`catalog.pricing`).

`prices_resolve` costs a few queries per customer; a report over thousands of customers would pay
that thousands of times. Most customers have neither a segment nor customer prices, and for them
the chain gives the partner price, so the book resolves the partner price once and the chain per
customer only for customers that have a rule of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.models import CustomerPrice, Offer, SegmentMembership, SegmentPrice
from catalog.pricing import ResolvedPrice, prices_resolve


class PriceBook:
    """Resolved unit prices by (offer, customer), for the offers given at construction."""

    def __init__(self, *, offer_ids: Iterable[int]) -> None:
        ids = {offer_id for offer_id in offer_ids if offer_id is not None}
        self.offers: dict[int, Offer] = Offer.objects.select_related("account").in_bulk(ids) if ids else {}
        self._partner = prices_resolve(offers=self.offers.values()) if self.offers else {}
        offer_ids_list = list(self.offers)
        self._special_customers: set[int] = set(
            CustomerPrice.objects.filter(offer_id__in=offer_ids_list).values_list("customer_id", flat=True)
        )
        segments = set(SegmentPrice.objects.filter(offer_id__in=offer_ids_list).values_list("segment_id", flat=True))
        if segments:
            self._special_customers |= set(
                SegmentMembership.objects.filter(segment_id__in=segments).values_list("customer_id", flat=True)
            )
        self._by_customer: dict[int, dict[int, ResolvedPrice]] = {}

    def has_own_prices(self, customer_id: int) -> bool:
        return customer_id in self._special_customers

    def price(self, *, offer_id: int | None, customer) -> ResolvedPrice | None:
        """The unit price `customer` (a Customer) pays for the offer; None for an unknown offer."""
        if offer_id is None or offer_id not in self.offers:
            return None
        if customer is None or customer.pk not in self._special_customers:
            return self._partner[offer_id]
        prices = self._by_customer.get(customer.pk)
        if prices is None:
            prices = prices_resolve(offers=self.offers.values(), customer=customer)
            self._by_customer[customer.pk] = prices
        return prices[offer_id]

    def forget_customers(self) -> None:
        """Drop per-customer prices (a streaming report calls it between chunks of customers)."""
        self._by_customer.clear()
