"""Billing arithmetic: pure functions, no database. Everything the billing report, its exports, the
PDF and reconciliation say about money is computed here, so it is tested here on crafted cases.

Billing cycles follow the partner's marketplace billing day: a cycle that ends on the
15th runs from the 16th of the previous month to the 15th and its report is dated the 16th. An end
day the month does not have (29 to 31) means that month's last day, so cycles always tile the
calendar without gaps or overlaps, leap years included.

The lines of one subscription in one cycle (Microsoft's rules as the marketplaces pass them on):
- monthly billing: a **cycle fee** for the seats held when the cycle starts (quantity × unit price);
  every increase inside the cycle adds a **pro-rata** line for the added seats and the days left
  (seats × unit price × days left / days in the cycle); a decrease inside the cancellation window of
  the seats it removes (7 days after they were added, NCE) is a **refund** by the same formula,
  negative; a later decrease is refunded nothing (**decrease without refund**, amount 0);
- annual / triennial billing: the same, but the period is the subscription's term year (or three
  years) counted from its start, so the fee falls in the cycle where the period starts and
  pro-rata / refund lines divide by the period's days (365, 366 in a leap year, 1,096...);
- one-time: a **one-time charge** when bought (and for seats added later), never refunded;
- usage or no billing cycle: nothing here (the marketplace's invoice has it; reconciliation shows it).

Unit prices are per billing period (the catalog's price for a monthly offer is per month, for an
annual one per year). Each line's amount is rounded to the currency (half up); totals add rounded
lines, so a printed invoice adds up.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from catalog.pricing import money_format, money_round, money_text, reader_number
from marketplace.providers.base import billing_cycle_months
from reports.choices import BillingLineKind

MONTH_END = 31
#: Days after seats are added during which removing them is refunded (NCE: 168 hours). A decrease
#: on the day of the addition or any of the next six days is inside; day seven is not.
REFUND_WINDOW_DAYS = 7
#: Statuses whose seats are billed. A suspended NCE subscription is still billed to its term's end.
BILLABLE_STATUSES = frozenset({"active", "suspended"})
ZERO = Decimal(0)


# -- billing cycles ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class BillingCycle:
    """A billing cycle, both ends inclusive."""

    start: date
    end: date

    @property
    def report_date(self) -> date:
        """The date the cycle's report carries: the day after it ends (a cycle ending on the 15th is dated the 16th)."""
        return self.end + timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def key(self) -> str:
        """A stable id for URLs and exports: the start date."""
        return self.start.isoformat()


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _check_end_day(cycle_end_day: int) -> None:
    if not 1 <= cycle_end_day <= MONTH_END:
        raise ValueError(f"A billing cycle ends on a day from 1 to {MONTH_END}, not {cycle_end_day}.")


def cycle_end_in_month(year: int, month: int, *, cycle_end_day: int) -> date:
    """The day a cycle ends in that month: the end day, or the month's last day when it is shorter."""
    _check_end_day(cycle_end_day)
    return date(year, month, min(cycle_end_day, calendar.monthrange(year, month)[1]))


def billing_cycle_ending_in(year: int, month: int, *, cycle_end_day: int) -> BillingCycle:
    """The cycle that ends in that month (the one "the report for that month" is about)."""
    previous_year, previous_month = _shift_month(year, month, -1)
    start = cycle_end_in_month(previous_year, previous_month, cycle_end_day=cycle_end_day) + timedelta(days=1)
    return BillingCycle(start=start, end=cycle_end_in_month(year, month, cycle_end_day=cycle_end_day))


def billing_cycle_containing(day: date, *, cycle_end_day: int) -> BillingCycle:
    if day <= cycle_end_in_month(day.year, day.month, cycle_end_day=cycle_end_day):
        return billing_cycle_ending_in(day.year, day.month, cycle_end_day=cycle_end_day)
    year, month = _shift_month(day.year, day.month, 1)
    return billing_cycle_ending_in(year, month, cycle_end_day=cycle_end_day)


