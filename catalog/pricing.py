"""What a customer pays for an offer, and how that price came about.

The chain, each step in the offer's currency and rounded to it (half up, as invoices are):

1. the partner price: what the partner pays at the marketplace account (`Offer.cost_price`, the
   "In Price" of ALEF). "Partner price" means this cost everywhere in the console, never more;
2. the default customer price: the account's price customization for the offer in its currency
   (`marketplace.PriceCustomization`), else the partner price plus the partner's default markup
   (`CatalogSettings`, 5% unless the partner changes it);
3. the segment price, when the customer is in a segment that prices this offer;
4. the customer price, when the partner set one for this customer and offer;
5. an order-level price option (ALEF's "Price Options"): a markup or a target customer price.

A later step replaces the price of the steps before it. Segment and customer markups are the whole
markup on the partner price (a 10% segment markup means cost x 1.10). The price option follows ALEF:
"by default, all customer prices have a 5% markup applied from the partner's In Price. Any markup set
here will add or subtract to / from that 5% markup", so an option of +5% on a default of 5% is
cost x 1.10 (14.16 -> 15.58, margin 1.42), and a target price is shown as the markup it amounts to
on top of the default. Money is rounded here and only here (`money_round`: the currency's minor unit
from Babel, half up). Nothing here writes; every read is a constant number of queries.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from babel.numbers import format_currency, get_currency_precision, get_decimal_symbol
from django.conf import settings
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from catalog.models import (
    DEFAULT_MARKUP_PERCENT,
    CatalogSettings,
    CustomerPrice,
    Offer,
    SegmentMembership,
    SegmentPrice,
)

if TYPE_CHECKING:
    from customers.models import Customer
    from marketplace.models import MarketplaceAccount

HUNDRED = Decimal(100)


@functools.cache
def currency_decimals(currency: str) -> int:
    """Digits after the decimal point of `currency` (ISO 4217 minor unit, from Babel's CLDR data):
    2 for EUR, 0 for JPY, 3 for KWD; 2 for a code Babel does not know."""
    return get_currency_precision((currency or "").upper()) if currency else 2


def money_round(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (2 decimals; JPY none), half up."""
    if not isinstance(amount, Decimal):
        raise TypeError("money is Decimal, never float")
    return amount.quantize(Decimal(1).scaleb(-currency_decimals(currency)), rounding=ROUND_HALF_UP)


def money_text(amount: Decimal, currency: str) -> str:
    """The amount with its currency's decimals, no grouping: "14.16", "1500" (JPY)."""
    return f"{money_round(amount, currency):f}"


def money_format(amount: Decimal, currency: str, *, language: str | None = None) -> str:
    """The amount as a reader of `language` (default: the active one) writes money: "€1,234.56" in
    English, "1.234,56 €" in German, "1 234,56 €" in French, "￥1,500" in Japanese. Rounded first to
    the currency's minor unit, so what is shown is what is charged."""
    locale = to_locale(language or get_language() or settings.LANGUAGE_CODE)
    return _currency_formatted(money_round(amount, currency), currency.upper(), locale)


@functools.lru_cache(maxsize=4096)
def _currency_formatted(amount: Decimal, currency: str, locale: str) -> str:
    """Babel's formatting (~0.1 ms a call, dozens of calls a page) of amounts that recur on every page."""
    return format_currency(amount, currency, locale=locale)


def reader_number(text: str, *, language: str | None = None) -> str:
    """A plain number ("36.40", "1.125", "30.4375", "41.52") with the decimal sign of `language`'s readers
    (default: the active language): "36,40" in German and French. The digits stay exactly as given, so a
    formula that multiplies out in one language does in every one."""
    return text.replace(".", _decimal_symbol(to_locale(language or get_language() or settings.LANGUAGE_CODE)))


@functools.lru_cache(maxsize=16)
def _decimal_symbol(locale: str) -> str:
    return get_decimal_symbol(locale)


def percent_text(percent: Decimal, *, signed: bool = False) -> str:
    """A percentage as a plain number: "10", "12.5", "-5" ("+5" when `signed`); never "1E+1"."""
    text = f"{Decimal(percent).normalize():f}"
    if text == "-0":
        text = "0"
    if signed and not text.startswith("-"):
        text = "+" + text
    return text


def markup_apply(base: Decimal, percent: Decimal, currency: str) -> tuple[Decimal, str]:
    """`base` raised by `percent` percent (negative lowers it), rounded; and the sum that says how.
    A markup of -100% or less is a price of zero, never a negative one."""
    factor = max((HUNDRED + percent) / HUNDRED, Decimal(0))
    amount = money_round(base * factor, currency)
    formula = f"{money_text(base, currency)} × {factor.normalize():f} = {money_text(amount, currency)}"
    return amount, reader_number(formula)


def number_text(value: Decimal, places: int = 2) -> str:
    """A quantity that is not money (months, days) rounded half up to `places` and written plainly:
    "1", "10.4", "0.35"; never "1.0" nor "1E+1"."""
    return percent_text(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MoneyProduct:
    """quantity × unit price (× months) = amount, printed so that it multiplies out: the amount is
    computed from the factors exactly as they are printed (the unit rounded to the currency, months
    to two decimals or as days / days per month), then rounded to the currency once."""

    quantity: int
    unit: Decimal  # rounded to the currency
    currency: str
    amount: Decimal  # rounded to the currency
    months: Decimal | None = None  # rounded to two decimals; None: no months factor
    days: int | None = None  # the months factor as days / days per month, printed unrounded
    days_per_month: Decimal | None = None

    @property
    def months_text(self) -> str:
        if self.days is not None:
            return f"{self.days}/{percent_text(self.days_per_month)}"
        return number_text(self.months) if self.months is not None else ""

    @property
    def unit_text(self) -> str:
        return money_text(self.unit, self.currency)

    def formula(self) -> str:
        """ "2 × 20.76 × 1 = €41.52": the factors and the amount as the reader writes numbers and money
        ("2 × 20,76 × 1 = 41,52 €" in German)."""
        parts = [str(self.quantity), self.unit_text]
        if self.months_text:
            parts.append(self.months_text)
        return f"{reader_number(' × '.join(parts))} = {money_format(self.amount, self.currency)}"


def money_multiply(
    *,
    quantity: int,
    unit: Decimal,
    currency: str,
    months: Decimal | None = None,
    days: int | None = None,
    days_per_month: Decimal | None = None,
) -> MoneyProduct:
    """quantity × unit (× months, or × days / days per month), with the factors rounded as they are
    printed, so what is printed multiplies out to the amount shown."""
    unit_shown = money_round(unit, currency)
    product = unit_shown * quantity
    months_shown = None
    if days is not None:
        if not days_per_month:
            raise ValueError("days need the days per month")
        product = product * days / days_per_month
    elif months is not None:
        months_shown = Decimal(months).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        product = product * months_shown
    return MoneyProduct(
        quantity=quantity,
        unit=unit_shown,
        currency=currency,
        amount=money_round(product, currency),
        months=months_shown,
        days=days,
        days_per_month=days_per_month if days is not None else None,
    )


def markup_of(*, cost: Decimal, price: Decimal) -> Decimal | None:
    """The whole markup in percent that takes `cost` to `price` (two decimals, half up); None when
    the cost is zero and no percentage can say it."""
    if not cost:
        return None
    return ((price - cost) / cost * HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PriceStep:
    label: str  # translated, e.g. "Cost price at ALSO (Demo reseller)", "Default markup 5%"
    amount: Decimal  # the unit price after this step
    detail: str = ""  # how: "12.00 × 1.05 = 12.60"


@dataclass(frozen=True)
class PriceOption:
    """An order-level price option: a markup added to the default markup, or a target price, or neither."""

    markup_percent: Decimal | None = None
    target_price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.markup_percent is not None and self.target_price is not None:
            raise ValueError("A price option is a markup or a target price, not both.")
        if self.markup_percent is not None and self.markup_percent <= -HUNDRED:
            raise ValueError("A markup must be above -100%.")
        if self.target_price is not None and self.target_price < 0:
            raise ValueError("A target price cannot be negative.")

    @property
    def is_empty(self) -> bool:
        return self.markup_percent is None and self.target_price is None


@dataclass(frozen=True)
class ResolvedPrice:
    amount: Decimal  # unit price the customer pays, rounded to the currency
    currency: str
    cost: Decimal  # unit cost price (the partner's price at the marketplace)
    suggested_retail: Decimal | None
    steps: tuple[PriceStep, ...]
    default_markup: Decimal = Decimal(5)  # the partner's default markup in percent
    #: the price option's markup on top of the default markup, in percent: as typed, or what a target
    #: price amounts to (None: no price option, or a target on a zero cost)
    option_markup: Decimal | None = None

    @property
    def margin(self) -> Decimal:
        return self.amount - self.cost

    @property
    def partner_price(self) -> Decimal:
        """ALEF's "Partner price": what the marketplace charges the partner, the cost price."""
        return self.cost

    @property
    def default_price(self) -> Decimal:
        """The price before anything customer- or order-specific: step 2 of the chain."""
        return self.steps[1].amount if len(self.steps) > 1 else self.amount

    @property
    def derivation(self) -> str:
        """The steps as lines of text, for a tooltip or an email."""
        lines = []
        for step in self.steps:
            line = f"{step.label}: {money_format(step.amount, self.currency)}"
            if step.detail:
                line += f" ({step.detail})"
            lines.append(line)
        return "\n".join(lines)


@dataclass
class _Context:
    """Everything the chain needs for a set of offers and one customer, read in a fixed number of queries."""

    default_markup: Decimal
    accounts: dict[int, MarketplaceAccount]
    custom_prices: dict[int, Decimal]
    segment_name: str
    segment_prices: dict[int, SegmentPrice]
    customer_name: str
    customer_prices: dict[int, CustomerPrice]


def default_markup_percent() -> Decimal:
    settings = CatalogSettings.objects.order_by("pk").first()
    return settings.default_markup_percent if settings else DEFAULT_MARKUP_PERCENT


def _context(offers: list[Offer], customer: Customer | None) -> _Context:
    from marketplace.models import MarketplaceAccount, PriceCustomization

    ids = [offer.pk for offer in offers]
    accounts: dict[int, MarketplaceAccount] = {}
    missing: set[int] = set()
    for offer in offers:
        if Offer.account.is_cached(offer):
            accounts[offer.account_id] = offer.account
        else:
            missing.add(offer.account_id)
    missing -= accounts.keys()
    if missing:
        accounts.update(MarketplaceAccount.objects.in_bulk(missing))
    currencies = {offer.pk: offer.currency for offer in offers}
    custom_prices = {
        offer_id: price
        for offer_id, currency, price in PriceCustomization.objects.filter(
            offer_id__in=ids, price__isnull=False
        ).values_list("offer_id", "currency", "price")
        if currencies.get(offer_id) == currency
    }
    segment_name, segment_prices, customer_name, customer_prices = "", {}, "", {}
    if customer is not None:
        customer_name = customer.name
        membership = SegmentMembership.objects.select_related("segment").filter(customer=customer).first()
        if membership is not None:
            segment_name = membership.segment.name
            segment_prices = {
                row.offer_id: row
                for row in SegmentPrice.objects.filter(segment_id=membership.segment_id, offer_id__in=ids)
            }
        customer_prices = {
            row.offer_id: row for row in CustomerPrice.objects.filter(customer=customer, offer_id__in=ids)
        }
    return _Context(
        default_markup=default_markup_percent(),
        accounts=accounts,
        custom_prices=custom_prices,
        segment_name=segment_name,
        segment_prices=segment_prices,
        customer_name=customer_name,
        customer_prices=customer_prices,
    )


def _rule_step(label: str, rule: SegmentPrice | CustomerPrice, cost: Decimal, currency: str) -> PriceStep:
    if rule.price is not None:
        return PriceStep(label=label, amount=money_round(rule.price, currency), detail=_("fixed price"))
    amount, detail = markup_apply(cost, rule.markup_percent, currency)
    return PriceStep(
        label=f"{label}, " + _("markup %(percent)s%%") % {"percent": percent_text(rule.markup_percent)},
        amount=amount,
        detail=detail,
    )


def _resolve(offer: Offer, context: _Context) -> ResolvedPrice:
    currency = offer.currency
    cost = money_round(offer.cost_price, currency)
    account = context.accounts.get(offer.account_id)
    steps = [
        PriceStep(
            label=_("Partner price at %(marketplace)s (%(account)s)")
            % {"marketplace": account.get_marketplace_display(), "account": account.display_name}
            if account
            else _("Partner price"),
            amount=cost,
        )
    ]
    custom = context.custom_prices.get(offer.pk)
    if custom is not None:
        steps.append(
            PriceStep(
                label=_("Custom price of the marketplace account"),
                amount=money_round(custom, currency),
                detail=_("price customization"),
            )
        )
    else:
        amount, detail = markup_apply(cost, context.default_markup, currency)
        steps.append(
            PriceStep(
                label=_("Default markup %(percent)s%%") % {"percent": percent_text(context.default_markup)},
                amount=amount,
                detail=detail,
            )
        )
    segment_rule = context.segment_prices.get(offer.pk)
    if segment_rule is not None:
        steps.append(
            _rule_step(
                _("Segment price (%(segment)s)") % {"segment": context.segment_name}, segment_rule, cost, currency
            )
        )
    customer_rule = context.customer_prices.get(offer.pk)
    if customer_rule is not None:
        steps.append(
            _rule_step(
                _("Customer price (%(customer)s)") % {"customer": context.customer_name}, customer_rule, cost, currency
            )
        )
    suggested = offer.suggested_retail_price
    return ResolvedPrice(
        amount=steps[-1].amount,
        currency=currency,
        cost=cost,
        suggested_retail=money_round(suggested, currency) if suggested is not None else None,
        steps=tuple(steps),
        default_markup=context.default_markup,
    )


def price_option_apply(resolved: ResolvedPrice, option: PriceOption | None) -> ResolvedPrice:
    """The resolved price with an order-level price option as its last step (none: unchanged).

    ALEF's rule: the option's markup adds to or subtracts from the partner's default markup, both on the
    partner price (cost). A target price is taken as typed, and `option_markup` says what markup on top
    of the default it amounts to."""
    if option is None or option.is_empty:
        return resolved
    currency = resolved.currency
    default = resolved.default_markup
    if option.target_price is not None:
        amount = money_round(option.target_price, currency)
        whole = markup_of(cost=resolved.cost, price=amount)
        option_markup = whole - default if whole is not None else None
        detail = _("set on this order")
        if option_markup is not None:
            detail += "; " + _("markup %(option)s%% on the default %(default)s%%") % {
                "option": percent_text(option_markup, signed=True),
                "default": percent_text(default),
            }
        step = PriceStep(label=_("Price option: target customer price"), amount=amount, detail=detail)
    else:
        option_markup = option.markup_percent
        amount, detail = markup_apply(resolved.cost, default + option_markup, currency)
        step = PriceStep(
            label=_("Price option: markup %(option)s%% on the default %(default)s%%")
            % {"option": percent_text(option_markup, signed=True), "default": percent_text(default)},
            amount=amount,
            detail=detail,
        )
    return ResolvedPrice(
        amount=amount,
        currency=currency,
        cost=resolved.cost,
        suggested_retail=resolved.suggested_retail,
        steps=(*resolved.steps, step),
        default_markup=default,
        option_markup=option_markup,
    )


def prices_resolve(*, offers: Iterable[Offer], customer: Customer | None = None) -> dict[int, ResolvedPrice]:
    """{offer pk: price} for many offers and one customer (or none: the partner price), in at most
    six queries whatever the number of offers."""
    offers = list(offers)
    if not offers:
        return {}
    context = _context(offers, customer)
    return {offer.pk: _resolve(offer, context) for offer in offers}


def price_resolve(
    *, offer: Offer, customer: Customer | None = None, option: PriceOption | None = None
) -> ResolvedPrice:
    """What `customer` pays for one unit of `offer` (with an order's price option), and why."""
    return price_option_apply(prices_resolve(offers=[offer], customer=customer)[offer.pk], option)


def customer_price_rows_resolve(*, rows: Iterable[CustomerPrice]) -> dict[int, ResolvedPrice]:
    """{customer price pk: what that customer pays for that offer} for a page of customer prices of many
    customers, in at most six queries."""
    rows = list(rows)
    if not rows:
        return {}
    offers = {row.offer_id: row.offer for row in rows}
    base = _context(list(offers.values()), None)
    memberships = {
        membership.customer_id: membership
        for membership in SegmentMembership.objects.select_related("segment").filter(
            customer_id__in={row.customer_id for row in rows}
        )
    }
    segment_prices = {
        (price.segment_id, price.offer_id): price
        for price in SegmentPrice.objects.filter(
            segment_id__in={membership.segment_id for membership in memberships.values()}, offer_id__in=offers.keys()
        )
    }
    resolved = {}
    for row in rows:
        membership = memberships.get(row.customer_id)
        segment_price = segment_prices.get((membership.segment_id, row.offer_id)) if membership else None
        context = _Context(
            default_markup=base.default_markup,
            accounts=base.accounts,
            custom_prices=base.custom_prices,
            segment_name=membership.segment.name if membership else "",
            segment_prices={row.offer_id: segment_price} if segment_price else {},
            customer_name=row.customer.name,
            customer_prices={row.offer_id: row},
        )
        resolved[row.pk] = _resolve(offers[row.offer_id], context)
    return resolved


# -- guardrails ------------------------------------------------------------------------------------------------------

#: An order above this many times the current quantity needs confirming, whatever the seat limit.
LARGE_QUANTITY_FACTOR = 10


@dataclass(frozen=True)
class Guardrail:
    """Something unusual about a price or quantity that the user must confirm, in words that name the
    amount: "I confirm selling below cost: €12.00 per seat, €2.16 under the partner price"."""

    kind: str  # "below_cost", "zero_price", "large_quantity"
    message: str


def large_quantity_seats() -> int:
    """The partner's seat count above which an order needs confirming (300 unless changed)."""
    from catalog.models import DEFAULT_LARGE_QUANTITY_SEATS

    settings = CatalogSettings.objects.order_by("pk").first()
    return settings.large_quantity_seats if settings else DEFAULT_LARGE_QUANTITY_SEATS


def guardrails_check(
    *,
    currency: str,
    price: Decimal | None = None,
    cost: Decimal | None = None,
    quantity: int | None = None,
    current_quantity: int | None = None,
    seat_limit: int | None = None,
    name: str = "",
) -> list[Guardrail]:
    """What needs an explicit confirmation: a unit price of zero, a unit price under the partner price
    (cost), a quantity above the partner's seat limit or ten times the current quantity. Pass only what
    the user may see: no cost for someone who never sees cost prices."""
    found: list[Guardrail] = []
    prefix = f"{name}: " if name else ""
    if price is not None:
        price = money_round(price, currency)
        if price == 0:
            found.append(
                Guardrail(
                    "zero_price",
                    prefix
                    + _("I confirm selling at a price of zero: %(price)s per seat")
                    % {"price": money_format(price, currency)},
                )
            )
        elif cost is not None and price < money_round(cost, currency):
            found.append(
                Guardrail(
                    "below_cost",
                    prefix
                    + _("I confirm selling below cost: %(price)s per seat, %(gap)s under the partner price")
                    % {
                        "price": money_format(price, currency),
                        "gap": money_format(money_round(cost, currency) - price, currency),
                    },
                )
            )
    if quantity is not None:
        limit = seat_limit if seat_limit is not None else large_quantity_seats()
        tenfold = (
            current_quantity is not None
            and current_quantity > 0
            and quantity > current_quantity * LARGE_QUANTITY_FACTOR
        )
        if quantity > limit or tenfold:
            if price is not None:
                total = money_format(money_round(price * quantity, currency), currency)
                message = _("I confirm %(quantity)s seats, %(total)s per billing period") % {
                    "quantity": quantity,
                    "total": total,
                }
            else:
                message = _("I confirm %(quantity)s seats") % {"quantity": quantity}
            if tenfold:
                message += " " + _("(more than ten times the current %(current)s)") % {"current": current_quantity}
            else:
                message += " " + _("(more than %(limit)s)") % {"limit": limit}
            found.append(Guardrail("large_quantity", prefix + message))
    return found


def guardrails_token(guardrails: Iterable[Guardrail]) -> str:
    """A digest of what was confirmed: a confirmation counts only for the amounts it named."""
    import hashlib

    text = "\n".join(sorted(guardrail.message for guardrail in guardrails))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
