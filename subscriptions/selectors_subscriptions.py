"""Reads of subscriptions for the lifecycle screens, always scoped to the customers the user may see."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, overload

from django.core.paginator import Page, Paginator
from django.db.models import Case, DateTimeField, F, Prefetch, QuerySet, Value, When
from django.db.models.functions import Least, TruncDate

from catalog.pricing import money_round
from customers.selectors import customer_tenants_visible_to
from marketplace.providers.base import Capability, billing_cycle_months
from portal.audit.models import AuditEvent
from portal.audit.selectors import audit_events_for_object
from subscriptions import commitment
from subscriptions.choices import SubscriptionStatus
from subscriptions.choices_lifecycle import ScheduledChangeStatus
from subscriptions.commitment import marketplace_capabilities, marketplace_name, marketplace_rule
from subscriptions.models import ScheduledChange, Subscription
from subscriptions.selectors_prices import subscription_price_periods

LIST_PAGE_SIZE = 50
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED, SubscriptionStatus.PENDING)


def subscriptions_visible_to(*, user) -> QuerySet[Subscription]:
    """Every subscription of the customer tenants the user may see; anything else is a 404 for them."""
    return Subscription.objects.filter(customer_tenant__in=customer_tenants_visible_to(user=user))


def _scheduled_prefetch() -> Prefetch:
    return Prefetch(
        "scheduled_changes",
        queryset=ScheduledChange.objects.filter(status=ScheduledChangeStatus.SCHEDULED),
        to_attr="pending_scheduled_changes",
    )


def subscriptions_for_list(*, user) -> QuerySet[Subscription]:
    """The Subscriptions screen: related rows loaded at once, in the grouping order (product, domain, name)."""
    return (
        subscriptions_visible_to(user=user)
        .select_related("customer_tenant__customer", "account", "offer__product_group", "options")
        .prefetch_related(_scheduled_prefetch())
        .order_by("offer__product_group__name", "name", "customer_tenant__primary_domain", "id")
    )


def subscriptions_page(queryset: QuerySet[Subscription], number) -> tuple[Page, list[Subscription]]:
    """One page of a list of subscriptions, and its rows with everything they show.

    The page is chosen by sorting the ids alone: sorting every visible subscription with all its
    joined columns to keep 50 costs several times more than sorting the narrow ids (20,000 rows)."""
    ordered_ids = queryset.prefetch_related(None).values_list("pk", flat=True)
    page = Paginator(ordered_ids, LIST_PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    rows = queryset.filter(pk__in=ids).order_by()
    by_id = {subscription.pk: subscription for subscription in rows}
    return page, [by_id[pk] for pk in ids if pk in by_id]


def subscription_get(*, user, pk: int) -> Subscription:
    """One subscription in the user's scope (`Subscription.DoesNotExist` otherwise: the view's 404)."""
    return (
        subscriptions_visible_to(user=user)
        .select_related("customer_tenant__customer", "account", "offer__product_group", "options")
        .prefetch_related(_scheduled_prefetch())
        .get(pk=pk)
    )


def subscription_audit_events(*, subscription: Subscription) -> QuerySet[AuditEvent]:
    """The subscription's own trail, and that of its scheduled changes."""
    scheduled = [str(pk) for pk in subscription.scheduled_changes.values_list("pk", flat=True)]
    events = audit_events_for_object(target=subscription)
    if scheduled:
        events = events | AuditEvent.objects.filter(
            target_type=ScheduledChange._meta.label_lower, target_id__in=scheduled
        ).select_related("actor")
    return events.order_by("-created", "-id")


def subscription_product_label(subscription: Subscription) -> str:
    """The group a subscription is listed under (ALEF groups by product family, then domain)."""
    offer = subscription.offer
    group = offer.product_group if offer is not None else None
    if group is not None:
        return group.name
    if offer is not None and offer.vendor:
        return offer.vendor
    return subscription.name


# -- money per row ---------------------------------------------------------------------------------------------------


