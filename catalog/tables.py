"""Tables of the catalog screens. Prices come from catalog.pricing for the shown page only (`prices`)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.models import CustomerPrice, CustomerSegment, Offer
from catalog.pricing import ResolvedPrice, money_format, percent_text
from catalog.templatetags.catalog_tags import term_label
from portal.core.formatting import DATE_CELL


def price_html(resolved: ResolvedPrice | None, *, derivation: bool):
    """An amount, with how it came about as its hover text for those who may see cost prices (the
    derivation starts from the cost price)."""
    if resolved is None:
        return "—"
    if not derivation:
        return format_html(
            '<span class="text-nowrap" data-price>{}</span>', money_format(resolved.amount, resolved.currency)
        )
    return format_html(
        '<span class="text-nowrap price-derivation" title="{}" data-price tabindex="0">{}'
        ' <i class="bi bi-info-circle text-body-secondary small" aria-hidden="true"></i></span>',
        resolved.derivation,
        money_format(resolved.amount, resolved.currency),
    )


def offer_name_html(offer: Offer, url: str, *, visibility: bool = False):
    """The offer's name linked, its badges and its vendor and SKU; with `visibility`, a badge when customers
    do not see it (hidden, or gone from the marketplace): the catalog has no column for it, to fit 1366 px."""
    badges = visibility_badge(offer) if visibility else ""
    if offer.eligibility:
        badges = format_html(
            '{} <span class="badge text-bg-light border text-wrap">{}</span>', badges, offer.get_eligibility_display()
        )
    if offer.is_add_on:
        badges = format_html('{} <span class="badge text-bg-info">{}</span>', badges, _("Add-on"))
    return format_html(
        '<a href="{}" class="fw-semibold text-decoration-none">{}</a>{}'
        '<div class="small text-body-secondary text-break">{}</div>',
        url,
        offer.name,
        badges,
        " · ".join(part for part in (offer.vendor, offer.sku) if part),
    )


def visibility_badge(offer: Offer):
    if not offer.is_available:
        return format_html(' <span class="badge text-bg-secondary">{}</span>', _("Not at the marketplace"))
    if not offer.is_visible or (offer.product_group and not offer.product_group.is_visible):
        return format_html(' <span class="badge text-bg-warning" data-testid="hidden-badge">{}</span>', _("Hidden"))
    return ""


class OfferTable(tables.Table):
    select = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs={"td": {"class": "text-center"}})
    name = tables.Column(verbose_name=_("Offer"), order_by=("name", "billing_cycle", "id"))
    group = tables.Column(
        verbose_name=_("Product group"), accessor="product_group__name", order_by=("product_group__name", "name")
    )
    # the term and the charge type under the billing cycle: a column of their own would not fit 1366 px in German
    billing_cycle = tables.Column(verbose_name=_("Billing"))
    account = tables.Column(verbose_name=_("Marketplace account"), accessor="account__display_name")
    cost_price = tables.Column(
        verbose_name=_("Partner price"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    price = tables.Column(
        verbose_name=_("Default customer price"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    suggested_retail_price = tables.Column(
        verbose_name=_("Suggested retail price"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )

    class Meta:
        model = Offer
        fields = ()
        sequence = (
            "select",
            "name",
            "group",
            "billing_cycle",
            "account",
            "cost_price",
            "price",
            "suggested_retail_price",
        )
        order_by = ("name",)
        empty_text = ""
        attrs = {"class": "table table-sm table-hover align-middle mb-0 small table-numbers"}

    shows_visibility = True  # a partner sees which offers customers do not

    def __init__(self, *args, prices=None, derivation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prices: dict[int, ResolvedPrice] = prices or {}
        self.derivation = derivation

    def render_select(self, value: int):
        return format_html(
            '<input class="form-check-input" type="checkbox" name="offers" value="{}" form="visibility-form" '
            'aria-label="{}">',
            value,
            _("Select"),
        )

    def render_name(self, record: Offer):
        url = reverse("catalog:offer_detail", args=[record.pk])
        return offer_name_html(record, url, visibility=self.shows_visibility)

    def render_group(self, record: Offer):
        if record.product_group is None:
            return format_html('<span class="text-body-secondary">{}</span>', _("Not sorted yet"))
        category = record.product_group.category
        return format_html(
            '{}<div class="small text-body-secondary">{}</div>',
            record.product_group.name,
            category.label if category else _("Other"),
        )

    def render_billing_cycle(self, record: Offer):
        details = [term_label(record.term)] if record.term else []
        details.append(record.get_charge_type_display())
        return format_html(
            '{}<div class="small text-body-secondary">{}</div>',
            record.get_billing_cycle_display(),
            " · ".join(str(detail) for detail in details),
        )

    def render_cost_price(self, record: Offer):
        return format_html('<span class="text-nowrap">{}</span>', money_format(record.cost_price, record.currency))

    def render_price(self, record: Offer):
        return price_html(self.prices.get(record.pk), derivation=self.derivation)

    def render_suggested_retail_price(self, record: Offer):
        return format_html(
            '<span class="text-nowrap">{}</span>', money_format(record.suggested_retail_price, record.currency)
        )


class CustomerOfferTable(OfferTable):
    """The catalog a customer tenant admin sees: their own price, never the partner's."""

    shows_visibility = False

    price = tables.Column(
        verbose_name=_("Your price"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )


def offer_table(data, *, is_partner: bool, can_manage: bool, sees_cost: bool, show_price: bool, **kwargs) -> OfferTable:
    """The catalog list for this user: a customer tenant admin sees neither cost, nor the partner's
    marketplace accounts, nor what is hidden (they never get hidden offers)."""
    exclude = []
    if not can_manage:
        exclude.append("select")
    if not sees_cost:
        exclude.append("cost_price")
    if not show_price:
        exclude.append("price")
    if not is_partner:
        exclude.append("account")
    table_class = OfferTable if is_partner else CustomerOfferTable
    return table_class(data, exclude=exclude, **kwargs)


class CustomerPriceTable(tables.Table):
    customer = tables.Column(verbose_name=_("Customer"), accessor="customer__name", order_by=("customer__name", "id"))
    offer = tables.Column(verbose_name=_("Offer"), accessor="offer__name", order_by=("offer__name", "id"))
    rule = tables.Column(verbose_name=_("Rule"), accessor="pk", orderable=False)
    price = tables.Column(
        verbose_name=_("Customer price"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    updated = tables.DateColumn(verbose_name=_("Changed"), attrs=DATE_CELL)
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs={"td": {"class": "text-end"}})

    class Meta:
        model = CustomerPrice
        fields = ()
        sequence = ("customer", "offer", "rule", "price", "updated", "actions")
        order_by = ("customer",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def __init__(self, *args, prices=None, can_manage=False, derivation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prices: dict[int, ResolvedPrice] = prices or {}
        self.can_manage = can_manage
        self.derivation = derivation

    def render_customer(self, record: CustomerPrice):
        return format_html(
            '<a href="{}" class="text-decoration-none">{}</a>',
            reverse("customers:customer_detail", args=[record.customer_id]),
            record.customer.name,
        )

    def render_offer(self, record: CustomerPrice):
        return offer_name_html(record.offer, reverse("catalog:offer_detail", args=[record.offer_id]))

    def render_rule(self, record: CustomerPrice):
        if record.price is not None:
            return _("Fixed price")
        return _("Markup %(percent)s%%") % {"percent": percent_text(record.markup_percent)}

    def render_price(self, record: CustomerPrice):
        return price_html(self.prices.get(record.pk), derivation=self.derivation)

    def render_actions(self, record: CustomerPrice):
        if not self.can_manage:
            return ""
        return format_html(
            '<a class="btn btn-sm btn-outline-secondary" href="{}">{}</a> '
            '<a class="btn btn-sm btn-outline-danger" href="{}">{}</a>',
            reverse("catalog:customer_price_edit", args=[record.pk]),
            _("Edit"),
            reverse("catalog:customer_price_delete", args=[record.pk]),
            _("Delete"),
        )


class SegmentTable(tables.Table):
    name = tables.Column(verbose_name=_("Segment"), order_by=("name", "id"))
    description = tables.Column(verbose_name=_("Description"), orderable=False)
    customer_count = tables.Column(verbose_name=_("Customers"))
    price_count = tables.Column(verbose_name=_("Offers with a segment price"))

    class Meta:
        model = CustomerSegment
        fields = ()
        sequence = ("name", "description", "customer_count", "price_count")
        order_by = ("name",)
        empty_text = ""
        attrs = {"class": "table table-hover align-middle mb-0"}

    def render_name(self, record: CustomerSegment, value: str):
        return format_html(
            '<a href="{}" class="fw-semibold text-decoration-none" translate="no">{}</a>',
            reverse("catalog:segment_detail", args=[record.pk]),
            value,
        )
