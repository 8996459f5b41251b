"""Models of marketplace: accounts, tenant connections, price customizations, sync runs.

A marketplace account (a "reseller" on the Marketplace screens) is the partner's login at a marketplace; its prices
are the partner's cost prices. Customer tenants join a marketplace's module as `TenantConnection`
rows and are connected by mapping them to one of the account's marketplace customers. The sync
mirrors customers, offers (catalog) and subscriptions (subscriptions) and records a `SyncRun`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from marketplace.choices import AccountStatus, MarketplaceSlug, SyncErrorKind, SyncPhase, SyncStatus, SyncTrigger

DEFAULT_SYNC_INTERVAL_MINUTES = 15


class MarketplaceAccount(models.Model):
    """The partner's account at a marketplace. The secret is stored encrypted (marketplace.secrets)
    and is only ever decrypted to build a provider connection, never to show it."""

    marketplace = models.CharField(_("marketplace"), max_length=32, choices=MarketplaceSlug.choices)
    display_name = models.CharField(_("display name"), max_length=100)
    region = models.CharField(_("region"), max_length=63)
    username = models.CharField(_("username"), max_length=254)
    secret_ciphertext = models.TextField(_("encrypted secret"), editable=False)
    #: The marketplace's own non-secret connection options (the options of its MarketplaceDescription).
    options = models.JSONField(_("connection options"), default=dict, blank=True)
    #: The secret options as encrypted JSON (marketplace.secrets), like the password; never rendered.
    secret_options_ciphertext = models.TextField(_("encrypted secret options"), blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=AccountStatus.choices, default=AccountStatus.NEW)
    status_message = models.TextField(_("status message"), blank=True)
    sync_interval_minutes = models.PositiveIntegerField(
        _("sync interval (minutes)"),
        default=DEFAULT_SYNC_INTERVAL_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    #: Empty: the marketplace's default (`MarketplaceDescription.sync_concurrency`, `.requests_per_second`).
    sync_concurrency = models.PositiveSmallIntegerField(
        _("requests in flight during a sync"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(32)],
        help_text=_("How many questions a sync asks the marketplace at once. Empty: the marketplace's default."),
    )
    requests_per_second = models.PositiveSmallIntegerField(
        _("requests per second"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "The most requests per second the console sends with this account, from every worker together. "
            "Empty: the marketplace's default."
        ),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: When the secret or a secret option (a refresh token) was last entered: lifetimes count from here.
    credentials_changed_at = models.DateTimeField(_("credentials changed"), null=True, blank=True)
    #: The smallest expiry warning sent for these credentials (30, 7 or 1 days), so each is sent once.
    credentials_warned_days = models.PositiveSmallIntegerField(
        _("credentials warned days ahead"), null=True, blank=True
    )

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = _("marketplace account")
        verbose_name_plural = _("marketplace accounts")
        constraints = [
            models.UniqueConstraint(
                "marketplace", "region", Lower("username"), name="marketplace_account_unique_login"
            ),
            models.UniqueConstraint("marketplace", Lower("display_name"), name="marketplace_account_unique_name"),
        ]

    def __str__(self) -> str:
        return self.display_name


class MarketplaceCustomer(models.Model):
    """A customer record at the marketplace, as the account's last sync listed it: what a
    customer tenant can be mapped to on the "Connect" screen."""

    account = models.ForeignKey(
        MarketplaceAccount, verbose_name=_("marketplace account"), on_delete=models.CASCADE, related_name="customers"
    )
    external_id = models.CharField(_("customer ID"), max_length=255)
    name = models.CharField(_("name"), max_length=255)
    email = models.CharField(_("email"), max_length=254, blank=True)
    domains = models.JSONField(_("domains"), default=list, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=64, blank=True)
    customer_number = models.CharField(_("customer number"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Hash of the marketplace values the sync last wrote: the sync compares it instead of every column.
    # Anything else that writes a synced field must clear it, so the next sync rewrites the row.
    sync_fingerprint = models.CharField(_("sync fingerprint"), max_length=32, blank=True, editable=False)
    created = models.DateTimeField(_("first seen"), auto_now_add=True)
    updated = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("marketplace customer")
        verbose_name_plural = _("marketplace customers")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="marketplace_customer_unique_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class TenantConnection(models.Model):
    """A customer tenant added to a marketplace's module, and (once connected) the marketplace
    customer it maps to through one account. A tenant has at most one row per marketplace, and a
    marketplace customer maps to at most one tenant."""

    marketplace = models.CharField(_("marketplace"), max_length=32, choices=MarketplaceSlug.choices)
    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        on_delete=models.CASCADE,
        related_name="marketplace_connections",
    )
    account = models.ForeignKey(
        MarketplaceAccount,
        verbose_name=_("marketplace account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenant_connections",
    )
    external_customer_id = models.CharField(_("marketplace customer ID"), max_length=255, blank=True)
    external_customer_name = models.CharField(_("marketplace customer"), max_length=255, blank=True)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    created = models.DateTimeField(_("added"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["customer_tenant__primary_domain", "id"]
        verbose_name = _("tenant connection")
        verbose_name_plural = _("tenant connections")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_tenant", "marketplace"], name="marketplace_connection_one_per_marketplace"
            ),
            models.UniqueConstraint(
                fields=["account", "external_customer_id"],
                condition=Q(account__isnull=False),
                name="marketplace_connection_one_tenant_per_customer",
            ),
            models.CheckConstraint(
                condition=(Q(account__isnull=True) & Q(external_customer_id=""))
                | (Q(account__isnull=False) & ~Q(external_customer_id="")),
                name="marketplace_connection_account_and_customer_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_tenant} @ {self.get_marketplace_display()}"

    @property
    def is_connected(self) -> bool:
        return self.account_id is not None


class SyncRun(models.Model):
    """One sync of one account: what it found and changed, how long it took, what went wrong.

    `counts` is {kind: {created, updated, unchanged, removed}} for kind in customers, offers,
    subscriptions; `progress` is {done, total} of the current phase, for the live view.
    """

    account = models.ForeignKey(
        MarketplaceAccount, verbose_name=_("marketplace account"), on_delete=models.CASCADE, related_name="sync_runs"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=SyncTrigger.choices)
    status = models.CharField(_("status"), max_length=16, choices=SyncStatus.choices, default=SyncStatus.QUEUED)
    phase = models.CharField(_("phase"), max_length=16, choices=SyncPhase.choices, default=SyncPhase.WAITING)
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration = models.DurationField(_("duration"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    error_kind = models.CharField(_("error kind"), max_length=16, choices=SyncErrorKind.choices, blank=True)
    # {kind: {"listed": digest of what the marketplace listed, "stored": digest of the stored rows this
    # run left, "rows": how many rows it listed}}, written only when the run succeeds: the next run
    # skips comparing a kind whose listing and stored rows are both still these (marketplace.sync.mirror).
    mirror_digests = models.JSONField(_("mirror digests"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        indexes = [models.Index(fields=["account", "-created"], name="marketplace_syncrun_recent")]

    def __str__(self) -> str:
        return f"{self.account} {self.created:%Y-%m-%d %H:%M} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.RETRYING)

    @property
    def marketplace_message(self) -> str:
        """The marketplace's own answer, when the run stopped on one (shown as theirs, untranslated)."""
        if self.error_kind and SyncErrorKind(self.error_kind).marketplace_said:
            return self.error_message
        return ""

    def total(self, outcome: str) -> int:
        return sum(int(kind.get(outcome, 0)) for kind in (self.counts or {}).values())

    @property
    def rows_written(self) -> int:
        return self.total("created") + self.total("updated") + self.total("removed")

    @property
    def totals(self) -> dict[str, int]:
        """{created, updated, unchanged, removed} over every kind, for the runs table."""
        return {outcome: self.total(outcome) for outcome in ("created", "updated", "unchanged", "removed")}


