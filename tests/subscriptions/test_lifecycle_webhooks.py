"""Licence change requests and failed syncs are told to the partner's webhook endpoints that chose them."""

import httpx

from portal.accounts.choices import UserKind
from portal.webhooks.services import override_webhook_transport, webhook_endpoint_create
from subscriptions.services_requests import license_change_request_create, license_change_request_decide
from tests.factories.accounts import user_with
from tests.portal.webhooks.receiver import Receiver
from tests.subscriptions.lifecycle_support import SUBSCRIPTIONS_MANAGE

BASIC = "Microsoft 365 Business Basic"


def test_a_request_created_and_decided_reaches_the_endpoint(contoso, manager):
    webhook_endpoint_create(
        actor=None,
        url="https://psa.example/in",
        description="",
        events=["license_change_request.created", "license_change_request.decided"],
    )
    tenant_admin = user_with(
        "contoso-admin", SUBSCRIPTIONS_MANAGE, kind=UserKind.CUSTOMER_ADMIN, customers=[contoso.tenant.customer]
    )
    receiver = Receiver()
    basic = contoso.subscription(BASIC)

    with override_webhook_transport(httpx.WSGITransport(app=receiver)):
        request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=13)
        license_change_request_decide(actor=manager, request=request, approve=False, comment="Budget freeze")

    # the deliveries were queued on commit of each service's transaction; run them now
    from portal.webhooks.models import WebhookDelivery
    from portal.webhooks.tasks import webhook_deliver

    with override_webhook_transport(httpx.WSGITransport(app=receiver)):
        for delivery in WebhookDelivery.objects.order_by("pk"):
            webhook_deliver.delay(delivery_id=delivery.pk)

    assert [(r.payload["type"], r.payload["data"]["status"]) for r in receiver.received] == [
        ("license_change_request.created", "pending"),
        ("license_change_request.decided", "rejected"),
    ]
    assert receiver.received[0].payload["data"]["requested_quantity"] == 13
