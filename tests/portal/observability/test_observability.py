"""Readiness apart from liveness, the Prometheus endpoint, and log lines that name their request."""

import json
import logging
import time

import pytest
from django.test import Client, override_settings

from portal.observability.readiness import worker_heartbeat_record


@pytest.fixture
def public_client(db) -> Client:
    from django.conf import settings

    return Client(HTTP_HOST=settings.PORTAL_DOMAIN)


def test_ready_when_database_redis_a_worker_and_migrations_are(alpha_client):
    worker_heartbeat_record()

    response = alpha_client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "redis": "ok", "worker": "ok", "migrations": "ok"},
    }


def test_not_ready_when_redis_is_stopped_but_still_alive(alpha_client):
    worker_heartbeat_record()

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        ready = alpha_client.get("/readyz")
        alive = alpha_client.get("/healthz")

    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "ConnectionError" and ready.json()["ready"] is False
    assert alive.status_code == 200


def test_not_ready_when_no_worker_was_seen_recently(alpha_client, settings):
    worker_heartbeat_record(now=time.time() - settings.READINESS_WORKER_MAX_AGE - 5)

    response = alpha_client.get("/readyz")

    assert response.status_code == 503 and response.json()["checks"]["worker"].startswith("last seen")


def test_the_worker_heartbeat_task_marks_a_worker_seen(alpha_client):
    from portal.observability.tasks import worker_heartbeat

    worker_heartbeat_record(now=0)
    worker_heartbeat.delay()

    assert alpha_client.get("/readyz").json()["checks"]["worker"] == "ok"


def test_the_metrics_endpoint_needs_its_token(public_client, alpha_admin_client):
    alpha_admin_client.get("/customers/")

    with override_settings(METRICS_TOKEN="scrape-me"):
        refused = public_client.get("/metrics")
        answered = public_client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    assert refused.status_code == 404
    text = answered.content.decode()
    assert answered.status_code == 200
    assert (
        'console_http_request_duration_seconds_count{method="GET",route="customers:customer_list",status="200"}' in text
    )
    for name in ("console_task_duration_seconds", "console_sync_duration_seconds", "console_sync_failures_total",
                 "console_marketplace_errors_total"):  # fmt: skip
        assert f"# TYPE {name}" in text


def test_log_lines_name_the_request_partner_and_user(alpha_admin_client, partner_alpha):
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    from portal.observability.context import ContextFilter

    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Capture()
    handler.addFilter(ContextFilter())
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = alpha_admin_client.get("/customers/999999/", headers={"X-Request-ID": "req-1234567890"})
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response.status_code == 404 and response["X-Request-ID"] == "req-1234567890"
    (record,) = [record for record in seen if record.levelno >= logging.WARNING]
    with schema_context(partner_alpha.schema_name):
        admin_pk = get_user_model().objects.get(username="admin").pk
    assert (record.request_id, record.partner_schema, record.user_id) == ("req-1234567890", "p_alpha", str(admin_pk))


def test_the_json_formatter_writes_one_object_per_line():
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    options = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(options["fmt"], rename_fields=options["rename_fields"])
    record = logging.LogRecord("portal", logging.INFO, __file__, 1, "Order %s placed", ("ORD-1",), None)
    record.request_id, record.partner_schema, record.user_id = "abc", "p_alpha", "7"

    line = json.loads(formatter.format(record))

    assert line["message"] == "Order ORD-1 placed" and line["level"] == "INFO" and line["logger"] == "portal"
    assert (line["request_id"], line["partner_schema"], line["user_id"]) == ("abc", "p_alpha", "7")


def test_a_request_id_that_is_not_sane_is_replaced(alpha_client):
    response = alpha_client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})

    assert len(response["X-Request-ID"]) == 32 and "\n" not in response["X-Request-ID"]
