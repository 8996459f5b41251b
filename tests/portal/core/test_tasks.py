from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.accounts.tasks import sessions_clear_expired
from portal.core import tasks as core_tasks
from portal.core.tasks import dispatch_to_partners, enqueue_on_commit, partner_spread_countdown


def expired_session(schema: str, key: str) -> None:
    with schema_context(schema):
        Session.objects.create(session_key=key, session_data="x", expire_date=timezone.now() - timedelta(days=1))


def session_exists(schema: str, key: str) -> bool:
    with schema_context(schema):
        return Session.objects.filter(session_key=key).exists()


def test_a_task_sent_in_a_partner_schema_runs_in_that_schema(partner_alpha, partner_beta):
    expired_session(partner_alpha.schema_name, "alpha-expired")
    expired_session(partner_beta.schema_name, "beta-expired")

    with schema_context(partner_alpha.schema_name):
        sessions_clear_expired.delay()

    assert not session_exists(partner_alpha.schema_name, "alpha-expired")
    assert session_exists(partner_beta.schema_name, "beta-expired")


def test_a_task_enqueued_on_commit_runs_in_the_schema_it_was_enqueued_from(
    partner_alpha, partner_beta, django_capture_on_commit_callbacks
):
    expired_session(partner_alpha.schema_name, "alpha-expired")
    expired_session(partner_beta.schema_name, "beta-expired")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with schema_context(partner_beta.schema_name):
            enqueue_on_commit(sessions_clear_expired)
        # the commit, and so the callback, happen after the schema context has ended

    assert session_exists(partner_alpha.schema_name, "alpha-expired")
    assert not session_exists(partner_beta.schema_name, "beta-expired")


def test_beat_dispatch_sends_one_task_per_active_partner_spread_over_the_window(
    partner_alpha, partner_beta, monkeypatch
):
    sent: list[tuple[str, str, int]] = []

    class Recorder:
        def __init__(self, name, kwargs):
            self.name = name

        def apply_async(self, countdown):
            from django.db import connection

            sent.append((self.name, connection.schema_name, countdown))

    monkeypatch.setattr(core_tasks.app, "signature", lambda name, kwargs: Recorder(name, kwargs))
    partner_beta.status = "suspended"
    partner_beta.save(update_fields=["status"])

    count = dispatch_to_partners("portal.accounts.tasks.sessions_clear_expired", spread_seconds=600)

    assert count == 1
    assert sent == [
        ("portal.accounts.tasks.sessions_clear_expired", "p_alpha", partner_spread_countdown("p_alpha", 600))
    ]
    assert 0 <= sent[0][2] < 600


def test_spread_is_stable_and_differs_between_partners():
    assert partner_spread_countdown("p_alpha", 600) == partner_spread_countdown("p_alpha", 600)
    offsets = {partner_spread_countdown(f"p_partner{n}", 600) for n in range(50)}
    assert len(offsets) > 40
    assert partner_spread_countdown("p_alpha", 0) == 0
