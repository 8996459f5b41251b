"""Celery tasks of the reports module: adapters that take ids, load rows and call one service."""

from datetime import date

from celery import shared_task
from django.contrib.auth import get_user_model

from marketplace.models import MarketplaceAccount
from reports.services import invoice_lines_import, usage_snapshots_take
from reports.statements import billing_cycles_close_due


@shared_task(name="reports.tasks.usage_snapshots_take", ignore_result=True)
def usage_snapshots_take_task() -> int:
    """Beat, per partner, a few times a day: today's usage snapshot (the day's last run is what it keeps)."""
    return usage_snapshots_take()


@shared_task(name="reports.tasks.billing_cycles_close", ignore_result=True)
def billing_cycles_close_task() -> int:
    """Beat, per partner, daily: issue the cycle that ended on the partner's billing day (a no-op
    once it is issued). Returns the statements written."""
    return billing_cycles_close_due(actor="automation").statements


@shared_task(name="reports.tasks.invoice_lines_fetch", ignore_result=True)
def invoice_lines_fetch(*, account_id: int, period_start: str, period_end: str, actor_id: int | None = None) -> int:
    """Fetch one account's invoice lines for a billing cycle; failures are recorded on the import row."""
    account = MarketplaceAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    fetch = invoice_lines_import(
        actor=actor or "system",
        account=account,
        period_start=date.fromisoformat(period_start),
        period_end=date.fromisoformat(period_end),
    )
    return fetch.invoice_import.line_count


@shared_task(name="reports.tasks.storage_snapshots_refresh", ignore_result=True)
def storage_snapshots_refresh_task() -> int:
    """Beat, per partner, daily: read the customer tenants' storage from Microsoft Graph's usage reports."""
    from reports.storage import storage_snapshots_refresh

    return storage_snapshots_refresh().tenants


@shared_task(name="reports.tasks.invoice_previews_fetch", ignore_result=True)
def invoice_previews_fetch(*, account_id: int, actor_id: int | None = None) -> int:
    """Fetch one account's preview invoices (where its marketplace has them); failures are recorded."""
    from reports.services import invoice_previews_import

    account = MarketplaceAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    fetch = invoice_previews_import(actor=actor or "system", account=account)
    return fetch.invoice_import.line_count if fetch is not None else 0
