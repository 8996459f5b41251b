"""Readiness, apart from liveness: /healthz says the process answers; /readyz says it can do its
work: the database answers, Redis answers, a Celery worker ran recently, and every migration of
this schema is applied. A load balancer stops sending traffic to a process that is not ready."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

HEARTBEAT_KEY = "worker-heartbeat"
_migrated_schemas: set[str] = set()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def _heartbeat_key() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'console')}:{HEARTBEAT_KEY}"


def worker_heartbeat_record(*, now: float | None = None) -> None:
    """A worker was alive now (its start, and beat's `worker-heartbeat` entry every minute)."""
    _redis().set(_heartbeat_key(), str(now if now is not None else time.time()), ex=24 * 60 * 60)


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return Check("database", False, type(error).__name__)
    return Check("database", True)


def _redis_check() -> Check:
    try:
        _redis().ping()
    except Exception as error:
        return Check("redis", False, type(error).__name__)
    return Check("redis", True)


def _worker(now: float) -> Check:
    try:
        seen = _redis().get(_heartbeat_key())
    except Exception as error:
        return Check("worker", False, type(error).__name__)
    if seen is None:
        return Check("worker", False, "no worker seen")
    age = now - float(seen)
    if age > settings.READINESS_WORKER_MAX_AGE:
        return Check("worker", False, f"last seen {int(age)} s ago")
    return Check("worker", True)


def _migrations() -> Check:
    """Checked once per process and schema while something is missing; applied stays applied."""
    schema = getattr(connection, "schema_name", "public")
    if schema in _migrated_schemas:
        return Check("migrations", True)
    try:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        return Check("migrations", False, type(error).__name__)
    if plan:
        return Check("migrations", False, f"{len(plan)} not applied")
    _migrated_schemas.add(schema)
    return Check("migrations", True)


def readiness_checks(*, now: float | None = None) -> list[Check]:
    now = now if now is not None else time.time()
    return [_database(), _redis_check(), _worker(now), _migrations()]
