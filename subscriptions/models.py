"""Models of subscriptions: subscriptions and add-ons, their options and prices, and the lifecycle (scheduled
changes, licence change requests, licence settings, tenant users). Orders are the `orders` app's."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.choices import BILLING_CYCLE_CHOICES
from subscriptions.choices import (
    SUBSCRIPTION_STATUS_CHOICES,
    PriceSource,
)
from subscriptions.choices_lifecycle import (
    ApprovalDecision,
    RequestKind,
    RequestSource,
    RequestStatus,
    ScheduledChangeStatus,
)


class Subscription(models.Model):
    """A customer tenant's subscription as its marketplace reports it, mirrored by the sync.

    The sync owns every field below: a change made here would be overwritten by the next sync,
    so lifecycle actions go to the marketplace first. `add_ons` keeps the add-on subscriptions
    as the marketplace lists them: [{external_id, offer_id, product_id, name, quantity, status}].
    """

    # The sync writes this table 20,000 rows at a time (bench/sync.py), so it carries only the
    # indexes queries need: (customer_tenant, status) and the unique (account, external_id) lead
    # with two of the foreign keys.
    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,
    )
    external_id = models.CharField(_("subscription ID"), max_length=255)
    offer = models.ForeignKey(
        "catalog.Offer",
        verbose_name=_("offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
        db_index=False,
        # A convenience link the sync sets from the account's offers it has just written; the ORM
        # still applies SET_NULL. Checking it in the database cost 30% of the sync's inserts.
        db_constraint=False,
    )
    offer_external_id = models.CharField(_("offer ID"), max_length=255)
    product_id = models.CharField(_("product ID"), max_length=255)
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    assigned = models.PositiveIntegerField(_("assigned"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=SUBSCRIPTION_STATUS_CHOICES)
    billing_cycle = models.CharField(_("billing cycle"), max_length=16, choices=BILLING_CYCLE_CHOICES)
    term = models.CharField(_("term"), max_length=16, blank=True)
    term_end = models.DateField(_("term end"), null=True, blank=True)
    auto_renew = models.BooleanField(_("auto-renew"), default=True)
    trial = models.BooleanField(_("trial"), default=False)
    cancellation_allowed_until = models.DateTimeField(_("cancellation allowed until"), null=True, blank=True)
    scheduled_termination_date = models.DateField(_("scheduled termination"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    unit_cost_price = models.DecimalField(_("unit cost price"), max_digits=14, decimal_places=4, null=True, blank=True)
    unit_sales_price = models.DecimalField(
        _("unit sales price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    order_reference = models.CharField(_("order reference"), max_length=255, blank=True)
    add_ons = models.JSONField(_("add-ons"), default=list, blank=True)
    # Hash of the marketplace values the sync last wrote: the sync compares it instead of every column.
    # Anything else that writes a synced field must clear it, so the next sync rewrites the row.
    sync_fingerprint = models.CharField(_("sync fingerprint"), max_length=32, blank=True, editable=False)
    created = models.DateTimeField(_("first seen"), auto_now_add=True)
    updated = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="subscriptions_unique_per_account"),
        ]
        indexes = [models.Index(fields=["customer_tenant", "status"], name="subscriptions_tenant_status")]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"

    @property
    def seats_available(self) -> int | None:
        """Purchased seats nobody holds yet (None while the marketplace reports no assignments)."""
        if self.assigned is None:
            return None
        return max(self.quantity - self.assigned, 0)

    @property
    def display_name(self) -> str:
        """The friendly name the partner gave it (typed on the order or set later), else the marketplace's name.
        Select `options` with the subscriptions that show it."""
        try:
            options = self.options
        except ObjectDoesNotExist:
            return self.name
        return options.friendly_name or self.name


# -- Lifecycle: scheduled changes, licence change requests, licence settings, users ------------------------


class ScheduledChange(models.Model):
    """A decrease the marketplace does not allow now, kept to be applied at the subscription's renewal.

    Marketplaces with a commitment window (Microsoft NCE) refuse decreases outside it; the console keeps
    the instruction and beat applies it once the renewal has opened the next window, after checking
    again that enough seats are unassigned then. Only one is scheduled per
    subscription at a time: a new one replaces it.
    """

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="scheduled_changes"
    )
    quantity = models.PositiveIntegerField(_("new quantity"))
    quantity_when_scheduled = models.PositiveIntegerField(_("quantity when scheduled"))
    effective_on = models.DateField(_("renewal date"))
    status = models.CharField(
        _("status"), max_length=16, choices=ScheduledChangeStatus.choices, default=ScheduledChangeStatus.SCHEDULED
    )
    result_message = models.TextField(_("result"), blank=True)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request = models.ForeignKey(
        "subscriptions.LicenseChangeRequest",
        verbose_name=_("licence change request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_changes",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scheduled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("scheduled"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["effective_on", "id"]
        verbose_name = _("scheduled change")
        verbose_name_plural = _("scheduled changes")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status=ScheduledChangeStatus.SCHEDULED),
                name="subscriptions_one_scheduled_change",
            )
        ]
        indexes = [models.Index(fields=["status", "effective_on"], name="subscriptions_schedchange_due")]

    def __str__(self) -> str:
        return f"{self.subscription.name}: {self.quantity_when_scheduled} → {self.quantity} on {self.effective_on}"


class TenantLicenseSettings(models.Model):
    """Tenant settings > Licenses: approvals and automation of one customer tenant.

    Thresholds are for one request: a change of more seats, or of a larger monthly amount, than the
    threshold needs a second approver. No row means the defaults below.
    """

    customer_tenant = models.OneToOneField(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        on_delete=models.CASCADE,
        related_name="license_settings",
    )
    approval_required = models.BooleanField(
        _("approval required"),
        default=True,
        help_text=_("Requests of the customer's tenant admins wait for a partner user's approval."),
    )
    second_approval_seats = models.PositiveIntegerField(
        _("second approver above (seats)"),
        null=True,
        blank=True,
        help_text=_("A change of more seats than this needs a second approver. Empty: never."),
    )
    second_approval_amount = models.DecimalField(
        _("second approver above (monthly amount)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A change worth more than this per month needs a second approver. Empty: never."),
    )
    auto_purchase_enabled = models.BooleanField(_("auto-purchase"), default=False)
    auto_purchase_step = models.PositiveIntegerField(
        _("seats to buy"), default=1, help_text=_("When every purchased seat is assigned, buy this many more.")
    )
    auto_purchase_cap = models.PositiveIntegerField(
        _("up to (seats)"),
        null=True,
        blank=True,
        help_text=_("Auto-purchase never takes a subscription above this quantity. Empty: no cap."),
    )
    auto_decrease_enabled = models.BooleanField(_("auto-decrease"), default=False)
    auto_decrease_buffer = models.PositiveIntegerField(
        _("buffer (seats)"), default=0, help_text=_("Auto-decrease keeps this many unassigned seats.")
    )
    auto_decrease_lead_days = models.PositiveIntegerField(
        _("days before the window closes"),
        default=2,
        help_text=_("Auto-decrease acts when the cancellation window closes within this many days."),
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
        verbose_name = _("tenant licence settings")
        verbose_name_plural = _("tenant licence settings")

    def __str__(self) -> str:
        return str(_("Licence settings of %(tenant)s") % {"tenant": self.customer_tenant})


class SubscriptionOptions(models.Model):
    """The partner's own settings of one subscription, which no marketplace keeps: its friendly name
    and purchase order number (typed on the order that bought it; the sync never writes
    this table, so a name the marketplace keeps never overwrites the user's) and how the licence
    automation treats it (exclusions, buffer)."""

    subscription = models.OneToOneField(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="options"
    )
    friendly_name = models.CharField(_("friendly name"), max_length=120, blank=True)
    po_number = models.CharField(_("PO number"), max_length=64, blank=True)
    auto_purchase_excluded = models.BooleanField(_("excluded from auto-purchase"), default=False)
    auto_decrease_excluded = models.BooleanField(_("excluded from auto-decrease"), default=False)
    auto_decrease_buffer = models.PositiveIntegerField(
        _("buffer (seats)"), null=True, blank=True, help_text=_("Empty: the tenant's buffer.")
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscription options")
        verbose_name_plural = _("subscription options")

    def __str__(self) -> str:
        return self.friendly_name or str(self.subscription)


class LicenseChangeRequest(models.Model):
    """A request to change a subscription's licences, or to buy a new service, that the partner approves.

    Customer tenant admins and the automation create them; approved requests become orders through the
    order machinery. `amount` is the monthly change in the customer's price (cost when no price is
    known), which the second-approver threshold compares.
    """

    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        on_delete=models.CASCADE,
        related_name="license_change_requests",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=RequestSource.choices, default=RequestSource.USER)
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING, db_index=True
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="license_change_requests",
    )
    offer = models.ForeignKey(
        "catalog.Offer",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="license_change_requests",
    )
    product_name = models.CharField(_("product"), max_length=255)
    current_quantity = models.PositiveIntegerField(_("current quantity"), null=True, blank=True)
    requested_quantity = models.PositiveIntegerField(_("requested quantity"))
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    amount = models.DecimalField(_("monthly change"), max_digits=14, decimal_places=2, null=True, blank=True)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    # The cancellation window the subscription was in when asked: auto-decrease files one request per window.
    window_closes_at = models.DateTimeField(_("window closes"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="license_change_requests",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="license_change_requests",
    )
    result_message = models.TextField(_("result"), blank=True)
    created = models.DateTimeField(_("requested"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("licence change request")
        verbose_name_plural = _("licence change requests")
        indexes = [models.Index(fields=["customer_tenant", "status"], name="subscriptions_request_tenant")]

    def __str__(self) -> str:
        if self.current_quantity is None:
            return f"{self.product_name} × {self.requested_quantity}"
        return f"{self.product_name}: {self.current_quantity} → {self.requested_quantity}"

    @property
    def seat_change(self) -> int:
        return self.requested_quantity - (self.current_quantity or 0)


class LicenseChangeApproval(models.Model):
    """One approver's decision on a request; a request above the thresholds needs two approvals."""

    request = models.ForeignKey(
        LicenseChangeRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=8, choices=ApprovalDecision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created = models.DateTimeField(_("decided"), auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="subscriptions_one_approval_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} {self.request}"


class TenantUser(models.Model):
    """A Microsoft 365 user of a customer tenant, mirrored from a marketplace that manages users
    (synced both ways, e.g. with Cloudmore)."""

    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        on_delete=models.CASCADE,
        related_name="users",
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="tenant_users",
    )
    external_id = models.CharField(_("user ID"), max_length=255)
    user_name = models.CharField(_("user name"), max_length=254)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    is_admin = models.BooleanField(_("administrator"), default=False)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    created = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        ordering = ["display_name", "user_name", "id"]
        verbose_name = _("tenant user")
        verbose_name_plural = _("tenant users")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="subscriptions_tenant_user_unique")
        ]

    def __str__(self) -> str:
        return self.user_name


