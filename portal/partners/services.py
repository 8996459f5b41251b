"""Provisioning of partners: one PostgreSQL schema each, created fast by cloning a template.

A new partner's schema is a copy of `PARTNER_TEMPLATE_SCHEMA`, a schema that holds every partner
migration and nothing else. Cloning copies tables, indexes, sequences and the migration records
in one SQL function call, which is several times faster than running the migrations (see
`bench/provision.py`). When the template is missing, or behind the code's migrations, the new
schema is migrated instead, so a stale template can never produce a partner with missing tables.

Everything (schema, partner row, domain, first administrator) happens in one transaction:
PostgreSQL DDL is transactional, so a provisioning that fails half-way leaves nothing behind.
"""

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists

from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME
from portal.accounts.models import Role
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.core.names import name_clean, name_ensure_unique
from portal.partners.choices import Currency, Language, PartnerStatus, Region
from portal.partners.clone import clone_schema_lean
from portal.partners.models import Domain, Partner
from portal.partners.schema_migrations import (
    code_migration_digest,
    schema_migrate,
    schema_state_record,
    schemas_applied_digests,
)

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")
HOSTNAME_PATTERN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
# Host labels the platform keeps for itself.
RESERVED_SLUGS = frozenset(
    {"www", "admin", "api", "app", "public", "static", "media", "mail", "auth", "login", "identity", "template"}
)


class ProvisioningMethod(StrEnum):
    CLONE = "clone"
    MIGRATE = "migrate"


@dataclass(frozen=True)
class ProvisionedPartner:
    partner: Partner
    admin_username: str
    admin_email: str
    admin_password: str
    method: ProvisioningMethod


def schema_name_for(slug: str) -> str:
    """Schema names never carry dashes: cloning breaks on them (django-tenants #733)."""
    return "p_" + slug.replace("-", "_")


def partner_primary_host(slug: str) -> str:
    return f"{slug}.{settings.PORTAL_DOMAIN}"


def partner_url(partner: Partner) -> str:
    domain = partner.get_primary_domain()
    host = domain.domain if domain else partner_primary_host(partner.slug)
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    return f"{settings.PORTAL_SCHEME}://{host}{port}/"


def partner_host_is_configured(partner: Partner, host: str) -> bool:
    """Whether ``host`` (the request's Host, with its port) is one of the addresses the platform serves this
    partner at: one of its domains on PORTAL_PORT. ALLOWED_HOSTS ignores ports and covers every partner, so a
    request naming another port or host passes it; whatever builds a link from a request checks here first."""
    host = (host or "").lower()
    default_port = {"https": "443", "http": "80"}.get(settings.PORTAL_SCHEME, "")
    port = settings.PORTAL_PORT or default_port
    names = {domain.domain.lower() for domain in partner.domains.all()} | {partner_primary_host(partner.slug)}
    allowed = {f"{name}:{port}" for name in names}
    if not settings.PORTAL_PORT:
        allowed |= names
    return host in allowed


def validate_partner_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            _(
                "The slug '%(slug)s' is not valid: use 2 to 50 lower-case letters, digits and dashes, "
                "starting with a letter and not ending with a dash."
            )
            % {"slug": slug},
            code="invalid_slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("The slug '%(slug)s' is reserved by the platform.") % {"slug": slug}, code="reserved")
    if Partner.objects.filter(slug=slug).exists() or schema_exists(schema_name_for(slug)):
        raise ValidationError(_("A partner with the slug '%(slug)s' already exists.") % {"slug": slug}, code="taken")


def validate_partner_domain(domain: str) -> None:
    if not HOSTNAME_PATTERN.match(domain):
        raise ValidationError(_("'%(domain)s' is not a valid host name.") % {"domain": domain}, code="invalid_domain")
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError(
            _("The domain '%(domain)s' already belongs to a partner.") % {"domain": domain}, code="domain_taken"
        )


def partner_template_ensure(*, verbosity: int = 0) -> None:
    """Create the template schema, or bring it up to the code's migrations (a no-op when current).

    `migrate_partners` does this on every deploy, so cloning never copies an old layout.
    django-tenants' own migrate does not see the template, because the template has no partner row
    (django-tenants #1154).
    """
    template = settings.PARTNER_TEMPLATE_SCHEMA
    with transaction.atomic():
        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{template}"')
        outcome = schema_migrate(template)
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    if not outcome.ok:
        raise RuntimeError(f"The partner template could not be migrated: {outcome.error}")


def _create_schema(schema_name: str, method: ProvisioningMethod) -> ProvisioningMethod:
    """Create the partner's schema at the code's migrations and record its state with it."""
    template = settings.PARTNER_TEMPLATE_SCHEMA
    if method is ProvisioningMethod.CLONE and schema_exists(template):
        template_digest = schemas_applied_digests([template])[template]
        if not clone_schema_lean(source=template, target=schema_name, layout_key=template_digest):
            # The template holds objects the lean clone does not copy (views, triggers...).
            CloneSchema().clone_schema(template, schema_name, "DATA")
        digest = template_digest
        if digest != code_migration_digest():
            # The template is behind the code: migrate the copy forward rather than fail.
            call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
            digest = schemas_applied_digests([schema_name])[schema_name]
        schema_state_record(schema_name=schema_name, digest=digest)
        return ProvisioningMethod.CLONE
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    schema_state_record(schema_name=schema_name, digest=schemas_applied_digests([schema_name])[schema_name])
    return ProvisioningMethod.MIGRATE


