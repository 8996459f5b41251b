"""Price customization: the arithmetic (uniform %, rounding to the currency), the records, the tab."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from catalog.models import Offer
from catalog.pricing import money_round
from marketplace.models import PriceCustomization, SyncRun
from marketplace.services import (
    MarketplaceActionRefused,
    price_customization_add,
    price_customizations_delete,
    price_customizations_save,
    price_customizations_set_uniform,
    uniform_price,
)
from marketplace.sync import sync_run_execute
from portal.audit.models import AuditEvent
from tests.factories.marketplace import AccountFactory

E3 = "1429492_NCEMicros365E3_12907"


@pytest.mark.parametrize(
    ("reseller_price", "percentage", "currency", "expected"),
    [
        (Decimal("36.40"), Decimal("15"), "EUR", Decimal("41.86")),
        (Decimal("30.33"), Decimal("10"), "EUR", Decimal("33.36")),  # 33.363 -> 33.36
        (Decimal("6.07"), Decimal("12.5"), "EUR", Decimal("6.83")),  # 6.82875 -> 6.83 (half up)
        (Decimal("4.32"), Decimal("0"), "EUR", Decimal("4.32")),
        (Decimal("9.07"), Decimal("-10"), "EUR", Decimal("8.16")),  # 8.163 -> 8.16
        (Decimal("1234"), Decimal("7.5"), "JPY", Decimal("1327")),  # 1326.55 -> 1327, no decimals
        (Decimal("1000"), Decimal("0.05"), "JPY", Decimal("1001")),  # 1000.5 -> 1001 (half up)
        (Decimal("1.005"), Decimal("0"), "KWD", Decimal("1.005")),  # three decimals
    ],
)
def test_uniform_price_is_the_reseller_price_plus_the_percentage_rounded_to_the_currency(
    reseller_price, percentage, currency, expected
):
    result = uniform_price(reseller_price=reseller_price, percentage=percentage, currency=currency)

    assert result == expected
    assert result.as_tuple().exponent == expected.as_tuple().exponent


def test_money_rounds_half_up_to_the_minor_unit():
    assert money_round(Decimal("2.675"), "EUR") == Decimal("2.68")
    assert money_round(Decimal("99.5"), "JPY") == Decimal("100")
    assert str(money_round(Decimal("5"), "USD")) == "5.00"


@pytest.fixture
def synced_account(in_alpha, simulator):
    account = AccountFactory(demo=True, display_name="ALSO Germany")
    sync_run_execute(run_id=SyncRun.objects.create(account=account, trigger="manual").pk)
    return account


def plan(account, billing_type_months: str = "annual") -> Offer:
    return Offer.objects.get(account=account, product_id=E3, billing_cycle=billing_type_months)


def test_set_a_uniform_price_for_selected_plans(synced_account):
    e3_annual = plan(synced_account)
    e3_monthly = Offer.objects.filter(account=synced_account, product_id=E3, billing_cycle="monthly").first()

    saved = price_customizations_set_uniform(
        actor=None,
        account=synced_account,
        rows=[(e3_annual.pk, "EUR"), (e3_monthly.pk, "eur")],
        percentage=Decimal("15"),
    )

    prices = {record.offer_id: record.price for record in saved}
    assert prices[e3_annual.pk] == uniform_price(
        reseller_price=Decimal("363.96"), percentage=Decimal(15), currency="EUR"
    )
    assert prices[e3_annual.pk] == Decimal("418.55")  # 418.554
    assert PriceCustomization.objects.count() == 2
    assert AuditEvent.objects.filter(action="marketplace.price.create").count() == 2


def test_a_uniform_price_needs_a_reseller_price_in_that_currency(synced_account):
    e3 = plan(synced_account)
    price_customization_add(actor=None, account=synced_account, offer_id=e3.pk, currency="JPY")

    with pytest.raises(MarketplaceActionRefused, match="no reseller price in JPY"):
        price_customizations_set_uniform(
            actor=None, account=synced_account, rows=[(e3.pk, "JPY")], percentage=Decimal("5")
        )
    with pytest.raises(MarketplaceActionRefused, match="percentage"):
        price_customizations_set_uniform(
            actor=None, account=synced_account, rows=[(e3.pk, "EUR")], percentage=Decimal("-100")
        )


def test_saving_the_price_column_creates_updates_and_clears_and_rounds(synced_account):
    e3 = plan(synced_account)
    jpy = price_customization_add(actor=None, account=synced_account, offer_id=e3.pk, currency="JPY")

    changed = price_customizations_save(
        actor=None, account=synced_account, prices={(e3.pk, "EUR"): "399.999", (e3.pk, "JPY"): "45000.4"}
    )

    assert changed == 2
    assert PriceCustomization.objects.get(offer=e3, currency="EUR").price == Decimal("400.00")
    jpy.refresh_from_db()
    assert jpy.price == Decimal("45000")
    assert price_customizations_save(actor=None, account=synced_account, prices={(e3.pk, "EUR"): "400"}) == 0
    price_customizations_save(actor=None, account=synced_account, prices={(e3.pk, "JPY"): ""})
    jpy.refresh_from_db()
    assert jpy.price is None
    with pytest.raises(MarketplaceActionRefused, match="negative"):
        price_customizations_save(actor=None, account=synced_account, prices={(e3.pk, "EUR"): "-1"})
    with pytest.raises(MarketplaceActionRefused, match="not a price"):
        price_customizations_save(actor=None, account=synced_account, prices={(e3.pk, "EUR"): "abc"})


def test_only_plans_the_marketplace_lists_can_be_added_and_records_can_be_deleted(synced_account):
    e3 = plan(synced_account)
    other_account = AccountFactory(demo=True, display_name="Other", username="other@also.example")
    foreign = Offer.objects.create(
        account=other_account,
        external_id="x|y",
        product_id="x",
        name="Foreign",
        billing_cycle="monthly",
        charge_type="recurring",
        currency="EUR",
        cost_price=Decimal("1"),
    )
    with pytest.raises(MarketplaceActionRefused, match="not one of this account's plans"):
        price_customization_add(actor=None, account=synced_account, offer_id=foreign.pk, currency="EUR")
    Offer.objects.filter(pk=e3.pk).update(is_available=False)
    with pytest.raises(MarketplaceActionRefused, match="no longer offered"):
        price_customization_add(actor=None, account=synced_account, offer_id=e3.pk, currency="EUR")
    Offer.objects.filter(pk=e3.pk).update(is_available=True)

    price_customization_add(actor=None, account=synced_account, offer_id=e3.pk, currency="CHF", price="420")
    with pytest.raises(MarketplaceActionRefused, match="already has a price record"):
        price_customization_add(actor=None, account=synced_account, offer_id=e3.pk, currency="CHF")

    assert price_customizations_delete(actor=None, account=synced_account, rows=[(e3.pk, "CHF")]) == 1
    assert not PriceCustomization.objects.exists()
    assert AuditEvent.objects.filter(action="marketplace.price.delete").exists()


# -- the tab -----------------------------------------------------------------------------------------------------------


def prices_url(account, name="account_prices") -> str:
    return reverse(f"marketplace:{name}", kwargs={"marketplace": "also", "account_pk": account.pk})


def test_the_tab_says_retrieving_until_the_first_sync_finished(alpha_admin_client, partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")

    before = alpha_admin_client.get(prices_url(account)).content.decode()
    assert 'data-testid="prices-retrieving"' in before and 'hx-trigger="every 3s"' in before

    with schema_context(partner_alpha.schema_name):
        sync_run_execute(run_id=SyncRun.objects.create(account=account, trigger="manual").pk)
    after = alpha_admin_client.get(prices_url(account)).content.decode()
    assert 'data-testid="price-table"' in after
    assert "Microsoft 365 E3 (NCE)" in after and "363.96" in after
    assert "retrieving" not in after.lower()


def test_the_tab_saves_prices_sets_uniform_prices_and_deletes_after_confirmation(
    alpha_admin_client, partner_alpha, synced_account
):
    with schema_context(partner_alpha.schema_name):
        e3 = plan(synced_account)
    key = f"{e3.pk}:EUR"

    saved = alpha_admin_client.post(prices_url(synced_account), {f"price-{key}": "399.5"})
    assert saved.status_code == 302
    page = alpha_admin_client.get(prices_url(synced_account)).content.decode()
    assert 'value="399.50"' in page

    alpha_admin_client.post(
        prices_url(synced_account, "account_prices_uniform"), {"selected": [key], "percentage": "10"}
    )
    with schema_context(partner_alpha.schema_name):
        assert PriceCustomization.objects.get(offer=e3).price == Decimal("400.36")  # 363.96 * 1.1 = 400.356

    confirm = alpha_admin_client.post(prices_url(synced_account, "account_prices_delete"), {"selected": [key]})
    assert confirm.status_code == 200 and "Delete this price record?" in confirm.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert PriceCustomization.objects.exists()
    alpha_admin_client.post(prices_url(synced_account, "account_prices_delete"), {"selected": [key], "confirmed": "1"})
    with schema_context(partner_alpha.schema_name):
        assert not PriceCustomization.objects.exists()


def test_add_license_and_configure_price_offers_the_licences_plans(alpha_admin_client, partner_alpha, synced_account):
    with schema_context(partner_alpha.schema_name):
        e3 = plan(synced_account)

    step = alpha_admin_client.get(
        prices_url(synced_account, "account_prices_add"), {"licence": E3}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="plan-choices"' in step and f'value="{e3.pk}"' in step and "363.96" in step

    saved = alpha_admin_client.post(
        prices_url(synced_account, "account_prices_add"), {"licence": E3, "offer": e3.pk, "currency": "JPY"}
    )
    assert saved.status_code == 302
    page = alpha_admin_client.get(prices_url(synced_account)).content.decode()
    assert f'name="price-{e3.pk}:JPY"' in page and 'step="1"' in page


def test_a_custom_price_reaches_existing_subscriptions_only_when_and_from_when_the_user_chooses(
    alpha_admin_client, partner_alpha, synced_account
):
    """The Price column asks, as the catalog's price screens do, whether an edit reaches what was already
    bought: not at all keeps every subscription's price; from the next billing cycle records the new price
    from that cycle's first day; the days before are never touched."""
    from subscriptions.choices import PriceApplication, PriceSource
    from subscriptions.models import SubscriptionPrice
    from subscriptions.services_prices import next_cycle_start
    from tests.factories.subscriptions import SubscriptionFactory

    with schema_context(partner_alpha.schema_name):
        e3 = plan(synced_account)
        bought = SubscriptionFactory(offer=e3, account=synced_account, currency=e3.currency)
    key = f"{e3.pk}:{e3.currency}"
    page = alpha_admin_client.get(prices_url(synced_account)).content.decode()
    assert "Existing subscriptions" in page and "From the next billing cycle" in page

    alpha_admin_client.post(
        prices_url(synced_account), {f"price-{key}": "399.5", "apply_to_subscriptions": PriceApplication.NONE}
    )
    with schema_context(partner_alpha.schema_name):
        assert not SubscriptionPrice.objects.filter(subscription=bought, source=PriceSource.PRICE_EDIT).exists()

    alpha_admin_client.post(
        prices_url(synced_account), {f"price-{key}": "410", "apply_to_subscriptions": PriceApplication.NEXT_CYCLE}
    )
    with schema_context(partner_alpha.schema_name):
        edit = SubscriptionPrice.objects.get(subscription=bought, source=PriceSource.PRICE_EDIT)
        assert edit.unit_price == Decimal("410")
        assert timezone.localdate(edit.effective_from) == next_cycle_start(account_id=synced_account.pk)

    refused = alpha_admin_client.post(
        prices_url(synced_account),
        {f"price-{key}": "420", "apply_to_subscriptions": PriceApplication.FROM_DATE, "apply_from": "2001-01-01"},
        follow=True,
    )
    assert "The date cannot be in the past" in refused.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert PriceCustomization.objects.get(offer=e3).price == Decimal("410")  # nothing saved
