"""PostgreSQL advisory locks: one worker at a time per thing, across processes and machines.

A lock is named by a namespace and parts (`"marketplace.sync", account.pk`); the current partner's
schema is always part of the key, since advisory locks are database-wide and every partner has the
same primary keys. The key is a stable 64-bit hash, the same in every process and every release.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def advisory_lock_key(namespace: str, *parts: object) -> int:
    """The signed 64-bit key of the lock `namespace` on `parts`, in the current schema."""
    name = ":".join([namespace, connection.schema_name, *(str(part) for part in parts)])
    digest = hashlib.blake2b(name.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def transaction_lock(namespace: str, *parts: object) -> None:
    """Wait for a transaction-level lock; PostgreSQL releases it when the transaction ends.

    Call it inside `transaction.atomic()`: in autocommit the lock would end with the statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_key(namespace, *parts)])


@contextmanager
def session_lock(namespace: str, *parts: object) -> Iterator[bool]:
    """Yield whether this process now holds a session-level lock (never waits for it).

    For work that commits as it goes: the lock outlives each transaction, is released on leaving
    the block, and a worker that dies drops its connection and with it the lock."""
    key = advisory_lock_key(namespace, *parts)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:  # the connection broke; closing it released the lock
                logger.warning("Could not release the lock %s on %s", namespace, parts, exc_info=True)
