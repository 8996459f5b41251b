"""Money, terms and plans as the catalog pages show them."""

import re
from decimal import Decimal

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.choices import BillingCycle, ChargeType
from catalog.pricing import markup_apply, money_format, money_round

register = template.Library()

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


@register.filter
def money(amount, currency: str = "") -> str:
    """Money as the reader's language writes it ("€14.16", "14,16 €", "￥1,500"); a dash for no amount.

    The one money filter: the console, reports and marketplace tag libraries register this function."""
    if amount is None or amount == "":
        return "—"
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    return money_format(amount, currency or "EUR")


@register.filter
def term_label(term: str) -> str:
    """An ISO 8601 duration in words: P1Y -> "1 year", P1M -> "1 month"."""
    match = _DURATION.match(term or "")
    if not term or not match:
        return term or "—"
    years, months, days = (int(part) if part else 0 for part in match.groups())
    parts = []
    if years:
        parts.append(ngettext("%(count)d year", "%(count)d years", years) % {"count": years})
    if months:
        parts.append(ngettext("%(count)d month", "%(count)d months", months) % {"count": months})
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    return ", ".join(parts) or term


@register.filter
def advance_payment_period(offer) -> str:
    """How far ahead a plan is paid (the store's "advance payment period"): its billing cycle, and none
    for usage, which the marketplace bills after the fact."""
    if offer.charge_type == ChargeType.USAGE:
        return _("None: billed after use")
    return {
        BillingCycle.MONTHLY: _("1 month"),
        BillingCycle.ANNUAL: _("1 year"),
        BillingCycle.TRIENNIAL: _("3 years"),
        BillingCycle.ONE_TIME: _("Paid once"),
    }.get(offer.billing_cycle, _("None"))


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def rule_amount(rule) -> str:
    """What a segment or customer price rule comes to for its offer: "15.58 EUR"."""
    offer = rule.offer
    if rule.price is not None:
        return money(rule.price, offer.currency)
    amount, _detail = markup_apply(money_round(offer.cost_price, offer.currency), rule.markup_percent, offer.currency)
    return money(amount, offer.currency)
