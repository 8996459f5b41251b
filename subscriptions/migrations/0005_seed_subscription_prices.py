"""Price history begins: every subscription gets the price billing charges it today, from its start.

Frozen copy of the pricing chain as it stood when history began (cost price; the account's custom
price, else the default markup; the segment price; the customer price; half-up rounding to the
currency), on the historical models, so later changes to `catalog.pricing` do not change what this
migration wrote. A subscription whose offer is not in the catalog gets the marketplace's own sales
price when it reports one; billing reports it as unpriced otherwise, as before.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

DEFAULT_MARKUP_PERCENT = Decimal("5.00")
HUNDRED = Decimal(100)
CURRENCY_DECIMALS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0}
CURRENCY_DECIMALS.update({"KWD": 3, "OMR": 3, "TND": 3, "UGX": 0, "VND": 0})


def _round(amount, currency):
    digits = CURRENCY_DECIMALS.get((currency or "").upper(), 2)
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _rule(rule, cost, currency):
    if rule.price is not None:
        return _round(rule.price, currency)
    return _round(cost * (HUNDRED + rule.markup_percent) / HUNDRED, currency)


def seed(apps, schema_editor):
    Subscription = apps.get_model("subscriptions", "Subscription")
    SubscriptionPrice = apps.get_model("subscriptions", "SubscriptionPrice")
    Offer = apps.get_model("catalog", "Offer")
    CatalogSettings = apps.get_model("catalog", "CatalogSettings")
    CustomerPrice = apps.get_model("catalog", "CustomerPrice")
    SegmentMembership = apps.get_model("catalog", "SegmentMembership")
    SegmentPrice = apps.get_model("catalog", "SegmentPrice")
    PriceCustomization = apps.get_model("marketplace", "PriceCustomization")

    settings = CatalogSettings.objects.order_by("pk").first()
    markup = settings.default_markup_percent if settings else DEFAULT_MARKUP_PERCENT
    offers = {offer.pk: offer for offer in Offer.objects.all()}
    custom = {(row.offer_id, row.currency): row.price for row in PriceCustomization.objects.filter(price__isnull=False)}
    segment_of = dict(SegmentMembership.objects.values_list("customer_id", "segment_id"))
    segment_prices = {(row.segment_id, row.offer_id): row for row in SegmentPrice.objects.all()}
    customer_prices = {(row.customer_id, row.offer_id): row for row in CustomerPrice.objects.all()}

    def price_of(row):
        customer_id = row["customer_tenant__customer_id"]
        offer = offers.get(row["offer_id"])
        if offer is None:
            if row["unit_sales_price"] is not None and row["currency"]:
                return row["unit_sales_price"], row["unit_cost_price"], row["currency"]
            return None
        currency = offer.currency
        cost = _round(offer.cost_price, currency)
        partner = custom.get((offer.pk, currency))
        amount = (
            _round(partner, currency) if partner is not None else _round(cost * (HUNDRED + markup) / HUNDRED, currency)
        )
        segment_rule = segment_prices.get((segment_of.get(customer_id), offer.pk))
        if segment_rule is not None:
            amount = _rule(segment_rule, cost, currency)
        customer_rule = customer_prices.get((customer_id, offer.pk))
        if customer_rule is not None:
            amount = _rule(customer_rule, cost, currency)
        return amount, cost, currency

    batch = []
    rows = Subscription.objects.values(
        "pk",
        "account_id",
        "external_id",
        "offer_id",
        "started_at",
        "created",
        "unit_sales_price",
        "unit_cost_price",
        "currency",
        "customer_tenant__customer_id",
    )
    for row in rows.iterator(chunk_size=2000):
        price = price_of(row)
        if price is None:
            continue
        batch.append(
            SubscriptionPrice(
                subscription_id=row["pk"],
                account_id=row["account_id"],
                external_id=row["external_id"],
                effective_from=row["started_at"] or row["created"],
                unit_price=price[0],
                cost_price=price[1],
                currency=price[2],
                source="migration",
            )
        )
        if len(batch) >= 2000:
            SubscriptionPrice.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        SubscriptionPrice.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0004_subscription_price_history"),
        ("catalog", "0003_structure_and_prices"),
        ("marketplace", "0003_syncrun_mirror_digests"),
        ("customers", "0002_tenant_domain_optional_consent_message"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
