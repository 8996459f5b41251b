"""Writes of the order machinery: carts, orders, submitting, retrying, cancelling, quotes.

Every write is atomic and audited, and its side effects (the placing task, emails) run after commit.
Placing itself happens in `orders.placement`, run by the `order_place` task. Lifecycle actions
(quantity, suspend, ...) build their orders here too: `order_create(lines=[LineSpec(kind=OrderLineKind.SUSPEND,
subscription=...)], submit=True, ...)`.

Prices: a line keeps the price it was shown at (`unit_price`, `unit_cost`, the derivation steps).
Submitting compares each line's cost with the offer's cost now; when one changed the user confirms
the new prices (`PricesChanged.confirmation`, passed back as `price_confirmation`) and the lines are
priced again with their price option.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer
from catalog.pricing import PriceOption, ResolvedPrice, price_resolve
from customers.models import CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.base import Capability
from marketplace.providers.registry import UnknownMarketplace, provider_class
from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus, QuoteStatus
from orders.models import Order, OrderLine, Quote
from orders.notifications import order_notify
from orders.placement import UNCERTAIN_ERROR_CODES, idempotency_key_for
from orders.selectors import cart_for, offer_eligible_for
from orders.tasks import order_place
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.core.tasks import enqueue_on_commit
from subscriptions.models import Subscription

ORDER_FIELDS = ("number", "customer_tenant", "account", "status", "friendly_name", "po_number")
QUOTE_FIELDS = ("number", "order", "status", "valid_until")
MAX_QUANTITY = 100_000

#: The marketplace capability each kind of line needs (auto-renew: a provider's `set_auto_renew`).
KIND_CAPABILITIES: dict[str, Capability | None] = {
    OrderLineKind.NEW_SUBSCRIPTION: Capability.PLACE_ORDER,
    OrderLineKind.CHANGE_QUANTITY: Capability.CHANGE_QUANTITY,
    OrderLineKind.ADD_ON_ADD: Capability.ADD_ADD_ON,
    OrderLineKind.ADD_ON_CHANGE: Capability.CHANGE_ADD_ON,
    OrderLineKind.ADD_ON_REMOVE: Capability.REMOVE_ADD_ON,
    OrderLineKind.SUSPEND: Capability.SUSPEND,
    OrderLineKind.REACTIVATE: Capability.REACTIVATE,
    OrderLineKind.TERMINATE: Capability.TERMINATE,
    OrderLineKind.REVOKE_TERMINATION: Capability.REVOKE_TERMINATION,
    OrderLineKind.CHANGE_BILLING_CYCLE: Capability.CHANGE_BILLING_CYCLE,
    OrderLineKind.SET_AUTO_RENEW: None,
}
#: Kinds that act on an existing subscription.
SUBSCRIPTION_KINDS = frozenset(KIND_CAPABILITIES) - {OrderLineKind.NEW_SUBSCRIPTION}


class OrderActionRefused(Exception):
    """A rule refuses the action; the message says why in the user's words, `field` where it belongs."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PriceChange:
    line: OrderLine
    currency: str
    old_cost: Decimal
    new_cost: Decimal
    old_price: Decimal | None
    new_price: Decimal


class ClientTokenUsed(OrderActionRefused):
    """The form's token already placed an order (a second click, or a stale form)."""

    def __init__(self) -> None:
        super().__init__(_("This form was already used to place an order."))


class PricesChanged(OrderActionRefused):
    """The cost of some lines changed since they were priced: the user must confirm the new prices.
    Submit again with `price_confirmation=error.confirmation` to accept exactly these prices."""

    def __init__(self, changes: list[PriceChange]) -> None:
        super().__init__(_("Prices changed since this order was built. Check the new prices and confirm."))
        self.changes = changes
        self.confirmation = price_confirmation_for(changes)


