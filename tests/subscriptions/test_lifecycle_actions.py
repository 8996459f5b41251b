"""Every lifecycle action goes through the order machinery and reaches the marketplace (the ALEF simulator):
one order, one line, an idempotency key, an audit event; refusals say why and place nothing."""

import pytest

from catalog.models import Offer
from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus
from orders.models import Order
from portal.audit.models import AuditEvent
from subscriptions.choices_lifecycle import ScheduledChangeStatus
from subscriptions.models import ScheduledChange
from subscriptions.selectors_subscriptions import subscription_version
from subscriptions.services_lifecycle import (
    LifecycleRefused,
    action_availability,
    add_on_add,
    add_on_change,
    add_on_remove,
    subscription_action,
    subscription_friendly_name_set,
    subscription_quantity_change,
    subscription_trial_convert,
)

BASIC = "Microsoft 365 Business Basic"
E3 = "Microsoft 365 E3"


def placed(order: Order) -> Order:
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED, [(line.kind, line.error_message) for line in order.lines.all()]
    (line,) = order.lines.all()
    assert line.status == OrderLineStatus.APPLIED and line.idempotency_key
    return order


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service and then whatever it queued on commit (the placing task, eager here)."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return call


def test_an_increase_is_one_order_line_and_reaches_the_marketplace(contoso, manager, run):
    basic = contoso.subscription(BASIC)

    order = placed(
        run(
            subscription_quantity_change,
            actor=manager,
            subscription=basic,
            quantity=14,
            version=subscription_version(basic),
        )
    )

    assert order.lines.get().kind == OrderLineKind.CHANGE_QUANTITY
    assert contoso.sim_subscription(basic).quantity == 14
    basic.refresh_from_db()
    assert basic.quantity == 14
    event = AuditEvent.objects.get(action="subscription.quantity_change", target_id=str(basic.pk))
    assert event.before == {"quantity": 10} and event.after == {"quantity": 14}
    assert event.actor == manager


def test_a_decrease_inside_the_window_is_applied(contoso, manager, run):
    basic = contoso.subscription(BASIC)

    placed(run(subscription_quantity_change, actor=manager, subscription=basic, quantity=8, version=None))

    assert contoso.sim_subscription(basic).quantity == 8


def test_a_decrease_outside_the_window_is_refused_with_the_reason_and_places_nothing(contoso, manager):
    e3 = contoso.subscription(E3)

    with pytest.raises(LifecycleRefused, match="cancellation window closed"):
        subscription_quantity_change(actor=manager, subscription=e3, quantity=22, version=None)

    assert not Order.objects.exists()
    assert contoso.sim_subscription(e3).quantity == 25


def test_a_decrease_outside_the_window_can_be_scheduled_for_the_renewal(contoso, manager):
    e3 = contoso.subscription(E3)

    change = subscription_quantity_change(
        actor=manager, subscription=e3, quantity=20, version=None, schedule_if_needed=True
    )

    assert isinstance(change, ScheduledChange)
    assert change.status == ScheduledChangeStatus.SCHEDULED
    assert change.effective_on == e3.term_end and change.quantity_when_scheduled == 25
    assert not Order.objects.exists()
    assert AuditEvent.objects.filter(action="subscription.decrease_scheduled", target_id=str(e3.pk)).exists()


def test_suspend_and_reactivate(contoso, manager, run):
    basic = contoso.subscription(BASIC)

    placed(run(subscription_action, actor=manager, subscription=basic, key="suspend", version=None))
    assert contoso.sim_subscription(basic).status == "suspended"
    basic.refresh_from_db()
    assert basic.status == "suspended"

    placed(run(subscription_action, actor=manager, subscription=basic, key="reactivate", version=None))
    assert contoso.sim_subscription(basic).status == "active"


def test_terminate_inside_the_window_ends_the_subscription(contoso, manager, run):
    basic = contoso.subscription(BASIC)

    placed(run(subscription_action, actor=manager, subscription=basic, key="terminate", version=None))

    assert contoso.sim_subscription(basic).status == "deleted"
    basic.refresh_from_db()
    assert basic.status == "terminated"


def test_terminate_after_the_window_stops_the_renewal_and_revoke_termination_restores_it(contoso, manager, run):
    e3 = contoso.subscription(E3)

    placed(run(subscription_action, actor=manager, subscription=e3, key="terminate", version=None))
    e3.refresh_from_db()
    assert e3.status == "active" and not e3.auto_renew and e3.scheduled_termination_date == e3.term_end
    assert not action_availability(subscription=e3, key="terminate").available

    placed(run(subscription_action, actor=manager, subscription=e3, key="revoke_termination", version=None))
    e3.refresh_from_db()
    assert e3.auto_renew and e3.scheduled_termination_date is None


