"""Celery tasks of the order machinery: adapters that take ids and call one function.

The services, placing and notifications enqueue these tasks, so they import this module; a task imports
the function it runs when it runs, never at import time, so the dependency runs one way.

Retried only when the marketplace throttled us or was unavailable, by the marketplace task retry
policy (marketplace.retry); a refusal is never retried.
"""

from __future__ import annotations

from celery import shared_task

from marketplace.providers.base import Throttled, Unavailable
from marketplace.retry import ORDER_RETRY


@shared_task(bind=True, name="orders.tasks.order_place", ignore_result=True, max_retries=ORDER_RETRY.max_retries)
def order_place(self, *, order_id: int) -> None:
    """Place the open lines of a submitted order (`orders.placement.order_execute`)."""
    from orders.placement import order_execute

    try:
        order_execute(order_id=order_id, final_attempt=self.request.retries >= self.max_retries)
    except (Throttled, Unavailable) as error:
        countdown = ORDER_RETRY.countdown(error=error, retries=self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="orders.tasks.order_provisioning_check", ignore_result=True)
def order_provisioning_check(*, order_id: int, check: int = 1) -> None:
    """Ask the marketplace whether the lines it was provisioning are done; queues the next check itself."""
    from orders.placement import order_provisioning_refresh

    order_provisioning_refresh(order_id=order_id, check=check)


@shared_task(name="orders.tasks.orders_requeue_stalled", ignore_result=True)
def orders_requeue_stalled_task() -> int:
    """Beat, per partner (`dispatch_to_partners`): queue again the orders whose task message was lost."""
    from orders.services import orders_requeue_stalled

    return orders_requeue_stalled()


@shared_task(name="orders.tasks.order_email_send", ignore_result=True)
def order_email_send(*, order_id: int, event: str) -> None:
    """Email the order's people that it was placed, provisioned or has failed lines."""
    from orders.notifications import order_email_deliver

    order_email_deliver(order_id=order_id, event=event)
