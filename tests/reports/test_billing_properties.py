"""Properties of billing arithmetic, over generated histories, prices, currencies and calendars:
an issued statement adds up, a refund never gives back more than was charged, and pro-rata stays
exact across cycle, month and leap-year boundaries. (Pricing and rounding rules have their own
property tests in catalog.)"""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from catalog.pricing import currency_decimals, money_round
from reports.billing import (
    BillingCycle,
    QuantityChange,
    billing_cycle_containing,
    billing_lines,
    lines_total,
    term_period_containing,
)
from reports.billing_report import SubscriptionBill
from reports.choices import BillingLineKind
from reports.statements import _Writer

CURRENCIES = ("EUR", "JPY")
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2029, 12, 31))
end_days = st.integers(min_value=1, max_value=31)


@st.composite
def priced(draw):
    """(currency, unit price) with the currency's own decimals: cents for EUR, whole yen for JPY."""
    currency = draw(st.sampled_from(CURRENCIES))
    places = currency_decimals(currency)
    cents = draw(st.integers(min_value=1, max_value=500_000))
    return currency, Decimal(cents).scaleb(-places)


@st.composite
def histories(draw, *, start: date, span_days: int):
    """Quantity change points inside [start, start + span_days): a first quantity, then changes."""
    first = draw(st.integers(min_value=0, max_value=50))
    changes = [QuantityChange(day=start, quantity=first)]
    offsets = draw(st.lists(st.integers(min_value=1, max_value=span_days - 1), max_size=12, unique=True))
    for offset in sorted(offsets):
        changes.append(QuantityChange(day=start + timedelta(days=offset), quantity=draw(st.integers(0, 50))))
    return changes


def _cycles(first: date, count: int, end_day: int) -> list[BillingCycle]:
    cycles = [billing_cycle_containing(first, cycle_end_day=end_day)]
    while len(cycles) < count:
        cycles.append(billing_cycle_containing(cycles[-1].end + timedelta(days=1), cycle_end_day=end_day))
    return cycles


@st.composite
def world(draw):
    end_day = draw(end_days)
    first = draw(days)
    currency, price = draw(priced())
    billing_cycle = draw(st.sampled_from(["monthly", "monthly", "annual", "one_time"]))
    cycles = _cycles(first, 3, end_day)
    span = (cycles[-1].end - cycles[0].start).days + 1
    changes = draw(histories(start=cycles[0].start, span_days=span))
    return cycles, changes, billing_cycle, currency, price


def _all_lines(cycles, changes, billing_cycle, currency, price):
    return [
        (
            cycle,
            billing_lines(
                cycle=cycle,
                changes=changes,
                billing_cycle=billing_cycle,
                unit_price=price,
                unit_cost=price / 2,
                currency=currency,
            ),
        )
        for cycle in cycles
    ]


@given(world())
@settings(max_examples=200, deadline=None)
def test_every_line_is_rounded_to_its_currency_and_a_refund_never_exceeds_what_was_charged(case):
    cycles, changes, billing_cycle, currency, price = case
    running = Decimal(0)
    refunded_seats = added_seats = 0
    for _cycle, lines in _all_lines(cycles, changes, billing_cycle, currency, price):
        for line in lines:
            assert line.amount == money_round(line.amount, currency)  # JPY: no decimals at all
            assert line.cost_amount == money_round(line.cost_amount, currency)
            if line.kind == BillingLineKind.REFUND:
                assert line.amount <= 0
                refunded_seats += line.quantity
            elif line.kind in (BillingLineKind.PRO_RATA, BillingLineKind.CYCLE_FEE, BillingLineKind.ONE_TIME):
                assert line.amount >= 0
                added_seats += line.quantity
            running += line.amount
            # At no point has the customer been given back more than they were charged.
            assert running >= 0
            assert refunded_seats <= added_seats


