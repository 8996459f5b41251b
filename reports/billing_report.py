"""The billing report: the lines of every visible subscription in each chosen billing cycle.

The arithmetic is `reports.billing`; this module feeds it. It streams: customers are taken in
chunks, each chunk's subscriptions and quantity history are read in a few queries (the database
keeps only the days a billable quantity changed, so a year of daily snapshots comes back as a
handful of rows per subscription), bills are yielded, and the chunk is dropped. Memory is bounded
by the chunk, not by the number of months or customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Case, F, Max, Q, Value, When, Window
from django.db.models.functions import Lag

from catalog.choices import BILLING_CYCLE_CHOICES
from catalog.price_book import PriceBook
from catalog.pricing import ResolvedPrice
from customers.models import Customer
from reports.billing import (
    BILLABLE_STATUSES,
    REFUND_WINDOW_DAYS,
    BillingCycle,
    BillingLine,
    QuantityChange,
    billed_quantity,
    billing_lines_over_prices,
    lines_cost_total,
    lines_total,
)
from reports.models import TrackedSubscription, UsageSnapshot
from reports.prices import BillingPrices
from reports.selectors import _visible_customer_ids

ZERO = Decimal(0)
CUSTOMER_CHUNK = 200
#: Bills come out in this order; the history query walks the same order so the two merge as streams.
TRACKED_ORDER = ("customer__name", "customer_id", "name", "pk")
TRACKED_ORDER_VIA_SNAPSHOT = (
    "subscription__customer__name",
    "subscription__customer_id",
    "subscription__name",
    "subscription_id",
)


@dataclass
class SubscriptionBill:
    """One subscription in one cycle: its lines, the unit price they use and how it came about."""

    tracked_pk: int
    customer_pk: int
    customer_name: str
    account_pk: int
    account_name: str
    name: str
    offer_name: str
    offer_external_id: str
    billing_cycle: str
    cycle: BillingCycle
    currency: str
    lines: list[BillingLine]
    price: ResolvedPrice | None
    #: what the order that bought it said (the partner's own options of the subscription)
    friendly_name: str = ""
    po_number: str = ""

    @property
    def total(self) -> Decimal:
        return lines_total(self.lines)

    @property
    def cost_total(self) -> Decimal | None:
        return lines_cost_total(self.lines)

    @property
    def billed_quantity(self) -> int:
        return billed_quantity(self.lines)

    @property
    def billing_cycle_label(self) -> str:
        return str(dict(BILLING_CYCLE_CHOICES).get(self.billing_cycle, self.billing_cycle))

    @property
    def is_priced(self) -> bool:
        return self.price is not None


def _history(tracked_ids: Sequence[int], *, since: date, until: date) -> Iterator[tuple[int, date, int]]:
    """(tracked id, day, billable quantity) between the two days, only on the days the billable
    quantity differs from the day before (and each subscription's first day in the range), streamed
    in the order of `_tracked_rows` so bills are computed one subscription at a time."""
    billable = Case(When(status__in=BILLABLE_STATUSES, then=F("quantity")), default=Value(0))
    return (
        UsageSnapshot.objects.filter(subscription_id__in=tracked_ids, day__gte=since, day__lte=until)
        .annotate(billable=billable)
        .annotate(previous=Window(Lag(billable), partition_by=[F("subscription_id")], order_by=F("day").asc()))
        .filter(Q(previous__isnull=True) | ~Q(previous=F("billable")))
        .order_by(*TRACKED_ORDER_VIA_SNAPSHOT, "day")
        .values_list("subscription_id", "day", "billable")
        .iterator(chunk_size=5000)
    )


def _tracked_rows(customer_ids: Sequence[int], *, first: date, last: date, account_id: int | None):
    rows = (
        TrackedSubscription.objects.filter(customer_id__in=customer_ids, first_seen__lte=last)
        .exclude(last_seen__lt=first - timedelta(days=REFUND_WINDOW_DAYS))
        .order_by(*TRACKED_ORDER)
    )
    if account_id:
        rows = rows.filter(account_id=account_id)
    return rows.values(
        "pk",
        "customer_id",
        "customer__name",
        "account_id",
        "account__display_name",
        "name",
        "offer_id",
        "offer_external_id",
        "offer__name",
        "external_id",
        "subscription__options__friendly_name",
        "subscription__options__po_number",
        "billing_cycle",
        "currency",
        "started_on",
        "first_seen",
        "last_seen",
        "subscription_id",
        "trial",
    )


#: `user` of a billing read that is no one's screen: closing a cycle bills every customer.
EVERY_CUSTOMER = object()


def customer_scope(user):
    """The ids of the customers a billing read covers: the user's visible ones, or every customer."""
    if user is EVERY_CUSTOMER:
        return Customer.objects.values("pk")
    return _visible_customer_ids(user)


def billing_customers(*, user, customer_id: int | None = None) -> Iterator[list[tuple[int, str]]]:
    """The visible customers as chunks of (pk, name), in name order."""
    customers = Customer.objects.filter(pk__in=customer_scope(user)).order_by("name", "pk")
    if customer_id:
        customers = customers.filter(pk=customer_id)
    chunk: list[tuple[int, str]] = []
    for row in customers.values_list("pk", "name").iterator(chunk_size=CUSTOMER_CHUNK):
        chunk.append(row)
        if len(chunk) == CUSTOMER_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def billing_bills(
    *,
    user,
    cycles: Iterable[BillingCycle],
    customer_id: int | None = None,
    account_id: int | None = None,
    include_empty: bool = False,
    from_statements: bool = True,
) -> Iterator[SubscriptionBill]:
    """Every visible subscription's bill in each cycle, customer by customer (name order), then
    subscription, then cycle. Bills without lines are left out unless `include_empty`; a
    subscription without a price (its offer left the catalog) is always reported, so it is seen.

    A cycle that has been issued is read from its statements (what was sent, whatever changed
    since), unless `from_statements` is off (closing a cycle, looking for late corrections)."""
    from reports.statements import issued_bills_by_subscription, issued_cycles

    cycles = sorted(set(cycles))
    if not cycles:
        return
    issued = issued_cycles(cycles) if from_statements else {}
    cycles = [cycle for cycle in cycles if cycle not in issued]
    book = prices = None
    if cycles:
        first, last = cycles[0].start, cycles[-1].end
        offers = TrackedSubscription.objects.filter(customer_id__in=customer_scope(user), offer__isnull=False)
        if account_id:
            offers = offers.filter(account_id=account_id)
        if customer_id:
            offers = offers.filter(customer_id=customer_id)
        book = PriceBook(offer_ids=offers.order_by().values_list("offer_id", flat=True).distinct())
        prices = BillingPrices(book=book)
        # The refund window reaches back over the first cycle's start; a month more finds a starting quantity.
        since = first - timedelta(days=REFUND_WINDOW_DAYS + 31)
        # The last snapshot day: a subscription last seen before it is no longer listed by its marketplace.
        latest = TrackedSubscription.objects.aggregate(latest=Max("last_seen"))["latest"] or last
    for chunk in billing_customers(user=user, customer_id=customer_id):
        names = dict(chunk)
        frozen = issued_bills_by_subscription(list(names), issued, account_id=account_id) if issued else {}
        if book is not None:
            tracked = list(_tracked_rows(list(names), first=first, last=last, account_id=account_id))
            history = _history([row["pk"] for row in tracked], since=since, until=last)
            prices.remember([(row["account_id"], row["external_id"]) for row in tracked], first=first, last=last)
            pending = next(history, None)
            for row in tracked:
                changes = []
                while pending is not None and pending[0] == row["pk"]:
                    changes.append(QuantityChange(day=pending[1], quantity=pending[2]))
                    pending = next(history, None)
                bills = list(_subscription_bills(row, changes, cycles, prices, include_empty, latest))
                if row["pk"] in frozen:
                    bills = sorted(bills + frozen.pop(row["pk"]), key=lambda bill: bill.cycle)
                yield from bills
            book.forget_customers()
        for bills in frozen.values():
            yield from bills


def _subscription_bills(
    row: dict,
    changes: list[QuantityChange],
    cycles: list[BillingCycle],
    prices: BillingPrices,
    include_empty: bool,
    latest: date,
) -> Iterator[SubscriptionBill]:
    if not changes:
        return
    if row["trial"]:
        changes = [QuantityChange(day=changes[0].day, quantity=0)]
    if row["last_seen"] < latest:  # the marketplace no longer lists it: nothing billed after it vanished
        changes = [*changes, QuantityChange(day=row["last_seen"] + timedelta(days=1), quantity=0)]
    customer = Customer(pk=row["customer_id"], name=row["customer__name"])
    anchor = row["started_on"] or row["first_seen"]
    for cycle in cycles:
        if row["first_seen"] > cycle.end:
            continue
        periods, price = prices.prices_over(
            account_id=row["account_id"],
            external_id=row["external_id"],
            offer_id=row["offer_id"],
            customer=customer,
            start=cycle.start,
            end=cycle.end,
        )
        currency = price.currency if price is not None else (row["currency"] or "")
        lines = []
        if price is not None:
            lines = billing_lines_over_prices(
                prices=periods,
                cycle=cycle,
                changes=changes,
                billing_cycle=row["billing_cycle"],
                currency=currency,
                anchor=anchor,
            )
        elif not any(change.quantity for change in changes if change.day <= cycle.end):
            continue
        if not lines and price is not None and not include_empty:
            continue
        yield SubscriptionBill(
            tracked_pk=row["pk"],
            customer_pk=row["customer_id"],
            customer_name=row["customer__name"],
            account_pk=row["account_id"],
            account_name=row["account__display_name"],
            name=row["name"],
            offer_name=row["offer__name"] or "",
            offer_external_id=row["offer_external_id"],
            billing_cycle=row["billing_cycle"],
            cycle=cycle,
            currency=currency,
            lines=lines,
            price=price,
            friendly_name=row["subscription__options__friendly_name"] or "",
            po_number=row["subscription__options__po_number"] or "",
        )


# -- summaries for the screen ---------------------------------------------------------------------------------------


@dataclass
class Money:
    """Amounts per currency (a partner may buy in several)."""

    amounts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, amount: Decimal | None) -> None:
        if amount is None:
            return
        self.amounts[currency] = self.amounts.get(currency, ZERO) + amount

    def items(self) -> list[tuple[str, Decimal]]:
        return sorted(self.amounts.items())

    def __bool__(self) -> bool:
        return bool(self.amounts)


