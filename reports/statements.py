"""Issued billing statements: a closed billing cycle, frozen per customer and currency.

An invoice a partner sent must come out the same a year later, whatever happened since: a customer
price edited, a subscription renamed, a marketplace correcting a quantity late. So when a cycle
closes (`billing_cycle_close`, by beat the day after the partner's billing day), every line the
billing computation produces for it is written down as it is then, and from that moment the billing
report, its exports, the PDF and reconciliation read the cycle from here (`billing_report` asks
`issued_cycles` which cycles are issued). Statements are never updated: a difference learned later
is an adjustment line of the next statement, valued at the unit price the corrected cycle was issued
with (a late quantity is a correction; a later price is not).

The close streams the bills of one cycle customer by customer and writes statements and lines in
bulk, a few hundred customers at a time.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.pricing import PriceStep, ResolvedPrice
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from reports.billing import (
    BillingCycle,
    BillingLine,
    IssuedLine,
    billed_quantity,
    last_complete_cycle,
    line_repriced,
    lines_cost_total,
    lines_total,
)
from reports.billing_report import EVERY_CUSTOMER, SubscriptionBill, billing_bills, customer_scope
from reports.choices import BillingLineKind
from reports.models import BillingCycleClose, BillingStatement, BillingStatementLine

ZERO = Decimal(0)
#: Issued cycles before the one closing that are checked for late corrections.
ADJUSTMENT_LOOKBACK_CYCLES = 3
#: Statements written per bulk insert (their lines follow in one more).
STATEMENT_BATCH = 500
BILLED_KINDS = (BillingLineKind.CYCLE_FEE, BillingLineKind.PRO_RATA, BillingLineKind.ONE_TIME)


@dataclass
class IssuedBill(SubscriptionBill):
    """A subscription's bill as a statement issued it."""

    issued_at: datetime | None = None
    friendly_name: str = ""
    po_number: str = ""


@dataclass
class CycleCloseResult:
    cycle: BillingCycle
    already_closed: bool = False
    dry_run: bool = False
    statements: int = 0
    lines: int = 0
    adjustments: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.already_closed:
            return f"{self.cycle.start}..{self.cycle.end} was already issued: nothing changed."
        verb = "would issue" if self.dry_run else "issued"
        money = ", ".join(f"{amount} {currency or '-'}" for currency, amount in sorted(self.totals.items()))
        return (
            f"{self.cycle.start}..{self.cycle.end}: {verb} {self.statements} statement(s), {self.lines} line(s), "
            f"{self.adjustments} adjustment(s); {money or 'nothing billed'}."
        )


# -- reads ---------------------------------------------------------------------------------------------------------


def issued_cycles(cycles: Iterable[BillingCycle]) -> dict[BillingCycle, BillingCycleClose]:
    """The cycles among these that have been issued, with their close."""
    wanted = set(cycles)
    if not wanted:
        return {}
    closes = BillingCycleClose.objects.filter(
        cycle_start__in={cycle.start for cycle in wanted}, cycle_end__in={cycle.end for cycle in wanted}
    )
    found = {BillingCycle(start=close.cycle_start, end=close.cycle_end): close for close in closes}
    return {cycle: close for cycle, close in found.items() if cycle in wanted}


def _cycle_filter(cycles: Iterable[BillingCycle], prefix: str = "") -> dict:
    cycles = list(cycles)
    return {
        f"{prefix}cycle_start__in": {cycle.start for cycle in cycles},
        f"{prefix}cycle_end__in": {cycle.end for cycle in cycles},
    }


def statement_totals(
    *, user, cycles: Iterable[BillingCycle], customer_id: int | None = None
) -> dict[BillingCycle, list[tuple]]:
    """The issued statements' totals the user may see, by cycle: (customer id, customer name,
    currency, total, cost or None, subscriptions, without price) per customer and currency.
    Plain tuples: opening a closed cycle of thousands of customers is this loop."""
    by_key = {(cycle.start, cycle.end): cycle for cycle in cycles}
    if not by_key:
        return {}
    from reports.report_cache import cache_key, cached_value, scope_signature

    # Issued statements never change: read once per scope and kept (the key names the closes by id).
    closes = sorted(
        BillingCycleClose.objects.filter(**_cycle_filter(by_key.values())).values_list(
            "pk", "cycle_start", "cycle_end", "issued_at"
        )
    )
    key = cache_key("statement-totals", closes, customer_id, user is EVERY_CUSTOMER or scope_signature(user))
    grouped = cached_value(
        key=key, compute=lambda: _statement_totals(user=user, cycles=by_key, customer_id=customer_id)
    )
    return {by_key[key]: values for key, values in grouped.items() if key in by_key}


