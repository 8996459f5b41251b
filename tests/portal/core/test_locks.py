"""Advisory locks: one worker per thing, whichever process or machine it runs on."""

import psycopg2
import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from portal.core.locks import advisory_lock_key, session_lock, transaction_lock


@pytest.fixture
def other_connection(db):
    """A second database session, as another worker would have."""
    parameters = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in parameters.items() if key != "cursor_factory"})
    other.autocommit = True
    yield other
    other.close()


def _try_lock(other, key: int) -> bool:
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    return acquired


def test_the_key_is_stable_and_names_the_schema(in_alpha, partner_beta):
    key = advisory_lock_key("orders.place", 7)
    assert key == advisory_lock_key("orders.place", 7)
    assert -(2**63) <= key < 2**63
    assert key != advisory_lock_key("orders.place", 8)
    assert key != advisory_lock_key("orders.sync", 7)
    with schema_context(partner_beta.schema_name):
        assert advisory_lock_key("orders.place", 7) != key


def test_a_session_lock_is_held_until_the_block_ends(in_alpha, other_connection):
    key = advisory_lock_key("things.work", 1)
    with session_lock("things.work", 1) as acquired:
        assert acquired
        assert not _try_lock(other_connection, key)
    assert _try_lock(other_connection, key)


def test_a_session_lock_held_elsewhere_is_not_acquired(in_alpha, other_connection):
    key = advisory_lock_key("things.work", 2)
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    with session_lock("things.work", 2) as acquired:
        assert not acquired
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    with session_lock("things.work", 2) as acquired:
        assert acquired


def test_a_transaction_lock_is_held_until_the_transaction_ends(in_alpha, other_connection):
    key = advisory_lock_key("things.classify")
    with transaction.atomic():
        transaction_lock("things.classify")
        assert not _try_lock(other_connection, key)