def billing_cycles_ending_between(first: date, last: date, *, cycle_end_day: int) -> list[BillingCycle]:
    """One cycle per month from `first`'s month to `last`'s month, each the cycle ending in that month
    (a custom range over several months shows a billing report for each month)."""
    if last < first:
        first, last = last, first
    cycles = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        cycles.append(billing_cycle_ending_in(year, month, cycle_end_day=cycle_end_day))
        year, month = _shift_month(year, month, 1)
    return cycles


def last_complete_cycle(today: date, *, cycle_end_day: int) -> BillingCycle:
    current = billing_cycle_containing(today, cycle_end_day=cycle_end_day)
    return billing_cycle_containing(current.start - timedelta(days=1), cycle_end_day=cycle_end_day)


def recent_cycles(today: date, count: int, *, cycle_end_day: int) -> list[BillingCycle]:
    """The `count` complete cycles before today's, oldest first."""
    cycles = [last_complete_cycle(today, cycle_end_day=cycle_end_day)]
    while len(cycles) < count:
        cycles.append(billing_cycle_containing(cycles[-1].start - timedelta(days=1), cycle_end_day=cycle_end_day))
    return sorted(cycles)


# -- term periods (annual and triennial billing) -----------------------------------------------------------------------


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """`day` moved by whole months, keeping `anchor_day` (default: day's own) where the month has it:
    31 Jan + 1 month = 28/29 Feb, and + 2 months = 31 Mar again (never drifting to the 28th)."""
    year, month = _shift_month(day.year, day.month, months)
    wanted = anchor_day or day.day
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def term_period_containing(day: date, *, anchor: date, months: int) -> tuple[date, date]:
    """The (start, end inclusive) of the `months`-long period counted from `anchor` that holds `day`."""
    if months <= 0:
        raise ValueError("A term period lasts at least one month.")
    index = ((day.year - anchor.year) * 12 + (day.month - anchor.month)) // months
    start = add_months(anchor, index * months, anchor_day=anchor.day)
    if start > day:  # same month, earlier day: the period started a term before
        index -= 1
        start = add_months(anchor, index * months, anchor_day=anchor.day)
    return start, add_months(anchor, (index + 1) * months, anchor_day=anchor.day) - timedelta(days=1)


# -- quantities ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class QuantityChange:
    """From `day` on, `quantity` seats are billable (0: none, the subscription ended or is not billed)."""

    day: date
    quantity: int


def quantity_changes(days: Iterable[tuple[date, int, str]], *, trial: bool = False) -> list[QuantityChange]:
    """Billable quantity change points from daily snapshots (day, quantity, status), in day order.

    Days without a snapshot keep the last known quantity; a status that is not billed (pending,
    terminated, failed), or a trial, counts as 0 seats.
    """
    changes: list[QuantityChange] = []
    for day, quantity, status in sorted(days):
        billable = 0 if trial or status not in BILLABLE_STATUSES else int(quantity)
        if not changes or changes[-1].quantity != billable:
            changes.append(QuantityChange(day=day, quantity=billable))
    return changes


def quantity_on(changes: Sequence[QuantityChange], day: date) -> int:
    quantity = 0
    for change in changes:
        if change.day > day:
            break
        quantity = change.quantity
    return quantity


