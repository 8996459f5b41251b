"""Writes of subscriptions' price history (`SubscriptionPrice`).

Three ways a subscription gets a price from a moment on: an order (the price its line recorded,
Price Options included, from the order's completion), a catalog price edit the user chose to apply
(from the next billing cycle or a date not in the past, never back), and pinning: a subscription
without history gets today's catalog price from its start, which is what billing charged it until
then. A catalog edit pins the subscriptions it touches *before* it changes the catalog, so a
subscription nobody ordered through the console keeps its old price in closed cycles too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.price_book import PriceBook
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from subscriptions.choices import PriceApplication, PriceSource
from subscriptions.models import Subscription, SubscriptionOptions, SubscriptionPrice
from subscriptions.selectors_prices import day_start, subscription_price_periods

if TYPE_CHECKING:  # the record names the order line a price came from; it never imports the orders app
    from orders.models import OrderLine


class PriceApplicationRefused(ValueError):
    """The choice cannot be applied: none made, no date given, or a date in the past (billed days keep their
    price)."""


@dataclass(frozen=True)
class PriceApply:
    """What the user chose when editing a catalog price: apply to existing subscriptions or not, from when."""

    application: str = PriceApplication.NEXT_CYCLE
    from_date: date | None = None

    def __post_init__(self) -> None:
        if self.application not in PriceApplication.values:
            raise PriceApplicationRefused(_("Choose whether to apply the price to existing subscriptions."))
        if self.application == PriceApplication.FROM_DATE:
            if self.from_date is None:
                raise PriceApplicationRefused(_("Enter the date from which the new price applies."))
            if self.from_date < timezone.localdate():
                raise PriceApplicationRefused(_("The date cannot be in the past: billed days keep their price."))

    @property
    def applies(self) -> bool:
        return self.application != PriceApplication.NONE


NOT_APPLIED = PriceApply(application=PriceApplication.NONE)


def next_cycle_start(*, account_id: int, today: date | None = None) -> date:
    """The first day of the billing cycle after today's, by the account's billing day."""
    from marketplace.models import MarketplaceAccount
    from reports.billing import billing_cycle_containing
    from reports.selectors import billing_cycle_end_day

    today = today or timezone.localdate()
    account = MarketplaceAccount(pk=account_id)
    end_day = billing_cycle_end_day(account=account)
    return billing_cycle_containing(today, cycle_end_day=end_day).end + timedelta(days=1)


def _catalog_prices(subscriptions: list[Subscription]) -> dict[int, tuple[Decimal, Decimal | None, str]]:
    """{subscription pk: (unit price, cost price, currency)} by today's catalog (the pricing chain), else the
    marketplace's own sales price for a subscription whose offer is not in the catalog."""
    book = PriceBook(offer_ids={row.offer_id for row in subscriptions if row.offer_id is not None})
    prices: dict[int, tuple[Decimal, Decimal | None, str]] = {}
    for row in subscriptions:
        resolved = book.price(offer_id=row.offer_id, customer=row.customer_tenant.customer)
        if resolved is not None:
            prices[row.pk] = (resolved.amount, resolved.cost, resolved.currency)
        elif row.unit_sales_price is not None and row.currency:
            prices[row.pk] = (row.unit_sales_price, row.unit_cost_price, row.currency)
    return prices


def _start_of(subscription: Subscription) -> datetime:
    return subscription.started_at or subscription.created or timezone.now()


def subscription_prices_pin(*, subscriptions: QuerySet[Subscription] | Iterable[Subscription]) -> int:
    """Give every subscription without price history today's catalog price from its start. Returns how many."""
    known = SubscriptionPrice.objects.filter(account_id=OuterRef("account_id"), external_id=OuterRef("external_id"))
    if not isinstance(subscriptions, QuerySet):
        subscriptions = Subscription.objects.filter(pk__in=[row.pk for row in subscriptions])
    missing = list(subscriptions.exclude(Exists(known)).select_related("customer_tenant__customer"))
    if not missing:
        return 0
    prices = _catalog_prices(missing)
    created = SubscriptionPrice.objects.bulk_create(
        [
            SubscriptionPrice(
                subscription=row,
                account_id=row.account_id,
                external_id=row.external_id,
                effective_from=_start_of(row),
                unit_price=prices[row.pk][0],
                cost_price=prices[row.pk][1],
                currency=prices[row.pk][2],
                source=PriceSource.SYNC,
            )
            for row in missing
            if row.pk in prices
        ],
        ignore_conflicts=True,
    )
    return len(created)


def subscription_prices_pin_new(*, account) -> int:
    """After a sync: the subscriptions it found that have no price history start one at today's catalog price
    (source: sync), so a later cost or price change does not reach back into their billed cycles."""
    with transaction.atomic():
        return subscription_prices_pin(subscriptions=Subscription.objects.filter(account=account))


