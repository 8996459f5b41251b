"""Demo data of the order machinery: orders in every status, a cart, a quote.

Runs after demo.marketplace (the ALSO account on the simulator, tenants connected) and demo.catalog.
Orders go through the services and, where they finish, are placed at the simulator by the same code
the task runs, so the marketplace really has what the Completed order bought and really refused what
the Failed order asks for. The Submitted and Provisioning orders are left for the worker: in the run
command it places them shortly after start. Idempotent: each demo order is found by its PO number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Offer
from marketplace.connections import override_provider_transport, server_url_for
from marketplace.models import MarketplaceAccount, TenantConnection
from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order, Quote
from orders.placement import order_execute
from orders.services import (
    LineSpec,
    OrderActionRefused,
    cart_add,
    order_cancel,
    order_create,
    quote_create,
)
from portal.accounts.types import Actor
from simulators.also import AlsoSimulator
from subscriptions.choices import PriceSource
from subscriptions.models import Subscription, SubscriptionOptions, SubscriptionPrice
from subscriptions.selectors_prices import day_start
from subscriptions.services_prices import subscription_price_record, subscription_prices_pin

BASIC = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"
STANDARD = "1429495_NCEMicros365BusinessStandard_12910|Monthly (with 1-year commitment) - P1Y"
PREMIUM = "1429493_NCEMicros365BusinessPremium_12908|Monthly (with 1-year commitment) - P1Y"
ARCHIVING = "1429601_NCEExchangeOnlineArchiving_13002|Monthly (with 1-year commitment) - P1Y"
#: ALSO sells at most 300 licences per subscription: this line is refused by the marketplace.
TOO_MANY = 500


def _simulator_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/_control/state", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _also_simulator() -> Iterator[None]:
    """The running ALSO simulator when it answers, else an in-process one (seeded the same way)."""
    url = server_url_for("also")
    if url and _simulator_answers(url):
        yield
        return
    with override_provider_transport("also", httpx.WSGITransport(app=AlsoSimulator())):
        yield


def _offer(account: MarketplaceAccount, external_id: str) -> Offer | None:
    return Offer.objects.filter(account=account, external_id=external_id, is_available=True).first()


def _new(offer: Offer, quantity: int, *add_ons: tuple[Offer | None, int]) -> LineSpec:
    return LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION,
        offer=offer,
        quantity=quantity,
        add_ons=tuple(
            LineSpec(kind=OrderLineKind.ADD_ON_ADD, offer=add_on, quantity=count) for add_on, count in add_ons if add_on
        ),
    )


#: Synced demo subscriptions that get the partner's own name and PO number, as if typed on their orders.
DEMO_NAMES = [("Sales team", "PO-2026-0142"), ("Warehouse kiosks", "PO-2026-0187"), ("Board members", "PO-2026-0203")]
#: Price changes of the first of them: (days ago, factor on its first price) — a rise last quarter, a
#: discount since last month, and one the partner applied from the next cycle.
DEMO_PRICE_CHANGES = [(120, Decimal("1.05")), (40, Decimal("0.95")), (-20, Decimal("1.08"))]


def _price_history(actor: Actor) -> list[str]:
    """Friendly names, PO numbers and a price change history on a few synced subscriptions (idempotent)."""
    subscriptions = list(
        Subscription.objects.filter(offer__isnull=False, status="active", options__isnull=True)
        .select_related("customer_tenant")
        .order_by("customer_tenant__primary_domain", "name", "pk")[: len(DEMO_NAMES)]
    )
    if SubscriptionOptions.objects.filter(po_number=DEMO_NAMES[0][1]).exists() or not subscriptions:
        return []
    subscription_prices_pin(subscriptions=subscriptions)
    for subscription, (friendly_name, po_number) in zip(subscriptions, DEMO_NAMES, strict=False):
        SubscriptionOptions.objects.update_or_create(
            subscription=subscription, defaults={"friendly_name": friendly_name, "po_number": po_number}
        )
    first = subscriptions[0]
    start = SubscriptionPrice.objects.filter(account_id=first.account_id, external_id=first.external_id).first()
    if start is None:
        return ["names"]
    today = timezone.localdate()
    for days_ago, factor in DEMO_PRICE_CHANGES:
        subscription_price_record(
            actor=actor,
            subscription=first,
            effective_from=day_start(today - timedelta(days=days_ago)),
            unit_price=(start.unit_price * factor).quantize(Decimal("0.01")),
            cost_price=start.cost_price,
            currency=start.currency,
            source=PriceSource.PRICE_EDIT,
        )
    return ["names", "price history"]


def seed(partner) -> list[str]:
    actor = get_user_model().objects.filter(username="admin").first()
    if actor is None:
        return ["  Orders: no administrator to order as; skipped"]
    account = MarketplaceAccount.objects.filter(marketplace="also").order_by("pk").first()
    if account is None:
        return ["  Orders: no ALSO account; skipped"]
    tenants = [
        connection.customer_tenant
        for connection in TenantConnection.objects.filter(account=account)
        .select_related("customer_tenant__customer")
        .order_by("customer_tenant__primary_domain")
    ]
    basic, standard, premium = _offer(account, BASIC), _offer(account, STANDARD), _offer(account, PREMIUM)
    archiving = _offer(account, ARCHIVING)
    if not tenants or basic is None or standard is None or premium is None:
        return ["  Orders: the ALSO account has no connected tenant or offers yet; skipped"]

    def tenant(index: int):
        return tenants[index % len(tenants)]

    def existing(po_number: str) -> Order | None:
        return Order.objects.filter(po_number=po_number).first()

    made: list[str] = []
    with _also_simulator():
        if existing("DEMO-COMPLETED") is None:
            order = order_create(
                actor=actor,
                customer_tenant=tenant(0),
                lines=[_new(basic, 10, (archiving, 10))],
                friendly_name="Front office",
                po_number="DEMO-COMPLETED",
                submit=True,
                terms_accepted=True,
            )
            order_execute(order_id=order.pk)
            made.append("completed")
        if existing("DEMO-FAILED") is None:
            order = order_create(
                actor=actor,
                customer_tenant=tenant(1),
                lines=[_new(standard, 5), _new(premium, TOO_MANY)],
                friendly_name="Roll-out wave 2",
                po_number="DEMO-FAILED",
                submit=True,
                terms_accepted=True,
            )
            order_execute(order_id=order.pk)
            made.append("failed")
        if existing("DEMO-SUBMITTED") is None:
            order_create(
                actor=actor,
                customer_tenant=tenant(2),
                lines=[_new(basic, 3)],
                po_number="DEMO-SUBMITTED",
                submit=True,
                terms_accepted=True,
            )
            made.append("submitted")
        if existing("DEMO-PROVISIONING") is None:
            order = order_create(
                actor=actor,
                customer_tenant=tenant(3),
                lines=[_new(standard, 2)],
                po_number="DEMO-PROVISIONING",
                submit=True,
                terms_accepted=True,
            )
            # As a worker that has started on it: the worker of the run command finishes it.
            Order.objects.filter(pk=order.pk).update(status=OrderStatus.PROVISIONING)
            made.append("provisioning")
        if existing("DEMO-CANCELLED") is None:
            order = order_create(
                actor=actor, customer_tenant=tenant(4), lines=[_new(premium, 4)], po_number="DEMO-CANCELLED"
            )
            order_cancel(actor=actor, order=order)
            made.append("cancelled")
    if existing("DEMO-CART") is None:
        try:
            cart_add(actor=actor, customer_tenant=tenant(2), lines=[_new(premium, 12)], po_number="DEMO-CART")
            made.append("cart")
        except OrderActionRefused:
            pass
    if not Quote.objects.filter(order__po_number="DEMO-QUOTE").exists():
        quote_order = order_create(
            actor=actor,
            customer_tenant=tenant(5),
            lines=[_new(standard, 25), _new(basic, 5, (archiving, 5))],
            friendly_name="New office in Graz",
            po_number="DEMO-QUOTE",
        )
        quote_create(
            actor=actor,
            order=quote_order,
            valid_until=timezone.localdate() + timedelta(days=30),
            note="Prices per licence and month. We will set everything up within one working day.",
        )
        made.append("quote")
    made += _price_history(actor)
    statuses = ", ".join(
        f"{count} {status}"
        for status, count in sorted(
            {
                status: Order.objects.filter(status=status, quote__isnull=True).count() for status in OrderStatus.values
            }.items()
        )
        if count
    )
    return [
        f"  Orders: {statuses}; {Quote.objects.count()} quote(s)"
        f"; {SubscriptionPrice.objects.filter(source=PriceSource.PRICE_EDIT).count()} price change(s)"
        + (f" (new: {', '.join(made)})" if made else " (nothing new)")
    ]