@dataclass
class CustomerCycleTotal:
    customer_pk: int
    customer_name: str
    subscriptions: int = 0
    unpriced: int = 0
    total: Money = field(default_factory=Money)
    cost: Money = field(default_factory=Money)


@dataclass
class CycleSummary:
    cycle: BillingCycle
    subscriptions: int = 0
    unpriced: int = 0
    total: Money = field(default_factory=Money)
    cost: Money = field(default_factory=Money)
    customers: dict[int, CustomerCycleTotal] = field(default_factory=dict)
    bills: list[SubscriptionBill] = field(default_factory=list)
    #: When the cycle's statements were issued; None while the cycle is open (computed live).
    issued_at: datetime | None = None

    @property
    def customer_rows(self) -> list[CustomerCycleTotal]:
        return sorted(self.customers.values(), key=lambda row: (row.customer_name.lower(), row.customer_pk))


def billing_summary(
    *,
    user,
    cycles: Iterable[BillingCycle],
    customer_id: int | None = None,
    account_id: int | None = None,
    customers_of: BillingCycle | None = None,
    keep_bills: bool = False,
) -> list[CycleSummary]:
    """Totals per cycle (newest first), and per customer for the cycle `customers_of` (the one the
    screen opens; every cycle when it is None). With `keep_bills` (one customer's report) each cycle
    also keeps its bills, for the subscription → lines view. Only the opened cycle keeps customer
    rows, so a partner's year costs the memory of one cycle's customers, not twelve.

    An issued cycle is read from its statements: their totals, or their lines when bills are kept or
    one account is chosen (a statement's total covers every account)."""
    from reports.statements import issued_cycles, statement_totals

    summaries = {cycle: CycleSummary(cycle=cycle) for cycle in cycles}
    issued = issued_cycles(summaries)
    for cycle, close in issued.items():
        summaries[cycle].issued_at = close.issued_at
    from_totals = {} if keep_bills or account_id else issued
    for cycle, rows in statement_totals(user=user, cycles=from_totals, customer_id=customer_id).items():
        summary = summaries[cycle]
        keep_customers = customers_of is None or cycle == customers_of
        customers = summary.customers
        for customer_pk, customer_name, currency, total, cost_total, subscriptions, unpriced in rows:
            summary.subscriptions += subscriptions
            summary.unpriced += unpriced
            summary.total.add(currency, total)
            summary.cost.add(currency, cost_total)
            if keep_customers:
                customer = customers.get(customer_pk)
                if customer is None:
                    customer = customers[customer_pk] = CustomerCycleTotal(customer_pk, customer_name)
                customer.subscriptions += subscriptions
                customer.unpriced += unpriced
                customer.total.add(currency, total)
                customer.cost.add(currency, cost_total)
    wanted = [cycle for cycle in summaries if cycle not in from_totals]
    for bill in billing_bills(user=user, cycles=wanted, customer_id=customer_id, account_id=account_id):
        summary = summaries[bill.cycle]
        customer = None
        if customers_of is None or bill.cycle == customers_of:
            customer = summary.customers.get(bill.customer_pk)
            if customer is None:
                customer = summary.customers[bill.customer_pk] = CustomerCycleTotal(
                    bill.customer_pk, bill.customer_name
                )
            customer.subscriptions += 1
        summary.subscriptions += 1
        if not bill.is_priced:
            summary.unpriced += 1
            if customer is not None:
                customer.unpriced += 1
        else:
            summary.total.add(bill.currency, bill.total)
            summary.cost.add(bill.currency, bill.cost_total)
            if customer is not None:
                customer.total.add(bill.currency, bill.total)
                customer.cost.add(bill.currency, bill.cost_total)
        if keep_bills:
            summary.bills.append(bill)
    return sorted(summaries.values(), key=lambda summary: summary.cycle, reverse=True)
