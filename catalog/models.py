"""Models of catalog: products, offers, categories, partner and customer prices, segments, the store."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES, ChargeType, Eligibility


class Offer(models.Model):
    """A plan (sellable SKU) of a marketplace account, with that account's cost price.

    Written by the marketplace sync only. An offer the marketplace stops listing is kept with
    `is_available=False` rather than deleted: prices and customizations of the partner point at it.
    """

    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="offers",
    )
    external_id = models.CharField(_("offer ID"), max_length=255)
    product_id = models.CharField(_("product ID"), max_length=255)
    name = models.CharField(_("name"), max_length=255)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    sku = models.CharField(_("SKU"), max_length=200, blank=True)
    billing_cycle = models.CharField(_("billing cycle"), max_length=16, choices=BILLING_CYCLE_CHOICES)
    term = models.CharField(_("term"), max_length=16, blank=True, help_text=_("ISO 8601 duration, such as P1Y"))
    charge_type = models.CharField(_("charge type"), max_length=16, choices=ChargeType.choices)
    currency = models.CharField(_("currency"), max_length=3)
    cost_price = models.DecimalField(_("reseller price"), max_digits=14, decimal_places=4)
    sales_price = models.DecimalField(_("sales price"), max_digits=14, decimal_places=4, null=True, blank=True)
    suggested_retail_price = models.DecimalField(
        _("suggested retail price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    is_add_on = models.BooleanField(_("add-on"), default=False)
    parent_product_ids = models.JSONField(_("add-on of products"), default=list, blank=True)
    is_available = models.BooleanField(_("available at the marketplace"), default=True)
    # -- the partner's, never written by the sync (which copies new rows in with explicit columns, so
    # every field below needs a database default) --------------------------------------------------------
    product_group = models.ForeignKey(
        "catalog.ProductGroup",
        verbose_name=_("product group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers",
    )
    is_visible = models.BooleanField(
        _("customers may see and buy"), default=True, db_default=True, help_text=_("Catalog > Customize")
    )
    eligibility = models.CharField(
        _("eligibility"), max_length=16, choices=Eligibility.choices, blank=True, default="", db_default=""
    )
    # Hash of the marketplace values the sync last wrote: the sync compares it instead of every column.
    # Anything else that writes a synced field must clear it, so the next sync rewrites the row.
    sync_fingerprint = models.CharField(_("sync fingerprint"), max_length=32, blank=True, editable=False)
    created = models.DateTimeField(_("first seen"), auto_now_add=True)
    updated = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["name", "billing_cycle", "term", "id"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="catalog_offer_unique_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_billing_cycle_display()}{', ' + self.term if self.term else ''})"


DEFAULT_MARKUP_PERCENT = Decimal("5.00")
#: Above this many seats (or ten times the current quantity) an order needs an explicit confirmation.
DEFAULT_LARGE_QUANTITY_SEATS = 300
# A price rule is a markup or a fixed price, never both.
MARKUP_OR_PRICE = (Q(markup_percent__isnull=True) & Q(price__isnull=False)) | (
    Q(markup_percent__isnull=False) & Q(price__isnull=True)
)
MARKUP_VALIDATORS = [MinValueValidator(Decimal("-99.99")), MaxValueValidator(Decimal("1000"))]


class CatalogSettings(models.Model):
    """The partner's catalog settings: one row. Customer prices start from the cost price plus the
    default markup (5% unless the partner changes it, as ALEF does) where no custom price is set."""

    default_markup_percent = models.DecimalField(
        _("default markup (%)"),
        max_digits=7,
        decimal_places=2,
        default=DEFAULT_MARKUP_PERCENT,
        validators=MARKUP_VALIDATORS,
        help_text=_("Added to the cost price of every offer without a custom price."),
    )
    large_quantity_seats = models.PositiveIntegerField(
        _("large order (seats)"),
        default=DEFAULT_LARGE_QUANTITY_SEATS,
        validators=[MinValueValidator(1)],
        help_text=_(
            "An order or quantity change above this many seats, or above ten times the current quantity, "
            "needs an explicit confirmation."
        ),
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("catalog settings")
        verbose_name_plural = _("catalog settings")

    def __str__(self) -> str:
        return str(_("Catalog settings"))


class Category(models.Model):
    """A top level of the catalog ("Client", "Security", ...): what visitors pick first."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=100)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_category_name_unique_ci",
                violation_error_message=_("A category with this name exists."),
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name as a reader sees it. The console's default categories are named in English when the
        first sync creates them; until the partner renames one, it is shown in the reader's language."""
        from catalog.classification import default_category_label

        return default_category_label(slug=self.slug, name=self.name)


class ProductGroup(models.Model):
    """A family of products ("Microsoft 365", "Azure") in a category. Offers are assigned to a group when
    the catalog first sees them (catalog.services.offers_classify); the partner can move them."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="product_groups",
    )
    description = models.TextField(_("description"), blank=True)
    is_visible = models.BooleanField(_("customers may see and buy"), default=True)
    position = models.PositiveIntegerField(_("position"), default=100)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_product_group_name_unique_ci",
                violation_error_message=_("A product group with this name exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomerSegment(models.Model):
    """A named set of customers with their own prices for some offers (ALEF "Customer segments").
    A customer is in at most one segment, so a segment price never competes with another."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer segment")
        verbose_name_plural = _("customer segments")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_segment_name_unique_ci",
                violation_error_message=_("A segment with this name exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    segment = models.ForeignKey(
        CustomerSegment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="memberships"
    )
    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="catalog_segment_membership",
    )
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["customer__name", "id"]
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")

    def __str__(self) -> str:
        return f"{self.customer} in {self.segment}"


class PriceRule(models.Model):
    """A price for an offer: either a markup on the cost price or a fixed unit price, in the offer's currency."""

    markup_percent = models.DecimalField(
        _("markup (%)"), max_digits=7, decimal_places=2, null=True, blank=True, validators=MARKUP_VALIDATORS
    )
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def rule_text(self) -> str:
        if self.price is not None:
            return f"{self.price.normalize():f} {self.offer.currency}"
        return f"{self.markup_percent.normalize():f}%"


class SegmentPrice(PriceRule):
    """An offer of a segment, at the segment's price."""

    offer = models.ForeignKey(Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="segment_prices")
    segment = models.ForeignKey(
        CustomerSegment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="prices"
    )

    class Meta:
        ordering = ["offer__name", "offer__billing_cycle", "id"]
        verbose_name = _("segment price")
        verbose_name_plural = _("segment prices")
        constraints = [
            models.UniqueConstraint(fields=["segment", "offer"], name="catalog_segment_price_one_per_offer"),
            models.CheckConstraint(
                condition=MARKUP_OR_PRICE,
                name="catalog_segment_price_markup_or_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment}: {self.offer}"


class CustomerPrice(PriceRule):
    """The price one customer pays for an offer (ALEF "Customer prices"): it wins over a segment price."""

    offer = models.ForeignKey(Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="customer_prices")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="catalog_prices"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["customer__name", "offer__name", "offer__billing_cycle", "id"]
        verbose_name = _("customer price")
        verbose_name_plural = _("customer prices")
        constraints = [
            models.UniqueConstraint(fields=["customer", "offer"], name="catalog_customer_price_one_per_offer"),
            models.CheckConstraint(
                condition=MARKUP_OR_PRICE,
                name="catalog_customer_price_markup_or_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.offer}"
