"""Licence change requests: approval rules per customer tenant (approval required or not, a second approver
above thresholds in seats and money, nobody approves their own request); approved requests become orders."""

from decimal import Decimal

import pytest

from catalog.models import Offer
from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from portal.accounts.choices import UserKind
from portal.audit.models import AuditEvent, Notification
from subscriptions.choices_lifecycle import RequestSource, RequestStatus, ScheduledChangeStatus
from subscriptions.models import TenantLicenseSettings
from subscriptions.services_requests import (
    RequestRefused,
    license_change_request_create,
    license_change_request_decide,
    license_change_request_new_service,
    license_change_requests_settle,
    request_decision_refusal,
)
from tests.factories.accounts import user_with
from tests.subscriptions.lifecycle_support import SUBSCRIPTIONS_MANAGE

BASIC = "Microsoft 365 Business Basic"
E3 = "Microsoft 365 E3"


@pytest.fixture
def tenant_admin(contoso):
    return user_with(
        "contoso-admin",
        SUBSCRIPTIONS_MANAGE,
        kind=UserKind.CUSTOMER_ADMIN,
        customers=[contoso.tenant.customer],
        email="it@contoso.example",
    )


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    def call(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return license_change_request_decide(**kwargs)

    return call


def settings_for(world, **fields) -> TenantLicenseSettings:
    return TenantLicenseSettings.objects.create(customer_tenant=world.tenant, **fields)


def test_a_tenant_admins_request_waits_for_approval_and_notifies_the_approvers(contoso, tenant_admin, manager):
    basic = contoso.subscription(BASIC)

    request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=13, reason="New hires")

    assert request.status == RequestStatus.PENDING and request.approvals_required == 1
    assert request.current_quantity == 10 and request.requested_quantity == 13 and request.seat_change == 3
    assert request.amount is not None and request.amount > 0 and request.currency
    assert not Order.objects.exists()
    assert Notification.objects.filter(recipient=manager, url=f"/subscriptions/requests/{request.pk}/").exists()
    assert AuditEvent.objects.filter(action="license_request.create", target_id=str(request.pk)).exists()


def test_approved_requests_become_orders_and_are_applied(contoso, tenant_admin, manager, decide):
    basic = contoso.subscription(BASIC)
    request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=13)

    request = decide(actor=manager, request=request, approve=True, comment="OK")

    assert request.status == RequestStatus.APPROVED
    assert request.order.lines.get().kind == OrderLineKind.CHANGE_QUANTITY
    assert request.order.created_by == manager
    assert contoso.sim_subscription(basic).quantity == 13
    assert license_change_requests_settle() == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED
    assert Notification.objects.filter(
        recipient=tenant_admin, title__startswith="Your licence change request was approved"
    )


def test_a_rejection_needs_a_comment_and_tells_the_requester(contoso, tenant_admin, manager):
    request = license_change_request_create(actor=tenant_admin, subscription=contoso.subscription(BASIC), quantity=13)

    with pytest.raises(RequestRefused, match="Say why"):
        license_change_request_decide(actor=manager, request=request, approve=False)
    request = license_change_request_decide(actor=manager, request=request, approve=False, comment="Budget freeze")

    assert request.status == RequestStatus.REJECTED and request.decision_comment == "Budget freeze"
    assert not Order.objects.exists()
    note = Notification.objects.get(recipient=tenant_admin, title__contains="rejected")
    assert note.body == "Budget freeze"


def test_nobody_approves_their_own_request(contoso, manager, second_manager, decide):
    request = license_change_request_create(actor=manager, subscription=contoso.subscription(BASIC), quantity=11)

    with pytest.raises(RequestRefused, match="Nobody approves their own request"):
        license_change_request_decide(actor=manager, request=request, approve=True)
    assert "own request" in request_decision_refusal(user=manager, request=request)

    assert decide(actor=second_manager, request=request, approve=True).status == RequestStatus.APPROVED


def test_a_customer_tenant_admin_cannot_decide(contoso, tenant_admin, manager):
    request = license_change_request_create(actor=manager, subscription=contoso.subscription(BASIC), quantity=11)

    with pytest.raises(RequestRefused, match="Only partner users"):
        license_change_request_decide(actor=tenant_admin, request=request, approve=True)