# -- lines ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingLine:
    """One transaction: `quantity` seats for `days` of a `period_days` period at `unit_price` each.

    Refunds carry positive seats and a negative amount. `cost_amount` is the same line at the unit
    cost price (what the partner pays the marketplace), for margins; None when no cost is known.
    """

    kind: BillingLineKind
    day: date
    quantity: int
    days: int
    period_days: int
    unit_price: Decimal
    amount: Decimal
    currency: str
    unit_cost: Decimal | None = None
    cost_amount: Decimal | None = None

    @property
    def kind_label(self) -> str:
        return str(BillingLineKind(self.kind).label)

    @property
    def is_full_period(self) -> bool:
        return self.days == self.period_days

    @property
    def formula(self) -> str:
        """How the amount was computed: seats × unit price (× days / days of the period) = amount, with the
        reader's decimal sign ("3 × 5,71 = 17,13" in German)."""
        return reader_number(self._formula_text)

    @property
    def _formula_text(self) -> str:
        price = money_text(self.unit_price, self.currency)
        amount = money_text(self.amount, self.currency)
        sign = "−" if self.amount < 0 else ""
        if self.kind == BillingLineKind.NO_REFUND:
            return f"{self.quantity} × {price} × 0 = {money_text(ZERO, self.currency)}"
        if self.is_full_period:
            return f"{sign}{self.quantity} × {price} = {amount}"
        return f"{sign}{self.quantity} × {price} × {self.days}/{self.period_days} = {amount}"


@dataclass(frozen=True)
class IssuedLine(BillingLine):
    """A line as an issued statement keeps it. An adjustment (kind `adjustment`) corrects the
    earlier cycle `adjusts`: it had issued `issued_amount` for `issued_quantity` seats, and what is
    known now differs by `amount` and `quantity` seats."""

    adjusts: BillingCycle | None = None
    issued_amount: Decimal | None = None
    issued_quantity: int | None = None

    @property
    def formula(self) -> str:
        if self.kind != BillingLineKind.ADJUSTMENT or self.adjusts is None:
            return super().formula
        from django.utils.formats import date_format
        from django.utils.translation import gettext

        issued = self.issued_amount or ZERO
        issued_quantity = self.issued_quantity or 0
        return gettext(
            "Adjustment for %(start)s – %(end)s: %(issued_seats)s → %(seats)s seats, %(issued)s → %(now)s"
        ) % {
            "start": date_format(self.adjusts.start, "SHORT_DATE_FORMAT"),
            "end": date_format(self.adjusts.end, "SHORT_DATE_FORMAT"),
            "issued_seats": issued_quantity,
            "seats": issued_quantity + self.quantity,
            "issued": money_format(issued, self.currency),
            "now": money_format(issued + self.amount, self.currency),
        }


def line_repriced(billing_line: BillingLine, *, unit_price: Decimal, unit_cost: Decimal | None) -> BillingLine:
    """The same transaction at another unit price: how a late quantity correction of an issued
    cycle is valued at the price that cycle was issued with (a price edited since changes nothing)."""
    sign = -1 if billing_line.kind == BillingLineKind.REFUND else 1

    def priced(price: Decimal) -> Decimal:
        if billing_line.kind == BillingLineKind.NO_REFUND:
            return money_round(ZERO, billing_line.currency)
        line = billing_line
        return sign * _amount(line.quantity, price, line.days, line.period_days, line.currency) + ZERO

    return BillingLine(
        kind=billing_line.kind,
        day=billing_line.day,
        quantity=billing_line.quantity,
        days=billing_line.days,
        period_days=billing_line.period_days,
        unit_price=unit_price,
        amount=priced(unit_price),
        currency=billing_line.currency,
        unit_cost=unit_cost,
        cost_amount=None if unit_cost is None else priced(unit_cost),
    )


def _amount(quantity: int, price: Decimal, days: int, period_days: int, currency: str) -> Decimal:
    if days == period_days:
        return money_round(quantity * price, currency)
    return money_round(quantity * price * days / period_days, currency)


@dataclass
class _Additions:
    """Seats added recently, newest last, to tell which removed seats are still refundable."""

    window_days: int
    batches: list[list] = field(default_factory=list)  # [day, seats]

    def add(self, day: date, seats: int) -> None:
        self.batches.append([day, seats])

    def take_refundable(self, day: date, seats: int) -> int:
        """Remove `seats` seats, newest first; return how many were inside their window."""
        refundable = 0
        while seats and self.batches:
            batch = self.batches[-1]
            taken = min(seats, batch[1])
            if (day - batch[0]).days < self.window_days:
                refundable += taken
            batch[1] -= taken
            seats -= taken
            if not batch[1]:
                self.batches.pop()
        return refundable


