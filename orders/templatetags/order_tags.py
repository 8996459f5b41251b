from decimal import Decimal

from django import template

from catalog.pricing import money_format, percent_text

register = template.Library()


@register.filter
def order_money(value, currency: str) -> str:
    """Money as the reader's language writes it ("€14.16", "14,16 €", "￥1,500"); blank for None."""
    if value is None or value == "":
        return ""
    return money_format(Decimal(value), currency or "EUR")


@register.filter
def price_derivation(line) -> str:
    """How a line's unit price came about, one step per line (for a tooltip)."""
    steps = getattr(line, "price_steps", None) or []
    currency = getattr(line, "currency", "") or ""
    rows = []
    for step in steps:
        row = f"{step.get('label', '')}: {order_money(step.get('amount'), currency)}"
        if step.get("detail"):
            row += f" ({step['detail']})"
        rows.append(row)
    return "\n".join(rows)


@register.filter
def steps_text(resolved) -> str:
    """How a resolved price (catalog.pricing.ResolvedPrice) came about, for a tooltip."""
    return getattr(resolved, "derivation", "") if resolved is not None else ""


@register.filter
def percent(value) -> str:
    """A percentage as a plain number: "10", "12.5" (never "1E+1")."""
    return percent_text(Decimal(value)) if value is not None and value != "" else ""


@register.filter
def percent_signed(value) -> str:
    """A percentage with its sign: "+5", "-2.5"."""
    return percent_text(Decimal(value), signed=True) if value is not None and value != "" else ""
