from django.db.models import QuerySet

from portal.partners.choices import PartnerStatus
from portal.partners.models import Partner


def partners_all() -> QuerySet[Partner]:
    """Every partner, never the platform's own (public schema) row."""
    return Partner.objects.exclude(schema_name="public").prefetch_related("domains")


def partners_active() -> QuerySet[Partner]:
    """Partners whose schema is ready for work: beat dispatches only to these."""
    return partners_all().filter(status=PartnerStatus.ACTIVE)


def partners_active_schema_digests() -> list[tuple[str, str | None]]:
    """Each active partner's schema with its recorded migration digest (None if never recorded)."""
    from django.db.models import OuterRef, Subquery

    from portal.partners.models import SchemaMigrationState

    digest = SchemaMigrationState.objects.filter(schema_name=OuterRef("schema_name")).values("digest")[:1]
    return list(
        Partner.objects.exclude(schema_name="public")
        .filter(status=PartnerStatus.ACTIVE)
        .annotate(schema_digest=Subquery(digest))
        .order_by("schema_name")
        .values_list("schema_name", "schema_digest")
    )


def partner_by_slug(*, slug: str) -> Partner | None:
    return partners_all().filter(slug=slug.strip().lower()).first()


def partner_current() -> Partner | None:
    """The partner whose schema the connection is in (None in public): works in requests, tasks and
    `schema_context`, where `connection.tenant` is not always the Partner row."""
    from django.db import connection

    if connection.schema_name == "public":  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
        return None
    return Partner.objects.filter(schema_name=connection.schema_name).first()  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