def billing_lines(
    *,
    cycle: BillingCycle,
    changes: Sequence[QuantityChange],
    billing_cycle: str,
    unit_price: Decimal,
    currency: str,
    anchor: date | None = None,
    unit_cost: Decimal | None = None,
    refund_window_days: int = REFUND_WINDOW_DAYS,
) -> list[BillingLine]:
    """The lines of one subscription in one cycle, in day order (see the module's docstring).

    `changes` is the whole known history of billable quantities (`quantity_changes`), earlier
    cycles included: refund windows reach back across the cycle's start. `anchor` is the day the
    subscription's term started (or last renewed), which fixes annual periods; when it is earlier
    than the first known change, the first known quantity is taken to have been held since then
    (history that starts after the subscription did must not bill a running subscription as new).
    """
    if billing_cycle in ("usage", "none", "") or not changes:
        return []
    ordered = sorted(changes)
    if anchor is None:
        anchor = ordered[0].day
    elif anchor < ordered[0].day:
        ordered[0] = QuantityChange(day=anchor, quantity=ordered[0].quantity)

    def line(kind: BillingLineKind, day: date, seats: int, days: int, period_days: int, sign: int = 1) -> BillingLine:
        def priced(price: Decimal) -> Decimal:
            if kind == BillingLineKind.NO_REFUND:
                return money_round(ZERO, currency)
            return sign * _amount(seats, price, days, period_days, currency) + ZERO  # + ZERO: never -0

        return BillingLine(
            kind=kind,
            day=day,
            quantity=seats,
            days=days,
            period_days=period_days,
            unit_price=unit_price,
            amount=priced(unit_price),
            currency=currency,
            unit_cost=unit_cost,
            cost_amount=None if unit_cost is None else priced(unit_cost),
        )

    if billing_cycle == "one_time":
        lines = []
        previous = 0
        for change in ordered:
            if change.day > cycle.end:
                break
            if change.quantity > previous and change.day in cycle:
                lines.append(line(BillingLineKind.ONE_TIME, change.day, change.quantity - previous, 1, 1))
            previous = change.quantity
        return lines

    months = billing_cycle_months(billing_cycle)
    if months == 1:  # a monthly fee follows the partner's cycle, not a term of its own
        months = None

    def period_of(day: date) -> tuple[date, date]:
        if months is None:  # monthly (and anything else recurring): the partner's cycle is the period
            return cycle.start, cycle.end
        return term_period_containing(day, anchor=anchor, months=months)

    fee_days = period_starts(cycle=cycle, anchor=anchor, months=months)
    # Changes before fees on the same day: a period's fee bills what is held on its first day.
    events = sorted(
        [(change.day, 0, change.quantity) for change in ordered if change.day <= cycle.end]
        + [(day, 1, 0) for day in fee_days]
    )
    additions = _Additions(window_days=refund_window_days)
    lines: list[BillingLine] = []
    previous = 0
    for day, is_fee, quantity in events:
        if is_fee:
            if previous:
                start, end = period_of(day)
                period_days = (end - start).days + 1
                lines.append(line(BillingLineKind.CYCLE_FEE, day, previous, period_days, period_days))
            continue
        delta, previous = quantity - previous, quantity
        refundable = 0
        if delta > 0:
            additions.add(day, delta)
        elif delta < 0:
            refundable = additions.take_refundable(day, -delta)
        if not delta or day not in cycle or day in fee_days:
            continue  # before the cycle, or covered by the fee of a period starting that day
        start, end = period_of(day)
        period_days = (end - start).days + 1
        days_left = (end - day).days + 1
        if delta > 0:
            lines.append(line(BillingLineKind.PRO_RATA, day, delta, days_left, period_days))
            continue
        if refundable:
            lines.append(line(BillingLineKind.REFUND, day, refundable, days_left, period_days, sign=-1))
        if -delta - refundable:
            lines.append(line(BillingLineKind.NO_REFUND, day, -delta - refundable, days_left, period_days))
    return lines


