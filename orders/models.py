"""Models of orders: an order and its lines, and quotes. Every change asked of a marketplace is an order line.

The tables keep the names they had when orders were part of the subscriptions app (`db_table`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES
from orders.choices import (
    ORDER_IN_FLIGHT,
    ORDER_LINE_OUTCOME_CHOICES,
    OrderLineKind,
    OrderLineStatus,
    OrderStatus,
    QuoteStatus,
)


class Order(models.Model):
    """A set of order lines for one customer tenant at one marketplace account.

    A Draft is a cart (one per user, tenant and account) or the lines of a quote. Submitting it (terms
    accepted) makes it Submitted and queues the placing task, which moves it to Provisioning and then
    Completed or Failed. Lifecycle actions on subscriptions are orders too, one line per change.
    `client_token` is the token of the form that submitted or created it, so a double click on Submit
    finds this order instead of placing a second one.
    """

    number = models.CharField(_("order number"), max_length=32, unique=True, null=True, blank=True)
    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant", verbose_name=_("customer tenant"), on_delete=models.CASCADE, related_name="orders"
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="orders",
    )
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    friendly_name = models.CharField(_("friendly name"), max_length=120, blank=True)
    po_number = models.CharField(_("PO number"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    terms_accepted_at = models.DateTimeField(_("terms accepted"), null=True, blank=True)
    terms_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("terms accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    client_token = models.UUIDField(_("client token"), null=True, blank=True, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        db_table = "subscriptions_order"
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer_tenant", "status"], name="subscriptions_order_tenant"),
            models.Index(fields=["-created", "-id"], name="subscriptions_order_recent"),
            models.Index(fields=["created_by", "status"], name="subscriptions_order_creator"),
        ]

    def __str__(self) -> str:
        return str(_("Order %(number)s") % {"number": self.number or self.pk})

    @property
    def is_draft(self) -> bool:
        return self.status == OrderStatus.DRAFT

    @property
    def is_in_flight(self) -> bool:
        return self.status in ORDER_IN_FLIGHT


class OrderLine(models.Model):
    """One change asked of the marketplace, with the price the customer was shown and what came of it.

    The price is a snapshot taken when the line was added (`unit_cost` is the cost price then): submit
    compares it with the offer's cost now, and the user confirms again when it changed. The
    `idempotency_key` is derived from the line (schema, pk, generation); the placing task commits the
    line as `sent` before it calls the marketplace, so a retry of a `sent` line asks the marketplace
    whether the key was already applied instead of buying again. A retry after a refusal starts a new
    generation (a new key): the refused request was never applied.
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=24, choices=OrderLineKind.choices)
    offer = models.ForeignKey(
        "catalog.Offer",
        verbose_name=_("offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    offer_name = models.CharField(_("product"), max_length=255)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    subscription_external_id = models.CharField(_("subscription ID"), max_length=255, blank=True)
    parent_line = models.ForeignKey(
        "self",
        verbose_name=_("add-on of line"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="add_on_lines",
    )
    add_on_external_id = models.CharField(_("add-on ID"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    previous_quantity = models.PositiveIntegerField(_("previous quantity"), null=True, blank=True)
    billing_cycle = models.CharField(_("billing cycle"), max_length=16, choices=BILLING_CYCLE_CHOICES, blank=True)
    auto_renew = models.BooleanField(_("auto-renew"), null=True, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    unit_price = models.DecimalField(_("customer price"), max_digits=14, decimal_places=4, null=True, blank=True)
    unit_cost = models.DecimalField(_("cost price"), max_digits=14, decimal_places=4, null=True, blank=True)
    suggested_retail = models.DecimalField(
        _("suggested retail price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    price_steps = models.JSONField(_("price derivation"), default=list, blank=True)
    price_option = models.JSONField(_("price option"), default=dict, blank=True)
    priced_at = models.DateTimeField(_("priced"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True, null=True, blank=True)
    key_generation = models.PositiveSmallIntegerField(_("key generation"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderLineStatus.choices, default=OrderLineStatus.PENDING
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=ORDER_LINE_OUTCOME_CHOICES, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    marketplace_reference = models.CharField(_("marketplace reference"), max_length=255, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["order_id", "position", "id"]
        db_table = "subscriptions_orderline"
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [models.Index(fields=["order", "position"], name="subscriptions_line_order")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.offer_name}"

    @property
    def total_price(self):
        if self.unit_price is None or self.quantity is None:
            return None
        return self.unit_price * self.quantity

    @property
    def total_cost(self):
        if self.unit_cost is None or self.quantity is None:
            return None
        return self.unit_cost * self.quantity

    @property
    def total_margin(self):
        if self.total_price is None or self.total_cost is None:
            return None
        return self.total_price - self.total_cost

    @property
    def requested_change(self) -> str:
        """The change in a few words, as the orders list shows it ("+5 licences", "10 → 8")."""
        kind = self.kind
        if kind in (OrderLineKind.NEW_SUBSCRIPTION, OrderLineKind.ADD_ON_ADD):
            return str(_("+%(quantity)s licences") % {"quantity": self.quantity})
        if kind in (OrderLineKind.CHANGE_QUANTITY, OrderLineKind.ADD_ON_CHANGE):
            if self.previous_quantity is None:
                return str(_("to %(quantity)s licences") % {"quantity": self.quantity})
            return f"{self.previous_quantity} → {self.quantity}"
        if kind == OrderLineKind.CHANGE_BILLING_CYCLE:
            return str(_("Billing: %(cycle)s") % {"cycle": self.get_billing_cycle_display()})
        if kind == OrderLineKind.SET_AUTO_RENEW:
            return str(_("Auto-renew on") if self.auto_renew else _("Auto-renew off"))
        return str(self.get_kind_display())


class Quote(models.Model):
    """A saved cart offered to the customer at the prices shown, until `valid_until`.

    Its lines are those of a Draft order that is no user's cart; accepting the quote submits that
    order (terms and the price check as for any order), so accept converts it into an order.
    """

    number = models.CharField(_("quote number"), max_length=32, unique=True, null=True, blank=True)
    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="quote")
    status = models.CharField(_("status"), max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.OPEN)
    valid_until = models.DateField(_("valid until"))
    note = models.TextField(_("message to the customer"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        db_table = "subscriptions_quote"
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self) -> str:
        return str(_("Quote %(number)s") % {"number": self.number or self.pk})

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.status == QuoteStatus.OPEN and self.valid_until < timezone.localdate()

    @property
    def is_open(self) -> bool:
        return self.status == QuoteStatus.OPEN and not self.is_expired

    @property
    def display_status(self) -> str:
        return str(_("Expired")) if self.is_expired else str(self.get_status_display())
