"""Models of reports: usage history, billing cycles and statements, saved reports, reconciliation.

History first: the sync mirrors what a marketplace says *now* and deletes what it no longer lists,
so every report about the past reads rows written here. `TrackedSubscription` is what the reports
remember of a subscription (it outlives the sync's row), `UsageSnapshot` is one day of it. The
billing report, the usage report and reconciliation all read these two.
"""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES
from reports.choices import CustomDimension, CustomMeasure, InvoiceImportStatus
from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES

#: `BillingDay.cycle_end_day` value for "the last day of the month" (calendar-month cycles).
MONTH_END = 31


class TrackedSubscription(models.Model):
    """A subscription as the reports remember it: who it belongs to and what it buys.

    Written by the daily snapshot (`reports.services.usage_snapshots_take`) from the synced
    `subscriptions.Subscription` (and its add-ons); when the sync removes that row, `subscription`
    becomes empty and the history stays, so a past billing cycle still bills what was held then.
    `last_seen` older than the latest snapshot means the marketplace no longer lists it.
    """

    subscription = models.OneToOneField(
        "subscriptions.Subscription",
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracked",
    )
    # An add-on (kept by the sync inside its subscription's `add_ons`) is tracked on its own, so it
    # is billed and reconciled like any subscription; `parent` is the subscription it belongs to.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("add-on of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="add_ons",
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    external_id = models.CharField(_("subscription ID"), max_length=255)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    offer = models.ForeignKey(
        "catalog.Offer", verbose_name=_("offer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offer_external_id = models.CharField(_("offer ID"), max_length=255)
    product_id = models.CharField(_("product ID"), max_length=255)
    name = models.CharField(_("name"), max_length=255)
    billing_cycle = models.CharField(_("billing cycle"), max_length=16, choices=BILLING_CYCLE_CHOICES)
    term = models.CharField(_("term"), max_length=16, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    started_on = models.DateField(_("started"), null=True, blank=True)
    trial = models.BooleanField(_("trial"), default=False)
    first_seen = models.DateField(_("first seen"))
    last_seen = models.DateField(_("last seen"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("tracked subscription")
        verbose_name_plural = _("tracked subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="reports_tracked_unique_per_account"),
        ]

    def __str__(self) -> str:
        return self.name


class UsageSnapshot(models.Model):
    """One day of one subscription: quantity, assigned seats and status at the day's last snapshot.

    Narrow on purpose (a year of a large partner is millions of rows): identity lives on
    `TrackedSubscription`. The composite key is also the index every history read uses.
    """

    pk = models.CompositePrimaryKey("subscription_id", "day")
    subscription = models.ForeignKey(
        TrackedSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="snapshots"
    )
    day = models.DateField(_("day"))
    quantity = models.PositiveIntegerField(_("quantity"))
    assigned = models.PositiveIntegerField(_("assigned"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=SUBSCRIPTION_STATUS_CHOICES)

    class Meta:
        ordering = ["subscription_id", "day"]
        verbose_name = _("usage snapshot")
        verbose_name_plural = _("usage snapshots")
        # Rows arrive day by day, so a block range index answers "every subscription on day X" for
        # a few kilobytes, where a B-tree would cost as much as the table's key.
        indexes = [BrinIndex(fields=["day"], name="reports_snapshot_day_brin")]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.day}: {self.quantity}"


class BillingDay(models.Model):
    """The day the partner's marketplace billing cycle ends: one row for the partner (no account)
    and optional rows for accounts billed on another day. A cycle that ends on the 15th gives a
    report dated the 16th covering the 16th of the previous month to the 15th."""

    account = models.OneToOneField(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    cycle_end_day = models.PositiveSmallIntegerField(
        _("billing cycle ends on day"),
        validators=[MinValueValidator(1), MaxValueValidator(MONTH_END)],
        help_text=_("1 to 28, or 29 to 31 for the month's last day when it is shorter"),
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
        verbose_name = _("billing day")
        verbose_name_plural = _("billing days")
        constraints = [
            # One partner-wide row (account empty) and one per account.
            models.UniqueConstraint(fields=["account"], nulls_distinct=False, name="reports_billing_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account or '-'}: {self.cycle_end_day}"


class InvoiceImport(models.Model):
    """One fetch of a marketplace account's invoice lines for a billing cycle: reconciliation
    tells "not fetched" from "fetched, nothing invoiced" by this row."""

    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=16, choices=InvoiceImportStatus.choices)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    error_message = models.TextField(_("error"), blank=True)
    fetched_at = models.DateTimeField(_("fetched"))
    # A preview (ALSO's preview invoices): the current, unclosed period as it would be invoiced. Shown
    # in Invoices, marked so; reconciliation never reads it. One per account, replaced by each fetch.
    preview = models.BooleanField(_("preview"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-period_start", "account_id"]
        verbose_name = _("invoice import")
        verbose_name_plural = _("invoice imports")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_start", "period_end"],
                condition=models.Q(preview=False),
                name="reports_invoice_import_unique_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period_start}..{self.period_end}: {self.status}"


class InvoiceLine(models.Model):
    """A line of the marketplace's invoice to the partner (what the partner pays), as fetched."""

    invoice_import = models.ForeignKey(
        InvoiceImport, verbose_name=_("invoice import"), on_delete=models.CASCADE, related_name="lines"
    )
    invoice_id = models.CharField(_("invoice"), max_length=100)
    customer_external_id = models.CharField(_("marketplace customer ID"), max_length=255)
    customer_name = models.CharField(_("marketplace customer"), max_length=255, blank=True)
    subscription_external_id = models.CharField(_("subscription ID"), max_length=255, blank=True)
    offer_external_id = models.CharField(_("offer ID"), max_length=255, blank=True)
    product_id = models.CharField(_("product ID"), max_length=255, blank=True)
    name = models.CharField(_("name"), max_length=255)
    charge_type = models.CharField(_("charge"), max_length=32)
    charge_start = models.DateField(_("charged from"))
    charge_end = models.DateField(_("charged until"))
    quantity = models.IntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        ordering = ["invoice_import_id", "customer_external_id", "subscription_external_id", "id"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.name} × {self.quantity}"


class SavedReport(models.Model):
    """A custom report a user saved: a dimension and a measure, shown as a pie chart and a table."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_reports"
    )
    name = models.CharField(_("name"), max_length=100)
    dimension = models.CharField(_("group by"), max_length=32, choices=CustomDimension.choices)
    measure = models.CharField(_("measure"), max_length=32, choices=CustomMeasure.choices)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="reports_saved_report_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class BillingCycleClose(models.Model):
    """The moment a billing cycle was issued: its statements were frozen then, and the billing
    report, exports, PDF and reconciliation of the cycle read them from now on. One row per cycle
    (the unique constraint makes a second close of the same cycle a no-op)."""

    cycle_start = models.DateField(_("cycle start"))
    cycle_end = models.DateField(_("cycle end"))
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    statement_count = models.PositiveIntegerField(_("statements"), default=0)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    adjustment_count = models.PositiveIntegerField(_("adjustments"), default=0)

    class Meta:
        ordering = ["-cycle_start"]
        verbose_name = _("issued billing cycle")
        verbose_name_plural = _("issued billing cycles")
        constraints = [
            models.UniqueConstraint(fields=["cycle_start", "cycle_end"], name="reports_cycle_close_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_start}..{self.cycle_end}"


class BillingStatement(models.Model):
    """What one customer was billed in one currency for one closed cycle, as issued: an invoice a
    partner sent must be reproducible whatever changes later (prices, names, late corrections).
    Never updated: a difference learned later becomes an adjustment line of a later statement.
    The customer's name is kept as it was; the customer link empties if the customer is deleted."""

    close = models.ForeignKey(
        BillingCycleClose, verbose_name=_("issued cycle"), on_delete=models.CASCADE, related_name="statements"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer_name = models.CharField(_("customer"), max_length=255)
    cycle_start = models.DateField(_("cycle start"))
    cycle_end = models.DateField(_("cycle end"))
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    issued_at = models.DateTimeField(_("issued"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=4)
    cost_total = models.DecimalField(_("cost"), max_digits=16, decimal_places=4, null=True, blank=True)
    subscription_count = models.PositiveIntegerField(_("subscriptions"), default=0)
    unpriced_count = models.PositiveIntegerField(_("without price"), default=0)

    class Meta:
        ordering = ["-cycle_start", "customer_name", "id"]
        verbose_name = _("billing statement")
        verbose_name_plural = _("billing statements")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "cycle_start", "cycle_end", "currency"], name="reports_statement_unique"
            ),
        ]
        indexes = [models.Index(fields=["cycle_start", "cycle_end", "customer"], name="reports_statement_cycle")]

    def __str__(self) -> str:
        return f"{self.customer_name} {self.cycle_start}..{self.cycle_end} {self.total} {self.currency}"


class BillingStatementLine(models.Model):
    """One issued line, with everything the billing computation produced for it and what the
    subscription was called then. A subscription without a price is kept as one line without a kind,
    so the issued cycle still says it could not be billed. An adjustment line (kind `adjustment`)
    names the earlier cycle it corrects and what that cycle had issued."""

    statement = models.ForeignKey(
        BillingStatement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveIntegerField(_("position"))
    tracked = models.ForeignKey(
        TrackedSubscription,
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    account_name = models.CharField(_("marketplace account"), max_length=255, blank=True)
    subscription_name = models.CharField(_("subscription"), max_length=255)
    friendly_name = models.CharField(_("friendly name"), max_length=255, blank=True)
    po_number = models.CharField(_("PO number"), max_length=64, blank=True)
    offer_name = models.CharField(_("offer"), max_length=255, blank=True)
    offer_external_id = models.CharField(_("offer ID"), max_length=255, blank=True)
    billing_cycle = models.CharField(_("billing cycle"), max_length=16, blank=True)
    kind = models.CharField(_("line"), max_length=16, blank=True)
    day = models.DateField(_("effective"), null=True, blank=True)
    quantity = models.IntegerField(_("seats"), default=0)
    days = models.PositiveIntegerField(_("days"), default=0)
    period_days = models.PositiveIntegerField(_("days in period"), default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=4, default=0)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=4, null=True, blank=True)
    cost_amount = models.DecimalField(_("cost"), max_digits=16, decimal_places=4, null=True, blank=True)
    #: The unit price's derivation as issued: [[label, amount, detail], ...] (on a subscription's first line).
    price_steps = models.JSONField(_("price derivation"), default=list, blank=True)
    adjusts_cycle_start = models.DateField(_("adjusts cycle from"), null=True, blank=True)
    adjusts_cycle_end = models.DateField(_("adjusts cycle until"), null=True, blank=True)
    issued_amount = models.DecimalField(_("issued amount"), max_digits=16, decimal_places=4, null=True, blank=True)
    issued_quantity = models.IntegerField(_("issued seats"), null=True, blank=True)

    class Meta:
        ordering = ["statement_id", "position"]
        verbose_name = _("billing statement line")
        verbose_name_plural = _("billing statement lines")
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="reports_statement_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_name}: {self.kind} {self.amount}"


class StorageSnapshot(models.Model):
    """Storage a customer tenant used on one day, per workload, from Microsoft Graph's usage reports
    (refreshed daily; a day read again replaces its row)."""

    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant", verbose_name=_("tenant"), on_delete=models.CASCADE, related_name="storage_snapshots"
    )
    day = models.DateField(_("day"))
    mailbox_bytes = models.BigIntegerField(_("mailboxes"), default=0)
    onedrive_bytes = models.BigIntegerField(_("OneDrive"), default=0)
    sharepoint_bytes = models.BigIntegerField(_("SharePoint"), default=0)
    refreshed = models.DateTimeField(_("refreshed"), auto_now=True)

    class Meta:
        ordering = ["customer_tenant_id", "day"]
        verbose_name = _("storage snapshot")
        verbose_name_plural = _("storage snapshots")
        constraints = [
            models.UniqueConstraint(fields=["customer_tenant", "day"], name="reports_storage_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_tenant_id} {self.day}"

    @property
    def total_bytes(self) -> int:
        return self.mailbox_bytes + self.onedrive_bytes + self.sharepoint_bytes
