"""The demo shows every lifecycle state: licence settings, a scheduled decrease, requests in every status."""

from django.test import override_settings

from demo import accounts as accounts_demo
from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from demo import orders as orders_demo
from demo import subscriptions as demo_lifecycle
from subscriptions.choices_lifecycle import RequestSource, RequestStatus, ScheduledChangeStatus
from subscriptions.models import LicenseChangeRequest, ScheduledChange, SubscriptionOptions, TenantLicenseSettings


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_has_every_lifecycle_state(in_alpha, django_capture_on_commit_callbacks):
    customers_demo.seed(in_alpha)
    accounts_demo.seed(in_alpha)
    marketplace_demo.seed(in_alpha)
    catalog_demo.seed(in_alpha)
    with django_capture_on_commit_callbacks(execute=False):  # the worker of the run command is not running
        orders_demo.seed(in_alpha)
        lines = demo_lifecycle.seed(in_alpha)

    statuses = set(LicenseChangeRequest.objects.values_list("status", flat=True))
    assert statuses == set(RequestStatus.values), (
        statuses,
        lines,
        list(LicenseChangeRequest.objects.values_list("reason", "status", "result_message")),
    )
    assert LicenseChangeRequest.objects.filter(source=RequestSource.AUTO_PURCHASE).exists()
    failed = LicenseChangeRequest.objects.get(status=RequestStatus.FAILED)
    assert "300" in failed.result_message
    assert ScheduledChange.objects.filter(status=ScheduledChangeStatus.SCHEDULED).count() == 1
    assert TenantLicenseSettings.objects.filter(auto_purchase_enabled=True, auto_decrease_enabled=True).exists()
    assert SubscriptionOptions.objects.exclude(friendly_name="").exists()
    assert "Lifecycle:" in lines[0]

    count = LicenseChangeRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=False):
        again = demo_lifecycle.seed(in_alpha)
    assert LicenseChangeRequest.objects.count() == count
    assert "nothing new" in again[0]
