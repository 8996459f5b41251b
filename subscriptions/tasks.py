"""Celery tasks of the order machinery: adapters that take ids and call one function.

Retried only when the marketplace throttled us or was unavailable, by the marketplace task retry
policy (marketplace.retry); a refusal is never retried.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from marketplace.providers.base import Throttled, Unavailable
from marketplace.retry import ORDER_RETRY
from portal.accounts.locale import user_locale
from subscriptions.placement import order_execute, order_provisioning_refresh


@shared_task(bind=True, name="subscriptions.tasks.order_place", ignore_result=True, max_retries=ORDER_RETRY.max_retries)
def order_place(self, *, order_id: int) -> None:
    """Place the open lines of a submitted order (`subscriptions.placement.order_execute`)."""
    try:
        order_execute(order_id=order_id, final_attempt=self.request.retries >= self.max_retries)
    except (Throttled, Unavailable) as error:
        countdown = ORDER_RETRY.countdown(error=error, retries=self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="subscriptions.tasks.order_provisioning_check", ignore_result=True)
def order_provisioning_check(*, order_id: int, check: int = 1) -> None:
    """Ask the marketplace whether the lines it was provisioning are done; queues the next check itself."""
    order_provisioning_refresh(order_id=order_id, check=check)


@shared_task(name="subscriptions.tasks.orders_requeue_stalled", ignore_result=True)
def orders_requeue_stalled_task() -> int:
    """Beat, per partner (`dispatch_to_partners`): queue again the orders whose task message was lost."""
    from subscriptions.services_orders import orders_requeue_stalled

    return orders_requeue_stalled()


@shared_task(name="subscriptions.tasks.order_email_send", ignore_result=True)
def order_email_send(*, order_id: int, event: str) -> None:
    """Email the order's people that it was placed, provisioned or has failed lines."""
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url
    from subscriptions.notifications import order_recipients, order_title
    from subscriptions.selectors_orders import order_with_lines
    from support.selectors import troubleshooting_addresses

    order = order_with_lines(order_id=order_id)
    if order is None:
        return
    partner = partner_current()
    base_url = partner_url(partner).rstrip("/") if partner is not None else ""
    copies = troubleshooting_addresses()  # the troubleshooting profile gets one copy of the event
    for user in order_recipients(order):
        if not user.email:
            continue
        context = {
            "user": user,
            "order": order,
            "lines": list(order.lines.all()),
            "event": event,
            "partner_name": getattr(partner, "name", ""),
            "order_url": base_url + reverse("orders:order_detail", kwargs={"order_pk": order.pk}),
        }
        with user_locale(user):
            subject = order_title(order, event)
            body = render_to_string("subscriptions/email/order_event.txt", context)
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], cc=copies).send()
        copies = []
