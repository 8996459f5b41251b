import uuid

from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from portal.core.names import name_skeleton
from portal.partners.choices import Currency, DataCentre, Language, PartnerStatus, Region


class Partner(TenantMixin):
    """An organisation that signs in to the console: one PostgreSQL schema each.

    Schemas are created by `portal.partners.provisioning`, never implicitly on save, so a
    failed provisioning can be rolled back as one transaction.
    """

    auto_create_schema = False
    auto_drop_schema = False

    # The partner's tenant ID: a stable identifier people quote to support (shown in My profile).
    tenant_id = models.UUIDField(_("tenant ID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    # What the name looks like (`name_skeleton`), kept with it so a new partner's name is checked against
    # every other by one index lookup instead of a pass over all partners' names.
    name_skeleton = models.TextField(_("name skeleton"), blank=True, db_index=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    is_service_provider = models.BooleanField(_("service provider"), default=True)
    is_large_account_reseller = models.BooleanField(_("large account reseller"), default=False)
    region = models.CharField(_("region"), max_length=8, choices=Region.choices, default=Region.EUROPE)
    # The country/region the partner signed up from, and the data centre it implies.
    country = models.CharField(_("country/region"), max_length=2, blank=True)
    data_centre = models.CharField(
        _("data centre"), max_length=16, choices=DataCentre.choices, default=DataCentre.EU_WEST, db_index=True
    )
    default_language = models.CharField(
        _("default language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # New users start with the partner's language and time zone; each changes them in My profile.
    default_time_zone = models.CharField(_("default time zone"), max_length=64, default="UTC")
    default_currency = models.CharField(
        _("default currency"), max_length=3, choices=Currency.choices, default=Currency.EUR
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PartnerStatus.choices, default=PartnerStatus.PROVISIONING
    )
    owner_email = models.EmailField(_("owner email"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # django-tenants asks whether a schema name exists ignoring case before each new partner
        indexes = [models.Index(Upper("schema_name"), name="partners_schema_name_upper")]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_skeleton = name_skeleton(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_skeleton"}
        super().save(*args, **kwargs)

    @property
    def is_platform(self) -> bool:
        """The public schema's row: it serves the landing page and the admin, it is no partner."""
        return self.schema_name == "public"

    @property
    def kind_label(self) -> str:
        kinds = []
        if self.is_service_provider:
            kinds.append(str(_("Service provider")))
        if self.is_large_account_reseller:
            kinds.append(str(_("Large account reseller")))
        return " + ".join(kinds)


class Domain(DomainMixin):
    """A host name that resolves to a partner (the primary one is <slug>.<PORTAL_DOMAIN>)."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class SchemaMigrationState(models.Model):
    """Which migrations a partner schema (or the partner template) holds, recorded in the public schema.

    `digest` summarises the schema's applied migrations that the code knows of; it is written in the
    same transaction as the migrations themselves, so it never claims more than the schema holds. A
    deploy compares every row with the code's digest in one query and migrates only the schemas that
    differ, instead of opening every schema to ask. A failed migration keeps the old digest and says
    why in `error`, so the next run retries exactly those schemas.
    """

    schema_name = models.CharField(_("schema"), max_length=63, unique=True)
    digest = models.CharField(_("migration digest"), max_length=32, blank=True)
    error = models.TextField(_("last error"), blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("schema migration state")
        verbose_name_plural = _("schema migration states")

    def __str__(self) -> str:
        return self.schema_name
