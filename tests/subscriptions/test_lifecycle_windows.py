"""Commitment windows: the marketplace's rule decides whether a decrease or a cancellation is allowed now,
until when, and what it costs or refunds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.providers.base import Capability
from marketplace.providers.registry import available_slugs, marketplace_description, provider_class
from subscriptions.choices_lifecycle import ChangeTiming
from subscriptions.commitment import quantity_change_preview, termination_preview
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create
from tests.subscriptions.lifecycle_support import subscription_row


@pytest.fixture
def alef_rows(in_alpha):
    account = account_create(marketplace="alef", username="u", secret="p", region="demo", name="ALEF")
    return account, CustomerTenantFactory()


def test_an_increase_is_allowed_now_and_costs_the_rest_of_the_term(alef_rows):
    account, tenant = alef_rows
    now = timezone.now()
    subscription = subscription_row(tenant, account, term_end=(now + timedelta(days=100)).date())

    preview = quantity_change_preview(subscription=subscription, quantity=13, now=now)

    assert preview.timing == ChangeTiming.NOW
    # 3 seats × 30.00 a month × 100 days / 30.4375 = 295.69
    assert preview.cost.value == Decimal("295.69")
    assert preview.cost.detail == "3 seats × €30.00 a month × 100 days left in the term / 30.4375 days a month"
    assert "Increase any time" in preview.rule


def test_a_decrease_inside_the_window_is_allowed_with_its_refund(alef_rows):
    account, tenant = alef_rows
    now = timezone.now()
    subscription = subscription_row(
        tenant,
        account,
        quantity=10,
        assigned=2,
        cancellation_allowed_until=now + timedelta(days=5),
        term_end=(now + timedelta(days=363)).date(),
        unit_cost_price=Decimal("120.00"),
        billing_cycle="annual",
    )

    preview = quantity_change_preview(subscription=subscription, quantity=8, now=now)

    assert preview.timing == ChangeTiming.NOW
    assert "open until" in preview.message
    assert preview.refund is not None and preview.refund.value > 0
    assert preview.window.hours_left == 5 * 24 - 1 or preview.window.hours_left == 5 * 24


def test_a_decrease_outside_the_window_can_only_be_scheduled_for_the_renewal(alef_rows):
    account, tenant = alef_rows
    now = timezone.now()
    renewal = (now + timedelta(days=60)).date()
    subscription = subscription_row(tenant, account, quantity=10, assigned=4, term_end=renewal)

    preview = quantity_change_preview(subscription=subscription, quantity=6, now=now)

    assert preview.timing == ChangeTiming.AT_RENEWAL
    assert preview.can_schedule
    assert "closed on" in preview.message and "renewal" in preview.message
    # what the 4 unused seats cost until they can go
    assert preview.kept_cost.value == (Decimal("30.00") * 4 * Decimal(60) / Decimal("30.4375")).quantize(
        Decimal("0.01")
    )


def test_a_decrease_below_the_assigned_seats_is_refused_with_the_reason_inside_the_window(alef_rows):
    account, tenant = alef_rows
    now = timezone.now()
    subscription = subscription_row(
        tenant, account, quantity=10, assigned=9, cancellation_allowed_until=now + timedelta(days=2)
    )

    preview = quantity_change_preview(subscription=subscription, quantity=8, now=now)

    assert preview.timing == ChangeTiming.NOT_ALLOWED
    assert "9 seats are assigned" in preview.message


def test_scheduling_below_the_assigned_seats_warns_that_it_is_rechecked_at_renewal(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account, quantity=10, assigned=9)

    preview = quantity_change_preview(subscription=subscription, quantity=5)

    assert preview.timing == ChangeTiming.AT_RENEWAL
    assert "applied only if" in preview.warning


def test_no_decrease_once_the_subscription_does_not_renew(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account, quantity=10, assigned=1, auto_renew=False)

    preview = quantity_change_preview(subscription=subscription, quantity=5)

    assert preview.timing == ChangeTiming.NOT_ALLOWED
    assert "does not renew" in preview.message


def test_no_window_means_a_decrease_any_time(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account, cancellation_allowed_until=None, assigned=1)

    assert quantity_change_preview(subscription=subscription, quantity=2).timing == ChangeTiming.NOW


def test_suspended_subscriptions_keep_their_quantity_where_the_marketplace_says_so(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account, status="suspended")

    preview = quantity_change_preview(subscription=subscription, quantity=12)

    assert preview.timing == ChangeTiming.NOT_ALLOWED
    assert "reactivate it first" in preview.message


def test_a_trial_changes_nothing_before_it_is_converted(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account, trial=True)

    assert "convert it" in quantity_change_preview(subscription=subscription, quantity=12).message


def test_termination_inside_the_window_ends_at_once_with_a_refund(alef_rows):
    account, tenant = alef_rows
    now = timezone.now()
    subscription = subscription_row(tenant, account, cancellation_allowed_until=now + timedelta(days=1))

    preview = termination_preview(subscription=subscription, now=now)

    assert preview.timing == ChangeTiming.NOW
    assert preview.refund.value > 0


def test_termination_after_the_window_ends_with_the_term_without_refund(alef_rows):
    account, tenant = alef_rows
    subscription = subscription_row(tenant, account)

    preview = termination_preview(subscription=subscription)

    assert preview.timing == ChangeTiming.AT_RENEWAL
    assert "without a refund" in preview.message
    assert preview.kept_cost is not None


def test_a_marketplace_without_the_capability_refuses_with_its_name(in_alpha):
    account = account_create(marketplace="also", username="u", secret="p", region="de", name="ALSO")
    subscription = subscription_row(CustomerTenantFactory(), account, status="active")

    # ALSO changes quantities but cannot suspend: the quantity rule still comes from ALSO's own words
    preview = quantity_change_preview(subscription=subscription, quantity=12)
    assert preview.rule == provider_class("also").capability_rules[Capability.CHANGE_QUANTITY]


@pytest.mark.parametrize("slug", available_slugs())
def test_the_provider_specifics_match_the_marketplaces_own_rule_texts(slug):
    """A description's commitment rules restate its rule texts: they must not drift apart."""
    provider = provider_class(slug)
    rules = marketplace_description(slug).commitment
    quantity_rule = provider.capability_rules.get(Capability.CHANGE_QUANTITY, "").lower()
    suspend_rule = provider.capability_rules.get(Capability.REACTIVATE, "")
    says_not_while_suspended = "not while" in quantity_rule and "suspended" in quantity_rule
    if slug == "partner_center":  # Partner Center changes active subscriptions only (its simulator enforces it)
        assert not rules.quantity_change_while_suspended and Capability.SUSPEND in provider.capabilities
    else:
        assert rules.quantity_change_while_suspended == (not says_not_while_suspended), (slug, suspend_rule)
    termination = provider.capability_rules.get(Capability.TERMINATE, "").lower()
    assert rules.termination_ends_with_term == ("end of the term" in termination or "ends with its term" in termination)
