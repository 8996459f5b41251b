"""Money in German and French: every amount and every formula a screen shows (the derivation of a price, a
cost estimate, a billing line) is written with the reader's decimal comma, never "5.71 EUR" by hand."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django_tenants.utils import schema_context

from catalog.pricing import markup_apply, money_multiply
from reports.billing import BillingLine
from reports.choices import BillingLineKind
from tests.factories.catalog import OfferFactory

LANGUAGES = ("de", "fr")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offer_page_derives_its_price_in_the_readers_numbers(alpha_admin_client, partner_alpha, language):
    with schema_context(partner_alpha.schema_name):
        offer = OfferFactory(cost_price=Decimal("5.71"), currency="EUR")
    alpha_admin_client.post("/language/", {"language": language, "next": "/"})

    page = alpha_admin_client.get(f"/catalog/offers/{offer.pk}/").content.decode()

    assert f'<html lang="{language}"' in page
    assert "5,71 × 1,05 = 6,00" in page  # the default markup's step
    assert "5.71" not in page and "6.00" not in page
    assert "5,71\xa0€" in page.replace("\u202f", "\xa0")  # the partner price, by the money filter


@pytest.mark.parametrize("language", LANGUAGES)
def test_formulas_are_written_with_the_readers_decimal_comma(language):
    with translation.override(language):
        estimate = money_multiply(quantity=2, unit=Decimal("20.76"), currency="EUR", months=Decimal(1)).formula()
        _amount, markup = markup_apply(Decimal("5.71"), Decimal(5), "EUR")
        line = BillingLine(
            kind=BillingLineKind.CYCLE_FEE,
            day=date(2026, 1, 1),
            quantity=3,
            days=31,
            period_days=31,
            unit_price=Decimal("5.71"),
            amount=Decimal("17.13"),
            currency="EUR",
        )
        billed = line.formula

    assert estimate.replace("\u202f", "\xa0") == "2 × 20,76 × 1 = 41,52\xa0€"
    assert markup == "5,71 × 1,05 = 6,00"
    assert billed == "3 × 5,71 = 17,13"


def test_english_keeps_the_decimal_point():
    with translation.override("en"):
        estimate = money_multiply(quantity=2, unit=Decimal("20.76"), currency="EUR", months=Decimal(1)).formula()

    assert estimate == "2 × 20.76 × 1 = €41.52"
