"""Auto-purchase and auto-decrease over a simulated month: the marketplace's clock moves a day at a time, the
sync runs, beat runs the lifecycle; every change goes through a licence change request and an order."""

from datetime import timedelta

import pytest

from portal.audit.models import AuditEvent, Notification
from subscriptions.choices_lifecycle import RequestSource, RequestStatus
from subscriptions.models import LicenseChangeRequest, SubscriptionOptions, TenantLicenseSettings
from subscriptions.services_automation import auto_decrease_run, auto_purchase_run
from subscriptions.services_requests import license_change_request_decide
from subscriptions.tasks import lifecycle_run_due
from tests.subscriptions.lifecycle_support import run_sync

BASIC = "Microsoft 365 Business Basic"
E3 = "Microsoft 365 E3"
DAY = timedelta(days=1).total_seconds()


@pytest.fixture
def month(contoso, django_capture_on_commit_callbacks):
    """Advance the marketplace a day, sync, run beat's lifecycle task; `on_day` hooks change the tenant."""

    def run(days: int, on_day=None):
        for day in range(1, days + 1):
            contoso.simulator.clock_advance(DAY)
            if on_day is not None:
                on_day(day)
            run_sync(contoso.account)
            with django_capture_on_commit_callbacks(execute=True):
                lifecycle_run_due()
            run_sync(contoso.account)

    return run


def requests_of(subscription):
    return list(
        LicenseChangeRequest.objects.filter(subscription=subscription)
        .order_by("pk")
        .values_list("source", "current_quantity", "requested_quantity", "status")
    )


def test_a_month_of_automation_without_approval(contoso, month):
    TenantLicenseSettings.objects.create(
        customer_tenant=contoso.tenant,
        approval_required=False,
        auto_purchase_enabled=True,
        auto_purchase_step=2,
        auto_purchase_cap=13,
        auto_decrease_enabled=True,
        auto_decrease_buffer=1,
        auto_decrease_lead_days=2,
    )
    basic, e3 = contoso.subscription(BASIC), contoso.subscription(E3)
    SubscriptionOptions.objects.create(subscription=e3, auto_purchase_excluded=True)
    sim_basic, sim_e3 = contoso.sim_subscription(basic), contoso.sim_subscription(e3)
    sim_e3.assigned = sim_e3.quantity  # full, but excluded from auto-purchase

    def on_day(day):
        if day == 1:
            sim_basic.assigned = sim_basic.quantity  # every seat taken: buy 2 more
        if day == 2:
            sim_basic.assigned = sim_basic.quantity  # taken again: only 1 more, the cap is 13
        if day == 3:
            sim_basic.assigned = 9  # people left; the window closes tomorrow
        if day == 28:
            sim_basic.assigned = 5  # after the renewal, fewer people again

    month(36, on_day)

    assert requests_of(basic) == [
        (RequestSource.AUTO_PURCHASE, 10, 12, RequestStatus.APPLIED),
        (RequestSource.AUTO_PURCHASE, 12, 13, RequestStatus.APPLIED),
        (RequestSource.AUTO_DECREASE, 13, 10, RequestStatus.APPLIED),
        (RequestSource.AUTO_DECREASE, 10, 6, RequestStatus.APPLIED),
    ]
    assert sim_basic.quantity == 6
    assert requests_of(e3) == []
    assert sim_e3.quantity == 25
    assert AuditEvent.objects.filter(action="license_request.create", actor_label="automation").count() == 4


def test_automation_requests_wait_for_approval_and_notify(contoso, month, manager, django_capture_on_commit_callbacks):
    TenantLicenseSettings.objects.create(
        customer_tenant=contoso.tenant, auto_decrease_enabled=True, auto_decrease_buffer=0, auto_decrease_lead_days=2
    )
    basic = contoso.subscription(BASIC)
    sim_basic = contoso.sim_subscription(basic)
    sim_basic.assigned = 6

    month(3)

    (request,) = LicenseChangeRequest.objects.filter(subscription=basic)
    assert (request.source, request.status, request.requested_quantity) == (
        RequestSource.AUTO_DECREASE,
        RequestStatus.PENDING,
        6,
    )
    note = Notification.objects.get(recipient=manager, url=f"/subscriptions/requests/{request.pk}/")
    assert "Auto-decrease" in note.body
    assert "cancellation window closes" in request.reason
    # no second request in the same window
    assert auto_decrease_run().created == []
    assert LicenseChangeRequest.objects.filter(subscription=basic).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        license_change_request_decide(actor=manager, request=request, approve=True)
    month(1)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED
    assert sim_basic.quantity == 6


def test_nothing_is_proposed_outside_a_window_or_for_excluded_subscriptions(contoso):
    TenantLicenseSettings.objects.create(
        customer_tenant=contoso.tenant,
        auto_decrease_enabled=True,
        auto_decrease_lead_days=7,
        auto_purchase_enabled=True,
    )
    e3 = contoso.subscription(E3)  # window closed long ago, 19 of 25 assigned
    basic = contoso.subscription(BASIC)
    SubscriptionOptions.objects.create(subscription=basic, auto_decrease_excluded=True)

    assert auto_decrease_run().created == []
    assert auto_purchase_run().created == []
    assert not LicenseChangeRequest.objects.filter(subscription__in=[e3, basic]).exists()
