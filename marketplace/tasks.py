"""Celery tasks of the marketplace module: adapters that take ids and call one service."""

import random

from celery import shared_task

from marketplace.providers.base import ProviderError, Throttled, Unavailable
from marketplace.services import sync_runs_schedule_due
from marketplace.sync import sync_run_execute

#: Attempts after the first before a throttled or unavailable sync is marked failed.
SYNC_MAX_RETRIES = 3
SYNC_RETRY_BASE_SECONDS = 30


def sync_retry_countdown(*, error: ProviderError, retries: int) -> float:
    """Exponential backoff with jitter; a throttled call waits at least what the marketplace asked."""
    backoff = SYNC_RETRY_BASE_SECONDS * (2**retries)
    backoff += random.uniform(0, backoff / 4)
    if isinstance(error, Throttled):
        return max(backoff, error.retry_after)
    return backoff


@shared_task(bind=True, name="marketplace.tasks.sync_account_run", ignore_result=True, max_retries=SYNC_MAX_RETRIES)
def sync_account_run(self, *, run_id: int) -> None:
    """Execute a queued sync run; retried only when the marketplace throttled us or was unavailable."""
    try:
        sync_run_execute(run_id=run_id, final_attempt=self.request.retries >= self.max_retries)
    except (Throttled, Unavailable) as error:
        raise self.retry(
            exc=error, countdown=sync_retry_countdown(error=error, retries=self.request.retries)
        ) from error


@shared_task(name="marketplace.tasks.sync_due_accounts", ignore_result=True)
def sync_due_accounts() -> int:
    """Beat, every minute, per partner: queue the syncs of accounts whose interval has elapsed."""
    return len(sync_runs_schedule_due())
