"""Prometheus metrics: request latency, task durations, sync durations and failures per marketplace.
(Marketplace error counts are counted where the calls are made, in marketplace.providers.http.)

With several processes (gunicorn workers, Celery), set PROMETHEUS_MULTIPROC_DIR to a directory they
share: the endpoint then sums every process's samples (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import time

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

REQUEST_SECONDS = Histogram(
    "console_http_request_duration_seconds", "Time to answer a request", ["method", "route", "status"]
)
TASK_SECONDS = Histogram("console_task_duration_seconds", "Time a Celery task ran", ["task", "state"])
SYNC_SECONDS = Histogram(
    "console_sync_duration_seconds",
    "Time a marketplace sync run took",
    ["marketplace", "status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, float("inf")),
)
SYNC_FAILURES = Counter("console_sync_failures_total", "Marketplace sync runs that failed", ["marketplace"])


class RequestMetricsMiddleware:
    """Times each request by its URL name (never the raw path: ids would explode the label set)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match is not None else "") or "unresolved"
        REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - started)
        return response


def sync_run_observe(*, marketplace: str, status: str, seconds: float | None) -> None:
    if seconds is not None:
        SYNC_SECONDS.labels(marketplace, status).observe(seconds)
    if status == "failed":
        SYNC_FAILURES.labels(marketplace).inc()


_task_started: dict[str, float] = {}


def connect_task_signals() -> None:
    from celery import signals

    @signals.task_prerun.connect(weak=False)
    def _started(task_id=None, **_kwargs):
        _task_started[task_id] = time.perf_counter()

    @signals.task_postrun.connect(weak=False)
    def _finished(task_id=None, task=None, state=None, **_kwargs):
        started = _task_started.pop(task_id, None)
        if started is not None and task is not None:
            TASK_SECONDS.labels(task.name, state or "UNKNOWN").observe(time.perf_counter() - started)


def metrics_text() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