def _piece_amount(line: BillingLine, price: Decimal, days: int, currency: str) -> Decimal:
    if line.kind == BillingLineKind.NO_REFUND:
        return money_round(ZERO, currency)
    sign = -1 if line.kind == BillingLineKind.REFUND else 1
    return sign * _amount(line.quantity, price, days, line.period_days, currency) + ZERO  # + ZERO: never -0


def billing_lines_over_prices(*, prices: Sequence, **arguments) -> list[BillingLine]:
    """`billing_lines` when the unit price changes inside the cycle: `prices` are (start, end, amount, cost)
    periods in day order that tile the cycle (`reports.prices.PeriodPrice`). A line whose days span a
    change is split into one line per price, each for its days of the period; a line on one price is
    the line `billing_lines` makes at that price."""
    if not prices:
        return []
    first = prices[0]
    lines = billing_lines(unit_price=first.amount, unit_cost=first.cost, **arguments)
    if len(prices) == 1:
        return lines
    currency = arguments["currency"]
    split: list[BillingLine] = []
    for line in lines:
        last_day = line.day + timedelta(days=max(line.days, 1) - 1)
        pieces = []
        for index, price in enumerate(prices):  # the first price reaches back, the last one forward
            start = line.day if index == 0 else max(price.start, line.day)
            end = last_day if index == len(prices) - 1 else min(price.end, last_day)
            if start <= end:
                pieces.append((start, (end - start).days + 1, price))
        if len(pieces) == 1 or line.kind == BillingLineKind.ONE_TIME:  # a one-time charge: the price of its day
            pieces = [(line.day, line.days, pieces[0][2])]
        for start, days, price in pieces:
            split.append(
                BillingLine(
                    kind=line.kind,
                    day=start,
                    quantity=line.quantity,
                    days=days,
                    period_days=line.period_days,
                    unit_price=price.amount,
                    amount=_piece_amount(line, price.amount, days, currency),
                    currency=currency,
                    unit_cost=price.cost,
                    cost_amount=None if price.cost is None else _piece_amount(line, price.cost, days, currency),
                )
            )
    return split


def period_starts(*, cycle: BillingCycle, anchor: date, months: int | None) -> list[date]:
    """The days inside `cycle` on which a billing period starts: the cycle's first day for monthly
    billing, else each anniversary of `anchor` every `months` months. Anniversaries run both ways:
    an anchor that is a renewal date has had earlier terms (and before a new subscription's anchor
    nothing is held, so nothing is billed)."""
    if months is None:
        return [cycle.start]
    elapsed = (cycle.start.year - anchor.year) * 12 + (cycle.start.month - anchor.month)
    index = elapsed // months - 1
    starts = []
    while (start := add_months(anchor, index * months, anchor_day=anchor.day)) <= cycle.end:
        if start >= cycle.start:
            starts.append(start)
        index += 1
    return starts


def billed_quantity(lines: Iterable[BillingLine]) -> int:
    """Seats the customer is billed for at the cycle's end: fees and additions minus refunded seats."""
    seats = 0
    for billing_line in lines:
        if billing_line.kind in (BillingLineKind.CYCLE_FEE, BillingLineKind.PRO_RATA, BillingLineKind.ONE_TIME):
            seats += billing_line.quantity
        elif billing_line.kind == BillingLineKind.REFUND:
            seats -= billing_line.quantity
    return seats


def lines_total(lines: Iterable[BillingLine]) -> Decimal:
    return sum((billing_line.amount for billing_line in lines), ZERO)


def lines_cost_total(lines: Iterable[BillingLine]) -> Decimal | None:
    total = ZERO
    for billing_line in lines:
        if billing_line.cost_amount is None:
            return None
        total += billing_line.cost_amount
    return total
