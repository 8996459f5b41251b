"""Template filters of the Report center."""

from decimal import Decimal

from django import template

from catalog.pricing import money_format

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """Money as the reader's language writes it: €12,345.60, 12.345,60 €, ￥1,500."""
    if amount is None or amount == "":
        return "—"
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    return money_format(amount, currency or "EUR")


@register.filter
def money_items(totals) -> str:
    """Amounts per currency as one text: "€1,200.00 · $300.00"; a dash for none."""
    parts = [money(amount, currency) for currency, amount in totals.items()]
    return " · ".join(parts) if parts else "—"
