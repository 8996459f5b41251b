"""Plumbing for partner-scoped Celery work."""

import zlib
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

from portal.celery import app
from portal.partners.schema_migrations import partner_schema_is_current
from portal.partners.selectors import partners_active_schema_digests


def enqueue_on_commit(task: Task, /, **kwargs: Any) -> None:
    """Send `task` after the current transaction commits, in the schema active *now*.

    `transaction.on_commit(lambda: task.delay())` would read the schema when the callback runs,
    which is public once the request or `schema_context` has ended.
    """
    schema_name = connection.schema_name

    def send() -> None:
        with schema_context(schema_name):
            task.apply_async(kwargs=kwargs)

    transaction.on_commit(send)


def partner_spread_countdown(schema_name: str, spread_seconds: int) -> int:
    """A stable offset per partner, so a beat tick spreads partners over a window, not one instant."""
    if spread_seconds <= 0:
        return 0
    return zlib.crc32(schema_name.encode()) % spread_seconds


@shared_task(name="portal.core.tasks.dispatch_to_partners", ignore_result=True)
def dispatch_to_partners(task_name: str, spread_seconds: int | None = None, **task_kwargs: Any) -> int:
    """Beat's single entry for per-partner work: one message per active partner, spread over time.

    A partner whose schema is still behind the code's migrations (a deploy under way) is skipped until
    the next tick: its work would meet tables the code does not expect."""
    spread = settings.PARTNER_DISPATCH_DEFAULT_SPREAD if spread_seconds is None else spread_seconds
    sent = 0
    for schema_name, digest in partners_active_schema_digests():
        if not partner_schema_is_current(schema_name, digest):
            continue
        with schema_context(schema_name):
            app.signature(task_name, kwargs=task_kwargs).apply_async(
                countdown=partner_spread_countdown(schema_name, spread)
            )
        sent += 1
    return sent