@dataclass
class SubscriptionMoney:
    """The ALEF columns: unit cost, monthly and yearly cost, monthly and yearly customer price.
    Monthly and yearly amounts are the subscription's whole quantity, normalised per month and year."""

    currency: str
    unit_cost: Decimal | None
    #: one licence's cost a month, whatever the billing cycle: a column of these compares like with like
    monthly_unit_cost: Decimal | None
    monthly_cost: Decimal | None
    yearly_cost: Decimal | None
    unit_price: Decimal | None
    monthly_price: Decimal | None
    yearly_price: Decimal | None


def _per_month(unit: Decimal | None, subscription: Subscription, quantity: int | None = None) -> Decimal | None:
    months = billing_cycle_months(subscription.billing_cycle)
    if unit is None or months is None or subscription.trial:
        return None
    count = subscription.quantity if quantity is None else quantity
    return money_round(unit * count / months, subscription.currency or "EUR")


def customer_unit_prices(subscriptions: Iterable[Subscription]) -> dict[int, Decimal]:
    """{subscription pk: the customer's unit price per billing period}: the price in effect today from the
    subscription's price history (what billing charges), else the catalog's pricing chain, else the
    marketplace's sales price. One resolution for every customer without a price of their own (their price
    is the partner's), one per customer with a segment or customer price: the queries grow with those only."""
    from django.utils import timezone

    subscriptions = [row for row in subscriptions]
    today = timezone.localdate()
    history = subscription_price_periods(
        keys=[(row.account_id, row.external_id) for row in subscriptions], first=today, last=today
    )
    prices: dict[int, Decimal] = {}
    for row in subscriptions:
        periods = history.get((row.account_id, row.external_id))
        if periods:
            prices[row.pk] = periods[-1].unit_price
    subscriptions = [row for row in subscriptions if row.pk not in prices]
    priced = [row for row in subscriptions if row.offer_id is not None and row.offer is not None]
    if priced:
        from catalog.models import CustomerPrice, SegmentMembership
        from catalog.pricing import prices_resolve

        customer_ids = {row.customer_tenant.customer_id for row in priced}
        offer_ids = {row.offer_id for row in priced if row.offer_id is not None}
        special = set(
            SegmentMembership.objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True)
        ) | set(
            CustomerPrice.objects.filter(customer_id__in=customer_ids, offer_id__in=offer_ids).values_list(
                "customer_id", flat=True
            )
        )
        general = [row for row in priced if row.customer_tenant.customer_id not in special]
        if general:
            resolved = prices_resolve(
                offers=[offer for offer in {row.offer_id: row.offer for row in general}.values() if offer]
            )
            for row in general:
                if row.offer_id in resolved:
                    prices[row.pk] = resolved[row.offer_id].amount
        by_customer: dict[int, list[Subscription]] = {}
        for row in priced:
            if row.customer_tenant.customer_id in special:
                by_customer.setdefault(row.customer_tenant.customer_id, []).append(row)
        for rows in by_customer.values():
            resolved = prices_resolve(
                offers=[offer for offer in {row.offer_id: row.offer for row in rows}.values() if offer],
                customer=rows[0].customer_tenant.customer,
            )
            for row in rows:
                if row.offer_id in resolved:
                    prices[row.pk] = resolved[row.offer_id].amount
    for subscription in subscriptions:
        if subscription.pk not in prices and subscription.unit_sales_price is not None:
            prices[subscription.pk] = subscription.unit_sales_price
    return prices


def subscription_money(subscription: Subscription, unit_price: Decimal | None) -> SubscriptionMoney:
    monthly_cost = _per_month(subscription.unit_cost_price, subscription)
    monthly_price = _per_month(unit_price, subscription)
    return SubscriptionMoney(
        currency=subscription.currency,
        unit_cost=subscription.unit_cost_price,
        monthly_unit_cost=_per_month(subscription.unit_cost_price, subscription, quantity=1),
        monthly_cost=monthly_cost,
        yearly_cost=monthly_cost * 12 if monthly_cost is not None else None,
        unit_price=unit_price,
        monthly_price=monthly_price,
        yearly_price=monthly_price * 12 if monthly_price is not None else None,
    )