def subscription_price_record(
    *,
    actor: Actor,
    subscription: Subscription,
    effective_from: datetime,
    unit_price: Decimal,
    cost_price: Decimal | None,
    currency: str,
    source: str,
    order_line: OrderLine | None = None,
) -> SubscriptionPrice:
    """The subscription costs `unit_price` from `effective_from` on (replacing a price set for that very moment)."""
    with transaction.atomic():
        row, _created = SubscriptionPrice.objects.update_or_create(
            account_id=subscription.account_id,
            external_id=subscription.external_id,
            effective_from=effective_from,
            defaults={
                "subscription": subscription,
                "unit_price": unit_price,
                "cost_price": cost_price,
                "currency": currency,
                "source": source,
                "order_line": order_line,
                "actor": actor_user(actor),
            },
        )
        audit_record(
            actor=actor,
            action=AuditAction.SUBSCRIPTION_PRICE_SET,
            target=subscription,
            customer_id=subscription.customer_tenant.customer_id,
            after={
                "unit_price": unit_price,
                "cost_price": cost_price,
                "currency": currency,
                "effective_from": effective_from,
                "source": source,
            },
        )
    return row


def subscription_order_terms_apply(
    *, line: OrderLine, subscription: Subscription, effective_from: datetime, with_price: bool = True
) -> None:
    """What the order said reaches the subscription it bought or changed: the friendly name and PO number typed
    on the order (kept in the partner's own options, which the sync never writes) and, for a purchase, the
    unit price its line recorded (Price Options included), from the order's completion on."""
    order = line.order
    friendly_name = (order.friendly_name or "").strip()[:120]
    po_number = (order.po_number or "").strip()[:64]
    if friendly_name or po_number:
        options, _created = SubscriptionOptions.objects.get_or_create(subscription=subscription)
        changed = []
        if friendly_name and options.friendly_name != friendly_name:
            options.friendly_name = friendly_name
            changed.append("friendly_name")
        if po_number and options.po_number != po_number:
            options.po_number = po_number
            changed.append("po_number")
        if changed:
            options.save(update_fields=[*changed, "updated"])
    if with_price and line.unit_price is not None and line.currency:
        subscription_price_record(
            actor="system",
            subscription=subscription,
            effective_from=effective_from,
            unit_price=line.unit_price,
            cost_price=line.unit_cost,
            currency=line.currency,
            source=PriceSource.ORDER,
            order_line=line,
        )


def subscription_prices_apply(
    *,
    actor: Actor,
    subscriptions: QuerySet[Subscription],
    apply: PriceApply | None,
    target,
    reason: str,
    customer_id: int | None = None,
) -> int:
    """After a catalog price edit: each subscription costs today's catalog price from the chosen day on (the
    next billing cycle of its account, or the date given). Price-edit rows after that day are replaced (the
    newest decision wins from its day on); days before it are never touched. One audit event on the edited
    `target` says how many subscriptions got which day; each row keeps who and why. Returns how many
    (none when `apply` is None or says not at all)."""
    if apply is None or not apply.applies:
        return 0
    rows = list(subscriptions.select_related("customer_tenant__customer"))
    prices = _catalog_prices(rows)
    next_cycles: dict[int, date] = {}
    by_day: dict[date, list[Subscription]] = {}
    for row in rows:
        if row.pk not in prices:
            continue
        if apply.application == PriceApplication.FROM_DATE and apply.from_date is not None:
            day = apply.from_date
        else:
            if row.account_id not in next_cycles:
                next_cycles[row.account_id] = next_cycle_start(account_id=row.account_id)
            day = next_cycles[row.account_id]
        by_day.setdefault(day, []).append(row)
    user = actor_user(actor)
    changed: dict[str, int] = {}
    with transaction.atomic():
        for day, group in sorted(by_day.items()):
            moment = day_start(day)
            SubscriptionPrice.objects.filter(
                subscription_id__in=[row.pk for row in group], effective_from__gt=moment, source=PriceSource.PRICE_EDIT
            ).delete()
            in_effect = subscription_price_periods(
                keys=[(row.account_id, row.external_id) for row in group], first=day, last=day
            )
            new_rows = []
            for row in group:
                unit_price, cost_price, currency = prices[row.pk]
                current = in_effect.get((row.account_id, row.external_id))
                if current and current[-1].unit_price == unit_price and current[-1].currency == currency:
                    continue
                new_rows.append(
                    SubscriptionPrice(
                        subscription=row,
                        account_id=row.account_id,
                        external_id=row.external_id,
                        effective_from=moment,
                        unit_price=unit_price,
                        cost_price=cost_price,
                        currency=currency,
                        source=PriceSource.PRICE_EDIT,
                        actor=user,
                    )
                )
            SubscriptionPrice.objects.bulk_create(
                new_rows,
                update_conflicts=True,
                unique_fields=["account", "external_id", "effective_from"],
                update_fields=["subscription", "unit_price", "cost_price", "currency", "source", "order_line", "actor"],
            )
            if new_rows:
                changed[day.isoformat()] = len(new_rows)
        if changed:
            audit_record(
                actor=actor,
                action=AuditAction.SUBSCRIPTION_PRICES_APPLY,
                target=target,
                customer_id=customer_id,
                after={"subscriptions_from": changed},
                message=reason,
            )
    return sum(changed.values())
