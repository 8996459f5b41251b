from decimal import Decimal

from django import template

from catalog.pricing import currency_decimals, money_round
from catalog.templatetags.catalog_tags import money

register = template.Library()
register.filter("money", money)


@register.filter
def price_input(value, currency: str) -> str:
    """A price as a number input's value: rounded to its currency's minor unit, unlocalised ("14.16",
    "1500" for JPY); blank for None."""
    if value is None or value == "":
        return ""
    return f"{money_round(Decimal(value), currency):f}"


@register.filter
def price_step(currency: str) -> str:
    """The `step` of a price input: 0.01 for most currencies, 1 for JPY."""
    decimals = currency_decimals(currency)
    return "1" if decimals == 0 else f"{Decimal(1).scaleb(-decimals):f}"


@register.filter
def count_of(counts: dict, kind: str) -> dict:
    """`run.counts|count_of:"offers"`: the created/updated/unchanged/removed of one kind."""
    return (counts or {}).get(kind) or {}


@register.filter
def split_words(value: str) -> list[str]:
    return value.split()