# -- grouping --------------------------------------------------------------------------------------------------------


@dataclass
class DomainGroup:
    domain: str
    rows: list[Any] = field(default_factory=list)

    @property
    def purchased(self) -> int:
        return sum(row.subscription.quantity for row in self.rows)

    @property
    def assigned(self) -> int | None:
        """None when the marketplace reports no assigned seats for any of the rows."""
        reported = [row.subscription.assigned for row in self.rows if row.subscription.assigned is not None]
        return sum(reported) if reported else None


@dataclass
class ProductGroupRows:
    product: str
    domains: list[DomainGroup] = field(default_factory=list)

    @property
    def purchased(self) -> int:
        return sum(group.purchased for group in self.domains)

    @property
    def assigned(self) -> int | None:
        reported = [group.assigned for group in self.domains if group.assigned is not None]
        return sum(reported) if reported else None


@dataclass
class SubscriptionRow:
    subscription: Subscription
    money: SubscriptionMoney
    can_change_quantity: bool

    @property
    def friendly_name(self) -> str:
        return subscription_friendly_name(self.subscription)

    @property
    def po_number(self) -> str:
        return subscription_po_number(self.subscription)

    @property
    def scheduled(self) -> list[ScheduledChange]:
        return getattr(self.subscription, "pending_scheduled_changes", [])

    @property
    def version(self) -> str:
        return subscription_version(self.subscription)


def _has_options(subscription: Subscription) -> bool:
    try:
        return subscription.options is not None
    except Subscription.options.RelatedObjectDoesNotExist:
        return False


def subscription_friendly_name(subscription: Subscription) -> str:
    return subscription.options.friendly_name if _has_options(subscription) else ""


def subscription_po_number(subscription: Subscription) -> str:
    """The purchase order number typed on the order that bought it."""
    return subscription.options.po_number if _has_options(subscription) else ""


def subscription_version(subscription: Subscription) -> str:
    """The optimistic-concurrency token of a subscription: when anything (the sync, an order) last changed it."""
    return subscription.updated.isoformat() if subscription.updated else ""


def subscription_quantity_editable(subscription: Subscription) -> bool:
    """Whether the list offers the quantity for in-place editing (the rules are checked again on Apply)."""
    return (
        Capability.CHANGE_QUANTITY in marketplace_capabilities(subscription.account.marketplace)
        and subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)
        and not subscription.trial
    )


def subscription_rows_grouped(subscriptions: Iterable[Subscription]) -> list[ProductGroupRows]:
    """Rows of one page grouped by product, then domain, keeping the page's order."""
    subscriptions = list(subscriptions)
    prices = customer_unit_prices(subscriptions)
    groups: dict[str, ProductGroupRows] = {}
    for subscription in subscriptions:
        group = groups.setdefault(
            subscription_product_label(subscription), ProductGroupRows(product=subscription_product_label(subscription))
        )
        domain = str(subscription.customer_tenant)
        domain_group = next((candidate for candidate in group.domains if candidate.domain == domain), None)
        if domain_group is None:
            domain_group = DomainGroup(domain=domain)
            group.domains.append(domain_group)
        domain_group.rows.append(
            SubscriptionRow(
                subscription=subscription,
                money=subscription_money(subscription, prices.get(subscription.pk)),
                can_change_quantity=subscription_quantity_editable(subscription),
            )
        )
    return list(groups.values())


# -- actions offered ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionOffer:
    """A Manage subscription action: offered or not, and why not (capability matrix, status)."""

    key: str
    label: str
    capability: Capability | None
    available: bool
    reason: str = ""
    rule: str = ""


