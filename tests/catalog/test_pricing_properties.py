"""Properties of the pricing arithmetic (catalog.pricing), for any amount hypothesis can think of.

- markups compose as ALEF's Price Options do: a Price Options markup adds to or subtracts from the default
  markup, both on the partner price (14.16 + 5 % + 5 % = 15.58), and a target price is the markup it shows;
- money is rounded once per currency, half up: EUR to the cent, JPY to the yen, KWD to the fils;
- every printed computation multiplies out to the amount shown;
- percentages print as plain numbers.
"""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.pricing import (
    PriceOption,
    PriceStep,
    ResolvedPrice,
    currency_decimals,
    markup_apply,
    money_multiply,
    money_round,
    money_text,
    percent_text,
    price_option_apply,
)

CURRENCIES = st.sampled_from(["EUR", "USD", "CHF", "JPY", "KWD"])
costs = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=4)
percents = st.decimals(min_value=Decimal("-50"), max_value=Decimal("200"), places=2)
quantities = st.integers(min_value=1, max_value=100_000)


def resolved_at_default(cost: Decimal, default: Decimal, currency: str) -> ResolvedPrice:
    """What price_resolve gives for an offer with no customer-specific price: cost, then the default markup."""
    cost = money_round(cost, currency)
    amount, detail = markup_apply(cost, default, currency)
    return ResolvedPrice(
        amount=amount,
        currency=currency,
        cost=cost,
        suggested_retail=None,
        steps=(PriceStep("Partner price", cost), PriceStep("Default markup", amount, detail)),
        default_markup=default,
    )


def test_the_seeds_numbers():
    resolved = price_option_apply(
        resolved_at_default(Decimal("14.16"), Decimal("5"), "EUR"), PriceOption(markup_percent=Decimal("5"))
    )
    assert (resolved.partner_price, resolved.amount, resolved.margin) == (
        Decimal("14.16"),
        Decimal("15.58"),
        Decimal("1.42"),
    )


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(cost=costs, default=percents, option=percents, currency=CURRENCIES)
def test_a_price_options_markup_adds_to_the_default_markup(cost, default, option, currency):
    resolved = price_option_apply(resolved_at_default(cost, default, currency), PriceOption(markup_percent=option))
    base = money_round(cost, currency)
    expected = money_round(max(base * (100 + default + option) / 100, Decimal(0)), currency)
    assert resolved.amount == expected
    # the same price as a default markup of default + option with no option at all
    assert resolved.amount == resolved_at_default(cost, default + option, currency).amount
    assert resolved.margin == resolved.amount - resolved.partner_price
    assert resolved.partner_price == base


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(cost=costs, default=percents, currency=CURRENCIES)
def test_an_option_of_zero_keeps_the_default_price(cost, default, currency):
    at_default = resolved_at_default(cost, default, currency)
    assert price_option_apply(at_default, PriceOption(markup_percent=Decimal(0))).amount == at_default.amount


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(cost=costs, default=percents, target=costs, currency=CURRENCIES)
def test_a_target_price_shows_the_markup_it_amounts_to(cost, default, target, currency):
    at_default = resolved_at_default(cost, default, currency)
    resolved = price_option_apply(at_default, PriceOption(target_price=target))
    assert resolved.amount == money_round(target, currency)
    if at_default.cost:
        # cost × (1 + (default + option markup) / 100) is the target, up to the markup's two decimals
        implied = at_default.cost * (100 + default + resolved.option_markup) / 100
        assert abs(implied - resolved.amount) <= at_default.cost * Decimal("0.00005")


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(amount=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=6), currency=CURRENCIES)
def test_money_is_rounded_to_the_currencys_minor_unit(amount, currency):
    rounded = money_round(amount, currency)
    places = currency_decimals(currency)
    assert rounded.as_tuple().exponent == -places
    assert abs(rounded - amount) <= Decimal(1).scaleb(-places) / 2
    assert rounded == amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(units=st.integers(min_value=0, max_value=10_000_000))
def test_half_rounds_up_in_euro_and_yen(units):
    assert money_round(Decimal(units) / 100 + Decimal("0.005"), "EUR") == Decimal(units + 1) / 100
    assert money_round(Decimal(units) + Decimal("0.5"), "JPY") == Decimal(units + 1)
    assert money_round(Decimal(units) + Decimal("0.49"), "JPY") == Decimal(units)
    assert currency_decimals("EUR") == 2 and currency_decimals("JPY") == 0


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(
    quantity=quantities,
    unit=costs,
    months=st.none() | st.decimals(min_value=Decimal("0"), max_value=Decimal("36"), places=4),
    currency=CURRENCIES,
)
def test_a_printed_product_multiplies_out(quantity, unit, months, currency):
    product = money_multiply(quantity=quantity, unit=unit, months=months, currency=currency)
    shown_unit = Decimal(product.unit_text)
    shown_months = Decimal(product.months_text) if months is not None else Decimal(1)
    assert money_round(quantity * shown_unit * shown_months, currency) == product.amount
    assert "E" not in product.formula()
    assert product.formula().startswith(f"{quantity} × {money_text(shown_unit, currency)}")


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(quantity=quantities, unit=costs, days=st.integers(min_value=0, max_value=1100), currency=CURRENCIES)
def test_a_prorated_product_multiplies_out(quantity, unit, days, currency):
    per_month = Decimal("30.4375")
    product = money_multiply(quantity=quantity, unit=unit, days=days, days_per_month=per_month, currency=currency)
    assert product.months_text == f"{days}/30.4375"
    assert money_round(quantity * Decimal(product.unit_text) * days / per_month, currency) == product.amount


@settings(deadline=None)  # the machine is shared: time is not what these tests are about
@given(percent=st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2))
def test_percentages_print_as_numbers(percent):
    text = percent_text(percent)
    assert "E" not in text and "e" not in text
    assert Decimal(text) == percent
    signed = percent_text(percent, signed=True)
    assert signed[0] in "+-" or signed == "+0"
    assert Decimal(signed) == percent
