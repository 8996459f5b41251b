"""Subscriptions' price history around the lifecycle: the sync starts it and never overwrites what the order
said, the migration seeds it from what billing charged, and catalog price edits reach it only forward."""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from catalog.models import CustomerPrice, CustomerSegment, SegmentMembership
from portal.audit.models import AuditEvent
from subscriptions.choices import PriceApplication, PriceSource
from subscriptions.models import SubscriptionOptions, SubscriptionPrice
from tests.factories.catalog import OfferFactory
from tests.factories.customers import CustomerTenantFactory
from tests.subscriptions.lifecycle_support import run_sync, subscription_row


def test_the_sync_starts_the_price_history_and_never_overwrites_the_order_s_name_or_po(contoso):
    subscriptions = list(contoso.tenant.subscriptions.all())
    assert subscriptions
    for subscription in subscriptions:
        price = SubscriptionPrice.objects.get(account=contoso.account, external_id=subscription.external_id)
        assert price.source == PriceSource.SYNC
    chosen = subscriptions[0]
    SubscriptionOptions.objects.create(subscription=chosen, friendly_name="Front desk", po_number="PO-4711")
    contoso.sim_subscription(chosen).friendly_name = "Named at the marketplace"
    rows_before = SubscriptionPrice.objects.count()

    run_sync(contoso.account)

    chosen.refresh_from_db()
    assert (chosen.options.friendly_name, chosen.options.po_number) == ("Front desk", "PO-4711")
    assert chosen.display_name == "Front desk"
    assert SubscriptionPrice.objects.count() == rows_before  # nothing new: no second price per sync


def test_the_migration_seeds_one_price_per_subscription_from_what_billing_charges_today(in_alpha):
    seed = importlib.import_module("subscriptions.migrations.0005_seed_subscription_prices").seed
    offer = OfferFactory(business_plan=True, cost_price=Decimal("20.00"))
    tenant = CustomerTenantFactory()
    started = timezone.now() - timedelta(days=90)
    own_price = subscription_row(tenant, offer.account, offer=offer, started_at=started)
    CustomerPrice.objects.create(customer=tenant.customer, offer=offer, markup_percent=Decimal("20"))
    other = CustomerTenantFactory()
    partner_price = subscription_row(other, offer.account, offer=offer, started_at=started)
    outside_catalog = subscription_row(tenant, offer.account, unit_sales_price=Decimal("33.00"))
    unpriced = subscription_row(tenant, offer.account, unit_sales_price=None)

    seed(apps, None)

    prices = {row.subscription_id: row for row in SubscriptionPrice.objects.all()}
    assert prices[own_price.pk].unit_price == Decimal("24.00")  # its customer's own price: cost + 20%
    assert prices[partner_price.pk].unit_price == Decimal("21.00")  # the default 5% markup
    assert prices[partner_price.pk].cost_price == Decimal("20.00")
    assert prices[own_price.pk].effective_from == started
    assert prices[outside_catalog.pk].unit_price == Decimal("33.00")
    assert unpriced.pk not in prices
    assert {row.source for row in prices.values()} == {PriceSource.MIGRATION}


def _price_form(offer, customer, **fields) -> dict:
    return {"customer": customer.pk, "offer": offer.pk, "kind": "price", "value": "19.90", **fields}


def test_a_price_edit_from_a_past_date_is_refused_on_its_field_and_saves_nothing(in_alpha, alpha_admin_client):
    offer = OfferFactory(business_plan=True, is_available=True)
    tenant = CustomerTenantFactory()
    subscription_row(tenant, offer.account, offer=offer)
    yesterday = timezone.localdate() - timedelta(days=1)

    response = alpha_admin_client.post(
        reverse("catalog:customer_price_create"),
        _price_form(
            offer, tenant.customer, apply_to_subscriptions=PriceApplication.FROM_DATE, apply_from=yesterday.isoformat()
        ),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "The date cannot be in the past: billed days keep their price." in page
    assert 'name="apply_from"' in page and "is-invalid" in page
    assert not CustomerPrice.objects.exists()
    assert not SubscriptionPrice.objects.filter(source=PriceSource.PRICE_EDIT).exists()


def test_a_price_edit_applied_from_a_date_prices_the_subscriptions_from_that_day_and_is_audited(
    in_alpha, alpha_admin_client
):
    offer = OfferFactory(business_plan=True, is_available=True)
    tenant = CustomerTenantFactory()
    subscription = subscription_row(tenant, offer.account, offer=offer)
    untouched = subscription_row(CustomerTenantFactory(), offer.account, offer=offer)
    day = timezone.localdate() + timedelta(days=10)

    form = alpha_admin_client.get(reverse("catalog:customer_price_create")).content.decode()
    assert "Existing subscriptions" in form and "From the next billing cycle" in form
    response = alpha_admin_client.post(
        reverse("catalog:customer_price_create"),
        _price_form(offer, tenant.customer, apply_to_subscriptions=PriceApplication.FROM_DATE, apply_from=day),
    )

    assert response.status_code == 302
    [history_start, applied] = SubscriptionPrice.objects.filter(external_id=subscription.external_id)
    assert history_start.unit_price == Decimal("10.50")  # what it cost until the edit (10.00 + 5%)
    assert (applied.unit_price, applied.source) == (Decimal("19.90"), PriceSource.PRICE_EDIT)
    assert timezone.localdate(applied.effective_from) == day
    assert applied.actor == get_user_model().objects.get(username="admin")
    assert not SubscriptionPrice.objects.filter(external_id=untouched.external_id, source=PriceSource.PRICE_EDIT)
    event = AuditEvent.objects.get(action="subscription.prices_apply")
    assert event.after == {"subscriptions_from": {day.isoformat(): 1}}

    detail = alpha_admin_client.get(
        reverse("subscriptions:subscription_detail", args=[subscription.pk])
    ).content.decode()
    assert "€19.90" in detail and "Price edit" in detail


def test_a_segment_price_reaches_only_its_members_and_deleting_it_asks_too(in_alpha, alpha_admin_client):
    offer = OfferFactory(business_plan=True, is_available=True)
    member, outsider = CustomerTenantFactory(), CustomerTenantFactory()
    segment = CustomerSegment.objects.create(name="Schools")
    SegmentMembership.objects.create(segment=segment, customer=member.customer)
    ours = subscription_row(member, offer.account, offer=offer)
    theirs = subscription_row(outsider, offer.account, offer=offer)

    response = alpha_admin_client.post(
        reverse("catalog:segment_price_create", args=[segment.pk]),
        {"offer": offer.pk, "kind": "markup", "value": "50", "apply_to_subscriptions": PriceApplication.NEXT_CYCLE},
    )

    assert response.status_code == 302
    applied = SubscriptionPrice.objects.get(source=PriceSource.PRICE_EDIT)
    assert (applied.external_id, applied.unit_price) == (ours.external_id, Decimal("15.00"))
    assert applied.effective_from > timezone.now()
    assert not SubscriptionPrice.objects.filter(external_id=theirs.external_id, source=PriceSource.PRICE_EDIT)

    row = segment.prices.get()
    delete_url = reverse("catalog:segment_price_delete", args=[segment.pk, row.pk])
    assert "Not at all: existing subscriptions keep their price" in alpha_admin_client.get(delete_url).content.decode()
    response = alpha_admin_client.post(delete_url, {"apply_to_subscriptions": PriceApplication.NONE})
    assert response.status_code == 302
    assert not segment.prices.exists()
    # Not applied: the subscription keeps the price it was given from the next cycle on.
    assert list(SubscriptionPrice.objects.filter(source=PriceSource.PRICE_EDIT)) == [applied]
