"""Two users change the same subscription at once: one wins, the other gets a clear conflict and loses
nothing (the subscription's version is checked under a row lock; an order still in flight blocks)."""

import pytest

from orders.models import Order, OrderLine
from subscriptions.selectors_subscriptions import subscription_version
from subscriptions.services_lifecycle import LifecycleConflict, subscription_quantity_change
from tests.subscriptions.lifecycle_support import host_client

BASIC = "Microsoft 365 Business Basic"


def test_the_second_change_while_the_first_is_in_flight_is_a_conflict(contoso, manager, second_manager):
    basic = contoso.subscription(BASIC)
    seen = subscription_version(basic)

    first = subscription_quantity_change(actor=manager, subscription=basic, quantity=12, version=seen)

    with pytest.raises(LifecycleConflict) as conflict:
        subscription_quantity_change(actor=second_manager, subscription=basic, quantity=15, version=seen)
    assert str(first) in conflict.value.message and "10 → 12" in conflict.value.message
    assert "was not sent" in conflict.value.message
    assert list(Order.objects.all()) == [first]
    assert OrderLine.objects.count() == 1


def test_the_second_change_after_the_first_was_applied_is_a_conflict_naming_who(
    contoso, manager, second_manager, django_capture_on_commit_callbacks
):
    basic = contoso.subscription(BASIC)
    seen = subscription_version(basic)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_quantity_change(actor=manager, subscription=basic, quantity=12, version=seen)

    with pytest.raises(LifecycleConflict) as conflict:
        subscription_quantity_change(actor=second_manager, subscription=basic, quantity=15, version=seen)

    assert "manager@alpha.example" in conflict.value.message
    assert "the quantity is now 12" in conflict.value.message
    basic.refresh_from_db()
    # after reviewing, the second user applies over the current state
    with django_capture_on_commit_callbacks(execute=True):
        subscription_quantity_change(
            actor=second_manager, subscription=basic, quantity=15, version=subscription_version(basic)
        )
    assert contoso.sim_subscription(basic).quantity == 15


def test_apply_changes_shows_the_conflict_and_keeps_the_users_values(
    contoso, manager, second_manager, partner_alpha, django_capture_on_commit_callbacks
):
    basic = contoso.subscription(BASIC)
    seen = subscription_version(basic)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_quantity_change(actor=manager, subscription=basic, quantity=12, version=seen)
    client = host_client(partner_alpha, second_manager)

    response = client.post(
        "/subscriptions/changes/",
        {f"q-{basic.pk}": "15", f"o-{basic.pk}": "10", f"v-{basic.pk}": seen, "confirm": "1"},
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by manager@alpha.example" in body
    assert f'name="q-{basic.pk}" value="15"' in body  # the user's value is kept
    assert Order.objects.count() == 1
    # confirming the summary as shown now (it carries the current version) applies it
    basic.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/subscriptions/changes/",
            {
                f"q-{basic.pk}": "15",
                f"o-{basic.pk}": "12",
                f"v-{basic.pk}": subscription_version(basic),
                "confirm": "1",
            },
        )
    assert response.status_code == 302
    assert contoso.sim_subscription(basic).quantity == 15
