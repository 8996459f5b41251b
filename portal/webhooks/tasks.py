"""Webhook deliveries, on the default queue: an adapter around `webhook_delivery_attempt`."""

from celery import shared_task

from portal.webhooks.services import RETRY_SCHEDULE_SECONDS, webhook_delivery_attempt


@shared_task(
    bind=True, name="portal.webhooks.tasks.webhook_deliver", ignore_result=True, max_retries=len(RETRY_SCHEDULE_SECONDS)
)
def webhook_deliver(self, *, delivery_id: int) -> str:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id, attempt=self.request.retries)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status
