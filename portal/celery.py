"""The Celery app. Tasks carry the schema they were sent from (tenant-schemas-celery) and run in it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = CeleryApp("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every app's tasks are in its `tasks` module, which is where autodiscovery looks.
app.autodiscover_tasks()


def _observability() -> None:
    """Task durations for /metrics, a heartbeat when a worker starts (read by /readyz), traces and
    error reports when the environment asks for them."""
    from celery import signals

    from portal.observability.metrics import connect_task_signals
    from portal.observability.tracing import observability_start

    connect_task_signals()

    @signals.worker_ready.connect(weak=False)
    def _ready(**_kwargs):
        from portal.observability.readiness import worker_heartbeat_record

        worker_heartbeat_record()

    @signals.worker_process_init.connect(weak=False)
    def _process(**_kwargs):
        observability_start(service="console-worker")


_observability()
