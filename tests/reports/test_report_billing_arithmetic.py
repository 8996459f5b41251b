"""The billing core on crafted cases: cycle alignment, cycle fees, pro-rata and refunds across month
ends and leap years, annual and triennial terms, rounding per currency. Pure functions: no database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from reports.billing import (
    MONTH_END,
    BillingCycle,
    QuantityChange,
    add_months,
    billed_quantity,
    billing_cycle_containing,
    billing_cycle_ending_in,
    billing_cycles_ending_between,
    billing_lines,
    last_complete_cycle,
    lines_cost_total,
    lines_total,
    period_starts,
    quantity_changes,
    quantity_on,
    recent_cycles,
    term_period_containing,
)
from reports.choices import BillingLineKind

D = Decimal
PRICE = D("12.60")


def monthly(cycle, changes, *, price=PRICE, currency="EUR", anchor=None, cost=None):
    return billing_lines(
        cycle=cycle,
        changes=[QuantityChange(day, quantity) for day, quantity in changes],
        billing_cycle="monthly",
        unit_price=price,
        currency=currency,
        anchor=anchor,
        unit_cost=cost,
    )


def kinds(lines):
    return [(line.kind, line.quantity, line.amount) for line in lines]


# -- billing cycles -------------------------------------------------------------------------------------------------


def test_a_cycle_ending_on_the_15th_is_dated_the_16th_and_starts_on_the_16th_of_the_previous_month():
    cycle = billing_cycle_ending_in(2025, 3, cycle_end_day=15)
    assert (cycle.start, cycle.end, cycle.report_date) == (date(2025, 2, 16), date(2025, 3, 15), date(2025, 3, 16))
    assert cycle.days == 28


def test_the_same_cycle_in_a_leap_year_has_a_day_more():
    assert billing_cycle_ending_in(2024, 3, cycle_end_day=15).days == 29


def test_a_cycle_crosses_the_year_end():
    cycle = billing_cycle_ending_in(2025, 1, cycle_end_day=15)
    assert (cycle.start, cycle.end) == (date(2024, 12, 16), date(2025, 1, 15))


@pytest.mark.parametrize(
    ("year", "month", "start", "end"),
    [
        (2024, 2, date(2024, 2, 1), date(2024, 2, 29)),
        (2023, 2, date(2023, 2, 1), date(2023, 2, 28)),
        (2024, 1, date(2024, 1, 1), date(2024, 1, 31)),
        (2024, 12, date(2024, 12, 1), date(2024, 12, 31)),
    ],
)
def test_day_31_means_calendar_months(year, month, start, end):
    cycle = billing_cycle_ending_in(year, month, cycle_end_day=MONTH_END)
    assert (cycle.start, cycle.end) == (start, end)
    assert cycle.report_date == end + timedelta(days=1)


def test_an_end_day_the_month_lacks_is_its_last_day_and_the_next_cycle_starts_right_after():
    february = billing_cycle_ending_in(2024, 2, cycle_end_day=30)
    march = billing_cycle_ending_in(2024, 3, cycle_end_day=30)
    april = billing_cycle_ending_in(2024, 4, cycle_end_day=30)
    assert february.end == date(2024, 2, 29)
    assert (march.start, march.end) == (date(2024, 3, 1), date(2024, 3, 30))
    assert (april.start, april.end, april.days) == (date(2024, 3, 31), date(2024, 4, 30), 31)
    assert billing_cycle_ending_in(2023, 3, cycle_end_day=29).start == date(2023, 3, 1)


@pytest.mark.parametrize("cycle_end_day", range(1, 32))
def test_cycles_tile_the_calendar_for_every_end_day(cycle_end_day):
    cycles = billing_cycles_ending_between(date(2023, 1, 1), date(2025, 12, 1), cycle_end_day=cycle_end_day)
    assert len(cycles) == 36
    for previous, following in zip(cycles, cycles[1:], strict=False):
        assert following.start == previous.end + timedelta(days=1)
    assert sum(cycle.days for cycle in cycles[1:]) == (cycles[-1].end - cycles[0].end).days
    day = date(2023, 2, 1)
    while day < date(2025, 11, 1):
        cycle = billing_cycle_containing(day, cycle_end_day=cycle_end_day)
        assert day in cycle
        day += timedelta(days=1)


def test_last_complete_cycle_and_recent_cycles():
    assert last_complete_cycle(date(2024, 3, 20), cycle_end_day=15) == BillingCycle(
        date(2024, 2, 16), date(2024, 3, 15)
    )
    # On the end day itself the current cycle is not complete yet.
    assert last_complete_cycle(date(2024, 3, 15), cycle_end_day=15) == BillingCycle(
        date(2024, 1, 16), date(2024, 2, 15)
    )
    cycles = recent_cycles(date(2024, 3, 20), 3, cycle_end_day=MONTH_END)
    assert [cycle.start for cycle in cycles] == [date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]


def test_a_range_of_months_gives_one_cycle_per_month_in_either_order():
    cycles = billing_cycles_ending_between(date(2024, 3, 9), date(2024, 1, 20), cycle_end_day=15)
    assert [cycle.end for cycle in cycles] == [date(2024, 1, 15), date(2024, 2, 15), date(2024, 3, 15)]


@pytest.mark.parametrize("day", [0, 32, -1])
def test_an_impossible_end_day_is_refused(day):
    with pytest.raises(ValueError):
        billing_cycle_ending_in(2024, 1, cycle_end_day=day)


# -- months and term periods ------------------------------------------------------------------------------------------


def test_add_months_keeps_the_anchor_day_where_the_month_has_it():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 2, 29), 1, anchor_day=31) == date(2024, 3, 31)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_a_term_year_that_holds_29_february_has_366_days():
    start, end = term_period_containing(date(2024, 6, 1), anchor=date(2024, 1, 15), months=12)
    assert (start, end) == (date(2024, 1, 15), date(2025, 1, 14))
    assert (end - start).days + 1 == 366
    start, end = term_period_containing(date(2025, 6, 1), anchor=date(2024, 1, 15), months=12)
    assert (end - start).days + 1 == 365


def test_a_subscription_bought_on_29_february_renews_on_28_february_until_the_next_leap_year():
    anchor = date(2024, 2, 29)
    assert term_period_containing(date(2025, 3, 1), anchor=anchor, months=12) == (date(2025, 2, 28), date(2026, 2, 27))
    assert term_period_containing(date(2028, 3, 1), anchor=anchor, months=12) == (date(2028, 2, 29), date(2029, 2, 27))
    cycle = billing_cycle_ending_in(2025, 2, cycle_end_day=MONTH_END)
    assert period_starts(cycle=cycle, anchor=anchor, months=12) == [date(2025, 2, 28)]


def test_a_triennial_term_spanning_one_leap_day_has_1096_days():
    start, end = term_period_containing(date(2024, 7, 1), anchor=date(2023, 3, 1), months=36)
    assert (start, end) == (date(2023, 3, 1), date(2026, 2, 28))
    assert (end - start).days + 1 == 1096


# -- quantities -------------------------------------------------------------------------------------------------------


def test_quantity_changes_keep_only_changes_and_bill_nothing_for_unbilled_statuses():
    days = [
        (date(2024, 1, 1), 5, "active"),
        (date(2024, 1, 2), 5, "active"),
        (date(2024, 1, 3), 5, "suspended"),  # still billed
        (date(2024, 1, 4), 7, "active"),
        (date(2024, 1, 5), 7, "terminated"),
        (date(2024, 1, 6), 7, "terminated"),
    ]
    assert quantity_changes(days) == [
        QuantityChange(date(2024, 1, 1), 5),
        QuantityChange(date(2024, 1, 4), 7),
        QuantityChange(date(2024, 1, 5), 0),
    ]
    assert quantity_changes(days, trial=True) == [QuantityChange(date(2024, 1, 1), 0)]
    changes = quantity_changes(days)
    assert quantity_on(changes, date(2023, 12, 31)) == 0
    assert quantity_on(changes, date(2024, 1, 4)) == 7


# -- monthly lines ----------------------------------------------------------------------------------------------------

FEB_2024 = billing_cycle_ending_in(2024, 2, cycle_end_day=MONTH_END)  # 29 days
FEB_2023 = billing_cycle_ending_in(2023, 2, cycle_end_day=MONTH_END)  # 28 days


def test_a_cycle_without_changes_is_one_cycle_fee():
    lines = monthly(FEB_2024, [(date(2023, 11, 3), 5)])
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 5, D("63.00"))]
    assert lines[0].formula == "5 × 12.60 = 63.00"
    assert lines[0].days == lines[0].period_days == 29


def test_an_increase_adds_a_pro_rata_line_for_the_days_left_in_a_leap_february():
    lines = monthly(FEB_2024, [(date(2023, 11, 3), 5), (date(2024, 2, 20), 8)])
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 5, D("63.00")), (BillingLineKind.PRO_RATA, 3, D("13.03"))]
    assert (lines[1].days, lines[1].period_days) == (10, 29)  # 20 to 29 February
    assert lines[1].formula == "3 × 12.60 × 10/29 = 13.03"


def test_the_same_increase_in_a_common_february_divides_by_28():
    lines = monthly(FEB_2023, [(date(2022, 11, 3), 5), (date(2023, 2, 20), 8)])
    assert kinds(lines)[1] == (BillingLineKind.PRO_RATA, 3, D("12.15"))  # 3 × 12.60 × 9/28 = 12.15
    assert (lines[1].days, lines[1].period_days) == (9, 28)


def test_a_decrease_inside_the_window_refunds_the_removed_seats_for_the_days_left():
    lines = monthly(FEB_2024, [(date(2023, 11, 3), 5), (date(2024, 2, 20), 8), (date(2024, 2, 22), 6)])
    assert kinds(lines) == [
        (BillingLineKind.CYCLE_FEE, 5, D("63.00")),
        (BillingLineKind.PRO_RATA, 3, D("13.03")),
        (BillingLineKind.REFUND, 2, D("-6.95")),  # 2 × 12.60 × 8/29
    ]
    assert lines[2].formula == "−2 × 12.60 × 8/29 = -6.95"
    assert billed_quantity(lines) == 6
    assert lines_total(lines) == D("69.08")


def test_a_decrease_after_the_window_is_not_refunded():
    lines = monthly(FEB_2024, [(date(2023, 11, 3), 5), (date(2024, 2, 10), 3)])
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 5, D("63.00")), (BillingLineKind.NO_REFUND, 2, D("0.00"))]
    assert billed_quantity(lines) == 5  # the customer keeps paying for the cycle


@pytest.mark.parametrize(("days_later", "refunded"), [(1, True), (6, True), (7, False), (8, False)])
def test_the_refund_window_is_the_day_of_the_addition_and_the_six_days_after(days_later, refunded):
    added = date(2024, 2, 5)
    lines = monthly(FEB_2024, [(date(2023, 1, 1), 2), (added, 3), (added + timedelta(days=days_later), 2)])
    decrease = lines[-1]
    assert decrease.kind == (BillingLineKind.REFUND if refunded else BillingLineKind.NO_REFUND)


def test_only_the_seats_added_inside_the_window_are_refunded():
    lines = monthly(FEB_2024, [(date(2023, 1, 1), 10), (date(2024, 2, 10), 12), (date(2024, 2, 12), 9)])
    assert kinds(lines)[2:] == [(BillingLineKind.REFUND, 2, D("-15.64")), (BillingLineKind.NO_REFUND, 1, D("0.00"))]


def test_seats_added_at_the_end_of_one_cycle_are_refunded_in_the_next():
    january = billing_cycle_ending_in(2024, 1, cycle_end_day=MONTH_END)
    changes = [(date(2023, 6, 1), 4), (date(2024, 1, 30), 6), (date(2024, 2, 2), 4)]
    assert kinds(monthly(january, changes)) == [
        (BillingLineKind.CYCLE_FEE, 4, D("50.40")),
        (BillingLineKind.PRO_RATA, 2, D("1.63")),  # 2 × 12.60 × 2/31
    ]
    assert kinds(monthly(FEB_2024, changes)) == [
        (BillingLineKind.CYCLE_FEE, 6, D("75.60")),
        (BillingLineKind.REFUND, 2, D("-24.33")),  # 2 × 12.60 × 28/29
    ]


def test_a_new_subscription_mid_cycle_is_billed_pro_rata():
    lines = monthly(FEB_2024, [(date(2024, 2, 10), 4)], anchor=date(2024, 2, 10))
    assert kinds(lines) == [(BillingLineKind.PRO_RATA, 4, D("34.76"))]  # 4 × 12.60 × 20/29
    assert kinds(monthly(billing_cycle_ending_in(2024, 3, cycle_end_day=MONTH_END), [(date(2024, 2, 10), 4)])) == [
        (BillingLineKind.CYCLE_FEE, 4, D("50.40"))
    ]


def test_history_that_starts_after_the_subscription_did_is_not_billed_as_new():
    lines = monthly(FEB_2024, [(date(2024, 2, 10), 4)], anchor=date(2022, 5, 1))
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 4, D("50.40"))]


def test_cancelling_a_new_subscription_inside_the_window_refunds_it():
    lines = monthly(FEB_2024, [(date(2024, 2, 10), 4), (date(2024, 2, 12), 0)])
    assert kinds(lines) == [(BillingLineKind.PRO_RATA, 4, D("34.76")), (BillingLineKind.REFUND, 4, D("-31.28"))]
    assert billed_quantity(lines) == 0
    assert lines_total(lines) == D("3.48")  # two days of four seats


def test_a_change_on_the_first_day_of_the_cycle_is_in_the_cycle_fee():
    lines = monthly(FEB_2024, [(date(2023, 1, 1), 5), (date(2024, 2, 1), 7)])
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 7, D("88.20"))]


def test_nothing_after_the_cycle_counts_and_nothing_before_the_subscription():
    assert monthly(FEB_2024, [(date(2024, 3, 5), 4)]) == []
    assert monthly(FEB_2024, []) == []


def test_amounts_round_half_up_per_currency():
    april = billing_cycle_ending_in(2024, 4, cycle_end_day=MONTH_END)  # 30 days
    lines = monthly(april, [(date(2024, 1, 1), 1), (date(2024, 4, 26), 2)], price=D("0.15"))
    assert lines[1].amount == D("0.03")  # 0.15 × 5/30 = 0.025, half up (half even would say 0.02)
    yen = monthly(FEB_2024, [(date(2023, 1, 1), 1), (date(2024, 2, 20), 2)], price=D("1500"), currency="JPY")
    assert [line.amount for line in yen] == [D("1500"), D("517")]  # 1500 × 10/29 = 517.24
    assert all(isinstance(line.amount, Decimal) for line in yen)


def test_a_refund_is_never_negative_zero_and_costs_follow_the_same_lines():
    lines = monthly(
        FEB_2024, [(date(2023, 1, 1), 5), (date(2024, 2, 28), 6), (date(2024, 2, 29), 5)], price=D("0.01"), cost=D("0")
    )
    refund = lines[-1]
    assert refund.kind == BillingLineKind.REFUND
    assert str(refund.amount) == "0.00"  # 1 × 0.01 × 1/29 rounds to zero, and never to "-0.00"
    lines = monthly(FEB_2024, [(date(2023, 1, 1), 5), (date(2024, 2, 20), 8)], cost=D("12.00"))
    assert [line.cost_amount for line in lines] == [D("60.00"), D("12.41")]
    assert lines_cost_total(lines) == D("72.41")
    assert lines_cost_total(monthly(FEB_2024, [(date(2023, 1, 1), 5)])) is None


# -- annual, triennial, one-time, usage ---------------------------------------------------------------------------


ANNUAL_PRICE = D("120.00")


def annual(cycle, changes, *, anchor, price=ANNUAL_PRICE, billing_cycle="annual"):
    return billing_lines(
        cycle=cycle,
        changes=[QuantityChange(day, quantity) for day, quantity in changes],
        billing_cycle=billing_cycle,
        unit_price=price,
        currency="EUR",
        anchor=anchor,
    )


def test_an_annual_fee_falls_in_the_cycle_of_the_anniversary_only():
    anchor = date(2023, 3, 10)
    changes = [(anchor, 5)]
    per_cycle = {
        cycle.end.month: kinds(annual(cycle, changes, anchor=anchor))
        for cycle in billing_cycles_ending_between(date(2024, 1, 1), date(2024, 12, 1), cycle_end_day=15)
    }
    assert per_cycle[3] == [(BillingLineKind.CYCLE_FEE, 5, D("600.00"))]  # 16 Feb – 15 Mar holds 10 March
    assert all(lines == [] for month, lines in per_cycle.items() if month != 3)


def test_an_increase_inside_a_leap_term_year_is_pro_rata_over_366_days():
    anchor = date(2024, 1, 15)
    cycle = billing_cycle_ending_in(2024, 6, cycle_end_day=MONTH_END)
    lines = annual(cycle, [(anchor, 5), (date(2024, 6, 10), 7)], anchor=anchor)
    assert kinds(lines) == [(BillingLineKind.PRO_RATA, 2, D("143.61"))]  # 2 × 120 × 219/366
    assert (lines[0].days, lines[0].period_days) == (219, 366)


def test_the_same_increase_a_year_later_divides_by_365():
    anchor = date(2024, 1, 15)
    cycle = billing_cycle_ending_in(2025, 6, cycle_end_day=MONTH_END)
    lines = annual(cycle, [(anchor, 5), (date(2025, 6, 10), 7)], anchor=anchor)
    assert (lines[0].days, lines[0].period_days) == (219, 365)
    assert lines[0].amount == D("144.00")


def test_an_annual_decrease_inside_the_window_is_refunded_over_the_term_year():
    anchor = date(2024, 1, 15)
    cycle = billing_cycle_ending_in(2024, 6, cycle_end_day=MONTH_END)
    lines = annual(cycle, [(anchor, 5), (date(2024, 6, 10), 7), (date(2024, 6, 12), 6)], anchor=anchor)
    assert kinds(lines)[1] == (BillingLineKind.REFUND, 1, D("-71.15"))  # 120 × 217/366


def test_an_annual_renewal_bills_the_quantity_held_on_the_anniversary():
    anchor = date(2023, 2, 29 - 1)
    cycle = billing_cycle_ending_in(2024, 2, cycle_end_day=MONTH_END)
    lines = annual(cycle, [(anchor, 5), (date(2024, 2, 28), 3)], anchor=anchor)
    assert kinds(lines) == [(BillingLineKind.CYCLE_FEE, 3, D("360.00"))]
    assert lines[0].period_days == 366  # 28 Feb 2024 to 27 Feb 2025


def test_a_triennial_fee_every_three_years():
    anchor = date(2023, 3, 1)
    changes = [(anchor, 2)]
    cycles = billing_cycles_ending_between(date(2023, 3, 1), date(2026, 3, 1), cycle_end_day=MONTH_END)
    fees = [
        (cycle.start, kinds(annual(cycle, changes, anchor=anchor, price=D("300"), billing_cycle="triennial")))
        for cycle in cycles
    ]
    billed = [(start, lines) for start, lines in fees if lines]
    assert billed == [
        (date(2023, 3, 1), [(BillingLineKind.CYCLE_FEE, 2, D("600.00"))]),
        (date(2026, 3, 1), [(BillingLineKind.CYCLE_FEE, 2, D("600.00"))]),
    ]


def test_one_time_charges_are_billed_when_bought_and_never_refunded():
    cycle = billing_cycle_ending_in(2024, 2, cycle_end_day=MONTH_END)
    lines = annual(
        cycle,
        [(date(2024, 2, 5), 1), (date(2024, 2, 9), 3), (date(2024, 2, 10), 0)],
        anchor=date(2024, 2, 5),
        price=D("49.00"),
        billing_cycle="one_time",
    )
    assert kinds(lines) == [(BillingLineKind.ONE_TIME, 1, D("49.00")), (BillingLineKind.ONE_TIME, 2, D("98.00"))]
    next_cycle = billing_cycle_ending_in(2024, 3, cycle_end_day=MONTH_END)
    assert annual(next_cycle, [(date(2024, 2, 5), 1)], anchor=date(2024, 2, 5), billing_cycle="one_time") == []


@pytest.mark.parametrize("billing_cycle", ["usage", "none", ""])
def test_usage_and_unbilled_plans_have_no_lines_here(billing_cycle):
    assert annual(FEB_2024, [(date(2023, 1, 1), 5)], anchor=date(2023, 1, 1), billing_cycle=billing_cycle) == []


def test_an_anchor_that_is_a_renewal_keeps_the_anniversaries_of_earlier_terms():
    renewed = date(2024, 6, 10)  # the marketplace reports the last renewal as the start
    changes = [(date(2023, 1, 1), 4)]
    before = billing_cycle_ending_in(2023, 6, cycle_end_day=MONTH_END)
    assert kinds(annual(before, changes, anchor=renewed)) == [(BillingLineKind.CYCLE_FEE, 4, D("480.00"))]
    assert annual(billing_cycle_ending_in(2023, 7, cycle_end_day=MONTH_END), changes, anchor=renewed) == []
