"""Reads of the Report center, every one scoped to the customers the user may see.

A role scoped to customer groups sees only its customers' rows; a customer tenant admin never gets
here (no REPORTS permission). Cost figures are left out by the views for users who may not see
cost prices (`user_sees_cost_prices`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.price_book import PriceBook
from catalog.pricing import money_round
from customers.models import Customer
from customers.selectors import customers_visible_to
from marketplace.choices import MarketplaceSlug
from marketplace.models import MarketplaceAccount
from orders.models import Order
from portal.accounts.permissions import user_sees_all_customers
from portal.audit.models import AuditEvent
from reports.choices import CustomDimension, CustomMeasure
from reports.models import MONTH_END, BillingDay, SavedReport, TrackedSubscription, UsageSnapshot
from reports.prices import BillingPrices, monthly_amount
from subscriptions.models import LicenseChangeRequest, Subscription

ZERO = Decimal(0)
#: A chosen day without snapshots shows the last snapshot this many days before it at most.
SNAPSHOT_LOOKBACK_DAYS = 31


def _visible_customer_ids(user) -> Subquery:
    return Subquery(customers_visible_to(user=user).values("pk"))


def report_customers(*, user) -> QuerySet[Customer]:
    """The customers a report may name for this user, for filters: their names only (a filter lists
    thousands of them for a large partner; the chosen one's other fields load when read)."""
    return Customer.objects.filter(pk__in=_visible_customer_ids(user)).order_by("name", "pk").only("id", "name")


def report_accounts() -> QuerySet[MarketplaceAccount]:
    return MarketplaceAccount.objects.order_by("display_name", "pk")


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in the current time zone: a period of whole days."""
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
    )


# -- billing day ----------------------------------------------------------------------------------------------------


def billing_cycle_end_day(*, account: MarketplaceAccount | None = None) -> int:
    """The day the billing cycle ends: the account's own, else the partner's, else the month's end."""
    days = dict(
        BillingDay.objects.filter(Q(account__isnull=True) | Q(account=account)).values_list(
            "account_id", "cycle_end_day"
        )
    )
    if account is not None and account.pk in days:
        return days[account.pk]
    return days.get(None, MONTH_END)


def billing_days() -> tuple[int, dict[int, int]]:
    """(partner day, {account id: own day})."""
    partner_day = MONTH_END
    per_account: dict[int, int] = {}
    for account_id, day in BillingDay.objects.values_list("account_id", "cycle_end_day"):
        if account_id is None:
            partner_day = day
        else:
            per_account[account_id] = day
    return partner_day, per_account


# -- subscription usage ---------------------------------------------------------------------------------------------


def tracked_subscriptions_visible_to(*, user) -> QuerySet[TrackedSubscription]:
    return TrackedSubscription.objects.filter(customer_id__in=_visible_customer_ids(user))


def tracked_subscription_get(*, user, pk: int) -> TrackedSubscription | None:
    return (
        tracked_subscriptions_visible_to(user=user)
        .select_related("customer", "account", "offer", "customer_tenant", "subscription")
        .filter(pk=pk)
        .first()
    )


def snapshot_day_for(day: date) -> date | None:
    """The day whose snapshots stand for `day`: itself, or the last snapshot day before it (a day the
    snapshot did not run), at most SNAPSHOT_LOOKBACK_DAYS back; None when there is none."""
    if UsageSnapshot.objects.filter(day=day).exists():
        return day
    return (
        UsageSnapshot.objects.filter(day__lt=day, day__gte=day - timedelta(days=SNAPSHOT_LOOKBACK_DAYS))
        .aggregate(last=Max("day"))
        .get("last")
    )


def snapshot_first_day() -> date | None:
    """The first day with usage history (from the tracked subscriptions: the snapshot table is large)."""
    return TrackedSubscription.objects.aggregate(first=Min("first_seen"))["first"]


@dataclass(frozen=True)
class UsageQuery:
    """The Subscription usage screen's filters."""

    q: str = ""
    customer_id: int | None = None
    account_id: int | None = None
    status: str = ""


USAGE_KEYS = (
    "tracked_pk",
    "customer_pk",
    "customer_name",
    "name",
    "account_name",
    "quantity",
    "assigned",
    "status",
    "billing_cycle",
)


def usage_rows(*, user, day: date | None, query: UsageQuery) -> QuerySet:
    """One row per subscription, as dicts with USAGE_KEYS (+ unassigned): live rows for today (day
    None), the snapshot of `day` otherwise (pass a day `snapshot_day_for` found)."""
    if day is None:
        rows = Subscription.objects.filter(customer_tenant__customer_id__in=_visible_customer_ids(user))
        customer, prefix = "customer_tenant__customer", ""
        if query.account_id:
            rows = rows.filter(account_id=query.account_id)
        names = {
            "tracked_pk": F("tracked__pk"),
            "customer_pk": F("customer_tenant__customer_id"),
            "customer_name": F("customer_tenant__customer__name"),
            "account_name": F("account__display_name"),
            "friendly_name": F("options__friendly_name"),
            "po_number": F("options__po_number"),
        }
        fields = ("name", "quantity", "assigned", "status", "billing_cycle")
    else:
        rows = UsageSnapshot.objects.filter(day=day, subscription__customer_id__in=_visible_customer_ids(user))
        customer, prefix = "subscription__customer", "subscription__"
        if query.account_id:
            rows = rows.filter(subscription__account_id=query.account_id)
        names = {
            "tracked_pk": F("subscription_id"),
            "customer_pk": F("subscription__customer_id"),
            "customer_name": F("subscription__customer__name"),
            "account_name": F("subscription__account__display_name"),
            "name": F("subscription__name"),
            "billing_cycle": F("subscription__billing_cycle"),
            "friendly_name": F("subscription__subscription__options__friendly_name"),
            "po_number": F("subscription__subscription__options__po_number"),
        }
        fields = ("quantity", "assigned", "status")
    if query.customer_id:
        rows = rows.filter(**{f"{customer}_id": query.customer_id})
    if query.status:
        rows = rows.filter(status=query.status)
    for term in query.q.split():
        rows = rows.filter(Q(**{f"{prefix}name__icontains": term}) | Q(**{f"{customer}__name__icontains": term}))
    return rows.values(*fields, **names).annotate(unassigned=F("quantity") - F("assigned"))


def usage_by_customer(*, user, day: date | None, query: UsageQuery) -> QuerySet:
    """One row per customer: subscriptions, seats, assigned and unassigned seats."""
    rows = usage_rows(user=user, day=day, query=query)
    return (
        rows.order_by()
        .values("customer_pk", "customer_name")
        .annotate(
            subscriptions=Count("pk" if day is None else "subscription_id"),
            seats=Sum("quantity"),
            assigned_seats=Sum("assigned"),
            unassigned_seats=Sum(F("quantity") - F("assigned"), filter=Q(assigned__isnull=False)),
        )
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One modification of a subscription: a snapshot that differs from the day before, or an audit event."""

    when: date
    what: str
    before: str
    after: str
    actor: str = ""
    source: str = "snapshot"


def subscription_history(*, tracked: TrackedSubscription) -> list[HistoryEntry]:
    """The modification history, newest first: quantity, assigned seats and status as the daily
    snapshots saw them change, and the audit events recorded on the subscription."""
    from django.utils.translation import gettext as _

    entries: list[HistoryEntry] = []
    previous = None
    labels = {"quantity": _("Quantity"), "assigned": _("Assigned seats"), "status": _("Status")}
    for snapshot in (
        UsageSnapshot.objects.filter(subscription=tracked)
        .order_by("day")
        .values("day", "quantity", "assigned", "status")
    ):
        if previous is None:
            entries.append(
                HistoryEntry(
                    when=snapshot["day"],
                    what=_("First snapshot"),
                    before="",
                    after=_("%(quantity)s seats, %(status)s") % snapshot,
                )
            )
        else:
            for key, label in labels.items():
                if snapshot[key] != previous[key]:
                    entries.append(
                        HistoryEntry(
                            when=snapshot["day"],
                            what=label,
                            before="" if previous[key] is None else str(previous[key]),
                            after="" if snapshot[key] is None else str(snapshot[key]),
                        )
                    )
        previous = snapshot
    if tracked.subscription_id is not None:
        for event in AuditEvent.objects.filter(
            target_type="subscriptions.subscription", target_id=str(tracked.subscription_id)
        ).order_by("-created")[:200]:
            entries.append(
                HistoryEntry(
                    when=timezone.localdate(event.created),
                    what=event.action_label,
                    before=", ".join(f"{key}: {value}" for key, value in (event.before or {}).items()),
                    after=", ".join(f"{key}: {value}" for key, value in (event.after or {}).items()),
                    actor=event.actor_display,
                    source="audit",
                )
            )
    return sorted(entries, key=lambda entry: (entry.when, entry.source == "audit"), reverse=True)


def subscription_usage_series(*, tracked: TrackedSubscription, days: int = 366) -> list[dict]:
    """The last `days` snapshots (day, quantity, assigned), oldest first, for the chart."""
    rows = UsageSnapshot.objects.filter(subscription=tracked).order_by("-day").values("day", "quantity", "assigned")
    return list(reversed(rows[:days]))


# -- user activity -----------------------------------------------------------------------------------------------------


def audit_events_visible_to(*, user) -> QuerySet[AuditEvent]:
    """The trail a report may show: everything for users who see every customer, else only the
    events about their customers."""
    events = AuditEvent.objects.all()
    if not user_sees_all_customers(user):
        events = events.filter(customer_id__in=_visible_customer_ids(user))
    return events


def user_activity(*, user, start: date, end: date) -> QuerySet:
    """Per user (actor): events in the period, distinct actions, the last one."""
    since, until = day_bounds(start, end)
    return (
        audit_events_visible_to(user=user)
        .filter(created__gte=since, created__lt=until)
        .order_by()
        .values("actor_label")
        .annotate(
            events=Count("pk"),
            actions=Count("action", distinct=True),
            failures=Count("pk", filter=Q(result="failure")),
            last=Max("created"),
        )
        .order_by("-events", "actor_label")
    )


def user_activity_events(*, user, start: date, end: date, actor_label: str) -> QuerySet[AuditEvent]:
    since, until = day_bounds(start, end)
    return audit_events_visible_to(user=user).filter(created__gte=since, created__lt=until, actor_label=actor_label)


def user_activity_actions(*, user, start: date, end: date, actor_label: str) -> list[tuple[str, int]]:
    """(action, count) for one user in the period, most frequent first."""
    return list(
        user_activity_events(user=user, start=start, end=end, actor_label=actor_label)
        .order_by()
        .values("action")
        .annotate(count=Count("pk"))
        .order_by("-count", "action")
        .values_list("action", "count")
    )


# -- customer operations -----------------------------------------------------------------------------------------------


@dataclass
class CustomerOperations:
    customer_pk: int
    customer_name: str
    orders: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def order_total(self) -> int:
        return sum(self.orders.values())

    @property
    def request_total(self) -> int:
        return sum(self.requests.values())


# Which marketplace (the "online service") an operation went to, per kind of operation.
OPERATION_SERVICE_PATHS = {
    "orders": ("account__marketplace",),
    "requests": ("subscription__account__marketplace", "offer__account__marketplace"),
}


def _operation_sources() -> list[tuple[str, type[Order] | type[LicenseChangeRequest]]]:
    """(kind, model) of every operation the report counts. A new kind joins by adding a pair here."""
    return [("orders", Order), ("requests", LicenseChangeRequest)]


def _operations_of(*, kind: str, model, user, start: date, end: date, customer_id, q: str, service: str, status: str):
    since, until = day_bounds(start, end)
    operations = model.objects.filter(
        created__gte=since, created__lt=until, customer_tenant__customer_id__in=_visible_customer_ids(user)
    )
    if customer_id:
        operations = operations.filter(customer_tenant__customer_id=customer_id)
    for term in q.split():
        operations = operations.filter(customer_tenant__customer__name__icontains=term)
    if service:
        matches = Q()
        for path in OPERATION_SERVICE_PATHS[kind]:
            matches |= Q(**{path: service})
        operations = operations.filter(matches)
    if status:
        wanted_kind, _separator, wanted_status = status.partition(":")
        operations = operations.filter(status=wanted_status) if wanted_kind == kind else operations.none()
    return operations


def customer_operations(
    *,
    user,
    start: date,
    end: date,
    customer_id: int | None = None,
    q: str = "",
    service: str = "",
    status: str = "",
) -> list[CustomerOperations]:
    """Orders and licence change requests created in the period, by status, per customer (one
    grouped query per kind of operation, whatever the number of customers); `service` keeps one
    marketplace's, `status` ("orders:failed") one job status."""
    rows: dict[int, CustomerOperations] = {}
    for kind, model in _operation_sources():
        operations = _operations_of(
            kind=kind, model=model, user=user, start=start, end=end, customer_id=customer_id, q=q, service=service,
            status=status,
        )  # fmt: skip
        for customer_pk, customer_name, job_status, count in (
            operations.order_by()
            .values_list("customer_tenant__customer_id", "customer_tenant__customer__name", "status")
            .annotate(count=Count("pk"))
        ):
            row = rows.setdefault(customer_pk, CustomerOperations(customer_pk=customer_pk, customer_name=customer_name))
            getattr(row, kind)[job_status] = count
    return sorted(rows.values(), key=lambda row: (row.customer_name.lower(), row.customer_pk))


@dataclass
class ServiceCard:
    """One online service (marketplace) of the customer operations report: its operations in the period."""

    service: str
    label: str
    orders: int = 0
    requests: int = 0
    customers: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return self.orders + self.requests


def operation_service_cards(
    *, user, start: date, end: date, customer_id: int | None = None, q: str = "", status: str = ""
) -> list[ServiceCard]:
    """The report's service cards: per marketplace, the orders and licence requests in the period (the
    job status filter applies, the chosen service does not: every card stays clickable)."""
    labels = dict(MarketplaceSlug.choices)
    cards: dict[str, ServiceCard] = {}
    for kind, model in _operation_sources():
        operations = _operations_of(
            kind=kind, model=model, user=user, start=start, end=end, customer_id=customer_id, q=q, service="",
            status=status,
        )  # fmt: skip
        for path in OPERATION_SERVICE_PATHS[kind]:
            for service, customer_pk, count in (
                operations.filter(**{f"{path}__isnull": False})
                .order_by()
                .values_list(path, "customer_tenant__customer_id")
                .annotate(count=Count("pk"))
            ):
                card = cards.setdefault(service, ServiceCard(service=service, label=str(labels.get(service, service))))
                setattr(card, kind, getattr(card, kind) + count)
                card.customers.add(customer_pk)
            if kind == "requests":
                operations = operations.filter(**{f"{path}__isnull": True})  # counted once, by its subscription first
    return sorted(cards.values(), key=lambda card: card.label.lower())


def operation_status_choices() -> list[tuple[str, str]]:
    """The job status filter: every status of every kind of operation, as "kind:status"."""
    kind_labels = {"orders": _("Orders"), "requests": _("Licence requests")}
    return [
        (f"{kind}:{status}", f"{kind_labels[kind]}: {label}")
        for kind, choices in operation_statuses().items()
        for status, label in choices
    ]


def operation_statuses() -> dict[str, list[tuple[str, str]]]:
    """{kind: [(status, label)]} for the columns of the report."""
    statuses = {}
    for kind, model in _operation_sources():
        statuses[kind] = list(model._meta.get_field("status").choices)
    return statuses


# -- money from today's subscriptions (overview and custom report) -----------------------------------------------------


@dataclass(frozen=True)
class PricedSubscription:
    customer_pk: int
    customer_name: str
    customer_country: str
    account_pk: int
    account_name: str
    name: str
    billing_cycle: str
    status: str
    quantity: int
    assigned: int | None
    currency: str
    monthly_revenue: Decimal | None
    monthly_cost: Decimal | None


def _current_subscriptions(*, user, account_id: int | None = None) -> QuerySet[Subscription]:
    """The visible subscriptions the money of today counts: active and suspended ones."""
    rows = Subscription.objects.filter(
        customer_tenant__customer_id__in=_visible_customer_ids(user), status__in=("active", "suspended")
    )
    if account_id:
        rows = rows.filter(account_id=account_id)
    return rows


def priced_subscriptions(
    *, user, account_id: int | None = None, subscription_ids: list[int] | None = None
) -> Iterator[PricedSubscription]:
    """Every visible active subscription (or these of them) with its monthly revenue (the customer's
    price from the pricing chain) and cost (the marketplace's price), streamed in chunks."""
    rows = _current_subscriptions(user=user, account_id=account_id).order_by("customer_tenant__customer_id", "pk")
    if subscription_ids is not None:
        rows = rows.filter(pk__in=subscription_ids)
    book = PriceBook(offer_ids=rows.values_list("offer_id", flat=True).distinct())
    # The price each subscription is charged today (its price history), else the pricing chain's.
    today = timezone.localdate()
    prices = BillingPrices(book=book)
    prices.remember(rows.values_list("account_id", "external_id").iterator(chunk_size=5000), first=today, last=today)
    customers: dict[int, Customer] = {}
    values = rows.values_list(
        "customer_tenant__customer_id",
        "customer_tenant__customer__name",
        "customer_tenant__customer__country",
        "account_id",
        "account__display_name",
        "name",
        "billing_cycle",
        "status",
        "quantity",
        "assigned",
        "currency",
        "offer_id",
        "trial",
        "external_id",
    )
    for (
        customer_pk,
        customer_name,
        country,
        account_pk,
        account_name,
        name,
        cycle,
        status,
        quantity,
        assigned,
        currency,
        offer_id,
        trial,
        external_id,
    ) in values.iterator(chunk_size=2000):  # noqa: E501
        customer = customers.get(customer_pk)
        if customer is None:
            if len(customers) > 500:
                customers.clear()
                book.forget_customers()
            customer = customers[customer_pk] = Customer(pk=customer_pk, name=customer_name)
        _periods, price = prices.prices_over(
            account_id=account_pk,
            external_id=external_id,
            offer_id=offer_id,
            customer=customer,
            start=today,
            end=today,
        )
        revenue = cost = None
        if price is not None:
            seats = 0 if trial else quantity
            revenue = monthly_amount(price.amount, cycle) * seats
            cost = monthly_amount(price.cost, cycle) * seats
            currency = price.currency
        yield PricedSubscription(
            customer_pk=customer_pk,
            customer_name=customer_name,
            customer_country=str(country or ""),
            account_pk=account_pk,
            account_name=account_name,
            name=name,
            billing_cycle=cycle,
            status=status,
            quantity=quantity,
            assigned=assigned,
            currency=currency or "",
            monthly_revenue=revenue,
            monthly_cost=cost,
        )


@dataclass
class CostRow:
    """Monthly revenue and cost of one customer or one marketplace account, per currency."""

    key: int
    label: str
    currency: str
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    subscriptions: int = 0
    seats: int = 0
    unpriced: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.margin / self.revenue * 100).quantize(Decimal("0.1"))


@dataclass
class CostOverview:
    by_customer: list[CostRow]
    by_account: list[CostRow]
    totals: list[CostRow]


#: Today's price of each subscription summed per customer, account, currency and billing cycle in the
#: database: the price in effect today from its history (the latest from before tomorrow; when every
#: price starts later, the earliest day's last), as `BillingPrices.prices_over` picks it. A subscription
#: without history, or whose price lacks its cost, comes back in `fallback` for the pricing chain.
_COST_SQL = """
SELECT c.id, c.name, s.account_id, a.display_name, p.currency, s.billing_cycle,
       COUNT(*) FILTER (WHERE p.cost_price IS NOT NULL),
       COALESCE(SUM(s.quantity) FILTER (WHERE p.cost_price IS NOT NULL), 0),
       SUM(p.unit_price * CASE WHEN s.trial THEN 0 ELSE s.quantity END) FILTER (WHERE p.cost_price IS NOT NULL),
       SUM(p.cost_price * CASE WHEN s.trial THEN 0 ELSE s.quantity END) FILTER (WHERE p.cost_price IS NOT NULL),
       ARRAY_AGG(s.id) FILTER (WHERE p.cost_price IS NULL)
FROM {subscription} s
JOIN {tenant} t ON t.id = s.customer_tenant_id
JOIN {customer} c ON c.id = t.customer_id
JOIN {account} a ON a.id = s.account_id
LEFT JOIN LATERAL (
    SELECT sp.unit_price, sp.cost_price, sp.currency FROM {price} sp
    WHERE sp.account_id = s.account_id AND sp.external_id = s.external_id
    ORDER BY (sp.effective_from < %s) DESC,
             CASE WHEN sp.effective_from < %s THEN sp.effective_from END DESC,
             CASE WHEN sp.effective_from < %s THEN sp.id END DESC,
             (sp.effective_from AT TIME ZONE %s)::date, sp.effective_from DESC, sp.id DESC
    LIMIT 1
) p ON TRUE
WHERE s.id IN ({ids})
GROUP BY c.id, c.name, s.account_id, a.display_name, p.currency, s.billing_cycle
"""


def _cost_sums(*, user, account_id: int | None) -> tuple[list[tuple], list[int]]:
    """(customer id, name, account id, name, currency, billing cycle, subscriptions, seats, sum of unit
    price × billed seats, sum of cost × billed seats) per group, and the subscriptions left to the chain."""
    from django.db import connection

    from customers.models import CustomerTenant
    from subscriptions.models import SubscriptionPrice
    from subscriptions.selectors_prices import day_start

    ids_sql, ids_params = _current_subscriptions(user=user, account_id=account_id).values("pk").query.sql_with_params()
    sql = _COST_SQL.format(
        subscription=Subscription._meta.db_table,
        tenant=CustomerTenant._meta.db_table,
        customer=Customer._meta.db_table,
        account=MarketplaceAccount._meta.db_table,
        price=SubscriptionPrice._meta.db_table,
        ids=ids_sql,
    )
    tomorrow = day_start(timezone.localdate() + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(sql, [tomorrow, tomorrow, tomorrow, timezone.get_current_timezone_name(), *ids_params])
        rows = cursor.fetchall()
    fallback = [pk for row in rows for pk in (row[10] or [])]
    return [row[:10] for row in rows if row[6]], fallback


def cost_overview(*, user, account_id: int | None = None) -> CostOverview:
    """Overview cost report: monthly cost and revenue per customer and per marketplace
    account, from today's subscriptions and the partner's custom prices.

    The database sums each group's unit prices × seats per billing cycle (exact: sums and products
    of decimals); a group's monthly amount is that sum over the cycle's months, and totals are
    rounded once, at the end (`money_round`). Only subscriptions without a price history of their
    own (or without its cost) are priced one by one through the pricing chain."""
    by_customer: dict[tuple[int, str], CostRow] = {}
    by_account: dict[tuple[int, str], CostRow] = {}
    totals: dict[str, CostRow] = {}

    def add(customer, account, currency, subscriptions, seats, revenue, cost, unpriced) -> None:
        currency = currency or "-"
        for groups, key, label in (
            (by_customer, (customer[0], currency), customer[1]),
            (by_account, (account[0], currency), account[1]),
            (totals, currency, ""),
        ):
            target = groups.get(key)
            if target is None:
                target = groups[key] = CostRow(
                    key=key[0] if isinstance(key, tuple) else 0, label=label, currency=currency
                )
            target.subscriptions += subscriptions
            target.seats += seats
            target.unpriced += unpriced
            if revenue is not None:
                target.revenue += revenue
                target.cost += cost

    sums, fallback = _cost_sums(user=user, account_id=account_id)
    for customer_pk, customer_name, account_pk, account_name, currency, cycle, count, seats, price, cost in sums:
        add(
            (customer_pk, customer_name),
            (account_pk, account_name),
            currency,
            count,
            seats,
            monthly_amount(price, cycle),
            monthly_amount(cost, cycle),
            0,
        )
    if fallback:
        for row in priced_subscriptions(user=user, account_id=account_id, subscription_ids=fallback):
            priced = row.monthly_revenue is not None
            add(
                (row.customer_pk, row.customer_name),
                (row.account_pk, row.account_name),
                row.currency,
                1,
                row.quantity,
                row.monthly_revenue,
                row.monthly_cost,
                0 if priced else 1,
            )
    for groups in (by_customer, by_account, totals):
        for target in groups.values():
            if target.currency != "-":
                target.revenue = money_round(target.revenue, target.currency)
                target.cost = money_round(target.cost, target.currency)
    return CostOverview(
        by_customer=sorted(by_customer.values(), key=lambda r: (-r.revenue, r.label.lower())),
        by_account=sorted(by_account.values(), key=lambda r: (-r.revenue, r.label.lower())),
        totals=sorted(totals.values(), key=lambda r: r.currency),
    )


# -- custom report --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomReportRow:
    label: str
    value: Decimal
    share: Decimal  # percent of the total


@dataclass(frozen=True)
class CustomReport:
    dimension: str
    measure: str
    rows: list[CustomReportRow]
    total: Decimal
    currency: str  # money measures: the currency shown (one at a time), else ""
    currencies: tuple[str, ...] = ()


_DIMENSION_FIELDS = {
    CustomDimension.CUSTOMER: "customer_tenant__customer__name",
    CustomDimension.MARKETPLACE: "account__display_name",
    CustomDimension.PRODUCT: "name",
    CustomDimension.BILLING_CYCLE: "billing_cycle",
    CustomDimension.STATUS: "status",
    CustomDimension.COUNTRY: "customer_tenant__customer__country",
}
_DIMENSION_ATTRIBUTES = {
    CustomDimension.CUSTOMER: "customer_name",
    CustomDimension.MARKETPLACE: "account_name",
    CustomDimension.PRODUCT: "name",
    CustomDimension.BILLING_CYCLE: "billing_cycle",
    CustomDimension.STATUS: "status",
    CustomDimension.COUNTRY: "customer_country",
}


def _dimension_label(dimension: str, value) -> str:
    from django_countries import countries

    from catalog.choices import BILLING_CYCLE_CHOICES
    from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES

    if value in (None, ""):
        return "—"
    if dimension == CustomDimension.BILLING_CYCLE:
        return str(dict(BILLING_CYCLE_CHOICES).get(value, value))
    if dimension == CustomDimension.STATUS:
        return str(dict(SUBSCRIPTION_STATUS_CHOICES).get(value, value))
    if dimension == CustomDimension.COUNTRY:
        return countries.name(str(value)) or str(value)
    return str(value)


def _with_shares(values: dict[str, Decimal]) -> tuple[list[CustomReportRow], Decimal]:
    total = sum(values.values(), ZERO)
    rows = [
        CustomReportRow(
            label=label,
            value=value,
            share=(value / total * 100).quantize(Decimal("0.1")) if total else ZERO,
        )
        for label, value in values.items()
    ]
    rows.sort(key=lambda row: (-row.value, row.label.lower()))
    return rows, total


def custom_report(*, user, dimension: str, measure: str, currency: str = "") -> CustomReport:
    """Today's subscriptions grouped by `dimension`, measured by `measure`."""
    if measure in (CustomMeasure.REVENUE, CustomMeasure.COST):
        sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        attribute = _DIMENSION_ATTRIBUTES[dimension]
        for row in priced_subscriptions(user=user):
            amount = row.monthly_revenue if measure == CustomMeasure.REVENUE else row.monthly_cost
            if amount is None:
                continue
            label = _dimension_label(dimension, getattr(row, attribute))
            sums[row.currency][label] += amount
        currencies = tuple(sorted(sums))
        chosen = currency if currency in sums else (currencies[0] if currencies else "")
        values = {label: money_round(value, chosen) for label, value in sums.get(chosen, {}).items()}
        rows, total = _with_shares(values)
        return CustomReport(dimension, measure, rows, total, chosen, currencies)

    subscriptions = Subscription.objects.filter(customer_tenant__customer_id__in=_visible_customer_ids(user))
    aggregate = {
        CustomMeasure.SUBSCRIPTIONS: Count("pk"),
        CustomMeasure.SEATS: Sum("quantity"),
        CustomMeasure.ASSIGNED: Sum("assigned"),
        CustomMeasure.UNASSIGNED: Sum(F("quantity") - F("assigned"), filter=Q(assigned__isnull=False)),
    }[measure]
    if measure != CustomMeasure.SUBSCRIPTIONS:
        subscriptions = subscriptions.filter(status__in=("active", "suspended"))
    grouped = subscriptions.order_by().values_list(_DIMENSION_FIELDS[dimension]).annotate(value=aggregate)
    values: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key, value in grouped:
        values[_dimension_label(dimension, key)] += Decimal(value or 0)
    rows, total = _with_shares(dict(values))
    return CustomReport(dimension, measure, rows, total, "")


def saved_reports_of(*, user) -> QuerySet[SavedReport]:
    return SavedReport.objects.filter(owner=user)


def saved_report_get(*, user, pk: int) -> SavedReport | None:
    return SavedReport.objects.filter(owner=user, pk=pk).first()


def cost_overview_cached(*, user, account_id: int | None = None) -> CostOverview:
    """`cost_overview` as the screen opens it: computed once per day, user scope and account filter
    while the subscriptions and their price history stay as they are (the key carries their last
    change and count); a catalog price edit, which reaches only subscriptions without a history of
    their own, shows within `REPORT_CACHE_SECONDS`."""
    from reports.report_cache import cache_key, cached_value, scope_signature
    from subscriptions.models import SubscriptionPrice

    subscriptions = Subscription.objects.aggregate(changed=Max("updated"), count=Count("pk"))
    prices = SubscriptionPrice.objects.aggregate(last=Max("pk"), count=Count("pk"))
    key = cache_key(
        "cost",
        timezone.localdate(),
        account_id,
        subscriptions["changed"],
        subscriptions["count"],
        prices["last"],
        prices["count"],
        scope_signature(user),
    )
    return cached_value(key=key, compute=lambda: cost_overview(user=user, account_id=account_id))
