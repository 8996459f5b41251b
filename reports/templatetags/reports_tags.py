"""Template filters of the Report center."""

from decimal import Decimal

from django import template

from catalog.pricing import money_round

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """An amount rounded to its currency, with thousands separators: 12,345.60 (JPY: 1,500)."""
    if amount is None or amount == "":
        return "—"
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    rounded = money_round(amount, currency or "EUR")
    text = f"{rounded:,f}"
    return text.replace("-", "−", 1) if rounded < 0 else text


@register.filter
def money_items(totals) -> str:
    """Amounts per currency as one text: "1,200.00 EUR · 300.00 USD"."""
    parts = [f"{money(amount, currency)} {currency}" for currency, amount in totals.items()]
    return " · ".join(parts) if parts else "0.00"