def _statement_totals(*, user, cycles: dict, customer_id: int | None) -> dict[tuple[date, date], list[tuple]]:
    by_key = cycles
    rows = BillingStatement.objects.filter(customer_id__in=customer_scope(user), **_cycle_filter(by_key.values()))
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    grouped: dict[tuple[date, date], list[tuple]] = {}
    for start, end, *values in rows.order_by().values_list(
        "cycle_start",
        "cycle_end",
        "customer_id",
        "customer_name",
        "currency",
        "total",
        "cost_total",
        "subscription_count",
        "unpriced_count",
    ):
        grouped.setdefault((start, end), []).append(tuple(values))
    return grouped


#: What a statement line holds of its subscription and computation: read back (LINE_VALUES) and
#: written (LINE_COLUMNS) in the same order, so a new field is added in one place.
LINE_FIELDS = (
    "tracked_id",
    "account_id",
    "account_name",
    "subscription_name",
    "friendly_name",
    "po_number",
    "offer_name",
    "offer_external_id",
    "billing_cycle",
    "kind",
    "day",
    "quantity",
    "days",
    "period_days",
    "unit_price",
    "amount",
    "unit_cost",
    "cost_amount",
    "price_steps",
    "adjusts_cycle_start",
    "adjusts_cycle_end",
    "issued_amount",
    "issued_quantity",
)
LINE_VALUES = (
    "statement__cycle_start",
    "statement__cycle_end",
    "statement__customer_id",
    "statement__customer_name",
    "statement__currency",
    "statement__issued_at",
    *LINE_FIELDS,
)


def _issued_line(row: dict) -> IssuedLine:
    adjusts = None
    if row["adjusts_cycle_start"] and row["adjusts_cycle_end"]:
        adjusts = BillingCycle(start=row["adjusts_cycle_start"], end=row["adjusts_cycle_end"])
    return IssuedLine(
        kind=BillingLineKind(row["kind"]),
        day=row["day"],
        quantity=row["quantity"],
        days=row["days"],
        period_days=row["period_days"],
        unit_price=row["unit_price"],
        amount=row["amount"],
        currency=row["statement__currency"],
        unit_cost=row["unit_cost"],
        cost_amount=row["cost_amount"],
        adjusts=adjusts,
        issued_amount=row["issued_amount"],
        issued_quantity=row["issued_quantity"],
    )


def _issued_price(row: dict) -> ResolvedPrice | None:
    if row["unit_price"] is None:
        return None
    steps = tuple(
        PriceStep(label=label, amount=Decimal(amount), detail=detail) for label, amount, detail in row["price_steps"]
    )
    return ResolvedPrice(
        amount=row["unit_price"],
        currency=row["statement__currency"],
        cost=row["unit_cost"] if row["unit_cost"] is not None else ZERO,
        suggested_retail=None,
        steps=steps,
    )


def _issued_bills(lines) -> Iterator[IssuedBill]:
    """Bills from statement lines ordered by statement, subscription and position."""
    bill: IssuedBill | None = None
    key = None
    for row in lines.values(*LINE_VALUES).iterator(chunk_size=5000):
        cycle = BillingCycle(start=row["statement__cycle_start"], end=row["statement__cycle_end"])
        row_key = (
            cycle,
            row["statement__customer_id"],
            row["statement__currency"],
            row["tracked_id"],
            row["subscription_name"],
        )
        if row_key != key:
            if bill is not None:
                yield bill
            key = row_key
            bill = IssuedBill(
                tracked_pk=row["tracked_id"] or 0,
                customer_pk=row["statement__customer_id"],
                customer_name=row["statement__customer_name"],
                account_pk=row["account_id"],
                account_name=row["account_name"],
                name=row["subscription_name"],
                offer_name=row["offer_name"],
                offer_external_id=row["offer_external_id"],
                billing_cycle=row["billing_cycle"],
                cycle=cycle,
                currency=row["statement__currency"],
                lines=[],
                price=_issued_price(row),
                issued_at=row["statement__issued_at"],
                friendly_name=row["friendly_name"],
                po_number=row["po_number"],
            )
        if bill.price is None and row["unit_price"] is not None:
            bill.price = _issued_price(row)
        if row["kind"]:
            bill.lines.append(_issued_line(row))
    if bill is not None:
        yield bill


