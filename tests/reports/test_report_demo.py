"""The demo partner's reports: a year of history for the demo subscriptions, idempotent."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from demo import reports as reports_demo
from reports.billing import last_complete_cycle, recent_cycles
from reports.billing_report import billing_bills
from reports.models import (
    BillingCycleClose,
    BillingDay,
    BillingStatement,
    InvoiceImport,
    TrackedSubscription,
    UsageSnapshot,
)
from reports.statements import IssuedBill
from subscriptions.models import Subscription
from tests.factories import UserFactory


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_gives_every_subscription_a_year_of_history_once(in_alpha):
    customers_demo.seed(in_alpha)
    marketplace_demo.seed(in_alpha)
    admin = UserFactory(username="admin", is_superuser=True)
    today = timezone.localdate()

    lines = reports_demo.seed(in_alpha)

    subscriptions = Subscription.objects.count()
    assert subscriptions and TrackedSubscription.objects.filter(subscription__isnull=False).count() == subscriptions
    assert TrackedSubscription.objects.filter(parent__isnull=False).exists()  # add-ons are tracked too
    oldest = UsageSnapshot.objects.order_by("day").values_list("day", flat=True).first()
    assert oldest == today - timedelta(days=365)
    for tracked in TrackedSubscription.objects.all():
        assert UsageSnapshot.objects.get(subscription=tracked, day=today).quantity >= 0
    assert BillingDay.objects.get(account__isnull=True).cycle_end_day == 15
    imports = {item.account.marketplace: item.status for item in InvoiceImport.objects.select_related("account")}
    assert imports["also"] == "succeeded"
    assert set(imports.values()) <= {"succeeded", "unsupported"}  # ALEF offers no invoice lines
    assert "daily snapshots" in lines[0]
    cycle = last_complete_cycle(today, cycle_end_day=15)
    assert any(bill.lines for bill in billing_bills(user=admin, cycles=[cycle]))
    # A year of issued statements, each issued the day after its cycle ended; the last one is read back.
    year = recent_cycles(today, 12, cycle_end_day=15)
    closes = list(BillingCycleClose.objects.order_by("cycle_start"))
    assert [(close.cycle_start, close.cycle_end) for close in closes] == [(one.start, one.end) for one in year]
    assert all(timezone.localdate(close.issued_at) == close.cycle_end + timedelta(days=1) for close in closes)
    assert BillingStatement.objects.filter(cycle_start=cycle.start).exists()
    assert all(isinstance(bill, IssuedBill) for bill in billing_bills(user=admin, cycles=[cycle]))
    assert "12 billing cycle(s) issued" in lines[0]

    rows = UsageSnapshot.objects.count()
    statements = BillingStatement.objects.count()
    reports_demo.seed(in_alpha)
    assert UsageSnapshot.objects.count() == rows
    assert BillingDay.objects.count() == 1
    assert BillingCycleClose.objects.count() == 12 and BillingStatement.objects.count() == statements