# -- calendar --------------------------------------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    subscription: Subscription
    window_closes_at: datetime | None
    renewal_on: date | None
    next_event_at: date
    scheduled: list[ScheduledChange]

    @property
    def window_is_open(self) -> bool:
        return self.window_closes_at is not None and self.window_closes_at >= commitment.clock()


class CommitmentCalendar(Sequence[CalendarEntry]):
    """The calendar's entries, sorted and counted by the database: only the entries of the page
    asked for (a slice) are loaded and built."""

    def __init__(self, queryset: QuerySet[Subscription]) -> None:
        self.queryset = queryset

    def __len__(self) -> int:
        return self.count()

    @functools.cache  # noqa: B019 - one calendar lives for one request
    def count(self) -> int:
        return self.queryset.count()

    @overload
    def __getitem__(self, index: int) -> CalendarEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[CalendarEntry]: ...

    def __getitem__(self, index):
        if isinstance(index, int):
            return self[index : index + 1][0] if index >= 0 else list(self)[index]
        return [
            CalendarEntry(
                subscription=subscription,
                window_closes_at=subscription.upcoming_close,
                renewal_on=subscription.term_end,
                next_event_at=subscription.next_event_at,
                scheduled=list(getattr(subscription, "pending_scheduled_changes", [])),
            )
            for subscription in self.queryset[index]
        ]

    def __iter__(self) -> Iterator[CalendarEntry]:
        return iter(self[:])


def commitment_calendar(
    *, user, customer_id: int | None = None, marketplace: str | None = None, now: datetime | None = None
) -> CommitmentCalendar:
    """Every live subscription's next window closing and renewal, soonest first, with its scheduled changes.
    A window counts while it is still open; a subscription with neither is left out."""
    now = now or commitment.clock()
    queryset = (
        subscriptions_visible_to(user=user)
        .filter(status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED))
        .annotate(
            upcoming_close=Case(
                When(cancellation_allowed_until__gte=now, then=F("cancellation_allowed_until")),
                default=Value(None, output_field=DateTimeField()),
            )
        )
        # LEAST skips NULLs: the earlier of the two moments a subscription has
        .annotate(next_event_at=Least(TruncDate("upcoming_close", tzinfo=UTC), F("term_end")))
        .filter(next_event_at__isnull=False)
        .select_related("customer_tenant__customer", "account", "options")
        .prefetch_related(_scheduled_prefetch())
        .order_by("next_event_at", "name", "pk")
    )
    if customer_id:
        queryset = queryset.filter(customer_tenant__customer_id=customer_id)
    if marketplace:
        queryset = queryset.filter(account__marketplace=marketplace)
    return CommitmentCalendar(queryset)


def scheduled_changes_visible_to(*, user) -> QuerySet[ScheduledChange]:
    return ScheduledChange.objects.filter(subscription__in=subscriptions_visible_to(user=user)).select_related(
        "subscription__customer_tenant__customer", "subscription__account", "created_by"
    )


__all__ = [
    "ActionOffer",
    "CalendarEntry",
    "LIVE_STATUSES",
    "commitment_calendar",
    "customer_unit_prices",
    "marketplace_name",
    "marketplace_rule",
    "scheduled_changes_visible_to",
    "subscription_audit_events",
    "subscription_friendly_name",
    "subscription_po_number",
    "subscription_get",
    "subscription_money",
    "subscription_rows_grouped",
    "subscription_version",
    "subscriptions_for_list",
    "subscriptions_page",
    "subscriptions_visible_to",
]


def tenant_audit_events(*, customer_tenant) -> QuerySet[AuditEvent]:
    """A customer tenant's trail: the tenant's own events and those of its subscriptions."""
    subscription_ids = [
        str(pk) for pk in Subscription.objects.filter(customer_tenant=customer_tenant).values_list("pk", flat=True)
    ]
    events = audit_events_for_object(target=customer_tenant)
    if subscription_ids:
        events = events | AuditEvent.objects.filter(
            target_type=Subscription._meta.label_lower, target_id__in=subscription_ids
        ).select_related("actor")
    return events.order_by("-created", "-id")