def _statement_lines(customer_ids: Sequence[int], cycles: Iterable[BillingCycle], *, account_id: int | None):
    lines = BillingStatementLine.objects.filter(
        statement__customer_id__in=customer_ids, **_cycle_filter(cycles, prefix="statement__")
    )
    if account_id:
        lines = lines.filter(account_id=account_id)
    return lines.order_by(
        "statement__customer_name",
        "statement__customer_id",
        "subscription_name",
        "tracked_id",
        "statement__cycle_start",
        "position",
    )


def issued_bills_by_subscription(
    customer_ids: Sequence[int], cycles: Iterable[BillingCycle], *, account_id: int | None = None
) -> dict[int, list[IssuedBill]]:
    """The issued bills of these customers in these issued cycles, by tracked subscription (in
    customer, subscription, cycle order), for the billing report to merge with computed cycles."""
    cycles = set(cycles)
    bills: dict[int, list[IssuedBill]] = {}
    for bill in _issued_bills(_statement_lines(customer_ids, cycles, account_id=account_id)):
        if bill.cycle in cycles:
            bills.setdefault(bill.tracked_pk, []).append(bill)
    return bills


@dataclass(frozen=True)
class IssuedBillTotal:
    """What an issued bill comes to, without its lines: the figures reconciliation puts side by side."""

    tracked_pk: int
    customer_pk: int
    customer_name: str
    account_pk: int
    offer_external_id: str
    name: str
    currency: str
    billed_quantity: int
    total: Decimal
    unit_price: Decimal | None