@given(world())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_an_issued_statements_lines_add_up_to_its_total_in_every_currency(in_alpha, case):
    cycles, changes, billing_cycle, currency, price = case
    cycle = cycles[1]
    bills = []
    for number, (currency_of_bill, unit_price) in enumerate([(currency, price), ("JPY", Decimal(1234))]):
        lines = billing_lines(
            cycle=cycle,
            changes=changes,
            billing_cycle=billing_cycle,
            unit_price=unit_price,
            unit_cost=None if number else unit_price / 3,
            currency=currency_of_bill,
        )
        bills.append(
            SubscriptionBill(
                tracked_pk=number + 1,
                customer_pk=1,
                customer_name="Generated",
                account_pk=None,
                account_name="",
                name=f"Subscription {number}",
                offer_name="",
                offer_external_id="",
                billing_cycle=billing_cycle,
                cycle=cycle,
                currency=currency_of_bill,
                lines=lines,
                price=None,
            )
        )
    writer = _Writer(close=None, cycle=cycle, issued_at=None)  # a dry run: statements are built, not written
    writer.add(customer_pk=1, customer_name="Generated", bills=bills, adjustments=[])
    expected: dict[str, Decimal] = {}
    for bill in bills:
        expected[bill.currency] = expected.get(bill.currency, Decimal(0)) + lines_total(bill.lines)
    assert {statement.currency: statement.total for statement, _lines in writer.pending} == expected
    for statement, lines in writer.pending:
        assert statement.total == sum((line["amount"] for line in lines), Decimal(0))
        assert statement.total == money_round(statement.total, statement.currency)
        assert [line["position"] for line in lines] == list(range(len(lines)))
    assert writer.result.totals == expected


@given(days, end_days)
@settings(max_examples=300, deadline=None)
def test_cycles_tile_the_calendar_across_month_ends_and_leap_years(day, end_day):
    cycle = billing_cycle_containing(day, cycle_end_day=end_day)
    assert day in cycle
    following = billing_cycle_containing(cycle.end + timedelta(days=1), cycle_end_day=end_day)
    assert following.start == cycle.end + timedelta(days=1)
    assert 28 <= cycle.days <= 31
    year = _cycles(cycle.start, 12, end_day)
    assert sum(one.days for one in year) == (year[-1].end - year[0].start).days + 1 in (365, 366)


@given(days, end_days, priced(), st.integers(min_value=1, max_value=40))
@settings(max_examples=300, deadline=None)
def test_monthly_pro_rata_bills_the_days_left_of_the_cycle(day, end_day, currency_price, seats):
    currency, price = currency_price
    cycle = billing_cycle_containing(day, cycle_end_day=end_day)
    before = cycle.start - timedelta(days=40)
    lines = billing_lines(
        cycle=cycle,
        changes=[QuantityChange(before, 2), QuantityChange(day, 2 + seats)],
        billing_cycle="monthly",
        unit_price=price,
        currency=currency,
    )
    fee = lines[0]
    assert (fee.kind, fee.quantity, fee.amount) == (
        BillingLineKind.CYCLE_FEE,
        2 if day != cycle.start else 2 + seats,
        money_round((2 if day != cycle.start else 2 + seats) * price, currency),
    )
    if day == cycle.start:
        assert len(lines) == 1  # an increase on the first day is in the fee
        return
    (added,) = lines[1:]
    days_left = (cycle.end - day).days + 1
    assert (added.kind, added.quantity, added.days, added.period_days) == (
        BillingLineKind.PRO_RATA,
        seats,
        days_left,
        cycle.days,
    )
    assert added.amount == money_round(seats * price * days_left / cycle.days, currency)
    # Held to the end, the added seats never cost more than a whole cycle of them.
    assert added.amount <= money_round(seats * price, currency)


@given(days, days)
@settings(max_examples=300, deadline=None)
def test_annual_terms_tile_the_calendar_and_last_365_or_366_days(anchor, day):
    if day < anchor:
        anchor, day = day, anchor
    start, end = term_period_containing(day, anchor=anchor, months=12)
    assert start <= day <= end
    assert 365 <= (end - start).days + 1 <= 366
    following = term_period_containing(end + timedelta(days=1), anchor=anchor, months=12)
    assert following[0] == end + timedelta(days=1)


@given(days, days)
@settings(max_examples=300, deadline=None)
def test_an_annual_term_has_366_days_exactly_when_it_holds_a_29_february(anchor, day):
    # A term that starts on 29 February renews on the 28th in common years and on the 29th again in
    # leap years, so its length follows its anniversaries, not the leap day: tiled above, not here.
    if day < anchor:
        anchor, day = day, anchor
    assume((anchor.month, anchor.day) != (2, 29))
    start, end = term_period_containing(day, anchor=anchor, months=12)
    length = (end - start).days + 1
    holds_leap_day = any(
        start <= date(year, 2, 29) <= end
        for year in range(start.year, end.year + 1)
        if year % 4 == 0 and (year % 100 or year % 400 == 0)
    )
    assert length == (366 if holds_leap_day else 365)