def test_change_billing_cycle(contoso, manager, run):
    e3 = contoso.subscription(E3)

    placed(
        run(
            subscription_action,
            actor=manager,
            subscription=e3,
            key="billing_cycle",
            version=None,
            billing_cycle="annual",
        )
    )

    assert contoso.sim_subscription(e3).cycle == "annual"


def test_a_one_month_term_cannot_change_its_billing_cycle(contoso, manager):
    basic = contoso.subscription(BASIC)

    availability = action_availability(subscription=basic, key="billing_cycle")

    assert not availability.available and "one-month term" in availability.reason
    with pytest.raises(LifecycleRefused):
        subscription_action(
            actor=manager, subscription=basic, key="billing_cycle", version=None, billing_cycle="annual"
        )


def test_auto_renew_is_offered_only_where_the_marketplace_switches_it(contoso, manager):
    availability = action_availability(subscription=contoso.subscription(E3), key="auto_renew")

    assert not availability.available
    assert "Terminate and Revoke termination" in availability.reason


def test_convert_a_trial_to_paid(northwind, manager, run):
    trial = northwind.subscription("Microsoft 365 Business Premium")
    assert trial.trial
    paid = Offer.objects.get(
        account=northwind.account, external_id=trial.offer_external_id.replace("P1M:monthly", "P1Y:monthly")
    )

    order = placed(run(subscription_trial_convert, actor=manager, subscription=trial, offer=paid, version=None))

    line = order.lines.get()
    assert line.kind == OrderLineKind.NEW_SUBSCRIPTION and line.quantity == trial.quantity
    assert line.parameters["converts_trial"] == trial.external_id
    assert order.customer_tenant == northwind.tenant


def test_a_paid_subscription_has_no_trial_to_convert(contoso, manager):
    availability = action_availability(subscription=contoso.subscription(E3), key="convert_trial")

    assert not availability.available and "not a trial" in availability.reason


def test_add_change_and_remove_an_add_on(contoso, manager, run):
    e3 = contoso.subscription(E3)
    teams = Offer.objects.get(
        account=contoso.account, external_id__startswith="CFQ7TTC0J1FV:0001", external_id__endswith="P1Y:monthly"
    )

    placed(run(add_on_add, actor=manager, subscription=e3, offer=teams, quantity=3, version=None))
    e3.refresh_from_db()
    assert len(e3.add_ons) == 2

    existing = e3.add_ons[0]["external_id"]
    placed(run(add_on_change, actor=manager, subscription=e3, add_on_external_id=existing, quantity=12, version=None))
    assert contoso.simulator.subscriptions[existing].quantity == 12

    placed(run(add_on_remove, actor=manager, subscription=e3, add_on_external_id=existing, version=None))
    # outside the window the add-on stops renewing and ends with its term
    assert contoso.simulator.subscriptions[existing].auto_renew is False


def test_an_add_on_decrease_after_the_window_is_refused(contoso, manager):
    e3 = contoso.subscription(E3)
    existing = e3.add_ons[0]["external_id"]

    with pytest.raises(LifecycleRefused, match="cancellation window"):
        add_on_change(actor=manager, subscription=e3, add_on_external_id=existing, quantity=2, version=None)


def test_friendly_name_is_kept_by_the_console_and_audited(contoso, manager):
    e3 = contoso.subscription(E3)

    subscription_friendly_name_set(actor=manager, subscription=e3, friendly_name="  Head office E3 ")

    assert e3.options.friendly_name == "Head office E3"
    event = AuditEvent.objects.get(action="subscription.friendly_name")
    assert event.after == {"friendly_name": "Head office E3"}


def test_a_refusal_by_the_marketplace_fails_the_line_with_its_words(contoso, manager, run):
    """The console's rules pass, the marketplace refuses (someone shrank the window meanwhile): the order
    fails with the marketplace's message, nothing is retried."""
    basic = contoso.subscription(BASIC)
    sim = contoso.sim_subscription(basic)
    sim.refundable = []  # the marketplace no longer has refundable seats

    order = run(subscription_quantity_change, actor=manager, subscription=basic, quantity=9, version=None)

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    line = order.lines.get()
    assert line.status == OrderLineStatus.FAILED and "cannot be decreased" in line.error_message
    assert sim.quantity == 10
