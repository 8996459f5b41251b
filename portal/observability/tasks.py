from celery import shared_task

from portal.observability.readiness import worker_heartbeat_record


@shared_task(name="portal.observability.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat, every minute: a worker took a message off the queue now (read by /readyz)."""
    worker_heartbeat_record()