def test_above_the_seat_threshold_a_second_different_approver_is_needed(
    contoso, tenant_admin, manager, second_manager, decide
):
    settings_for(contoso, second_approval_seats=5)
    request = license_change_request_create(actor=tenant_admin, subscription=contoso.subscription(BASIC), quantity=20)
    assert request.approvals_required == 2

    request = decide(actor=manager, request=request, approve=True)
    assert request.status == RequestStatus.PENDING and not Order.objects.exists()
    assert Notification.objects.filter(recipient=second_manager, title__startswith="A second approval").exists()
    with pytest.raises(RequestRefused, match="second, different approver"):
        license_change_request_decide(actor=manager, request=request, approve=True)

    request = decide(actor=second_manager, request=request, approve=True)
    assert request.status == RequestStatus.APPROVED and request.order is not None
    assert list(request.approvals.values_list("approver__username", flat=True)) == ["manager", "manager2"]


def test_below_the_thresholds_one_approver_is_enough(contoso, tenant_admin):
    settings_for(contoso, second_approval_seats=5, second_approval_amount=Decimal("1000"))

    request = license_change_request_create(actor=tenant_admin, subscription=contoso.subscription(BASIC), quantity=12)

    assert request.approvals_required == 1


def test_above_the_money_threshold_a_second_approver_is_needed(contoso, tenant_admin):
    basic = contoso.subscription(BASIC)
    settings_for(contoso, second_approval_amount=Decimal("10"))

    request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=12)

    assert request.amount > Decimal("10")
    assert request.approvals_required == 2


def test_without_approval_a_request_is_ordered_at_once(contoso, tenant_admin, django_capture_on_commit_callbacks):
    settings_for(contoso, approval_required=False)
    basic = contoso.subscription(BASIC)

    with django_capture_on_commit_callbacks(execute=True):
        request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=12)

    request.order.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.order.status == OrderStatus.COMPLETED
    assert contoso.sim_subscription(basic).quantity == 12


def test_an_approved_decrease_outside_the_window_is_scheduled_for_the_renewal(contoso, tenant_admin, manager, decide):
    e3 = contoso.subscription(E3)
    request = license_change_request_create(actor=tenant_admin, subscription=e3, quantity=20)

    request = decide(actor=manager, request=request, approve=True)

    change = request.scheduled_changes.get()
    assert change.status == ScheduledChangeStatus.SCHEDULED and change.quantity == 20
    assert "Scheduled for the renewal" in request.result_message
    assert request.status == RequestStatus.APPROVED


def test_one_open_request_per_subscription(contoso, tenant_admin):
    basic = contoso.subscription(BASIC)
    license_change_request_create(actor=tenant_admin, subscription=basic, quantity=12)

    with pytest.raises(RequestRefused, match="already waiting"):
        license_change_request_create(actor=tenant_admin, subscription=basic, quantity=14)


def test_a_request_the_rules_refuse_is_not_saved(contoso, tenant_admin):
    basic = contoso.subscription(BASIC)

    with pytest.raises(RequestRefused, match="assigned"):
        license_change_request_create(actor=tenant_admin, subscription=basic, quantity=2)


def test_a_new_service_request_becomes_a_purchase(contoso, tenant_admin, manager, decide):
    offer = Offer.objects.filter(
        account=contoso.account, is_add_on=False, name="Microsoft 365 Business Standard"
    ).first()

    request = license_change_request_new_service(
        actor=tenant_admin, customer_tenant=contoso.tenant, offer=offer, quantity=4, reason="Sales team"
    )
    request = decide(actor=manager, request=request, approve=True)

    line = request.order.lines.get()
    assert line.kind == OrderLineKind.NEW_SUBSCRIPTION and line.quantity == 4 and line.offer == offer
    request.order.refresh_from_db()
    assert request.order.status == OrderStatus.COMPLETED


def test_a_request_whose_order_fails_is_failed_with_the_marketplaces_words(contoso, tenant_admin, manager, decide):
    basic = contoso.subscription(BASIC)
    request = license_change_request_create(actor=tenant_admin, subscription=basic, quantity=9)
    contoso.sim_subscription(basic).refundable = []

    decide(actor=manager, request=request, approve=True)
    license_change_requests_settle()

    request.refresh_from_db()
    assert request.status == RequestStatus.FAILED
    assert "cannot be decreased" in request.result_message


def test_automation_requests_follow_the_same_rules(contoso, manager):
    request = license_change_request_create(
        actor="automation", subscription=contoso.subscription(BASIC), quantity=11, source=RequestSource.AUTO_PURCHASE
    )

    assert request.status == RequestStatus.PENDING and request.requested_by is None
    assert request_decision_refusal(user=manager, request=request) == ""
