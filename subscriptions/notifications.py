"""Telling people about their orders: an in-app notification at once, an email after commit.

Called inside the transaction that changed the order, so nothing is said about a change that rolled
back; the email goes out in a task (`order_email_send`) enqueued on commit.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from portal.accounts.choices import UserKind
from portal.audit.choices import NotificationLevel
from portal.audit.services import notification_create
from portal.core.tasks import enqueue_on_commit
from subscriptions.models import Order

#: event -> (notification level, title)
EVENTS = {
    "placed": NotificationLevel.INFO,
    "provisioned": NotificationLevel.SUCCESS,
    "failed": NotificationLevel.ERROR,
}


def order_recipients(order: Order) -> list:
    """The creator and whoever submitted it (a resumed draft may have been placed by someone else).
    A customer's own order (placed by one of its tenant admins) also goes to the partner users who
    manage that customer's subscriptions: the partner learns of what its customer bought."""
    from subscriptions.services_requests import approvers_for  # the services import this module

    people = {}
    for user in (order.created_by, order.submitted_by):
        if user is not None and user.is_active:
            people[user.pk] = user
    if any(user.kind == UserKind.CUSTOMER_ADMIN for user in people.values()):
        for user in approvers_for(customer_tenant=order.customer_tenant):
            people.setdefault(user.pk, user)
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
    from subscriptions.tasks import order_email_send  # the task module imports the services

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