@dataclass(frozen=True)
class LineSpec:
    """One line a caller wants in an order (the public way to describe an order line).

    NEW_SUBSCRIPTION: `offer`, `quantity`, optional `price_option` and `add_ons` (ADD_ON_ADD specs
    placed on the new subscription once it exists). ADD_ON_ADD on an existing subscription:
    `subscription`, `offer`, `quantity`. CHANGE_QUANTITY: `subscription`, `quantity`. ADD_ON_CHANGE:
    `subscription`, `add_on_external_id`, `quantity`. ADD_ON_REMOVE: `subscription`, `add_on_external_id`.
    SUSPEND, REACTIVATE, TERMINATE (`parameters={"reason": ...}`), REVOKE_TERMINATION: `subscription`.
    CHANGE_BILLING_CYCLE: `subscription`, `billing_cycle`. SET_AUTO_RENEW: `subscription`, `auto_renew`.
    """

    kind: str
    offer: Offer | None = None
    subscription: Subscription | None = None
    quantity: int | None = None
    billing_cycle: str = ""
    add_on_external_id: str = ""
    auto_renew: bool | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    price_option: PriceOption | None = None
    add_ons: tuple[LineSpec, ...] = ()
    #: what the line shows as its product; default: the offer's or the subscription's name
    name: str = ""


# -- helpers -----------------------------------------------------------------------------------------------------


def _actor_user(actor: Actor):
    return actor if getattr(actor, "pk", None) else None


def _order_number(order: Order) -> str:
    return f"{order.created:%Y%m}-{order.pk:05d}"


def _quote_number(quote: Quote) -> str:
    return f"Q-{quote.created:%Y%m}-{quote.pk:04d}"


def _option_json(option: PriceOption | None) -> dict[str, str | None]:
    if option is None or option.is_empty:
        return {}
    return {
        "markup_percent": None if option.markup_percent is None else str(option.markup_percent),
        "target_price": None if option.target_price is None else str(option.target_price),
    }


def price_option_of(line: OrderLine) -> PriceOption | None:
    """The order-level price option a line was priced with."""
    data = line.price_option or {}
    markup, target = data.get("markup_percent"), data.get("target_price")
    if markup is None and target is None:
        return None
    return PriceOption(
        markup_percent=None if markup is None else Decimal(markup),
        target_price=None if target is None else Decimal(target),
    )


def _steps_json(resolved: ResolvedPrice) -> list[dict[str, str]]:
    return [
        {"label": str(step.label), "amount": str(step.amount), "detail": str(step.detail)} for step in resolved.steps
    ]


def _apply_price(line: OrderLine, resolved: ResolvedPrice, option: PriceOption | None) -> None:
    line.currency = resolved.currency
    line.unit_price = resolved.amount
    line.unit_cost = resolved.cost
    line.suggested_retail = resolved.suggested_retail
    line.price_steps = _steps_json(resolved)
    line.price_option = _option_json(option)
    line.priced_at = timezone.now()


def _line_audit(line: OrderLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "product": line.offer_name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
    }


def _supports(account: MarketplaceAccount, kind: str) -> bool:
    try:
        cls = provider_class(account.marketplace)
    except UnknownMarketplace:
        return False
    capability = KIND_CAPABILITIES.get(kind)
    if capability is None:
        return callable(getattr(cls, "set_auto_renew", None))
    return capability in cls.capabilities


def _is_connected(customer_tenant: CustomerTenant, account: MarketplaceAccount) -> bool:
    return TenantConnection.objects.filter(customer_tenant=customer_tenant, account=account).exists()


def _check_quantity(quantity: int | None, *, minimum: int = 1) -> int:
    if quantity is None or not isinstance(quantity, int) or not minimum <= quantity <= MAX_QUANTITY:
        raise OrderActionRefused(
            _("Enter a number of licences from %(minimum)d to %(maximum)d.")
            % {"minimum": minimum, "maximum": MAX_QUANTITY},
            field="quantity",
        )
    return quantity


