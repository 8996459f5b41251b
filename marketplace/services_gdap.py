"""GDAP relationships per customer tenant: read from Microsoft Graph through each Partner Center
account once a day, kept as history after Microsoft deletes them, and warned about before they end.

Microsoft ends a relationship at its end date unless auto-extension (180 days) is on, and refuses
auto-extension for a relationship that includes the Global Administrator role: such a relationship
must be renewed by a new request, which is why its warnings say so."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.models import CustomerTenant
from marketplace.connections import provider_for_account
from marketplace.models import GdapRelationship, MarketplaceAccount
from marketplace.providers.base import Capability, GdapRelationshipRecord, ProviderError
from marketplace.providers.registry import marketplace_description
from marketplace.sync import _administrators
from portal.audit.choices import NotificationLevel
from portal.audit.services import notification_create

logger = logging.getLogger(__name__)

#: Days before the end at which the administrators are warned, each once.
GDAP_WARNING_DAYS = (30, 7, 1)
#: How long a relationship Microsoft no longer lists is kept after it ended.
GDAP_HISTORY_KEPT = timedelta(days=365)
#: Statuses in which a relationship still grants access.
GDAP_LIVE_STATUSES = frozenset({"active", "expiring", "activating"})


@dataclass(frozen=True)
class GdapSyncOutcome:
    created: int = 0
    updated: int = 0
    removed: int = 0
    purged: int = 0


def gdap_accounts() -> list[MarketplaceAccount]:
    """The accounts whose marketplace can list GDAP relationships (Partner Center)."""
    return [
        account
        for account in MarketplaceAccount.objects.order_by("pk")
        if Capability.LIST_GDAP_RELATIONSHIPS in marketplace_description(account.marketplace).capabilities
    ]


def gdap_relationships_sync(*, account: MarketplaceAccount, now: datetime | None = None) -> GdapSyncOutcome:
    """Store what Graph lists now; a relationship it no longer lists is marked removed (history), and
    history a year past its end is deleted. Provider errors propagate to the caller."""
    now = now or timezone.now()
    provider = provider_for_account(account)
    try:
        records = provider.list_gdap_relationships()
    finally:
        provider.close()
    tenants = {str(tenant.tenant_id).lower(): tenant for tenant in CustomerTenant.objects.all()}
    created = updated = 0
    with transaction.atomic():
        existing = {
            row.relationship_id: row for row in GdapRelationship.objects.select_for_update().filter(account=account)
        }
        seen = set()
        for record in records:
            seen.add(record.relationship_id)
            values = _values(record, tenants)
            row = existing.get(record.relationship_id)
            if row is None:
                GdapRelationship.objects.create(
                    account=account, relationship_id=record.relationship_id, last_seen_at=now, **values
                )
                created += 1
                continue
            if row.ends_at != values["ends_at"]:
                values["warned_days"] = None  # extended or renewed: warn again before the new end
            changed = any(getattr(row, name) != value for name, value in values.items()) or row.removed_at is not None
            for name, value in values.items():
                setattr(row, name, value)
            row.last_seen_at, row.removed_at = now, None
            row.save()
            updated += int(changed)
        vanished = [row.pk for key, row in existing.items() if key not in seen and row.removed_at is None]
        removed = GdapRelationship.objects.filter(pk__in=vanished).update(removed_at=now)
        purged, _detail = GdapRelationship.objects.filter(
            account=account, removed_at__isnull=False, ends_at__lt=now - GDAP_HISTORY_KEPT
        ).delete()
    return GdapSyncOutcome(created=created, updated=updated, removed=removed, purged=purged)


def _values(record: GdapRelationshipRecord, tenants: dict[str, CustomerTenant]) -> dict:
    return {
        "customer_tenant": tenants.get(record.customer_tenant_id),
        "display_name": record.display_name[:255],
        "microsoft_tenant_id": record.customer_tenant_id[:36],
        "customer_name": record.customer_name[:255],
        "status": record.status[:32],
        "roles": list(record.roles),
        "auto_extend": record.auto_extend,
        "includes_global_administrator": record.includes_global_administrator,
        "activated_at": record.activated_at,
        "ends_at": record.ends_at,
    }


def gdap_days_left(*, relationship: GdapRelationship, now: datetime) -> int | None:
    if relationship.ends_at is None:
        return None
    return math.ceil((relationship.ends_at - now).total_seconds() / 86400)


def gdap_expiry_warn(*, now: datetime | None = None) -> int:
    """Notify the administrators of each live relationship that ends within 30, 7 or 1 days and will
    not extend itself; each threshold once per end date. Returns how many warnings went out."""
    now = now or timezone.now()
    sent = 0
    due = GdapRelationship.objects.filter(
        removed_at__isnull=True,
        status__in=GDAP_LIVE_STATUSES,
        auto_extend=False,
        ends_at__gt=now,
        ends_at__lte=now + timedelta(days=max(GDAP_WARNING_DAYS)),
    ).select_related("customer_tenant", "account")
    recipients = list(_administrators())
    for relationship in due:
        days_left = gdap_days_left(relationship=relationship, now=now) or 0
        threshold = min(days for days in GDAP_WARNING_DAYS if days_left <= days)
        if relationship.warned_days is not None and relationship.warned_days <= threshold:
            continue
        name = relationship.customer_tenant or relationship.customer_name or relationship.microsoft_tenant_id
        ends = relationship.ends_at

        def title(name=name, days_left=days_left) -> str:
            return _("GDAP with %(tenant)s ends in %(days)s days") % {"tenant": name, "days": days_left}

        def body(relationship=relationship, ends=ends) -> str:
            text = _("The relationship “%(name)s” ends on %(date)s.") % {
                "name": relationship.display_name,
                "date": date_format(timezone.localtime(ends).date(), "SHORT_DATE_FORMAT"),
            }
            if relationship.includes_global_administrator:
                text += " " + _(
                    "It includes Global Administrator, so Microsoft will not extend it: request a new relationship."
                )
            return text

        notification_create(
            recipients=recipients,
            title=title,
            body=body,
            url=reverse("marketplace:gdap"),
            level=NotificationLevel.WARNING if threshold > 1 else NotificationLevel.ERROR,
        )
        GdapRelationship.objects.filter(pk=relationship.pk).update(warned_days=threshold)
        sent += 1
    return sent


def gdap_check() -> int:
    """The daily check: refresh every Partner Center account's relationships, then warn. An account
    whose marketplace does not answer is skipped (its stored relationships still warn)."""
    for account in gdap_accounts():
        try:
            gdap_relationships_sync(account=account)
        except ProviderError as error:
            logger.warning("GDAP relationships of account %s could not be read: %s", account.pk, error)
    return gdap_expiry_warn()