def partner_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    is_service_provider: bool = True,
    is_large_account_reseller: bool = False,
    region: str = Region.EUROPE,
    default_language: str = Language.ENGLISH,
    default_currency: str = Currency.EUR,
    extra_domain: str | None = None,
    admin_password: str | None = None,
    method: ProvisioningMethod = ProvisioningMethod.CLONE,
) -> ProvisionedPartner:
    """Provision a partner with its schema, primary domain and first administrator, atomically."""
    slug = slug.strip().lower()
    admin_email = admin_email.strip().lower()
    errors: list[ValidationError] = []
    if not name.strip():
        errors.append(ValidationError(_("A partner needs a name."), code="name_required"))
    else:
        # partners see each other's names in reseller directories: no look-alike of another one
        try:
            name = name_clean(name, max_length=Partner._meta.get_field("name").max_length)
            name_ensure_unique(
                name=name,
                queryset=Partner.objects.exclude(schema_name="public"),
                duplicate_message=_("A partner called %(name)s already exists."),
                skeleton_field="name_skeleton",
            )
        except ValidationError as error:
            errors.append(error)
    if not (is_service_provider or is_large_account_reseller):
        errors.append(
            ValidationError(_("A partner is a service provider, a large account reseller, or both."), code="kind")
        )
    for check, value in (
        (validate_partner_slug, slug),
        (validate_email, admin_email),
        (validate_partner_domain, partner_primary_host(slug)),
    ):
        try:
            check(value)
        except ValidationError as error:
            errors.append(error)
    if extra_domain:
        try:
            validate_partner_domain(extra_domain.strip().lower())
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)

    schema_name = schema_name_for(slug)
    password = admin_password or secrets.token_urlsafe(12)
    username = "admin"
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    with transaction.atomic():
        used = _create_schema(schema_name, method)
        partner = Partner.objects.create(
            schema_name=schema_name,
            name=name,
            slug=slug,
            is_service_provider=is_service_provider,
            is_large_account_reseller=is_large_account_reseller,
            region=region,
            default_language=default_language,
            default_currency=default_currency,
            owner_email=admin_email,
            status=PartnerStatus.PROVISIONING,
        )
        Domain.objects.create(domain=partner_primary_host(slug), tenant=partner, is_primary=True)
        if extra_domain:
            Domain.objects.create(domain=extra_domain.strip().lower(), tenant=partner, is_primary=False)
        with schema_context(schema_name):
            administrator = get_user_model().objects.create_superuser(
                username=username,
                email=admin_email,
                password=password,
                organisation_name=name,
                language=default_language,
                time_zone=partner.default_time_zone,
            )
            administrator.roles.add(Role.objects.get(name=ADMINISTRATORS_ROLE_NAME, is_builtin=True))
        partner.status = PartnerStatus.ACTIVE
        partner.save(update_fields=["status"])
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    return ProvisionedPartner(
        partner=partner, admin_username=username, admin_email=admin_email, admin_password=password, method=used
    )


def platform_ensure() -> Partner:
    """The public schema's own row and domain, so the bare PORTAL_DOMAIN serves the landing page."""
    platform, _created = Partner.objects.get_or_create(
        schema_name="public",
        defaults={"name": "Platform", "slug": "platform", "status": PartnerStatus.ACTIVE},
    )
    Domain.objects.get_or_create(domain=settings.PORTAL_DOMAIN, defaults={"tenant": platform, "is_primary": True})
    return platform


PARTNER_LOCALE_FIELDS = ("default_language", "default_time_zone")


def partner_locale_update(*, actor: Actor, partner: Partner, default_language: str, default_time_zone: str) -> Partner:
    """The language and time zone new users of the partner start with. People already here keep theirs:
    each chose, or can choose, in My profile."""
    from portal.accounts.locale import time_zone_names
    from portal.audit.services import audit_record, model_snapshot

    if default_language not in dict(settings.LANGUAGES):
        raise ValidationError({"default_language": _("Choose one of the console's languages.")})
    if default_time_zone not in time_zone_names():
        raise ValidationError({"default_time_zone": _("Choose a time zone from the list.")})
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        before = model_snapshot(partner, PARTNER_LOCALE_FIELDS)
        partner.default_language, partner.default_time_zone = default_language, default_time_zone
        partner.save(update_fields=list(PARTNER_LOCALE_FIELDS))
        audit_record(
            actor=actor,
            action=AuditAction.PARTNER_LOCALE_UPDATE,
            target=partner,
            before=before,
            after=model_snapshot(partner, PARTNER_LOCALE_FIELDS),
        )
    return partner