def _check_offer(offer: Offer | None, *, order: Order, add_on: bool) -> Offer:
    if offer is None or offer.account_id != order.account_id:
        raise OrderActionRefused(_("That offer is not sold through %(account)s.") % {"account": order.account})
    if not offer.is_available:
        raise OrderActionRefused(_("%(offer)s is no longer offered by the marketplace.") % {"offer": offer.name})
    if offer.is_add_on != add_on:
        raise OrderActionRefused(
            _("%(offer)s is an add-on: add it to a subscription.") % {"offer": offer.name}
            if offer.is_add_on
            else _("%(offer)s is not an add-on.") % {"offer": offer.name}
        )
    if not offer_eligible_for(offer=offer, customer=order.customer_tenant.customer):
        raise OrderActionRefused(
            _("%(offer)s is only sold to %(eligibility)s.")
            % {"offer": offer.name, "eligibility": offer.get_eligibility_display().lower()}
        )
    return offer


def _check_subscription(subscription: Subscription | None, *, order: Order) -> Subscription:
    if (
        subscription is None
        or subscription.account_id != order.account_id
        or subscription.customer_tenant_id != order.customer_tenant_id
    ):
        raise OrderActionRefused(
            _("That subscription is not one of this tenant's at %(account)s.") % {"account": order.account}
        )
    return subscription


def _build_line(order: Order, spec: LineSpec, *, parent: OrderLine | None, position: int) -> OrderLine:
    """Validate a spec against the order and make its (unsaved) line, priced where it has an offer."""
    kind = spec.kind
    if kind not in KIND_CAPABILITIES:
        raise OrderActionRefused(_("Unknown kind of change: %(kind)s") % {"kind": kind})
    if not _supports(order.account, kind):
        raise OrderActionRefused(
            _("%(account)s cannot do this: %(change)s.")
            % {"account": order.account, "change": OrderLineKind(kind).label.lower()}
        )
    line = OrderLine(order=order, kind=kind, position=position, parent_line=parent, parameters=dict(spec.parameters))
    priced_offer: Offer | None = None
    if kind == OrderLineKind.NEW_SUBSCRIPTION:
        priced_offer = line.offer = _check_offer(spec.offer, order=order, add_on=False)
        line.quantity = _check_quantity(spec.quantity)
        line.billing_cycle = priced_offer.billing_cycle
    elif kind == OrderLineKind.ADD_ON_ADD:
        priced_offer = line.offer = _check_offer(spec.offer, order=order, add_on=True)
        line.quantity = _check_quantity(spec.quantity)
        line.billing_cycle = priced_offer.billing_cycle
        if parent is None:
            subscription = _check_subscription(spec.subscription, order=order)
            line.subscription = subscription
            line.subscription_external_id = subscription.external_id
            parent_product = subscription.product_id
        else:
            parent_product = parent.offer.product_id if parent.offer else ""
        parents = priced_offer.parent_product_ids or []
        if parents and parent_product not in parents:
            raise OrderActionRefused(
                _("%(add_on)s cannot be added to this subscription.") % {"add_on": priced_offer.name}
            )
    else:
        subscription = _check_subscription(spec.subscription, order=order)
        line.subscription = subscription
        line.subscription_external_id = subscription.external_id
        line.offer = subscription.offer
        line.billing_cycle = subscription.billing_cycle
        if kind == OrderLineKind.CHANGE_QUANTITY:
            line.quantity = _check_quantity(spec.quantity)
            line.previous_quantity = subscription.quantity
            if line.quantity == subscription.quantity:
                raise OrderActionRefused(_("The quantity is already %(quantity)d.") % {"quantity": line.quantity})
            priced_offer = subscription.offer
        elif kind in (OrderLineKind.ADD_ON_CHANGE, OrderLineKind.ADD_ON_REMOVE):
            add_on = next(
                (item for item in subscription.add_ons or [] if item.get("external_id") == spec.add_on_external_id),
                None,
            )
            if add_on is None:
                raise OrderActionRefused(_("That add-on is not on this subscription."))
            line.add_on_external_id = spec.add_on_external_id
            line.offer = Offer.objects.filter(account_id=order.account_id, external_id=add_on.get("offer_id")).first()
            line.previous_quantity = add_on.get("quantity")
            if kind == OrderLineKind.ADD_ON_CHANGE:
                line.quantity = _check_quantity(spec.quantity)
                priced_offer = line.offer
            line.offer_name = str(add_on.get("name") or "")
        elif kind == OrderLineKind.CHANGE_BILLING_CYCLE:
            if not spec.billing_cycle:
                raise OrderActionRefused(_("Choose a billing cycle."), field="billing_cycle")
            line.billing_cycle = spec.billing_cycle
        elif kind == OrderLineKind.SET_AUTO_RENEW:
            if spec.auto_renew is None:
                raise OrderActionRefused(_("Say whether the subscription renews automatically."))
            line.auto_renew = spec.auto_renew
    line.offer_name = (
        spec.name
        or line.offer_name
        or (line.offer.name if line.offer is not None and kind not in SUBSCRIPTION_KINDS else "")
        or (line.subscription.name if line.subscription is not None else "")
        or (line.offer.name if line.offer is not None else "")
    )[:255]
    if priced_offer is not None:
        option = spec.price_option
        _apply_price(
            line, price_resolve(offer=priced_offer, customer=order.customer_tenant.customer, option=option), option
        )
    return line