class PriceCustomization(models.Model):
    """The partner's own price for a plan of an account, in a currency; cost reports use it
    instead of the reseller (cost) price."""

    account = models.ForeignKey(
        MarketplaceAccount,
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="price_customizations",
    )
    offer = models.ForeignKey(
        "catalog.Offer", verbose_name=_("plan"), on_delete=models.CASCADE, related_name="price_customizations"
    )
    currency = models.CharField(_("currency"), max_length=3)
    # None until the user enters one ("Add licence and configure price" adds the record first).
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=4, null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
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
        ordering = ["offer__name", "offer__billing_cycle", "currency", "id"]
        verbose_name = _("price customization")
        verbose_name_plural = _("price customizations")
        constraints = [
            models.UniqueConstraint(fields=["offer", "currency"], name="marketplace_price_unique_per_currency")
        ]

    def __str__(self) -> str:
        return f"{self.offer}: {self.price} {self.currency}"


class GdapRelationship(models.Model):
    """A granular delegated admin (GDAP) relationship the partner holds with a customer's tenant, as
    Microsoft Graph listed it through a Partner Center account. Kept after Microsoft deletes it (a year
    after it ended), so the tenant's GDAP history stays readable."""

    account = models.ForeignKey(
        MarketplaceAccount,
        verbose_name=_("marketplace account"),
        on_delete=models.CASCADE,
        related_name="gdap_relationships",
    )
    customer_tenant = models.ForeignKey(
        "customers.CustomerTenant",
        verbose_name=_("customer tenant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gdap_relationships",
    )
    relationship_id = models.CharField(_("relationship ID"), max_length=100)
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    microsoft_tenant_id = models.CharField(_("tenant ID"), max_length=36)
    customer_name = models.CharField(_("customer"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=32)
    roles = models.JSONField(_("roles"), default=list, blank=True)
    auto_extend = models.BooleanField(_("auto-extend"), default=False)
    includes_global_administrator = models.BooleanField(_("includes Global Administrator"), default=False)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    #: When Microsoft stopped listing it (deleted a while after it ended); the row is history from then on.
    removed_at = models.DateTimeField(_("removed at Microsoft"), null=True, blank=True)
    #: The smallest expiry warning sent so far (30, 7 or 1 days), so each is sent once.
    warned_days = models.PositiveSmallIntegerField(_("warned days ahead"), null=True, blank=True)

    class Meta:
        ordering = ["ends_at", "display_name", "id"]
        verbose_name = _("GDAP relationship")
        verbose_name_plural = _("GDAP relationships")
        constraints = [
            models.UniqueConstraint("account", "relationship_id", name="marketplace_gdap_unique_relationship")
        ]

    def __str__(self) -> str:
        return self.display_name or self.relationship_id
