"""The order machinery against the simulators: placing, partial failure, retries, never buying twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core import mail

from catalog.pricing import PriceOption
from marketplace.connections import provider_for_account
from marketplace.retry import ORDER_RETRY
from orders.choices import OrderLineKind, OrderLineOutcome, OrderLineStatus, OrderStatus
from orders.models import Order, OrderLine
from orders.placement import order_execute
from orders.services import (
    LineSpec,
    OrderActionRefused,
    PricesChanged,
    cart_add,
    order_create,
    order_line_retry,
    order_submit,
)
from portal.audit.models import AuditEvent, Notification
from subscriptions.models import Subscription

ALSO_BASIC_MONTHLY = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"
ALSO_STANDARD_MONTHLY = "1429495_NCEMicros365BusinessStandard_12910|Monthly (no commitment) - P1M"
ALSO_ARCHIVING = "1429601_NCEExchangeOnlineArchiving_13002|Monthly (with 1-year commitment) - P1Y"
PC_BASIC_MONTHLY = "CFQ7TTC0LH18:0001|P1M|monthly"
PC_STANDARD_MONTHLY = "CFQ7TTC0LDPB:0001|P1M|monthly"
PC_TEAMS_PHONE = "CFQ7TTC0J1FV:0001|P1M|monthly"


def _spec(world, external_id: str, quantity: int, **extra) -> LineSpec:
    return LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION, offer=world.offer(external_id=external_id), quantity=quantity, **extra
    )


def _place(world, buyer, specs, callbacks) -> Order:
    with callbacks(execute=True):
        order = order_create(actor=buyer, customer_tenant=world.tenant, lines=specs, submit=True, terms_accepted=True)
    order.refresh_from_db()
    return order


def _also_subscriptions_with(also, key: str) -> list:
    return [s for s in also.subscriptions.values() if s.purchase_order_number == key]


def _pc_subscriptions_with(partner_center, key: str) -> list:
    return [s for s in partner_center.subscriptions.values() if s.friendly_name and f"[ref:{key}]" in s.friendly_name]


# -- success --------------------------------------------------------------------------------------------------------


def test_an_also_order_is_placed_and_its_subscriptions_show_at_once(
    also_world, buyer, django_capture_on_commit_callbacks
):
    add_on = LineSpec(kind=OrderLineKind.ADD_ON_ADD, offer=also_world.offer(external_id=ALSO_ARCHIVING), quantity=3)
    order = _place(
        also_world,
        buyer,
        [_spec(also_world, ALSO_BASIC_MONTHLY, 5, add_ons=(add_on,))],
        django_capture_on_commit_callbacks,
    )

    assert order.status == OrderStatus.COMPLETED
    assert order.completed_at is not None
    base, archiving = order.lines.order_by("position")
    assert (base.status, archiving.status) == (OrderLineStatus.APPLIED, OrderLineStatus.APPLIED)
    assert len(_also_subscriptions_with(also_world.simulator, base.idempotency_key)) == 1
    subscription = Subscription.objects.get(account=also_world.account, external_id=base.marketplace_reference)
    assert subscription.customer_tenant == also_world.tenant
    assert subscription.quantity == 5
    assert subscription.offer == base.offer
    assert subscription.sync_fingerprint  # written as the sync writes it: the next sync changes nothing
    assert [item["quantity"] for item in subscription.add_ons] == [3]
    assert archiving.marketplace_reference == subscription.add_ons[0]["external_id"]
    actions = set(AuditEvent.objects.filter(target_id=str(order.pk)).values_list("action", flat=True))
    assert {"order.create", "order.submit", "order.line.apply", "order.complete"} <= actions


def test_the_buyer_is_emailed_and_notified_when_the_order_is_placed_and_provisioned(
    also_world, buyer, django_capture_on_commit_callbacks
):
    order = _place(also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 2)], django_capture_on_commit_callbacks)

    subjects = [message.subject for message in mail.outbox]
    assert subjects == [
        f"Order {order.number} for {also_world.tenant} was placed",
        f"Order {order.number} for {also_world.tenant} is provisioned",
    ]
    assert mail.outbox[0].to == [buyer.email]
    assert f"/orders/{order.pk}/" in mail.outbox[1].body
    assert Notification.objects.filter(recipient=buyer).count() == 2


def test_a_partner_center_order_waits_for_provisioning_then_completes(
    partner_center_world, buyer, django_capture_on_commit_callbacks
):
    order = _place(
        partner_center_world,
        buyer,
        [_spec(partner_center_world, PC_BASIC_MONTHLY, 3), _spec(partner_center_world, PC_STANDARD_MONTHLY, 2)],
        django_capture_on_commit_callbacks,
    )

    assert order.status == OrderStatus.COMPLETED
    lines = list(order.lines.order_by("position"))
    assert {line.status for line in lines} == {OrderLineStatus.APPLIED}
    assert {line.outcome for line in lines} == {OrderLineOutcome.COMPLETED}
    for line in lines:
        assert len(_pc_subscriptions_with(partner_center_world.simulator, line.idempotency_key)) == 1
        assert Subscription.objects.get(external_id=line.subscription_external_id).status == "active"
    assert [m.subject.split(" is ")[-1] for m in mail.outbox][-1] == "provisioned"


# -- partial failure and retry ----------------------------------------------------------------------------------------


def test_an_also_refusal_fails_that_line_the_others_complete_and_retry_buys_it(
    also_world, buyer, django_capture_on_commit_callbacks
):
    also_world.simulator.inject(
        kind="fault", operation="CreateSubscription", code="Sender", message="Credit limit exceeded.", status=500
    )
    order = _place(
        also_world,
        buyer,
        [_spec(also_world, ALSO_BASIC_MONTHLY, 5), _spec(also_world, ALSO_STANDARD_MONTHLY, 2)],
        django_capture_on_commit_callbacks,
    )

    assert order.status == OrderStatus.FAILED
    refused, bought = order.lines.order_by("position")
    assert refused.status == OrderLineStatus.FAILED
    assert "Credit limit exceeded." in refused.error_message
    assert bought.status == OrderLineStatus.APPLIED
    first_key = refused.idempotency_key

    with django_capture_on_commit_callbacks(execute=True):
        order_line_retry(actor=buyer, line=refused)

    order.refresh_from_db()
    refused.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert refused.status == OrderLineStatus.APPLIED
    assert refused.idempotency_key != first_key  # the refused request was never applied: a new key
    assert refused.key_generation == 2
    assert len(_also_subscriptions_with(also_world.simulator, refused.idempotency_key)) == 1
    assert len(_also_subscriptions_with(also_world.simulator, bought.idempotency_key)) == 1


def test_an_also_line_over_the_quantity_limit_fails_with_the_marketplaces_reason(
    also_world, buyer, django_capture_on_commit_callbacks
):
    order = _place(
        also_world,
        buyer,
        [_spec(also_world, ALSO_BASIC_MONTHLY, 500), _spec(also_world, ALSO_STANDARD_MONTHLY, 1)],
        django_capture_on_commit_callbacks,
    )

    too_many, fine = order.lines.order_by("position")
    assert too_many.status == OrderLineStatus.FAILED
    assert "between 1 and 300" in too_many.error_message
    assert fine.status == OrderLineStatus.APPLIED
    assert order.status == OrderStatus.FAILED
    assert any("has failed lines" in message.subject for message in mail.outbox)


def test_partner_center_order_errors_fail_one_line_and_its_add_on_and_retry_buys_both(
    partner_center_world, buyer, django_capture_on_commit_callbacks
):
    simulator = partner_center_world.simulator
    simulator.inject(kind="order_error", target="CFQ7TTC0LDPB:0001")
    phone = LineSpec(
        kind=OrderLineKind.ADD_ON_ADD, offer=partner_center_world.offer(external_id=PC_TEAMS_PHONE), quantity=1
    )
    order = _place(
        partner_center_world,
        buyer,
        [
            _spec(partner_center_world, PC_BASIC_MONTHLY, 2),
            _spec(partner_center_world, PC_STANDARD_MONTHLY, 4, add_ons=(phone,)),
        ],
        django_capture_on_commit_callbacks,
    )

    basic, standard, add_on = order.lines.order_by("position")
    assert basic.status == OrderLineStatus.APPLIED
    assert standard.status == OrderLineStatus.FAILED
    assert "not available in the inventory" in standard.error_message
    assert add_on.status == OrderLineStatus.FAILED
    assert add_on.error_code == "parent_failed"
    assert order.status == OrderStatus.FAILED

    with pytest.raises(OrderActionRefused):  # the add-on waits for its subscription
        order_line_retry(actor=buyer, line=add_on)
    with django_capture_on_commit_callbacks(execute=True):
        order_line_retry(actor=buyer, line=standard)

    order.refresh_from_db()
    standard.refresh_from_db()
    add_on.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert (standard.status, add_on.status) == (OrderLineStatus.APPLIED, OrderLineStatus.APPLIED)
    assert len(_pc_subscriptions_with(simulator, standard.idempotency_key)) == 1
    assert len(_pc_subscriptions_with(simulator, add_on.idempotency_key)) == 1


# -- never twice -----------------------------------------------------------------------------------------------------


def _submitted_but_not_run(world, buyer, specs, callbacks) -> Order:
    with callbacks(execute=False):  # the task message is never delivered: we play the worker
        return order_create(actor=buyer, customer_tenant=world.tenant, lines=specs, submit=True, terms_accepted=True)


@pytest.mark.parametrize("world_name", ["also_world", "partner_center_world"])
def test_a_worker_killed_after_the_marketplace_applied_the_line_never_buys_twice(
    world_name, request, buyer, django_capture_on_commit_callbacks
):
    world = request.getfixturevalue(world_name)
    offer_id = ALSO_BASIC_MONTHLY if world_name == "also_world" else PC_BASIC_MONTHLY
    order = _submitted_but_not_run(world, buyer, [_spec(world, offer_id, 7)], django_capture_on_commit_callbacks)
    line = order.lines.get()
    # The first worker claimed the line, the marketplace applied it, and the worker died before recording it.
    OrderLine.objects.filter(pk=line.pk).update(status=OrderLineStatus.SENT, attempts=1, sent_at="2026-01-01T00:00Z")
    provider = (
        world.simulator.provider_for(world.account)
        if world_name != "also_world"
        else provider_for_account(world.account)
    )
    provider.place_order_line(
        customer_external_id=world.customer_external_id,
        offer_id=offer_id,
        quantity=7,
        idempotency_key=line.idempotency_key,
    )

    with django_capture_on_commit_callbacks(execute=True):
        order_execute(order_id=order.pk)

    line.refresh_from_db()
    assert line.status == OrderLineStatus.APPLIED
    assert line.attempts == 2
    if world_name == "also_world":
        bought = _also_subscriptions_with(world.simulator, line.idempotency_key)
        assert world.simulator.call_counts["CreateSubscription"] == 1
    else:
        bought = _pc_subscriptions_with(world.simulator, line.idempotency_key)
    assert len(bought) == 1
    assert Subscription.objects.filter(external_id=line.subscription_external_id).count() == 1


def test_a_sent_line_the_marketplace_never_received_is_placed_once(
    also_world, buyer, django_capture_on_commit_callbacks
):
    order = _submitted_but_not_run(
        also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 1)], django_capture_on_commit_callbacks
    )
    line = order.lines.get()
    OrderLine.objects.filter(pk=line.pk).update(status=OrderLineStatus.SENT, attempts=1, sent_at="2026-01-01T00:00Z")

    order_execute(order_id=order.pk)

    line.refresh_from_db()
    assert line.status == OrderLineStatus.APPLIED
    assert len(_also_subscriptions_with(also_world.simulator, line.idempotency_key)) == 1


def test_a_timeout_after_the_marketplace_applied_the_line_is_retried_and_buys_once(
    also_world, buyer, eager_retries, django_capture_on_commit_callbacks
):
    also_world.simulator.inject(kind="unavailable", operation="CreateSubscription", apply_first=True)
    order = _place(also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 4)], django_capture_on_commit_callbacks)

    line = order.lines.get()
    assert order.status == OrderStatus.COMPLETED
    assert line.status == OrderLineStatus.APPLIED
    assert line.attempts == 2
    assert also_world.simulator.call_counts["CreateSubscription"] == 1  # the retry found it and did not re-send
    assert len(_also_subscriptions_with(also_world.simulator, line.idempotency_key)) == 1


def test_a_throttled_line_is_retried_by_the_task(also_world, buyer, eager_retries, django_capture_on_commit_callbacks):
    also_world.simulator.inject(kind="throttle", operation="CreateSubscription", retry_after=120)
    order = _place(also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 2)], django_capture_on_commit_callbacks)

    line = order.lines.get()
    assert order.status == OrderStatus.COMPLETED
    assert line.attempts == 2
    assert len(_also_subscriptions_with(also_world.simulator, line.idempotency_key)) == 1


def test_a_refused_line_is_not_retried_by_the_task(
    also_world, buyer, eager_retries, django_capture_on_commit_callbacks
):
    also_world.simulator.inject(kind="fault", operation="CreateSubscription", code="Sender", message="Not allowed.")
    order = _place(also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 2)], django_capture_on_commit_callbacks)

    line = order.lines.get()
    assert line.status == OrderLineStatus.FAILED
    assert line.attempts == 1
    assert also_world.simulator.call_counts["CreateSubscription"] == 1


def test_a_marketplace_down_for_every_attempt_fails_the_line_and_retry_keeps_its_key(
    also_world, buyer, eager_retries, django_capture_on_commit_callbacks
):
    also_world.simulator.inject(kind="unavailable", operation="CreateSubscription", count=ORDER_RETRY.max_retries + 1)
    order = _place(also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 2)], django_capture_on_commit_callbacks)

    line = order.lines.get()
    assert order.status == OrderStatus.FAILED
    assert line.status == OrderLineStatus.FAILED
    assert line.error_code == "unavailable"
    assert line.attempts == ORDER_RETRY.max_retries + 1
    key = line.idempotency_key

    with django_capture_on_commit_callbacks(execute=True):
        order_line_retry(actor=buyer, line=line)

    line.refresh_from_db()
    assert line.status == OrderLineStatus.APPLIED
    assert line.idempotency_key == key  # it may have been applied: same key, and the marketplace was asked first
    assert len(_also_subscriptions_with(also_world.simulator, key)) == 1


def test_the_retry_countdown_backs_off_and_respects_retry_after():
    from marketplace.providers.base import Throttled, Unavailable

    assert 15 <= ORDER_RETRY.countdown(error=Unavailable("down"), retries=0) <= 15 * 1.25
    assert 60 <= ORDER_RETRY.countdown(error=Unavailable("down"), retries=2) <= 60 * 1.25
    assert ORDER_RETRY.countdown(error=Throttled(retry_after=300), retries=0) >= 300


# -- submitting -----------------------------------------------------------------------------------------------------


def test_an_order_is_not_sent_before_the_terms_are_accepted(also_world, buyer, django_capture_on_commit_callbacks):
    cart = cart_add(actor=buyer, customer_tenant=also_world.tenant, lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)])

    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(OrderActionRefused) as refused:
        order_submit(actor=buyer, order=cart, terms_accepted=False)

    assert refused.value.field == "terms_accepted"
    cart.refresh_from_db()
    assert cart.status == OrderStatus.DRAFT
    assert callbacks == []
    assert also_world.simulator.call_counts["CreateSubscription"] == 0


def test_place_now_without_terms_saves_nothing(also_world, buyer):
    with pytest.raises(OrderActionRefused):
        order_create(
            actor=buyer,
            customer_tenant=also_world.tenant,
            lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)],
            submit=True,
        )
    assert not Order.objects.exists()


def test_a_changed_cost_makes_the_user_confirm_the_new_prices(also_world, buyer, django_capture_on_commit_callbacks):
    offer = also_world.offer(external_id=ALSO_BASIC_MONTHLY)
    cart = cart_add(
        actor=buyer,
        customer_tenant=also_world.tenant,
        lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 3, price_option=PriceOption(markup_percent=Decimal("5")))],
    )
    line = cart.lines.get()
    assert line.unit_cost == Decimal("6.07")
    assert line.unit_price == Decimal("6.68")  # 6.07 × (1 + (5 default + 5 option) / 100)
    offer.cost_price = Decimal("7.00")
    offer.save()

    with pytest.raises(PricesChanged) as changed:
        order_submit(actor=buyer, order=cart, terms_accepted=True)
    [change] = changed.value.changes
    assert (change.old_cost, change.new_cost, change.new_price) == (Decimal("6.07"), Decimal("7.00"), Decimal("7.70"))
    with pytest.raises(PricesChanged):  # a confirmation of other prices does not count
        order_submit(actor=buyer, order=cart, terms_accepted=True, price_confirmation="something else")
    cart.refresh_from_db()
    assert cart.status == OrderStatus.DRAFT

    with django_capture_on_commit_callbacks(execute=False):
        order_submit(actor=buyer, order=cart, terms_accepted=True, price_confirmation=changed.value.confirmation)

    cart.refresh_from_db()
    line.refresh_from_db()
    assert cart.status == OrderStatus.SUBMITTED
    assert (line.unit_cost, line.unit_price) == (Decimal("7.00"), Decimal("7.70"))
    assert AuditEvent.objects.filter(action="order.reprice", target_id=str(cart.pk)).exists()


def test_a_double_click_on_submit_places_one_order(also_world, buyer, django_capture_on_commit_callbacks):
    cart = cart_add(actor=buyer, customer_tenant=also_world.tenant, lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)])
    token = uuid.uuid4()

    with django_capture_on_commit_callbacks(execute=True):
        first = order_submit(actor=buyer, order=cart, terms_accepted=True, client_token=token)
        second = order_submit(actor=buyer, order=cart, terms_accepted=True, client_token=token)

    assert first.pk == second.pk
    assert also_world.simulator.call_counts["CreateSubscription"] == 1
    assert AuditEvent.objects.filter(action="order.submit").count() == 1


def test_a_double_click_on_place_now_creates_one_order(also_world, buyer, django_capture_on_commit_callbacks):
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for _click in range(2):
            order_create(
                actor=buyer,
                customer_tenant=also_world.tenant,
                lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)],
                submit=True,
                terms_accepted=True,
                client_token=token,
            )

    assert Order.objects.count() == 1
    assert also_world.simulator.call_counts["CreateSubscription"] == 1


def test_one_cart_per_user_tenant_and_account(also_world, buyer):
    first = cart_add(actor=buyer, customer_tenant=also_world.tenant, lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)])
    second = cart_add(
        actor=buyer,
        customer_tenant=also_world.tenant,
        lines=[_spec(also_world, ALSO_STANDARD_MONTHLY, 2)],
        friendly_name="Sales team",
    )

    assert first.pk == second.pk
    assert second.lines.count() == 2
    assert second.friendly_name == "Sales team"
    keys = list(second.lines.values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 2 and all(key.startswith("msp-") for key in keys)


def test_an_offer_of_another_account_or_an_unconnected_tenant_is_refused(also_world, buyer):
    from tests.factories.customers import CustomerTenantFactory

    loner = CustomerTenantFactory()
    with pytest.raises(OrderActionRefused, match="not connected"):
        cart_add(actor=buyer, customer_tenant=loner, lines=[_spec(also_world, ALSO_BASIC_MONTHLY, 1)])
    add_on_alone = LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION, offer=also_world.offer(external_id=ALSO_ARCHIVING), quantity=1
    )
    with pytest.raises(OrderActionRefused, match="add-on"):
        cart_add(actor=buyer, customer_tenant=also_world.tenant, lines=[add_on_alone])
    assert not Order.objects.exists()


def test_an_order_whose_task_message_was_lost_is_queued_again(also_world, buyer, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from orders.services import orders_requeue_stalled

    order = _submitted_but_not_run(
        also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 1)], django_capture_on_commit_callbacks
    )
    assert orders_requeue_stalled() == 0  # recent: a worker may still be about to take it
    Order.objects.filter(pk=order.pk).update(updated=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert orders_requeue_stalled() == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert also_world.simulator.call_counts["CreateSubscription"] == 1


def test_a_submitted_order_no_worker_started_can_be_cancelled(also_world, buyer, django_capture_on_commit_callbacks):
    from orders.services import order_cancel

    order = _submitted_but_not_run(
        also_world, buyer, [_spec(also_world, ALSO_BASIC_MONTHLY, 1)], django_capture_on_commit_callbacks
    )
    order_cancel(actor=buyer, order=order)

    order_execute(order_id=order.pk)  # the task arrives after all: it places nothing

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert also_world.simulator.call_counts["CreateSubscription"] == 0
    with pytest.raises(OrderActionRefused):
        order_submit(actor=buyer, order=order, terms_accepted=True)
