"""Credential and consent health in one place: per marketplace account and customer tenant, what will
stop working and when, or what already failed, before anything stops working.

- a marketplace account whose last sync failed (its sign-in or the marketplace refused it);
- an App+User refresh token (Partner Center's secure application model): Entra gives it 90 days, and
  a console that cannot store the one it gets back must be given a new one before then;
- a customer tenant whose admin consent is missing or was declined;
- a GDAP relationship that ends within 30 days and will not extend itself."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import ConsentState
from customers.selectors import customer_tenants_visible_to
from marketplace.choices import AccountStatus
from marketplace.models import GdapRelationship, MarketplaceAccount
from marketplace.providers.registry import marketplace_description
from marketplace.services_gdap import GDAP_LIVE_STATUSES, GDAP_WARNING_DAYS
from marketplace.sync import _administrators
from portal.audit.choices import NotificationLevel
from portal.audit.services import notification_create
from portal.webhooks.choices import WebhookEventType
from portal.webhooks.services import webhook_event_emit

#: Entra's refresh token lifetime for web apps.
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
#: Days before a refresh token runs out at which the administrators are warned, each once.
CREDENTIAL_WARNING_DAYS = (30, 7, 1)

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class HealthItem:
    kind: str
    subject: str
    problem: str
    severity: str
    url: str
    due_at: datetime | None = None


def _uses_refresh_token(account: MarketplaceAccount) -> bool:
    return any(option.name == "refresh_token" for option in marketplace_description(account.marketplace).options)


def refresh_token_expires_at(account: MarketplaceAccount) -> datetime | None:
    if not _uses_refresh_token(account):
        return None
    return (account.credentials_changed_at or account.created) + REFRESH_TOKEN_LIFETIME


def _days_left(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds() / 86400)


def credential_health(*, user, now: datetime | None = None) -> list[HealthItem]:
    """Everything that failed or will stop working within 30 days, worst first, that the user may see."""
    now = now or timezone.now()
    items: list[HealthItem] = []
    for account in MarketplaceAccount.objects.order_by("display_name", "pk"):
        url = reverse("marketplace:account_detail", args=[account.marketplace, account.pk])
        if account.status == AccountStatus.FAILING:
            items.append(
                HealthItem(
                    "account", account.display_name, account.status_message or _("The last sync failed."), ERROR, url
                )
            )
        expires = refresh_token_expires_at(account)
        if expires is not None and expires <= now + timedelta(days=max(CREDENTIAL_WARNING_DAYS)):
            if expires <= now:
                problem, severity = _("The refresh token has expired: enter a new one."), ERROR
            else:
                problem = _("The refresh token expires in %(days)s days: enter a new one before then.") % {
                    "days": _days_left(expires, now)
                }
                severity = ERROR if expires <= now + timedelta(days=7) else WARNING
            items.append(HealthItem("refresh_token", account.display_name, problem, severity, url, expires))
    tenants = (
        customer_tenants_visible_to(user=user).exclude(consent_state=ConsentState.CONSENTED).select_related("customer")
    )
    for tenant in tenants:
        url = reverse("customers:customer_detail", args=[tenant.customer_id]) + "?tab=tenants"
        if tenant.consent_state == ConsentState.DENIED:
            problem, severity = tenant.consent_message or _("The admin declined consent."), ERROR
        else:
            problem, severity = _("No admin consent yet: the console cannot read this tenant."), WARNING
        items.append(HealthItem("consent", str(tenant), problem, severity, url))
    relationships = GdapRelationship.objects.filter(
        customer_tenant__in=customer_tenants_visible_to(user=user),
        removed_at__isnull=True,
        status__in=GDAP_LIVE_STATUSES,
        auto_extend=False,
        ends_at__lte=now + timedelta(days=max(GDAP_WARNING_DAYS)),
    ).select_related("customer_tenant")
    for relationship in relationships:
        assert relationship.ends_at is not None
        days = _days_left(relationship.ends_at, now)
        problem = _("GDAP “%(name)s” ends in %(days)s days.") % {"name": relationship.display_name, "days": days}
        severity = ERROR if days <= 7 else WARNING
        items.append(
            HealthItem(
                "gdap",
                str(relationship.customer_tenant),
                problem,
                severity,
                reverse("marketplace:tenant_licences", args=[relationship.customer_tenant_id]),
                relationship.ends_at,
            )
        )
    return sorted(items, key=lambda item: (item.severity != ERROR, item.due_at or now, item.subject))


def credential_health_check(*, now: datetime | None = None) -> int:
    """The daily check: warn the administrators 30, 7 and 1 days before an account's refresh token runs
    out, each once per token, and tell the partner's systems (`credential.expiring`) at the same moments.
    (Failed syncs and GDAP ends have their own notifications.)"""
    now = now or timezone.now()
    sent = 0
    recipients = list(_administrators())
    for account in MarketplaceAccount.objects.order_by("pk"):
        expires = refresh_token_expires_at(account)
        if expires is None or expires > now + timedelta(days=max(CREDENTIAL_WARNING_DAYS)):
            continue
        days = max(_days_left(expires, now), 0)
        threshold = min(limit for limit in CREDENTIAL_WARNING_DAYS if days <= limit)
        if account.credentials_warned_days is not None and account.credentials_warned_days <= threshold:
            continue
        name = account.display_name

        def title(name=name, days=days) -> str:
            if days <= 0:
                return _("The refresh token of %(account)s has expired") % {"account": name}
            return _("The refresh token of %(account)s expires in %(days)s days") % {"account": name, "days": days}

        notification_create(
            recipients=recipients,
            title=title,
            body=lambda: _("Sign in to Partner Center again and enter the new refresh token on the account page."),
            url=reverse("marketplace:account_detail", args=[account.marketplace, account.pk]),
            level=NotificationLevel.ERROR if threshold == 1 else NotificationLevel.WARNING,
        )
        with transaction.atomic():
            MarketplaceAccount.objects.filter(pk=account.pk).update(credentials_warned_days=threshold)
            webhook_event_emit(
                type=WebhookEventType.CREDENTIAL_EXPIRING,
                data={
                    "marketplace_account_id": account.pk,
                    "marketplace": account.marketplace,
                    "credential": "refresh_token",
                    "expires_at": expires,
                    "days_left": days,
                },
            )
        sent += 1
    return sent
