"""Celery tasks of the marketplace module: adapters that take ids and call one service."""

from celery import shared_task

from marketplace.providers.base import Throttled, Unavailable
from marketplace.retry import SYNC_RETRY
from marketplace.services import sync_runs_schedule_due
from marketplace.services_gdap import gdap_check as gdap_check_run
from marketplace.services_health import credential_health_check as credential_health_check_run
from marketplace.sync import sync_run_execute


@shared_task(
    bind=True, name="marketplace.tasks.sync_account_run", ignore_result=True, max_retries=SYNC_RETRY.max_retries
)
def sync_account_run(self, *, run_id: int) -> None:
    """Execute a queued sync run; retried only when the marketplace throttled us or was unavailable."""
    try:
        sync_run_execute(run_id=run_id, final_attempt=self.request.retries >= self.max_retries)
    except (Throttled, Unavailable) as error:
        countdown = SYNC_RETRY.countdown(error=error, retries=self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="marketplace.tasks.sync_due_accounts", ignore_result=True)
def sync_due_accounts() -> int:
    """Beat, every minute, per partner: queue the syncs of accounts whose interval has elapsed."""
    return len(sync_runs_schedule_due())


@shared_task(name="marketplace.tasks.gdap_check", ignore_result=True)
def gdap_check() -> int:
    """Beat, daily, per partner: read GDAP relationships from Graph and warn before they end."""
    return gdap_check_run()


@shared_task(name="marketplace.tasks.credential_health_check", ignore_result=True)
def credential_health_check() -> int:
    """Beat, daily, per partner: warn before marketplace credentials run out."""
    return credential_health_check_run()
