"""Telling people about their orders: an in-app notification at once, an email after commit.

Called inside the transaction that changed the order, so nothing is said about a change that rolled
back; the email goes out in a task (`order_email_send`) enqueued on commit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from orders.models import Order
from orders.selectors import order_with_lines
from orders.tasks import order_email_send
from portal.accounts.locale import user_locale
from portal.audit.choices import NotificationLevel
from portal.audit.services import notification_create
from portal.core.tasks import enqueue_on_commit
from portal.partners.selectors import partner_current
from portal.partners.services import partner_url

#: event -> (notification level, title)
EVENTS = {
    "placed": NotificationLevel.INFO,
    "provisioned": NotificationLevel.SUCCESS,
    "failed": NotificationLevel.ERROR,
}


def order_recipients(order: Order) -> list:
    """The creator and whoever submitted it (a resumed draft may have been placed by someone else)."""
    people = {}
    for user in (order.created_by, order.submitted_by):
        if user is not None and user.is_active:
            people[user.pk] = user
    return list(people.values())


def order_title(order: Order, event: str) -> str:
    values = {"number": order.number, "tenant": order.customer_tenant}
    if event == "placed":
        return _("Order %(number)s for %(tenant)s was placed") % values
    if event == "provisioned":
        return _("Order %(number)s for %(tenant)s is provisioned") % values
    return _("Order %(number)s for %(tenant)s has failed lines") % values


def order_notify(*, order: Order, event: str) -> None:
    """Notify the order's people of `event` (placed, provisioned, failed) and email them after commit."""
    recipients = order_recipients(order)
    if not recipients:
        return
    notification_create(
        recipients=recipients,
        title=lambda: order_title(order, event),
        body=order.friendly_name or "",
        url=reverse("orders:order_detail", kwargs={"order_pk": order.pk}),
        level=EVENTS.get(event, NotificationLevel.INFO),
    )
    enqueue_on_commit(order_email_send, order_id=order.pk, event=event)


def order_email_deliver(*, order_id: int, event: str) -> None:
    """Email the order's people that it was placed, provisioned or has failed lines, each in their language."""
    order = order_with_lines(order_id=order_id)
    if order is None:
        return
    partner = partner_current()
    base_url = partner_url(partner).rstrip("/") if partner is not None else ""
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
            body = render_to_string("orders/email/order_event.txt", context)
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
