"""Outgoing webhooks: signed, retried with backoff while the receiver fails, never sent twice for one
event, logged per endpoint with a redelivery, and sent by the services that change things."""

import time

import httpx
import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from portal.audit.models import AuditEvent
from portal.webhooks.choices import DeliveryStatus, WebhookEventType
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from portal.webhooks.services import (
    RETRY_SCHEDULE_SECONDS,
    override_webhook_transport,
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_event_emit,
    webhook_signature_valid,
)
from tests.portal.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _retries_run_in_the_test():
    """Eager tasks run their retries at once (countdowns are not waited for) instead of raising them."""
    from portal.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


@pytest.fixture
def receiver():
    found = Receiver()
    with override_webhook_transport(httpx.WSGITransport(app=found)):
        yield found


@pytest.fixture
def endpoint(in_alpha):
    return webhook_endpoint_create(
        actor=None,
        url="https://psa.example/hooks/console",
        description="PSA",
        events=[WebhookEventType.ORDER_COMPLETED, WebhookEventType.SYNC_FAILED],
    )


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    def call(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return webhook_event_emit(**kwargs)

    return call


def test_an_event_is_delivered_signed_with_a_timestamp(endpoint, receiver, emit):
    event = emit(type=WebhookEventType.ORDER_COMPLETED, data={"order_id": 7})

    (request,) = receiver.received
    assert request.payload["id"] == str(event.event_id) and request.payload["type"] == "order.completed"
    assert request.payload["data"] == {"order_id": 7} and request.payload["partner"] == "alpha"
    assert request.headers["webhook-id"] == str(event.event_id)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert webhook_signature_valid(secret=endpoint.secret, headers=request.headers, body=request.body)
    assert not webhook_signature_valid(secret=endpoint.secret, headers=request.headers, body=request.body + b" ")
    other_secret = webhook_endpoint_create(
        actor=None, url="https://other.example/", description="", events=["order.failed"]
    ).secret
    assert not webhook_signature_valid(secret=other_secret, headers=request.headers, body=request.body)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1 and delivery.response_status == 204


def test_an_old_signature_is_refused_by_the_check(endpoint, receiver, emit):
    emit(type=WebhookEventType.ORDER_COMPLETED, data={})
    (request,) = receiver.received

    later = int(request.headers["webhook-timestamp"]) + 600
    assert not webhook_signature_valid(secret=endpoint.secret, headers=request.headers, body=request.body, now=later)


def test_only_the_endpoints_that_chose_the_event_get_it(endpoint, receiver, emit):
    assert emit(type=WebhookEventType.ORDER_FAILED, data={}) is None

    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_a_failing_receiver_gets_the_event_again_until_it_answers(endpoint, receiver, emit):
    receiver.fail_next = 2

    emit(type=WebhookEventType.SYNC_FAILED, data={"marketplace": "also"})

    assert [request.headers["webhook-id"] for request in receiver.received] == [
        receiver.received[0].headers["webhook-id"]
    ] * 3
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3


def test_the_retries_back_off_and_end_as_failed(endpoint, receiver):
    receiver.fail_next = 100
    event = webhook_event_emit(type=WebhookEventType.SYNC_FAILED, data={})
    delivery = WebhookDelivery.objects.get(event=event)

    waits = []
    for attempt in range(len(RETRY_SCHEDULE_SECONDS) + 1):
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk, attempt=attempt)
        waits.append(outcome.retry_in)

    assert waits == [*RETRY_SCHEDULE_SECONDS, None]
    assert waits[:-1] == sorted(waits[:-1]) and max(RETRY_SCHEDULE_SECONDS) < 3600
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "maintenance" in delivery.error
    assert len(receiver.received) == len(RETRY_SCHEDULE_SECONDS) + 1


def test_an_event_is_never_delivered_twice(endpoint, receiver, emit):
    event = emit(type=WebhookEventType.ORDER_COMPLETED, data={})
    delivery = WebhookDelivery.objects.get(event=event)

    # the broker hands the same message out again, or a retry arrives late: nothing is sent
    for attempt in (0, 1):
        assert webhook_delivery_attempt(delivery_id=delivery.pk, attempt=attempt).status == DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 1
    # and the event has one delivery per endpoint, whatever tries to add another
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(endpoint=endpoint, event=event)


def test_the_delivery_log_and_a_redelivery(alpha_admin_client, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.fail_next = 100
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_emit(type=WebhookEventType.ORDER_COMPLETED, data={"order_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED

    page = alpha_admin_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert str(delivery.event.event_id) in page and "Send again" in page and endpoint.secret in page

    receiver.fail_next = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert receiver.received[-1].headers["webhook-id"] == str(delivery.event.event_id)
    assert AuditEvent.objects.filter(action="webhook_delivery.redeliver").exists()

    again = alpha_admin_client.post(
        f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/", follow=True
    )
    assert "Only a delivery that failed can be sent again." in again.content.decode()


def test_endpoints_are_added_tested_and_deleted_in_settings(
    alpha_admin_client, in_alpha, receiver, django_capture_on_commit_callbacks
):
    response = alpha_admin_client.post(
        "/settings/webhooks/new/", {"url": "https://rmm.example/in", "events": ["order.failed", "sync.failed"]}
    )
    endpoint = WebhookEndpoint.objects.get(url="https://rmm.example/in")
    assert response.status_code == 302 and endpoint.events == ["order.failed", "sync.failed"]
    assert endpoint.secret.startswith("whsec_")
    assert AuditEvent.objects.filter(action="webhook_endpoint.create", target_id=str(endpoint.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        alpha_admin_client.post(f"/settings/webhooks/{endpoint.pk}/ping/")
    (ping,) = receiver.received
    assert ping.payload["type"] == "ping"
    assert webhook_signature_valid(secret=endpoint.secret, headers=ping.headers, body=ping.body)

    assert "https://rmm.example/in" in alpha_admin_client.get("/settings/webhooks/").content.decode()
    edited = alpha_admin_client.post(
        f"/settings/webhooks/{endpoint.pk}/edit/",
        {"url": "https://rmm.example/in", "description": "RMM", "events": ["order.failed"]},
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description, endpoint.is_active) == (["order.failed"], "RMM", False)
    assert AuditEvent.objects.filter(action="webhook_endpoint.update", target_id=str(endpoint.pk)).exists()
    assert webhook_event_emit(type=WebhookEventType.ORDER_FAILED, data={}) is None  # inactive: nothing is sent
    alpha_admin_client.post(f"/settings/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook_endpoint.delete").exists()


def test_an_endpoint_without_events_is_shown_again_with_the_error(alpha_admin_client, in_alpha):
    response = alpha_admin_client.post("/settings/webhooks/new/", {"url": "https://rmm.example/in"})

    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=False)
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "https://169.254.169.254/latest", "https://10.0.0.5/x"])
def test_webhooks_never_go_to_local_or_private_addresses(in_alpha, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        webhook_endpoint_create(actor=None, url=url, description="", events=["order.failed"])
