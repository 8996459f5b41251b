"""The one door from lifecycle actions into the order machinery (orders, lines, placing).

Every lifecycle write (quantity, suspend, terminate, billing cycle, add-ons, auto-renew, a trial's
conversion) is an order of one or more lines placed through the order machinery, so it is idempotent,
asynchronous and audited the same way as a purchase. Nothing here talks to a marketplace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orders.models import Order
from orders.services import LineSpec, OrderActionRefused, order_create
from portal.accounts.types import Actor
from subscriptions.models import Subscription


class LifecycleRefused(Exception):
    """A rule refuses the action; the message says why, in the user's words. Nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class LifecycleLine:
    """One change for the order machinery; `kind` is an `OrderLineKind` value."""

    kind: str
    subscription: Subscription | None = None
    quantity: int | None = None
    previous_quantity: int | None = None
    billing_cycle: str = ""
    auto_renew: bool | None = None
    offer: Any = None
    add_on_external_id: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


def lifecycle_order_place(
    *, actor: Actor, customer_tenant, account, lines: Sequence[LifecycleLine], source: str
) -> Order:
    """Create an order with `lines` for one customer tenant at one marketplace account and submit it
    (`services_orders.order_create(..., submit=True)`). Call inside the caller's transaction: the placing
    task is enqueued when it commits. The user confirmed the change, which accepts the terms for it.
    A refusal of the order machinery is a `LifecycleRefused` (nothing saved)."""
    specs = [
        LineSpec(
            kind=line.kind,
            offer=line.offer,
            subscription=line.subscription,
            quantity=line.quantity,
            billing_cycle=line.billing_cycle,
            add_on_external_id=line.add_on_external_id,
            auto_renew=line.auto_renew,
            parameters={**line.parameters, "lifecycle": source},
        )
        for line in lines
    ]
    try:
        return order_create(actor=actor, customer_tenant=customer_tenant, lines=specs, submit=True, terms_accepted=True)
    except OrderActionRefused as refused:
        raise LifecycleRefused(str(refused)) from refused
