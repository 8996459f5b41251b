"""Billing reads the price history: closed cycles keep their prices, a change inside a cycle splits its lines,
and the history of thousands of subscriptions is read in one query."""

from datetime import date, datetime, time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from catalog.services import catalog_settings_update, customer_price_set
from reports.billing import billing_cycle_ending_in
from reports.billing_report import billing_bills
from subscriptions.choices import PriceApplication, PriceSource
from subscriptions.models import SubscriptionPrice
from subscriptions.selectors_prices import subscription_price_periods
from subscriptions.services_prices import NOT_APPLIED, PriceApply
from tests.factories.subscriptions import SubscriptionFactory

FEBRUARY = billing_cycle_ending_in(2024, 2, cycle_end_day=31)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _ours(world, cycle):
    admin = get_user_model().objects.get(username="admin")
    [bill] = [
        bill
        for bill in billing_bills(user=admin, cycles=[cycle], customer_id=world.ours.pk)
        if bill.tracked_pk == world.ours_tracked.pk
    ]
    return bill


def test_a_customer_price_edited_today_leaves_a_closed_cycle_as_it_was_billed(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        admin = get_user_model().objects.get(username="admin")
        before = _ours(billing_world, FEBRUARY)
        assert {line.unit_price for line in before.lines} == {Decimal("10.50")}

        customer_price_set(
            actor=admin,
            customer=billing_world.ours,
            offer=billing_world.ours_subscription.offer,
            price=Decimal("400.36"),
            apply=NOT_APPLIED,
        )
        after = _ours(billing_world, FEBRUARY)
        assert [(line.unit_price, line.amount) for line in after.lines] == [
            (line.unit_price, line.amount) for line in before.lines
        ]
        # Applied, it starts with the next cycle from today: February 2024 is still what was billed.
        customer_price_set(
            actor=admin,
            customer=billing_world.ours,
            offer=billing_world.ours_subscription.offer,
            price=Decimal("400.36"),
            apply=PriceApply(application=PriceApplication.NEXT_CYCLE),
        )
        assert _ours(billing_world, FEBRUARY).total == before.total
        pinned = SubscriptionPrice.objects.get(external_id="S-1", source=PriceSource.SYNC)
        assert pinned.unit_price == Decimal("10.50")  # what it was charged until the edit
        applied = SubscriptionPrice.objects.get(external_id="S-1", source=PriceSource.PRICE_EDIT)
        assert applied.unit_price == Decimal("400.36") and applied.effective_from > timezone.now()
        # The other customer has no customer price and was never touched.
        assert not SubscriptionPrice.objects.filter(external_id="S-2").exists()


def test_a_default_markup_edit_not_applied_changes_no_subscription_price(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        admin = get_user_model().objects.get(username="admin")
        before = _ours(billing_world, FEBRUARY).total
        catalog_settings_update(actor=admin, default_markup_percent=Decimal("40"), apply=NOT_APPLIED)
        assert _ours(billing_world, FEBRUARY).total == before
        assert not SubscriptionPrice.objects.filter(source=PriceSource.PRICE_EDIT).exists()


def test_a_price_change_inside_a_cycle_splits_the_lines_it_spans(billing_world, partner_alpha):
    """February 2024 (29 days): 5 seats, +3 on the 20th, −2 on the 22nd; 10.50 until the 15th, 12.00 after."""
    with schema_context(partner_alpha.schema_name):
        subscription = billing_world.ours_subscription
        for day, price in ((date(2023, 6, 1), "10.50"), (date(2024, 2, 16), "12.00")):
            SubscriptionPrice.objects.create(
                subscription=subscription,
                account=subscription.account,
                external_id=subscription.external_id,
                effective_from=_moment(day),
                unit_price=Decimal(price),
                cost_price=Decimal("10.00"),
                currency="EUR",
                source=PriceSource.PRICE_EDIT,
            )
        bill = _ours(billing_world, FEBRUARY)
        assert [line.formula for line in bill.lines] == [
            "5 × 10.50 × 15/29 = 27.16",
            "5 × 12.00 × 14/29 = 28.97",
            "3 × 12.00 × 10/29 = 12.41",
            "−2 × 12.00 × 8/29 = -6.62",
        ]
        assert bill.total == Decimal("61.92")
        assert [line.day for line in bill.lines[:2]] == [date(2024, 2, 1), date(2024, 2, 16)]
        # March is billed whole at the price in effect then.
        march = _ours(billing_world, billing_cycle_ending_in(2024, 3, cycle_end_day=31))
        assert [line.formula for line in march.lines] == ["6 × 12.00 = 72.00"]


def test_the_prices_of_many_subscriptions_over_a_period_take_one_query(
    billing_world, partner_alpha, django_assert_num_queries
):
    with schema_context(partner_alpha.schema_name):
        account = billing_world.account
        subscriptions = [
            SubscriptionFactory(offer=billing_world.ours_subscription.offer, external_id=f"BULK-{n}") for n in range(40)
        ]
        SubscriptionPrice.objects.bulk_create(
            SubscriptionPrice(
                subscription=row,
                account=account,
                external_id=row.external_id,
                effective_from=_moment(day),
                unit_price=Decimal(price),
                currency="EUR",
                source=PriceSource.MIGRATION,
            )
            for row in subscriptions
            for day, price in ((date(2024, 1, 1), "9.00"), (date(2024, 2, 10), "9.50"), (date(2025, 1, 1), "11.00"))
        )
        keys = [(account.pk, row.external_id) for row in subscriptions]
        with django_assert_num_queries(1):
            periods = subscription_price_periods(keys=keys, first=FEBRUARY.start, last=FEBRUARY.end)
        assert len(periods) == 40
        assert [(period.start, period.end, period.unit_price) for period in periods[keys[0]]] == [
            (date(2024, 2, 1), date(2024, 2, 9), Decimal("9.00")),
            (date(2024, 2, 10), date(2024, 2, 29), Decimal("9.50")),
        ]
        # Before its history began, a subscription's earliest known price holds (never today's catalog).
        early = subscription_price_periods(keys=keys[:1], first=date(2023, 5, 1), last=date(2023, 5, 31))
        assert [(period.start, period.unit_price) for period in early[keys[0]]] == [(date(2023, 5, 1), Decimal("9.00"))]