def _lines_add(order: Order, specs: Sequence[LineSpec]) -> list[OrderLine]:
    """Create the lines of `specs` (and their add-ons, right after their parent) with their keys."""
    if not specs:
        raise OrderActionRefused(_("Add at least one line."))
    position = (order.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    created: list[OrderLine] = []
    for spec in specs:
        line = _build_line(order, spec, parent=None, position=position)
        line.save()
        created.append(line)
        position += 1
        for add_on_spec in spec.add_ons:
            if spec.kind != OrderLineKind.NEW_SUBSCRIPTION or add_on_spec.kind != OrderLineKind.ADD_ON_ADD:
                raise OrderActionRefused(_("Only a new subscription takes add-ons in the same order."))
            add_on = _build_line(order, add_on_spec, parent=line, position=position)
            add_on.save()
            created.append(add_on)
            position += 1
    schema_name = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    for line in created:
        line.idempotency_key = idempotency_key_for(
            line_pk=line.pk, generation=line.key_generation, schema_name=schema_name
        )
    OrderLine.objects.bulk_update(created, ["idempotency_key"])
    return created


def _order_new(*, actor: Actor, customer_tenant: CustomerTenant, account: MarketplaceAccount, **fields: Any) -> Order:
    if not _is_connected(customer_tenant, account):
        raise OrderActionRefused(
            _("Tenant %(tenant)s is not connected to %(account)s.") % {"tenant": customer_tenant, "account": account}
        )
    order = Order.objects.create(
        customer_tenant=customer_tenant, account=account, created_by=_actor_user(actor), **fields
    )
    order.number = _order_number(order)
    order.save(update_fields=["number"])
    return order


def _account_of(specs: Sequence[LineSpec]) -> MarketplaceAccount:
    accounts = {spec.offer.account_id for spec in specs if spec.offer is not None} | {
        spec.subscription.account_id for spec in specs if spec.subscription is not None
    }
    if len(accounts) != 1:
        raise OrderActionRefused(_("An order is for one marketplace account; order these separately."))
    return MarketplaceAccount.objects.get(pk=accounts.pop())


# -- carts ------------------------------------------------------------------------------------------------------------


def cart_add(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    lines: Sequence[LineSpec],
    friendly_name: str = "",
    po_number: str = "",
) -> Order:
    """Add lines to the actor's cart for the tenant at the lines' account (created when there is none)."""
    account = _account_of(lines)
    with transaction.atomic():
        # One cart per user, tenant and account: concurrent adds for a tenant queue behind this lock.
        CustomerTenant.objects.select_for_update().filter(pk=customer_tenant.pk).first()
        cart = cart_for(user=actor, customer_tenant=customer_tenant, account=account)
        if cart is None:
            order = _order_new(
                actor=actor,
                customer_tenant=customer_tenant,
                account=account,
                friendly_name=friendly_name.strip(),
                po_number=po_number.strip(),
            )
        else:
            order = cart
            changed = []
            if friendly_name.strip():
                order.friendly_name = friendly_name.strip()
                changed.append("friendly_name")
            if po_number.strip():
                order.po_number = po_number.strip()
                changed.append("po_number")
            order.save(update_fields=[*changed, "updated"])
        added = _lines_add(order, lines)
        audit_record(
            actor=actor,
            action=AuditAction.ORDER_CART_ADD,
            target=order,
            customer_id=customer_tenant.customer_id,
            after={"lines": [_line_audit(line) for line in added]},
            message=_("%(count)d line(s) added to the cart.") % {"count": len(added)},
        )
    return order


def order_line_remove(*, actor: Actor, line: OrderLine) -> Order | None:
    """Take a line (and its add-ons) out of a draft; an emptied cart is discarded. Returns the order,
    or None when it was discarded."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=line.order_id)
        if order.status != OrderStatus.DRAFT or hasattr(order, "quote"):
            raise OrderActionRefused(_("Only the lines of a cart can be removed."))
        line = OrderLine.objects.get(pk=line.pk, order=order)
        audit_record(
            actor=actor,
            action=AuditAction.ORDER_LINE_REMOVE,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            before=_line_audit(line),
        )
        line.delete()
        if not order.lines.exists():
            audit_record(
                actor=actor,
                action=AuditAction.ORDER_DISCARD,
                target=order,
                customer_id=order.customer_tenant.customer_id,
                before=model_snapshot(order, ORDER_FIELDS),
                message=_("The cart is empty."),
            )
            order.delete()
            return None
        order.save(update_fields=["updated"])
    return order


def order_details_update(*, actor: Actor, order: Order, friendly_name: str, po_number: str) -> Order:
    """Friendly name and PO number of a draft; both carry over to what it buys."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=order.pk)
        if order.status != OrderStatus.DRAFT:
            raise OrderActionRefused(_("A placed order cannot be changed."))
        before = model_snapshot(order, ORDER_FIELDS)
        order.friendly_name = friendly_name.strip()[:120]
        order.po_number = po_number.strip()[:64]
        order.save(update_fields=["friendly_name", "po_number", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.ORDER_UPDATE,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            before=before,
            after=model_snapshot(order, ORDER_FIELDS),
        )
    return order


# -- prices ---------------------------------------------------------------------------------------------------------


def order_price_changes(*, order: Order) -> list[PriceChange]:
    """Lines whose offer costs something else now than when the line was priced."""
    changes = []
    lines = order.lines.select_related("offer").filter(unit_cost__isnull=False, offer__isnull=False).order_by("pk")
    customer = order.customer_tenant.customer
    for line in lines:
        offer = line.offer
        if offer is None or line.unit_cost is None:  # the query left these out
            continue
        if offer.cost_price == line.unit_cost and offer.currency == line.currency:
            continue
        resolved = price_resolve(offer=offer, customer=customer, option=price_option_of(line))
        changes.append(
            PriceChange(
                line=line,
                currency=resolved.currency,
                old_cost=line.unit_cost,
                new_cost=resolved.cost,
                old_price=line.unit_price,
                new_price=resolved.amount,
            )
        )
    return changes


def price_confirmation_for(changes: Sequence[PriceChange]) -> str:
    """A short token of the exact new prices a user saw: confirming it accepts those, not later ones."""
    text = "|".join(f"{change.line.pk}:{change.currency}:{change.new_cost}:{change.new_price}" for change in changes)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _reprice(order: Order, changes: Sequence[PriceChange], actor: Actor) -> None:
    for change in changes:
        line = change.line
        if line.offer is None:  # a price change is only found for a line with an offer
            continue
        option = price_option_of(line)
        _apply_price(
            line, price_resolve(offer=line.offer, customer=order.customer_tenant.customer, option=option), option
        )
        line.save(
            update_fields=[
                "currency",
                "unit_price",
                "unit_cost",
                "suggested_retail",
                "price_steps",
                "price_option",
                "priced_at",
                "updated",
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.ORDER_REPRICE,
        target=order,
        customer_id=order.customer_tenant.customer_id,
        after={
            "lines": [
                {
                    "product": change.line.offer_name,
                    "old_cost": change.old_cost,
                    "new_cost": change.new_cost,
                    "new_price": change.new_price,
                }
                for change in changes
            ]
        },
        message=_("The user confirmed the new prices."),
    )


# -- submitting ------------------------------------------------------------------------------------------------------


def _enqueue_placing(order: Order) -> None:
    enqueue_on_commit(order_place, order_id=order.pk)


def _submit_locked(
    *,
    actor: Actor,
    order: Order,
    terms_accepted: bool,
    client_token: uuid.UUID | None,
    price_confirmation: str | None,
) -> Order:
    """Submit a locked draft: terms, connection, capabilities and prices checked, then queued."""
    lines = list(order.lines.select_related("offer").order_by("position", "pk"))
    if not lines:
        raise OrderActionRefused(_("The order has no lines."))
    if not terms_accepted:
        raise OrderActionRefused(
            _("Accept the product terms before the order is sent to the marketplace."), field="terms_accepted"
        )
    if not _is_connected(order.customer_tenant, order.account):
        raise OrderActionRefused(
            _("Tenant %(tenant)s is not connected to %(account)s.")
            % {"tenant": order.customer_tenant, "account": order.account}
        )
    for line in lines:
        if line.kind in (OrderLineKind.NEW_SUBSCRIPTION, OrderLineKind.ADD_ON_ADD) and (
            line.offer is None or not line.offer.is_available
        ):
            raise OrderActionRefused(
                _("%(offer)s is no longer offered by the marketplace; remove it from the order.")
                % {"offer": line.offer_name}
            )
        if not _supports(order.account, line.kind):
            raise OrderActionRefused(
                _("%(account)s cannot do this: %(change)s.")
                % {"account": order.account, "change": line.get_kind_display().lower()}
            )
    changes = order_price_changes(order=order)
    if changes:
        if price_confirmation != price_confirmation_for(changes):
            raise PricesChanged(changes)
        _reprice(order, changes, actor)
    now = timezone.now()
    order.status = OrderStatus.SUBMITTED
    order.submitted_at = now
    order.submitted_by = _actor_user(actor)
    order.terms_accepted_at = now
    order.terms_accepted_by = _actor_user(actor)
    if client_token is not None:
        order.client_token = client_token
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as error:  # the token already placed another order
        raise ClientTokenUsed() from error
    audit_record(
        actor=actor,
        action=AuditAction.ORDER_SUBMIT,
        target=order,
        customer_id=order.customer_tenant.customer_id,
        after={**model_snapshot(order, ORDER_FIELDS), "lines": [_line_audit(line) for line in lines]},
        message=_("Product terms accepted."),
    )
    order_notify(order=order, event="placed")
    _enqueue_placing(order)
    return order


def _already_submitted(order: Order, client_token: uuid.UUID | None) -> bool:
    """A second submit of the same form (a double click): the first one placed the order."""
    return order.status != OrderStatus.DRAFT and client_token is not None and order.client_token == client_token


def order_submit(
    *,
    actor: Actor,
    order: Order,
    terms_accepted: bool,
    client_token: uuid.UUID | None = None,
    price_confirmation: str | None = None,
) -> Order:
    """Place a draft: the product terms must be accepted; when a line's cost changed since it was
    priced, `PricesChanged` asks for a confirmation. The same `client_token` twice returns the order
    the first submit placed (a double click places one order)."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer_tenant__customer", "account")
            .get(pk=order.pk)
        )
        if _already_submitted(order, client_token):
            return order
        if order.status != OrderStatus.DRAFT:
            raise OrderActionRefused(_("This order was already placed."))
        if Quote.objects.filter(order=order).exists():
            raise OrderActionRefused(_("This order is a quote: accept the quote to place it."))
        return _submit_locked(
            actor=actor,
            order=order,
            terms_accepted=terms_accepted,
            client_token=client_token,
            price_confirmation=price_confirmation,
        )


def order_create(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    lines: Sequence[LineSpec],
    friendly_name: str = "",
    po_number: str = "",
    client_token: uuid.UUID | None = None,
    submit: bool = False,
    terms_accepted: bool = False,
    price_confirmation: str | None = None,
) -> Order:
    """Create an order of `lines` for the tenant (the account is the lines'), and with `submit` place
    it at once ("Place now", lifecycle actions). With a `client_token` already used, returns that
    order instead (a double click). Nothing is saved when a check refuses."""
    if client_token is not None:
        existing = Order.objects.filter(client_token=client_token).first()
        if existing is not None:
            if existing.customer_tenant_id != customer_tenant.pk:
                raise ClientTokenUsed()
            return existing
    account = _account_of(lines)
    try:
        with transaction.atomic():
            order = _order_new(
                actor=actor,
                customer_tenant=customer_tenant,
                account=account,
                friendly_name=friendly_name.strip()[:120],
                po_number=po_number.strip()[:64],
            )
            added = _lines_add(order, lines)
            audit_record(
                actor=actor,
                action=AuditAction.ORDER_CREATE,
                target=order,
                customer_id=customer_tenant.customer_id,
                after={**model_snapshot(order, ORDER_FIELDS), "lines": [_line_audit(line) for line in added]},
            )
            if submit:
                order = _submit_locked(
                    actor=actor,
                    order=Order.objects.select_for_update(of=("self",))
                    .select_related("customer_tenant__customer", "account")
                    .get(pk=order.pk),
                    terms_accepted=terms_accepted,
                    client_token=client_token,
                    price_confirmation=price_confirmation,
                )
    except ClientTokenUsed:
        # Two clicks at once: the other request placed the order with this token a moment ago.
        existing = Order.objects.filter(client_token=client_token, customer_tenant=customer_tenant).first()
        if existing is None:
            raise
        return existing
    return order


# -- after submitting ----------------------------------------------------------------------------------------------


def order_line_retry(*, actor: Actor, line: OrderLine) -> Order:
    """Send a failed line again, with the add-ons that failed because of it. After a refusal the line
    gets a new idempotency key (the refused request was never applied); after the marketplace did not
    answer it keeps its key, and the placing task asks the marketplace first."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=line.order_id)
        line = OrderLine.objects.select_for_update().get(pk=line.pk, order=order)
        if order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED) or line.status != OrderLineStatus.FAILED:
            raise OrderActionRefused(_("Only a failed line of a placed order can be retried."))
        if line.parent_line_id is not None:
            parent = OrderLine.objects.get(pk=line.parent_line_id)
            if parent.status == OrderLineStatus.FAILED:
                raise OrderActionRefused(
                    _("Retry %(product)s first: this add-on goes on that subscription.")
                    % {"product": parent.offer_name}
                )
        retried = [line]
        retried += list(
            OrderLine.objects.select_for_update().filter(
                parent_line=line, status=OrderLineStatus.FAILED, error_code="parent_failed"
            )
        )
        schema_name = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
        for item in retried:
            before = {"status": item.status, "error": item.error_message, "idempotency_key": item.idempotency_key}
            if item.error_code not in UNCERTAIN_ERROR_CODES:
                item.key_generation += 1
                item.idempotency_key = idempotency_key_for(
                    line_pk=item.pk, generation=item.key_generation, schema_name=schema_name
                )
                item.sent_at = None
            item.status = OrderLineStatus.PENDING
            item.error_code = ""
            item.error_message = ""
            item.save()
            audit_record(
                actor=actor,
                action=AuditAction.ORDER_LINE_RETRY,
                target=order,
                customer_id=order.customer_tenant.customer_id,
                before=before,
                after={"status": item.status, "idempotency_key": item.idempotency_key},
                message=item.offer_name,
            )
        order.status = OrderStatus.SUBMITTED
        order.completed_at = None
        order.save(update_fields=["status", "completed_at", "updated"])
        _enqueue_placing(order)
    return order


def order_cancel(*, actor: Actor, order: Order) -> Order:
    """Cancel a draft, or a submitted order no worker has started yet."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=order.pk)
        cancellable = order.status == OrderStatus.DRAFT or (
            order.status == OrderStatus.SUBMITTED and not order.lines.exclude(status=OrderLineStatus.PENDING).exists()
        )
        if not cancellable:
            raise OrderActionRefused(_("The marketplace is already working on this order; it cannot be cancelled."))
        before = model_snapshot(order, ORDER_FIELDS)
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.ORDER_CANCEL,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            before=before,
            after=model_snapshot(order, ORDER_FIELDS),
        )
    return order


def orders_requeue_stalled(*, older_than_minutes: int = 15) -> int:
    """Queue again the orders no worker picked up or finished (a message lost between commit and
    publish, a worker that died): the placing task is idempotent and takes a per-order lock, so
    queueing an order twice places nothing twice. Returns how many were queued."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    open_lines = (OrderLineStatus.PENDING, OrderLineStatus.SENT)
    stalled = list(
        Order.objects.filter(updated__lt=cutoff)
        .filter(Q(status=OrderStatus.SUBMITTED) | Q(status=OrderStatus.PROVISIONING, lines__status__in=open_lines))
        .values_list("pk", flat=True)
        .distinct()
    )
    with transaction.atomic():
        for order_id in stalled:
            enqueue_on_commit(order_place, order_id=order_id)
    return len(stalled)


# -- quotes ----------------------------------------------------------------------------------------------------------


def quote_create(*, actor: Actor, order: Order, valid_until: date, note: str = "") -> Quote:
    """Save a cart as a quote for the customer: its lines and prices are kept as they are until
    `valid_until`; the user's next purchase starts a new cart."""
    if valid_until < timezone.localdate():
        raise OrderActionRefused(_("A quote must be valid until today or later."), field="valid_until")
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=order.pk)
        if order.status != OrderStatus.DRAFT or Quote.objects.filter(order=order).exists():
            raise OrderActionRefused(_("Only a cart can be saved as a quote."))
        if not order.lines.exists():
            raise OrderActionRefused(_("The cart is empty."))
        quote = Quote.objects.create(
            order=order, valid_until=valid_until, note=note.strip(), created_by=_actor_user(actor)
        )
        quote.number = _quote_number(quote)
        quote.save(update_fields=["number"])
        audit_record(
            actor=actor,
            action=AuditAction.QUOTE_CREATE,
            target=quote,
            customer_id=order.customer_tenant.customer_id,
            after=model_snapshot(quote, QUOTE_FIELDS),
        )
    return quote


def quote_accept(
    *,
    actor: Actor,
    quote: Quote,
    terms_accepted: bool,
    client_token: uuid.UUID | None = None,
    price_confirmation: str | None = None,
) -> Order:
    """The customer said yes: submit the quote's order (terms and prices checked as for any order)."""
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer_tenant__customer", "account")
            .get(pk=quote.order_id)
        )
        if _already_submitted(order, client_token):
            return order
        if quote.status != QuoteStatus.OPEN:
            raise OrderActionRefused(
                _("This quote was already %(status)s.") % {"status": quote.get_status_display().lower()}
            )
        if quote.is_expired:
            raise OrderActionRefused(_("This quote expired on %(date)s.") % {"date": quote.valid_until})
        order = _submit_locked(
            actor=actor,
            order=order,
            terms_accepted=terms_accepted,
            client_token=client_token,
            price_confirmation=price_confirmation,
        )
        before = model_snapshot(quote, QUOTE_FIELDS)
        quote.status = QuoteStatus.ACCEPTED
        quote.accepted_at = timezone.now()
        quote.accepted_by = _actor_user(actor)
        quote.save(update_fields=["status", "accepted_at", "accepted_by", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.QUOTE_ACCEPT,
            target=quote,
            customer_id=order.customer_tenant.customer_id,
            before=before,
            after=model_snapshot(quote, QUOTE_FIELDS),
        )
    return order


def quote_withdraw(*, actor: Actor, quote: Quote) -> Quote:
    """Withdraw an open quote; its order is cancelled."""
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        order = Order.objects.select_for_update(of=("self",)).select_related("customer_tenant").get(pk=quote.order_id)
        if quote.status != QuoteStatus.OPEN:
            raise OrderActionRefused(_("Only an open quote can be withdrawn."))
        before = model_snapshot(quote, QUOTE_FIELDS)
        quote.status = QuoteStatus.WITHDRAWN
        quote.save(update_fields=["status", "updated"])
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.QUOTE_WITHDRAW,
            target=quote,
            customer_id=order.customer_tenant.customer_id,
            before=before,
            after=model_snapshot(quote, QUOTE_FIELDS),
        )
    return quote