def issued_bill_totals(
    *, user, cycle: BillingCycle, customer_id: int | None = None, account_id: int | None = None
) -> list[IssuedBillTotal]:
    """Every issued bill of one issued cycle the user may see, summed in the database in one query
    (however many customers): the same bills `issued_bills_by_subscription` rebuilds line by line
    (a statement's lines grouped by customer, currency, subscription), in the billing report's order.
    The seats are `billed_quantity`'s (fees and additions minus refunds), the total `lines_total`'s
    (every line, adjustments too), the unit price the first line's that has one."""
    from django.contrib.postgres.aggregates import ArrayAgg
    from django.db.models import Case, F, IntegerField, Q, Sum, Value, When

    lines = BillingStatementLine.objects.filter(
        statement__customer_id__in=customer_scope(user), **_cycle_filter([cycle], prefix="statement__")
    )
    if customer_id:
        lines = lines.filter(statement__customer_id=customer_id)
    if account_id:
        lines = lines.filter(account_id=account_id)
    seats = Case(
        When(kind__in=BILLED_KINDS, then=F("quantity")),
        When(kind=BillingLineKind.REFUND, then=-F("quantity")),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = (
        lines.values(
            "statement__customer_id",
            "statement__customer_name",
            "statement__currency",
            "tracked_id",
            "subscription_name",
        )
        .annotate(
            seats=Sum(seats),
            total=Sum("amount"),
            accounts=ArrayAgg("account_id", order_by=("position",)),
            offers=ArrayAgg("offer_external_id", order_by=("position",)),
            prices=ArrayAgg("unit_price", filter=Q(unit_price__isnull=False), order_by=("position",)),
        )
        .order_by(
            "statement__customer_name",
            "statement__customer_id",
            "subscription_name",
            "tracked_id",
            "statement__currency",
        )
    )
    return [
        IssuedBillTotal(
            tracked_pk=row["tracked_id"] or 0,
            customer_pk=row["statement__customer_id"],
            customer_name=row["statement__customer_name"],
            account_pk=row["accounts"][0],
            offer_external_id=row["offers"][0],
            name=row["subscription_name"],
            currency=row["statement__currency"],
            billed_quantity=row["seats"] or 0,
            total=row["total"] if row["total"] is not None else ZERO,
            unit_price=row["prices"][0] if row["prices"] else None,
        )
        for row in rows
    ]


# -- closing a cycle ---------------------------------------------------------------------------------------------------


def _steps(price: ResolvedPrice | None) -> list:
    if price is None:
        return []
    return [[str(step.label), str(step.amount), str(step.detail)] for step in price.steps]


@dataclass
class _Adjustment:
    bill: SubscriptionBill  # the recomputed bill of the corrected cycle
    line: IssuedLine


@dataclass
class _Issued:
    """What earlier statements say about one subscription in one cycle."""

    customer_pk: int
    currency: str
    amount: Decimal = ZERO
    cost: Decimal | None = ZERO
    seats: int = 0
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None


def _issued_so_far(cycles: Sequence[BillingCycle]) -> dict[tuple[int, BillingCycle], _Issued]:
    """(tracked id, cycle) → the amount and seats issued for it: the cycle's own lines and every
    adjustment issued for it since."""
    issued: dict[tuple[int, BillingCycle], _Issued] = {}
    wanted = set(cycles)

    def take(tracked_id, cycle, customer_id, currency, kind, quantity, amount, cost_amount, unit_price, unit_cost):
        if tracked_id is None or customer_id is None or cycle not in wanted:
            return
        entry = issued.get((tracked_id, cycle))
        if entry is None:
            entry = issued[(tracked_id, cycle)] = _Issued(customer_pk=customer_id, currency=currency)
        if not kind:
            return
        entry.amount += amount
        entry.cost = None if entry.cost is None or cost_amount is None else entry.cost + cost_amount
        if kind in BILLED_KINDS or kind == BillingLineKind.ADJUSTMENT:
            entry.seats += quantity
        elif kind == BillingLineKind.REFUND:
            entry.seats -= quantity
        if entry.unit_price is None and unit_price is not None:
            entry.unit_price, entry.unit_cost = unit_price, unit_cost

    own = (
        BillingStatementLine.objects.filter(**_cycle_filter(wanted, prefix="statement__"))
        .exclude(kind=BillingLineKind.ADJUSTMENT)  # a statement's adjustments belong to earlier cycles
        .values_list(
            "tracked_id",
            "statement__cycle_start",
            "statement__cycle_end",
            "statement__customer_id",
            "statement__currency",
            "kind",
            "quantity",
            "amount",
            "cost_amount",
            "unit_price",
            "unit_cost",
        )
    )
    for tracked_id, start, end, *rest in own.iterator(chunk_size=5000):
        take(tracked_id, BillingCycle(start=start, end=end), *rest)
    later = BillingStatementLine.objects.filter(
        kind=BillingLineKind.ADJUSTMENT, **_cycle_filter(wanted, prefix="adjusts_")
    ).values_list(
        "tracked_id",
        "adjusts_cycle_start",
        "adjusts_cycle_end",
        "statement__customer_id",
        "statement__currency",
        "kind",
        "quantity",
        "amount",
        "cost_amount",
        "unit_price",
        "unit_cost",
    )
    for tracked_id, start, end, *rest in later:
        take(tracked_id, BillingCycle(start=start, end=end), *rest)
    return issued


def _earlier_issued_cycles(cycle: BillingCycle) -> list[BillingCycle]:
    closes = BillingCycleClose.objects.filter(cycle_end__lt=cycle.start).order_by("-cycle_start")
    return [BillingCycle(start=close.cycle_start, end=close.cycle_end) for close in closes[:ADJUSTMENT_LOOKBACK_CYCLES]]


def _adjustment(bill: SubscriptionBill, before: _Issued | None, *, cycle: BillingCycle) -> IssuedLine | None:
    """The correction of an issued cycle's bill, recomputed now, at the unit price it was issued
    with; None when it still comes to what was issued (or cannot be recomputed: no price)."""
    if bill.price is None:
        return None  # its offer left the catalog: nothing can be recomputed, nothing is corrected
    lines: list[BillingLine] = bill.lines
    currency = bill.currency
    if before is not None and before.unit_price is not None:
        currency = before.currency
        lines = [line_repriced(line, unit_price=before.unit_price, unit_cost=before.unit_cost) for line in lines]
    before = before or _Issued(customer_pk=bill.customer_pk, currency=currency)
    now_amount = lines_total(lines)
    if now_amount == before.amount:
        return None
    now_cost = lines_cost_total(lines)
    known_price = before.unit_price is not None
    return IssuedLine(
        kind=BillingLineKind.ADJUSTMENT,
        day=cycle.start,
        quantity=billed_quantity(lines) - before.seats,
        days=0,
        period_days=0,
        unit_price=before.unit_price if known_price else bill.price.amount,
        amount=now_amount - before.amount,
        currency=currency,
        unit_cost=before.unit_cost if known_price else bill.price.cost,
        cost_amount=None if now_cost is None or before.cost is None else now_cost - before.cost,
        adjusts=bill.cycle,
        issued_amount=before.amount,
        issued_quantity=before.seats,
    )


LINE_COLUMNS = ("statement_id", "position", *LINE_FIELDS)


class _Writer:
    """Statements and their lines, written in bulk batches: statements through the ORM (their ids
    are needed), lines as plain rows (tens of thousands per cycle; model instances would cost more
    than the insert)."""

    def __init__(self, *, close: BillingCycleClose | None, cycle: BillingCycle, issued_at: datetime | None) -> None:
        self.close, self.cycle, self.issued_at = close, cycle, issued_at
        self.pending: list[tuple[BillingStatement, list[dict]]] = []
        self.result = CycleCloseResult(cycle=cycle, dry_run=close is None)

    def add(
        self,
        *,
        customer_pk: int,
        customer_name: str,
        bills: list[SubscriptionBill],
        adjustments: list[_Adjustment],
    ) -> None:
        by_currency: dict[str, list[tuple[SubscriptionBill, list[BillingLine], bool]]] = defaultdict(list)
        for bill in bills:
            by_currency[bill.currency].append((bill, bill.lines, True))
        for adjustment in adjustments:
            by_currency[adjustment.line.currency].append((adjustment.bill, [adjustment.line], False))
        for currency, entries in sorted(by_currency.items()):
            statement = BillingStatement(
                close=self.close,
                customer_id=customer_pk,
                customer_name=customer_name,
                cycle_start=self.cycle.start,
                cycle_end=self.cycle.end,
                currency=currency,
                issued_at=self.issued_at,
                total=ZERO,
                cost_total=ZERO,
            )
            lines: list[dict] = []
            subscriptions = set()
            for bill, bill_lines, own in entries:
                subscriptions.add((bill.tracked_pk, bill.name))
                if own and bill.price is None:
                    statement.unpriced_count += 1
                common = {
                    "tracked_id": bill.tracked_pk or None,
                    "account_id": bill.account_pk,
                    "account_name": bill.account_name or "",
                    "subscription_name": bill.name,
                    # As the order named it (the subscription's options): frozen with the line.
                    "friendly_name": bill.friendly_name or "",
                    "po_number": bill.po_number or "",
                    "offer_name": bill.offer_name or "",
                    "offer_external_id": bill.offer_external_id or "",
                    "billing_cycle": bill.billing_cycle or "",
                }
                if not bill_lines:  # no price: kept so the issued cycle says so
                    lines.append({**common, "position": len(lines), "kind": "", "quantity": 0, "amount": ZERO})
                    continue
                steps = _steps(bill.price) if own else []
                for index, line in enumerate(bill_lines):
                    adjusts = getattr(line, "adjusts", None)
                    lines.append(
                        {
                            **common,
                            "position": len(lines),
                            "kind": str(line.kind),
                            "day": line.day,
                            "quantity": line.quantity,
                            "days": line.days,
                            "period_days": line.period_days,
                            "unit_price": line.unit_price,
                            "amount": line.amount,
                            "unit_cost": line.unit_cost,
                            "cost_amount": line.cost_amount,
                            "price_steps": steps if index == 0 else [],
                            "adjusts_cycle_start": adjusts.start if adjusts else None,
                            "adjusts_cycle_end": adjusts.end if adjusts else None,
                            "issued_amount": getattr(line, "issued_amount", None),
                            "issued_quantity": getattr(line, "issued_quantity", None),
                        }
                    )
                    statement.total += line.amount
                    if statement.cost_total is not None:
                        statement.cost_total = (
                            None if line.cost_amount is None else statement.cost_total + line.cost_amount
                        )
                    if line.kind == BillingLineKind.ADJUSTMENT:
                        self.result.adjustments += 1
            statement.subscription_count = len(subscriptions)
            self.result.statements += 1
            self.result.lines += len(lines)
            self.result.totals[currency] = self.result.totals.get(currency, ZERO) + statement.total
            self.pending.append((statement, lines))
        if len(self.pending) >= STATEMENT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.close is None or not self.pending:
            self.pending = []
            return
        statements = BillingStatement.objects.bulk_create([statement for statement, _ in self.pending])
        buffer = io.StringIO()
        for statement, lines in zip(statements, (lines for _, lines in self.pending), strict=True):
            for line in lines:
                line["statement_id"] = statement.pk
                line["friendly_name"] = line["friendly_name"][:255]
                line["po_number"] = line["po_number"][:64]
                line["price_steps"] = json.dumps(line.get("price_steps") or [])
                buffer.write(",".join(_csv_field(line.get(column), column) for column in LINE_COLUMNS) + "\n")
        buffer.seek(0)
        table = BillingStatementLine._meta.db_table
        with connection.cursor() as cursor:  # COPY: tens of thousands of rows in one round trip
            cursor.cursor.copy_expert(
                f'COPY "{table}" ({", ".join(LINE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)', buffer
            )
        self.pending = []


def _csv_field(value, column: str) -> str:
    """A CSV field for COPY: NULL is the unquoted empty field, every value is quoted (so an empty
    name stays an empty string)."""
    if value is None:
        return '"0"' if column in ("days", "period_days") else ""
    return '"' + str(value).replace('"', '""') + '"'


def billing_cycle_close(
    *, actor: Actor, cycle: BillingCycle, dry_run: bool = False, now: datetime | None = None
) -> CycleCloseResult:
    """Issue `cycle`: freeze every customer's lines as statements, with adjustment lines for late
    corrections of the cycles issued before. A cycle already issued is left as it is (idempotent:
    the close row is unique per cycle, so two closes racing write one set of statements).

    One pass over the bills: the cycle's own and, for the issued cycles just before it, the same
    subscriptions recomputed now, compared with what was issued for them."""
    if BillingCycleClose.objects.filter(cycle_start=cycle.start, cycle_end=cycle.end).exists():
        return CycleCloseResult(cycle=cycle, already_closed=True, dry_run=dry_run)
    now = now or timezone.now()
    earlier = _earlier_issued_cycles(cycle)
    issued = _issued_so_far(earlier)
    try:
        with transaction.atomic():
            close = None
            if not dry_run:
                close = BillingCycleClose.objects.create(
                    cycle_start=cycle.start,
                    cycle_end=cycle.end,
                    issued_at=now,
                    issued_by=actor_user(actor),
                )
            writer = _Writer(close=close, cycle=cycle, issued_at=now)
            customer: tuple[int, str] | None = None
            bills: list[SubscriptionBill] = []
            adjustments: list[_Adjustment] = []

            def issue() -> None:
                if customer is not None and (bills or adjustments):
                    writer.add(customer_pk=customer[0], customer_name=customer[1], bills=bills, adjustments=adjustments)

            for bill in billing_bills(
                user=EVERY_CUSTOMER, cycles=[*earlier, cycle], include_empty=True, from_statements=False
            ):
                if customer is None or customer[0] != bill.customer_pk:
                    issue()
                    customer, bills, adjustments = (bill.customer_pk, bill.customer_name), [], []
                if bill.cycle == cycle:
                    if bill.lines or bill.price is None:  # a bill without lines bills nothing
                        bills.append(bill)
                    continue
                line = _adjustment(bill, issued.pop((bill.tracked_pk, bill.cycle), None), cycle=cycle)
                if line is not None:
                    adjustments.append(_Adjustment(bill=bill, line=line))
            issue()
            # What is left in `issued` was not recomputed (its customer or tracking is gone, or it left
            # the report's reach long ago): it stays as issued.
            writer.flush()
            result = writer.result
            if close is not None:
                close.statement_count, close.line_count = result.statements, result.lines
                close.adjustment_count = result.adjustments
                close.save(update_fields=["statement_count", "line_count", "adjustment_count"])
                # A cycle's statements arrive all at once: without fresh statistics the planner takes
                # the tables for empty until autovacuum passes, and opening the cycle picks nested loops.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f'ANALYZE "{BillingStatement._meta.db_table}", "{BillingStatementLine._meta.db_table}"'
                    )
                audit_record(
                    actor=actor,
                    action=AuditAction.BILLING_CYCLE_CLOSE,
                    target=close,
                    target_label=f"{cycle.start} – {cycle.end}",
                    after={
                        "statements": result.statements,
                        "lines": result.lines,
                        "adjustments": result.adjustments,
                        "totals": {currency: str(amount) for currency, amount in result.totals.items()},
                    },
                )
    except IntegrityError:
        # Another close of the same cycle committed first: its statements stand.
        if BillingCycleClose.objects.filter(cycle_start=cycle.start, cycle_end=cycle.end).exists():
            return CycleCloseResult(cycle=cycle, already_closed=True, dry_run=dry_run)
        raise
    return result


def billing_cycles_close_due(*, actor: Actor, today: date | None = None, dry_run: bool = False) -> CycleCloseResult:
    """Close the last complete cycle of the partner's billing day (beat runs it daily; from the day
    after the billing day on, the cycle that ended then is due, and closing it again is a no-op)."""
    from reports.selectors import billing_cycle_end_day

    today = today or timezone.localdate()
    cycle = last_complete_cycle(today, cycle_end_day=billing_cycle_end_day())
    return billing_cycle_close(actor=actor, cycle=cycle, dry_run=dry_run)
