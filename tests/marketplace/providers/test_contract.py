"""The one marketplace contract, run against every provider the registry finds, each on its own simulator.

Every provider package `marketplace/providers/<slug>/` ships `simulator.py` with `create_simulator()`
(seeded with demo data) and `DEMO_CONNECTION`; the suite builds the provider through the registry
with the simulator as its in-process transport and a recording sleep, then checks what the rest of
the console relies on: records of the right types, Decimal prices with a currency, orders that are
found again by their key and never bought twice, lifecycle actions that do what they say, and
undeclared capabilities that are refused with `Unsupported` without changing anything.

The suite discovers what to act on from the provider's own listings (an active subscription, an
offer of the same product with another billing cycle, an add-on offer for a product), so a new
provider's simulator only needs demo data with those shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import httpx
import pytest

import simulators
from marketplace.providers.base import (
    AddOnRecord,
    BillingCycle,
    Capability,
    CustomerDraft,
    CustomerRecord,
    MarketplaceProvider,
    OfferRecord,
    OrderLineOutcome,
    OrderResult,
    ProviderBase,
    ProviderError,
    Rejected,
    SubscriptionRecord,
    SubscriptionStatus,
    Unsupported,
)
from marketplace.providers.registry import available_slugs, create_provider

SLUGS = available_slugs()
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class Harness:
    slug: str
    provider: MarketplaceProvider
    simulator: Any
    module: ModuleType
    sleeps: list[float]

    def supports(self, capability: Capability) -> bool:
        return self.provider.supports(capability)


def simulator_module(slug: str) -> ModuleType:
    return simulators.simulator_module(slug)


@pytest.fixture(params=SLUGS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    slug = request.param
    module = simulator_module(slug)
    simulator = module.create_simulator()
    sleeps: list[float] = []
    provider = create_provider(
        slug=slug,
        connection=module.DEMO_CONNECTION,
        transport=httpx.WSGITransport(app=simulator),
        sleep=sleeps.append,
    )
    try:
        yield Harness(slug=slug, provider=provider, simulator=simulator, module=module, sleeps=sleeps)
    finally:
        provider.close()


# ------------------------------------------------------------------------------------------------
# Discovery helpers: what to act on, found through the provider itself
# ------------------------------------------------------------------------------------------------


def subscriptions(h: Harness) -> list[SubscriptionRecord]:
    return list(h.provider.list_subscriptions())


def active(h: Harness) -> list[SubscriptionRecord]:
    return [s for s in subscriptions(h) if s.status == SubscriptionStatus.ACTIVE and not s.trial]


def inside_window(record: SubscriptionRecord) -> bool:
    return record.cancellation_allowed_until is None or record.cancellation_allowed_until > datetime.now(UTC)


def outside_window(record: SubscriptionRecord) -> bool:
    return record.cancellation_allowed_until is not None and record.cancellation_allowed_until < datetime.now(UTC)


def base_offer(h: Harness) -> OfferRecord:
    """An ordinary offer to buy: not an add-on, priced, billed monthly where possible."""
    offers = [o for o in h.provider.list_offers() if not o.is_add_on and o.cost_price > 0]
    assert offers, f"{h.slug} lists no base offer to order"
    monthly = [o for o in offers if o.billing_cycle == BillingCycle.MONTHLY]
    return (monthly or offers)[0]


def ordering_customer(h: Harness) -> str:
    """A customer that already buys (so its tenant and agreements exist at the marketplace)."""
    return active(h)[0].customer_external_id


def snapshot(h: Harness) -> tuple[Any, ...]:
    """Everything a refused action must leave untouched."""
    parts: list[Any] = []
    if h.supports(Capability.LIST_CUSTOMERS):
        parts.append(sorted(c.external_id for c in h.provider.list_customers()))
    if h.supports(Capability.LIST_SUBSCRIPTIONS):
        parts.append(
            sorted(
                (
                    s.external_id,
                    s.status,
                    s.quantity,
                    s.billing_cycle,
                    s.auto_renew,
                    s.scheduled_termination_date,
                    tuple(sorted((a.external_id, a.status, a.quantity) for a in s.add_ons)),
                )
                for s in subscriptions(h)
            )
        )
    return tuple(parts)


def expect_unsupported(h: Harness, capability: Capability, action: Callable[[], Any]) -> None:
    """An undeclared capability is refused with `Unsupported` naming it, and nothing changes."""
    assert not h.supports(capability)
    before = snapshot(h)
    with pytest.raises(Unsupported) as refused:
        action()
    assert refused.value.capability == capability
    assert not refused.value.retryable
    assert snapshot(h) == before


# ------------------------------------------------------------------------------------------------
# Declarations
# ------------------------------------------------------------------------------------------------


def test_the_registry_finds_partner_center_and_also() -> None:
    assert {"also", "partner_center"} <= set(SLUGS)


def test_provider_declares_capabilities_and_rules(harness: Harness) -> None:
    provider = harness.provider
    assert isinstance(provider, MarketplaceProvider)
    assert isinstance(provider, ProviderBase)
    assert provider.slug == harness.slug
    assert provider.display_name
    assert provider.capabilities <= set(Capability)
    assert {Capability.LIST_CUSTOMERS, Capability.LIST_OFFERS, Capability.LIST_SUBSCRIPTIONS} <= provider.capabilities
    for capability in Capability:
        assert provider.supports(capability) == (capability in provider.capabilities)
    # A rule explains how a declared action behaves, or why an undeclared one is not offered.
    for capability, rule in provider.capability_rules.items():
        assert isinstance(capability, Capability)
        assert isinstance(rule, str) and rule.strip()
        assert provider.rule_for(capability) == rule
    assert {"create_simulator", "DEMO_CONNECTION"} <= set(vars(harness.module))


# ------------------------------------------------------------------------------------------------
# Reads
# ------------------------------------------------------------------------------------------------


def test_lists_customers(harness: Harness) -> None:
    customers = list(harness.provider.list_customers())
    assert customers
    assert all(isinstance(c, CustomerRecord) for c in customers)
    assert len({c.external_id for c in customers}) == len(customers)
    assert all(c.external_id and c.name for c in customers)
    assert all(isinstance(c.domains, tuple) for c in customers)
    assert all(c.country is None or re.fullmatch(r"[A-Z]{2}", c.country) for c in customers)


def test_lists_offers_with_decimal_prices_and_currency(harness: Harness) -> None:
    offers = list(harness.provider.list_offers())
    assert offers
    assert len({o.offer_id for o in offers}) == len(offers)
    for offer in offers:
        assert isinstance(offer, OfferRecord)
        assert isinstance(offer.cost_price, Decimal) and offer.cost_price >= 0
        assert offer.sales_price is None or isinstance(offer.sales_price, Decimal)
        assert offer.suggested_retail_price is None or isinstance(offer.suggested_retail_price, Decimal)
        assert _CURRENCY.match(offer.currency), offer.currency
        assert isinstance(offer.billing_cycle, BillingCycle)
        assert offer.term is None or re.fullmatch(r"P\d+[MY]", offer.term)
    assert any(not o.is_add_on for o in offers)
    if harness.supports(Capability.ADD_ADD_ON):
        products = {o.product_id for o in offers}
        add_ons = [o for o in offers if o.is_add_on]
        assert add_ons, "a provider that adds add-ons lists add-on offers"
        assert all(set(o.add_on_parent_product_ids) & products for o in add_ons)


def test_lists_subscriptions_with_add_ons(harness: Harness) -> None:
    customers = {c.external_id for c in harness.provider.list_customers()}
    records = subscriptions(harness)
    assert records
    for record in records:
        assert isinstance(record, SubscriptionRecord)
        assert record.customer_external_id in customers
        assert isinstance(record.status, SubscriptionStatus)
        assert isinstance(record.billing_cycle, BillingCycle)
        assert isinstance(record.quantity, int) and record.quantity >= 0
        assert record.unit_cost_price is None or isinstance(record.unit_cost_price, Decimal)
        assert record.currency is None or _CURRENCY.match(record.currency)
        assert record.cancellation_allowed_until is None or record.cancellation_allowed_until.tzinfo is not None
        assert all(isinstance(add_on, AddOnRecord) for add_on in record.add_ons)
    with_add_ons = [r for r in records if r.add_ons]
    assert with_add_ons, "the demo data has a subscription with an add-on"
    assert any(r.status == SubscriptionStatus.ACTIVE for r in records)

    sample = with_add_ons[0]
    again = harness.provider.get_subscription(subscription_external_id=sample.external_id)
    assert (again.external_id, again.quantity, again.offer_id) == (sample.external_id, sample.quantity, sample.offer_id)
    assert {a.external_id for a in again.add_ons} == {a.external_id for a in sample.add_ons}
    per_customer = list(harness.provider.list_subscriptions(customer_external_id=sample.customer_external_id))
    assert sample.external_id in {r.external_id for r in per_customer}
    assert {r.customer_external_id for r in per_customer} == {sample.customer_external_id}


def test_create_customer(harness: Harness) -> None:
    draft = CustomerDraft(
        name="Contract Test Ltd",
        email="it@contracttest.example",
        country="DE",
        city="Berlin",
        address_line="Teststrasse 5",
        postal_code="10115",
        domains=("contracttest.example",),
    )
    if not harness.supports(Capability.CREATE_CUSTOMER):
        expect_unsupported(
            harness, Capability.CREATE_CUSTOMER, lambda: harness.provider.create_customer(customer=draft)
        )
        return
    created = harness.provider.create_customer(customer=draft)
    assert isinstance(created, CustomerRecord) and created.name == draft.name
    assert created.external_id in {c.external_id for c in harness.provider.list_customers()}


# ------------------------------------------------------------------------------------------------
# Orders
# ------------------------------------------------------------------------------------------------


def test_place_order_line_then_find_it(harness: Harness) -> None:
    provider = harness.provider
    if not harness.supports(Capability.PLACE_ORDER):
        customer = list(provider.list_customers())[0].external_id
        expect_unsupported(
            harness,
            Capability.PLACE_ORDER,
            lambda: provider.place_order_line(
                customer_external_id=customer, offer_id="any", quantity=1, idempotency_key="contract-1"
            ),
        )
        return
    customer, offer = ordering_customer(harness), base_offer(harness)
    key = f"contract-{harness.slug}-order-1-line-1"
    result = provider.place_order_line(
        customer_external_id=customer, offer_id=offer.offer_id, quantity=3, idempotency_key=key
    )
    assert isinstance(result, OrderResult)
    assert result.idempotency_key == key
    assert isinstance(result.outcome, OrderLineOutcome)
    assert result.subscription.customer_external_id == customer
    assert result.subscription.quantity == 3
    assert result.subscription.offer_id == offer.offer_id
    assert result.subscription.status in (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE)
    assert (result.outcome == OrderLineOutcome.PROVISIONING) == (
        result.subscription.status == SubscriptionStatus.PENDING
    )

    found = provider.find_applied_order_line(customer_external_id=customer, idempotency_key=key)
    assert found is not None and found.external_id == result.subscription.external_id
    assert found.order_reference == key
    assert provider.find_applied_order_line(customer_external_id=customer, idempotency_key=key + "-other") is None
    assert result.subscription.external_id in {s.external_id for s in subscriptions(harness)}


def test_the_same_idempotency_key_buys_nothing_twice(harness: Harness) -> None:
    provider = harness.provider
    if not harness.supports(Capability.PLACE_ORDER):
        pytest.skip(f"{harness.slug} does not place orders (checked by test_place_order_line_then_find_it)")
    customer, offer = ordering_customer(harness), base_offer(harness)
    key = f"contract-{harness.slug}-order-2-line-1"
    first = provider.place_order_line(
        customer_external_id=customer, offer_id=offer.offer_id, quantity=2, idempotency_key=key
    )
    count = len(list(provider.list_subscriptions(customer_external_id=customer)))

    # The retry protocol every order task follows: ask the marketplace first, place only what is missing.
    applied = provider.find_applied_order_line(customer_external_id=customer, idempotency_key=key)
    assert applied is not None and applied.external_id == first.subscription.external_id
    if getattr(provider, "idempotent_order_lines", False):
        # Marketplaces with idempotency keys (MS-RequestId) also answer a blind repeat with the first result.
        again = provider.place_order_line(
            customer_external_id=customer, offer_id=offer.offer_id, quantity=2, idempotency_key=key
        )
        assert again.subscription.external_id == first.subscription.external_id
        assert again.idempotency_key == key
    assert len(list(provider.list_subscriptions(customer_external_id=customer))) == count


# ------------------------------------------------------------------------------------------------
# Lifecycle
# ------------------------------------------------------------------------------------------------


def test_change_quantity(harness: Harness) -> None:
    provider = harness.provider
    candidates = [s for s in active(harness) if inside_window(s)]
    assert candidates, "the demo data has an active subscription inside its cancellation window"
    target = candidates[0]
    if not harness.supports(Capability.CHANGE_QUANTITY):
        expect_unsupported(
            harness,
            Capability.CHANGE_QUANTITY,
            lambda: provider.change_quantity(subscription_external_id=target.external_id, quantity=target.quantity + 1),
        )
        return
    raised = provider.change_quantity(subscription_external_id=target.external_id, quantity=target.quantity + 2)
    assert raised.external_id == target.external_id and raised.quantity == target.quantity + 2
    lowered = provider.change_quantity(subscription_external_id=target.external_id, quantity=target.quantity + 1)
    assert lowered.quantity == target.quantity + 1
    assert provider.get_subscription(subscription_external_id=target.external_id).quantity == target.quantity + 1

    closed = [s for s in active(harness) if outside_window(s) and s.quantity > 1]
    if closed:  # NCE: outside the window a decrease is refused and changes nothing
        locked = closed[0]
        with pytest.raises(Rejected):
            provider.change_quantity(subscription_external_id=locked.external_id, quantity=locked.quantity - 1)
        assert provider.get_subscription(subscription_external_id=locked.external_id).quantity == locked.quantity


def test_suspend_and_reactivate(harness: Harness) -> None:
    provider = harness.provider
    target = active(harness)[0]
    if not harness.supports(Capability.SUSPEND):
        expect_unsupported(
            harness, Capability.SUSPEND, lambda: provider.suspend(subscription_external_id=target.external_id)
        )
    if not harness.supports(Capability.REACTIVATE):
        expect_unsupported(
            harness, Capability.REACTIVATE, lambda: provider.reactivate(subscription_external_id=target.external_id)
        )
    if not (harness.supports(Capability.SUSPEND) and harness.supports(Capability.REACTIVATE)):
        return
    suspended = provider.suspend(subscription_external_id=target.external_id)
    assert suspended.status == SubscriptionStatus.SUSPENDED
    assert provider.get_subscription(subscription_external_id=target.external_id).status == SubscriptionStatus.SUSPENDED
    reactivated = provider.reactivate(subscription_external_id=target.external_id)
    assert reactivated.status == SubscriptionStatus.ACTIVE
    assert reactivated.quantity == target.quantity


def test_terminate_and_revoke_termination(harness: Harness) -> None:
    provider = harness.provider
    current = active(harness)
    if not harness.supports(Capability.TERMINATE):
        expect_unsupported(
            harness, Capability.TERMINATE, lambda: provider.terminate(subscription_external_id=current[0].external_id)
        )
    if not harness.supports(Capability.REVOKE_TERMINATION):
        expect_unsupported(
            harness,
            Capability.REVOKE_TERMINATION,
            lambda: provider.revoke_termination(subscription_external_id=current[0].external_id),
        )
    if not harness.supports(Capability.TERMINATE):
        return
    exercised = 0
    # Outside the cancellation window the termination waits for the end of the term and can be revoked.
    scheduled = [s for s in current if outside_window(s) and s.auto_renew]
    if scheduled:
        target = scheduled[0]
        ending = provider.terminate(subscription_external_id=target.external_id, reason="contract test")
        assert ending.status == SubscriptionStatus.ACTIVE
        assert ending.auto_renew is False
        assert ending.scheduled_termination_date is not None
        if harness.supports(Capability.REVOKE_TERMINATION):
            kept = provider.revoke_termination(subscription_external_id=target.external_id)
            assert kept.status == SubscriptionStatus.ACTIVE
            assert kept.auto_renew is True and kept.scheduled_termination_date is None
        exercised += 1
    # Inside it the subscription ends at once; an ended subscription cannot be revived.
    immediate = [s for s in current if s.cancellation_allowed_until is not None and inside_window(s)]
    if immediate:
        target = immediate[0]
        ended = provider.terminate(subscription_external_id=target.external_id)
        assert ended.status == SubscriptionStatus.TERMINATED
        if harness.supports(Capability.REVOKE_TERMINATION):
            with pytest.raises(ProviderError) as refused:
                provider.revoke_termination(subscription_external_id=target.external_id)
            assert not isinstance(refused.value, Unsupported)
            assert provider.get_subscription(subscription_external_id=target.external_id).status == (
                SubscriptionStatus.TERMINATED
            )
        exercised += 1
    assert exercised, "the demo data has subscriptions inside and outside their cancellation windows"


def test_change_billing_cycle(harness: Harness) -> None:
    provider = harness.provider
    offers = list(provider.list_offers())
    pairs = [
        (record, offer)
        for record in active(harness)
        for offer in offers
        if offer.product_id == record.product_id
        and offer.term == record.term
        and offer.billing_cycle != record.billing_cycle
        and offer.billing_cycle in (BillingCycle.MONTHLY, BillingCycle.ANNUAL)
    ]
    assert pairs, "the demo data has a subscription whose product is sold with another billing cycle"
    record, offer = pairs[0]
    if not harness.supports(Capability.CHANGE_BILLING_CYCLE):
        expect_unsupported(
            harness,
            Capability.CHANGE_BILLING_CYCLE,
            lambda: provider.change_billing_cycle(
                subscription_external_id=record.external_id, billing_cycle=offer.billing_cycle
            ),
        )
        return
    changed = provider.change_billing_cycle(
        subscription_external_id=record.external_id, billing_cycle=offer.billing_cycle
    )
    assert changed.external_id == record.external_id
    assert changed.quantity == record.quantity
    # Immediately (Partner Center) or from the next renewal (ALSO): never anything else.
    assert changed.billing_cycle in (offer.billing_cycle, record.billing_cycle)
    unchanged = provider.change_billing_cycle(
        subscription_external_id=record.external_id, billing_cycle=changed.billing_cycle
    )
    assert unchanged.billing_cycle == changed.billing_cycle


def test_add_ons_add_change_remove(harness: Harness) -> None:
    provider = harness.provider
    offers = [o for o in provider.list_offers() if o.is_add_on]
    pairs = [
        (record, offer)
        for record in active(harness)
        for offer in offers
        if record.product_id in offer.add_on_parent_product_ids
    ]
    if not any(
        harness.supports(c) for c in (Capability.ADD_ADD_ON, Capability.CHANGE_ADD_ON, Capability.REMOVE_ADD_ON)
    ):
        parent = next(r for r in subscriptions(harness) if r.add_ons)
        add_on = parent.add_ons[0]
        expect_unsupported(
            harness,
            Capability.ADD_ADD_ON,
            lambda: provider.add_add_on(
                subscription_external_id=parent.external_id, offer_id="any", quantity=1, idempotency_key="contract-a"
            ),
        )
        expect_unsupported(
            harness,
            Capability.CHANGE_ADD_ON,
            lambda: provider.change_add_on_quantity(
                subscription_external_id=parent.external_id, add_on_external_id=add_on.external_id, quantity=2
            ),
        )
        expect_unsupported(
            harness,
            Capability.REMOVE_ADD_ON,
            lambda: provider.remove_add_on(
                subscription_external_id=parent.external_id, add_on_external_id=add_on.external_id
            ),
        )
        return
    assert pairs, "the demo data has an active subscription that an add-on offer can be added to"
    parent, offer = pairs[0]
    key = f"contract-{harness.slug}-add-on-1"
    added = provider.add_add_on(
        subscription_external_id=parent.external_id, offer_id=offer.offer_id, quantity=2, idempotency_key=key
    )
    assert isinstance(added, AddOnRecord)
    assert added.quantity == 2 and added.offer_id == offer.offer_id
    assert added.external_id in {
        a.external_id for a in provider.get_subscription(subscription_external_id=parent.external_id).add_ons
    }
    found = provider.find_applied_order_line(customer_external_id=parent.customer_external_id, idempotency_key=key)
    assert found is not None and found.external_id == parent.external_id

    if harness.supports(Capability.CHANGE_ADD_ON):
        changed = provider.change_add_on_quantity(
            subscription_external_id=parent.external_id, add_on_external_id=added.external_id, quantity=3
        )
        assert changed.external_id == added.external_id and changed.quantity == 3
    if harness.supports(Capability.REMOVE_ADD_ON):
        provider.remove_add_on(subscription_external_id=parent.external_id, add_on_external_id=added.external_id)
        remaining = {
            a.external_id: a for a in provider.get_subscription(subscription_external_id=parent.external_id).add_ons
        }
        assert (
            added.external_id not in remaining or remaining[added.external_id].status == SubscriptionStatus.TERMINATED
        )


# ------------------------------------------------------------------------------------------------
# Undeclared capabilities
# ------------------------------------------------------------------------------------------------


def test_every_undeclared_capability_is_refused_cleanly(harness: Harness) -> None:
    provider = harness.provider
    records = subscriptions(harness) if harness.supports(Capability.LIST_SUBSCRIPTIONS) else []
    subscription_id = records[0].external_id if records else "unknown"
    customer_id = records[0].customer_external_id if records else "unknown"
    add_on_id = next((a.external_id for r in records for a in r.add_ons), "unknown")
    draft = CustomerDraft(
        name="Refused Ltd", email="it@refused.example", country="DE", city="Berlin", address_line="A 1", postal_code="1"
    )
    calls: dict[Capability, Callable[[], Any]] = {
        Capability.LIST_CUSTOMERS: lambda: list(provider.list_customers()),
        Capability.LIST_OFFERS: lambda: list(provider.list_offers()),
        Capability.LIST_SUBSCRIPTIONS: lambda: list(provider.list_subscriptions()),
        Capability.CREATE_CUSTOMER: lambda: provider.create_customer(customer=draft),
        Capability.PLACE_ORDER: lambda: provider.place_order_line(
            customer_external_id=customer_id, offer_id="any", quantity=1, idempotency_key="refused"
        ),
        Capability.CHANGE_QUANTITY: lambda: provider.change_quantity(
            subscription_external_id=subscription_id, quantity=1
        ),
        Capability.SUSPEND: lambda: provider.suspend(subscription_external_id=subscription_id),
        Capability.REACTIVATE: lambda: provider.reactivate(subscription_external_id=subscription_id),
        Capability.TERMINATE: lambda: provider.terminate(subscription_external_id=subscription_id),
        Capability.REVOKE_TERMINATION: lambda: provider.revoke_termination(subscription_external_id=subscription_id),
        Capability.CHANGE_BILLING_CYCLE: lambda: provider.change_billing_cycle(
            subscription_external_id=subscription_id, billing_cycle=BillingCycle.ANNUAL
        ),
        Capability.ADD_ADD_ON: lambda: provider.add_add_on(
            subscription_external_id=subscription_id, offer_id="any", quantity=1, idempotency_key="refused"
        ),
        Capability.CHANGE_ADD_ON: lambda: provider.change_add_on_quantity(
            subscription_external_id=subscription_id, add_on_external_id=add_on_id, quantity=1
        ),
        Capability.REMOVE_ADD_ON: lambda: provider.remove_add_on(
            subscription_external_id=subscription_id, add_on_external_id=add_on_id
        ),
    }
    for capability, call in calls.items():
        if not harness.supports(capability):
            expect_unsupported(harness, capability, call)
    for capability in provider.capabilities:
        assert provider.rule_for(capability) is None or provider.rule_for(capability)
