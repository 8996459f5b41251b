from django.db.models import Count, Q, QuerySet

from portal.webhooks.choices import DeliveryStatus
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoints_for_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED))
    ).order_by("url", "pk")


def webhook_deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.select_related("event").order_by("-pk")
