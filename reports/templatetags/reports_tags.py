"""Template filters of the Report center."""

from django import template

from catalog.templatetags.catalog_tags import money

register = template.Library()
register.filter("money", money)


@register.filter
def money_items(totals) -> str:
    """Amounts per currency as one text: "€1,200.00 · $300.00"; a dash for none."""
    parts = [money(amount, currency) for currency, amount in totals.items()]
    return " · ".join(parts) if parts else "—"
