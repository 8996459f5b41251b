"""Outgoing webhooks: endpoints, events, signed deliveries.

A service that wants to tell the partner's systems something calls `webhook_event_emit` inside its
own transaction: the event and one delivery row per subscribed endpoint commit with the change, and
the deliveries are queued on commit. Each delivery is sent by `webhook_delivery_attempt`, which locks
its row, so two workers never send it at once, and never sends a delivered one again. Receivers check
the signature (the Standard Webhooks scheme: `webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) and may deduplicate by `webhook-id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from portal.webhooks.choices import DeliveryStatus, WebhookEventType
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SECRET_PREFIX = "whsec_"
#: Waits before the 2nd, 3rd, ... attempt: about 1 h 30 in all, each below the broker's visibility timeout.
RETRY_SCHEDULE_SECONDS = (15, 60, 300, 900, 1800, 2400)
TIMEOUT_SECONDS = 10
#: A receiver gets this many bytes of our request's body; we keep at most this much of its error text.
ERROR_LENGTH = 500

_transport: httpx.BaseTransport | None = None


@contextmanager
def override_webhook_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Send deliveries through `transport` (tests: an in-process receiver)."""
    global _transport
    previous, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = previous


# -- endpoints ---------------------------------------------------------------------------------------------------------


def _address_problem(url: str) -> str:
    """Why a URL may not receive webhooks: the console never posts into its own network (loopback,
    private, link-local addresses), unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES (development)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return _("Enter an http or https URL.")
    if parts.scheme != "https" and not settings.DEBUG:
        return _("Webhooks are sent over https only.")
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return _("The host name %(host)s does not resolve.") % {"host": parts.hostname}
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return _("Webhooks are not sent to private or local addresses.")
    return ""


def webhook_endpoint_create(*, actor: Actor, url: str, description: str, events: list[str]) -> WebhookEndpoint:
    unknown = set(events) - set(WebhookEventType.values)
    if not events or unknown:
        raise ValidationError({"events": _("Choose at least one event.")})
    problem = _address_problem(url)
    if problem:
        raise ValidationError({"url": problem})
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            description=description.strip()[:200],
            events=sorted(set(events)),
            secret=SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode(),
            created_by=actor_user(actor),
        )
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_ENDPOINT_CREATE,
            target=endpoint,
            after={"url": endpoint.url, "events": endpoint.events},
        )
    return endpoint


def webhook_endpoint_update(
    *, actor: Actor, endpoint: WebhookEndpoint, url: str, description: str, events: list[str], is_active: bool
) -> WebhookEndpoint:
    """Change where and what an endpoint receives; the signing secret stays."""
    unknown = set(events) - set(WebhookEventType.values)
    if not events or unknown:
        raise ValidationError({"events": _("Choose at least one event.")})
    problem = _address_problem(url) if url != endpoint.url else ""
    if problem:
        raise ValidationError({"url": problem})
    fields = ("url", "description", "events", "is_active")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = {field: getattr(endpoint, field) for field in fields}
        endpoint.url = url
        endpoint.description = description.strip()[:200]
        endpoint.events = sorted(set(events))
        endpoint.is_active = is_active
        endpoint.save(update_fields=list(fields))
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_ENDPOINT_UPDATE,
            target=endpoint,
            before=before,
            after={field: getattr(endpoint, field) for field in fields},
        )
    return endpoint


def webhook_endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_ENDPOINT_DELETE,
            target=endpoint,
            before={"url": endpoint.url, "events": endpoint.events},
        )
        endpoint.delete()


# -- events ------------------------------------------------------------------------------------------------------------


def webhook_event_emit(*, type: str, data: dict[str, Any], endpoints=None) -> WebhookEvent | None:
    """Record an event for every active endpoint that chose its type and queue the deliveries on commit.
    Call it inside the transaction of the change it reports. Nothing is written when no endpoint listens."""
    from portal.core.tasks import enqueue_on_commit
    from portal.webhooks.tasks import webhook_deliver

    if endpoints is None:
        endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True) if type in endpoint.events]
    if not endpoints:
        return None
    with transaction.atomic():
        event = WebhookEvent.objects.create(type=type, data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)))
        for endpoint in endpoints:
            delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
            enqueue_on_commit(webhook_deliver, delivery_id=delivery.pk)
    return event


def webhook_ping(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEvent | None:
    """A test event to one endpoint, to check the receiver and its signature check."""
    return webhook_event_emit(
        type=WebhookEventType.PING, data={"endpoint": endpoint.url, "sent_by": str(actor or "")}, endpoints=[endpoint]
    )


def webhook_payload(event: WebhookEvent) -> bytes:
    body = {
        "id": str(event.event_id),
        "type": event.type,
        "created": event.created.isoformat(),
        "partner": _partner_slug(),
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _partner_slug() -> str:
    from portal.partners.selectors import partner_current

    partner = partner_current()
    return partner.slug if partner is not None else ""


def webhook_signature(*, secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_signature_valid(
    *, secret: str, headers: dict[str, str], body: bytes, tolerance_seconds: int = 300, now: float | None = None
) -> bool:
    """The receiver's check (our own test receiver uses it): signed with the secret, and recent."""
    event_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not event_id or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance_seconds:
        return False
    expected = webhook_signature(secret=secret, event_id=event_id, timestamp=int(timestamp), body=body)
    return any(hmac.compare_digest(expected, given) for given in headers.get("webhook-signature", "").split())


# -- deliveries --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    #: Seconds to wait before the next attempt; None when there is none.
    retry_in: int | None = None


def _send(endpoint: WebhookEndpoint, event: WebhookEvent) -> tuple[int | None, str]:
    problem = _address_problem(endpoint.url)
    if problem:
        return None, problem
    body = webhook_payload(event)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "msp-console-webhooks/1",
        "webhook-id": str(event.event_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=endpoint.secret, event_id=str(event.event_id), timestamp=timestamp, body=body
        ),
    }
    try:
        with httpx.Client(transport=_transport, timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.post(endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, response.text[:ERROR_LENGTH]


def webhook_delivery_attempt(*, delivery_id: int, attempt: int, now: datetime | None = None) -> DeliveryOutcome:
    """One attempt (`attempt` counts from 0). The row stays locked while it is sent: a second worker
    holding the same message skips it, and a delivered one is never sent again."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return DeliveryOutcome(status="busy")
        if delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            return DeliveryOutcome(status=delivery.status)
        status_code, error = _send(delivery.endpoint, delivery.event)
        now = now or timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status = status_code
        delivery.error = error
        retry_in = None
        if not error:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif attempt < len(RETRY_SCHEDULE_SECONDS):
            retry_in = RETRY_SCHEDULE_SECONDS[attempt]
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        delivery.save()
    return DeliveryOutcome(status=delivery.status, retry_in=retry_in)


def webhook_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again, with the same event id (a receiver that got it meanwhile ignores it)."""
    from portal.core.tasks import enqueue_on_commit
    from portal.webhooks.tasks import webhook_deliver

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery.pk)
        if delivery.status != DeliveryStatus.FAILED:
            raise ValidationError(_("Only a delivery that failed can be sent again."))
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "next_attempt_at"])
        audit_record(
            actor=actor,
            action=AuditAction.WEBHOOK_DELIVERY_REDELIVER,
            target=delivery.endpoint,
            after={"event": str(delivery.event.event_id), "type": delivery.event.type},
        )
        enqueue_on_commit(webhook_deliver, delivery_id=delivery.pk)
    return delivery