class LicenseAssignment(models.Model):
    """A subscription's licence given to a tenant user, as the marketplace reports it."""

    user = models.ForeignKey(TenantUser, verbose_name=_("user"), on_delete=models.CASCADE, related_name="assignments")
    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="license_assignments"
    )
    created = models.DateTimeField(_("assigned"), auto_now_add=True)

    class Meta:
        ordering = ["subscription__name", "id"]
        verbose_name = _("licence assignment")
        verbose_name_plural = _("licence assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "subscription"], name="subscriptions_one_assignment_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.subscription.name}"


class SubscriptionPrice(models.Model):
    """The customer's unit price (and the partner's cost price) of a subscription from `effective_from` on.

    Billing reads this history instead of today's catalog price, so a closed cycle never changes
    when a price is edited later: a price edit reaches a subscription only through a new row, from
    the next cycle or a chosen date, never back. Keyed by the marketplace identity (account and
    external ID) as well as the row, because the sync deletes a subscription its marketplace no
    longer lists while the reports still bill what was held before (`reports.TrackedSubscription`).
    The price in effect on a day is the row with the latest `effective_from` on or before that day.
    """

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prices",
    )
    account = models.ForeignKey(
        "marketplace.MarketplaceAccount",
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    external_id = models.CharField(_("subscription ID"), max_length=255)
    effective_from = models.DateTimeField(_("effective from"))
    unit_price = models.DecimalField(_("customer price"), max_digits=14, decimal_places=4)
    cost_price = models.DecimalField(_("cost price"), max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    source = models.CharField(_("source"), max_length=16, choices=PriceSource.choices)
    order_line = models.ForeignKey(
        "orders.OrderLine",
        verbose_name=_("order line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prices",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["account_id", "external_id", "effective_from", "id"]
        verbose_name = _("subscription price")
        verbose_name_plural = _("subscription prices")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id", "effective_from"], name="subscriptions_price_one_per_moment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.effective_from:%Y-%m-%d}: {self.unit_price} {self.currency}"
