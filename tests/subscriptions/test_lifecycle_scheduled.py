"""Decreases scheduled for the renewal: kept, shown, applied by beat once the renewal opened the next window,
and skipped (with a notification) when too many seats are assigned by then."""

from datetime import timedelta

import pytest

from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from portal.audit.models import AuditEvent, Notification
from subscriptions.choices_lifecycle import ScheduledChangeStatus
from subscriptions.services_lifecycle import (
    LifecycleRefused,
    scheduled_change_cancel,
    scheduled_changes_apply_due,
    scheduled_decrease_create,
)
from subscriptions.tasks import lifecycle_run_due
from tests.subscriptions.lifecycle_support import run_sync

E3 = "Microsoft 365 E3"


@pytest.fixture
def scheduled(contoso, manager):
    e3 = contoso.subscription(E3)
    change = scheduled_decrease_create(actor=manager, subscription=e3, quantity=20, version=None)
    return contoso, e3, change


def past_the_renewal(world, subscription, *, days_after: int = 1) -> None:
    """Move the marketplace's clock past the renewal and let the sync see it."""
    days = (subscription.term_end - world.simulator.now().date()).days + days_after
    world.simulator.clock_advance(timedelta(days=days).total_seconds())
    run_sync(world.account)


def test_nothing_happens_before_the_renewal(scheduled):
    world, e3, change = scheduled

    assert scheduled_changes_apply_due() == {}
    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.SCHEDULED


def test_applied_at_the_renewal_through_an_order(scheduled, django_capture_on_commit_callbacks):
    world, e3, change = scheduled
    past_the_renewal(world, e3)

    with django_capture_on_commit_callbacks(execute=True):
        assert scheduled_changes_apply_due() == {ScheduledChangeStatus.ORDERED: 1}

    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.ORDERED and change.order is not None
    order = change.order
    assert order.status == OrderStatus.COMPLETED
    assert order.lines.get().kind == OrderLineKind.CHANGE_QUANTITY
    assert world.sim_subscription(e3).quantity == 20
    assert AuditEvent.objects.filter(action="subscription.scheduled_decrease_apply").exists()
    assert Notification.objects.filter(title="Scheduled decrease ordered", recipient=change.created_by).exists()
    # a second beat changes nothing
    assert scheduled_changes_apply_due() == {}


def test_skipped_when_more_seats_are_assigned_at_the_renewal(scheduled):
    world, e3, change = scheduled
    world.sim_subscription(e3).assigned = 23
    past_the_renewal(world, e3)

    assert scheduled_changes_apply_due() == {ScheduledChangeStatus.SKIPPED: 1}

    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.SKIPPED
    assert "23 seats were assigned" in change.result_message
    assert not Order.objects.exists()
    assert world.sim_subscription(e3).quantity == 25
    note = Notification.objects.get(recipient=change.created_by, title="Scheduled decrease skipped")
    assert "23 seats" in note.body


def test_waits_while_the_sync_has_not_seen_the_renewal_then_gives_up(scheduled):
    world, e3, change = scheduled
    world.simulator.clock_advance(timedelta(days=(e3.term_end - world.simulator.now().date()).days + 1).total_seconds())

    assert scheduled_changes_apply_due() == {"waiting": 1}

    world.simulator.clock_advance(timedelta(days=5).total_seconds())
    assert scheduled_changes_apply_due() == {ScheduledChangeStatus.FAILED: 1}
    change.refresh_from_db()
    assert "not reported" in change.result_message


def test_the_beat_task_runs_it(scheduled, django_capture_on_commit_callbacks):
    world, e3, change = scheduled
    past_the_renewal(world, e3)

    with django_capture_on_commit_callbacks(execute=True):
        summary = lifecycle_run_due()

    assert summary["scheduled"] == {ScheduledChangeStatus.ORDERED: 1}


def test_a_new_schedule_replaces_the_previous_one(scheduled, manager):
    world, e3, change = scheduled

    newer = scheduled_decrease_create(actor=manager, subscription=e3, quantity=22, version=None)

    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.CANCELLED
    assert newer.status == ScheduledChangeStatus.SCHEDULED


def test_cancel_a_scheduled_change(scheduled, manager):
    world, e3, change = scheduled

    scheduled_change_cancel(actor=manager, change=change)

    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.CANCELLED
    with pytest.raises(LifecycleRefused):
        scheduled_change_cancel(actor=manager, change=change)


def test_only_what_the_window_refuses_is_scheduled(contoso, manager):
    with pytest.raises(LifecycleRefused, match="apply it now"):
        scheduled_decrease_create(
            actor=manager, subscription=contoso.subscription("Microsoft 365 Business Basic"), quantity=8, version=None
        )
