"""The daily usage snapshot, and the Report center screens that read it or the audit trail: Subscription
usage (today, a chosen day, per customer, modification history), User activity, Customer operations,
the custom report and the overview cost report."""

import csv
import io
from datetime import date, timedelta

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from orders.models import Order
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from reports.models import SavedReport, TrackedSubscription, UsageSnapshot
from reports.services import usage_snapshots_take
from reports.tasks import usage_snapshots_take_task
from subscriptions.models import LicenseChangeRequest
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.reports import REPORTS_AND_COST, REPORTS_VIEW, scoped_viewer
from tests.factories.subscriptions import SubscriptionFactory
from tests.support import PASSWORD, host_of, signed_in_client


def text(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


# -- the snapshot ---------------------------------------------------------------------------------------------------


def test_the_snapshot_records_every_subscription_once_a_day_and_the_last_run_wins(in_alpha):
    subscription = SubscriptionFactory(quantity=4, assigned=2)
    day = date(2024, 5, 1)
    assert usage_snapshots_take(day=day) == 1
    tracked = TrackedSubscription.objects.get()
    assert (tracked.subscription, tracked.customer, tracked.first_seen) == (
        subscription,
        subscription.customer_tenant.customer,
        day,
    )
    subscription.quantity = 6
    subscription.save()
    usage_snapshots_take(day=day)  # again the same day: replaced, not added
    usage_snapshots_take(day=day + timedelta(days=1))
    assert list(UsageSnapshot.objects.values_list("day", "quantity", "assigned")) == [
        (day, 6, 2),
        (day + timedelta(days=1), 6, 2),
    ]
    tracked.refresh_from_db()
    assert (tracked.first_seen, tracked.last_seen) == (day, day + timedelta(days=1))


def test_add_ons_are_tracked_on_their_own_under_their_subscription(in_alpha):
    from tests.factories.catalog import OfferFactory

    subscription = SubscriptionFactory(quantity=10)
    add_on_offer = OfferFactory(
        business_plan=True, account=subscription.account, external_id="TEAMS|Monthly", name="Teams Phone"
    )
    subscription.add_ons = [
        {
            "external_id": "ADDON-1",
            "offer_id": "TEAMS|Monthly",
            "product_id": "TEAMS",
            "name": "Teams Phone",
            "quantity": 4,
            "status": "active",
        }
    ]
    subscription.save()
    assert usage_snapshots_take(day=date(2024, 5, 1)) == 2
    add_on = TrackedSubscription.objects.get(external_id="ADDON-1")
    assert (add_on.parent.subscription, add_on.offer, add_on.subscription) == (subscription, add_on_offer, None)
    assert add_on.customer == subscription.customer_tenant.customer
    assert UsageSnapshot.objects.get(subscription=add_on).quantity == 4


def test_the_history_outlives_the_synced_subscription(in_alpha):
    subscription = SubscriptionFactory()
    usage_snapshots_take(day=date(2024, 5, 1))
    subscription.delete()  # the marketplace stopped listing it
    tracked = TrackedSubscription.objects.get()
    assert tracked.subscription is None
    assert UsageSnapshot.objects.filter(subscription=tracked).count() == 1


def test_beat_takes_each_partners_snapshot_through_the_partner_dispatch(in_alpha):
    entry = settings.CELERY_BEAT_SCHEDULE["partners-usage-snapshots"]
    assert entry["task"] == "portal.core.tasks.dispatch_to_partners"
    assert entry["args"] == ("reports.tasks.usage_snapshots_take",)
    SubscriptionFactory()
    assert usage_snapshots_take_task.apply().get() == 1
    assert UsageSnapshot.objects.filter(day=timezone.localdate()).count() == 1


# -- Subscription usage ---------------------------------------------------------------------------------------------


def test_usage_today_lists_each_subscription_with_unassigned_seats(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/usage/"))
    assert "Usage now" in page
    assert "Alpine Bakery" in page and "Zenith Logistics" in page
    assert '<span class="badge text-bg-warning">2</span>' in page  # Zenith: 3 seats, 1 assigned


def test_the_first_of_a_month_shows_that_days_snapshot(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/usage/?day=2024-02-21"))
    assert "Usage on 2024-02-21 (daily snapshot)." in page
    rows = csv_rows(alpha_admin_client.get("/reports/usage/export/?day=2024-02-21&format=csv"))
    assert rows[0][:4] == ["Customer", "Subscription", "Marketplace account", "Quantity"]
    assert [(row[0], row[3]) for row in rows[1:]] == [("Alpine Bakery", "8"), ("Zenith Logistics", "3")]
    rows = csv_rows(alpha_admin_client.get("/reports/usage/export/?day=2024-02-01&format=csv"))
    assert [(row[0], row[3]) for row in rows[1:]] == [("Alpine Bakery", "5"), ("Zenith Logistics", "3")]


def test_a_day_without_snapshot_shows_the_last_one_before_it_or_says_there_is_none(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/usage/?day=2024-04-03"))
    assert "No snapshot on 2024-04-03: showing 2024-03-31" in page
    page = text(alpha_admin_client.get("/reports/usage/?day=2023-06-01"))
    assert "No history for that day" in page and "Daily snapshots start on 2024-01-01." in page
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert "Usage is known up to today." in text(alpha_admin_client.get(f"/reports/usage/?day={future}"))


def test_usage_per_customer_sums_seats(billing_world, alpha_admin_client):
    rows = csv_rows(alpha_admin_client.get("/reports/usage/export/?view=customers&day=2024-03-01&format=csv"))
    assert rows[1:] == [["Alpine Bakery", "1", "6", "6", "0"], ["Zenith Logistics", "1", "3", "1", "2"]]
    assert "Per customer" in text(alpha_admin_client.get("/reports/usage/?view=customers"))


def test_usage_filters_and_scope(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        scoped_viewer("scoped", [billing_world.ours])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    rows = csv_rows(client.get("/reports/usage/export/?format=csv"))
    assert [row[0] for row in rows[1:]] == ["Alpine Bakery"]
    assert "No subscriptions match" in text(client.get("/reports/usage/?q=nothing-like-this"))


def test_the_modification_history_lists_changes_from_snapshots_and_audit_events(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        audit_record(
            actor="automation",
            action="subscriptions.quantity.change",
            target=billing_world.ours_subscription,
            before={"quantity": 5},
            after={"quantity": 8},
        )
    response = alpha_admin_client.get(f"/reports/usage/{billing_world.ours_tracked.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert "2024-02-20" in page and "2024-02-22" in page and "First snapshot" in page
    assert (
        "subscriptions.quantity.change" in page and "Automation" in page
    )  # an action the trail no longer knows keeps its code
    assert 'id="usage-chart-data"' in page


def test_the_history_of_another_customers_subscription_is_not_found(billing_world, partner_alpha, beta_admin_client):
    with schema_context(partner_alpha.schema_name):
        scoped_viewer("scoped", [billing_world.ours])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    assert client.get(f"/reports/usage/{billing_world.ours_tracked.pk}/").status_code == 200
    assert client.get(f"/reports/usage/{billing_world.theirs_tracked.pk}/").status_code == 404
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    response = intruder.get(f"/reports/usage/{billing_world.ours_tracked.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


# -- User activity --------------------------------------------------------------------------------------------------


def test_user_activity_counts_events_per_user_and_lists_one_users_events(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        dana = user_with("dana", REPORTS_VIEW, email="dana@alpha.example")
        for _ in range(3):
            audit_record(
                actor=dana, action="customer.update", target=billing_world.ours, customer_id=billing_world.ours.pk
            )
        audit_record(
            actor=dana, action="customer.update", target=billing_world.theirs, customer_id=billing_world.theirs.pk
        )
        old = audit_record(
            actor=dana, action="customer.create", target=billing_world.ours, customer_id=billing_world.ours.pk
        )
        AuditEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=60))
    rows = csv_rows(alpha_admin_client.get("/reports/activity/export/?period=30d&format=csv"))
    dana_row = next(row for row in rows[1:] if row[0] == "dana@alpha.example")
    assert dana_row[1:4] == ["4", "1", "0"]
    page = text(alpha_admin_client.get("/reports/activity/?period=90d&actor=dana@alpha.example"))
    assert "Activity of dana@alpha.example" in page
    assert 'Customer changed <span class="text-body-secondary">× 4</span>' in page
    assert "Customer created" in page and ">customer.create<" not in page
    page = text(alpha_admin_client.get("/reports/activity/?period=custom&start=2024-02-01&end=2024-01-01"))
    assert "The period ends before it starts." in page


def test_a_scoped_role_sees_only_activity_about_its_customers(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        scoped_viewer("scoped", [billing_world.ours])
        audit_record(
            actor="someone@alpha.example", action="x.ours", target=billing_world.ours, customer_id=billing_world.ours.pk
        )
        audit_record(
            actor="other@alpha.example",
            action="x.theirs",
            target=billing_world.theirs,
            customer_id=billing_world.theirs.pk,
        )
        audit_record(actor="settings@alpha.example", action="settings.change")
    rows = csv_rows(signed_in_client(partner_alpha, "scoped", PASSWORD).get("/reports/activity/export/"))
    assert [row[0] for row in rows[1:]] == ["someone@alpha.example"]


# -- Customer operations --------------------------------------------------------------------------------------------


def test_customer_operations_count_orders_and_requests_by_status_in_the_period(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        tenant = billing_world.ours_subscription.customer_tenant
        for status in ("completed", "completed", "failed"):
            Order.objects.create(customer_tenant=tenant, account=billing_world.account, status=status)
        old = Order.objects.create(customer_tenant=tenant, account=billing_world.account, status="completed")
        Order.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=45))
        LicenseChangeRequest.objects.create(
            customer_tenant=tenant, kind="change_quantity", product_name="Business Standard", requested_quantity=9
        )
    page = text(alpha_admin_client.get("/reports/operations/?period=30d"))
    assert f'data-customer="{billing_world.ours.pk}"' in page
    rows = csv_rows(alpha_admin_client.get("/reports/operations/export/?period=30d"))
    header, alpine = rows[0], rows[1]
    assert alpine[0] == "Alpine Bakery"
    assert alpine[header.index("Orders: total")] == "3"
    assert alpine[header.index("Orders: Completed")] == "2"
    assert alpine[header.index("Orders: Failed")] == "1"
    assert alpine[header.index("Licence requests: total")] == "1"
    assert alpine[header.index("Licence requests: Pending")] == "1"
    assert "No operations in this period" in text(alpha_admin_client.get("/reports/operations/?period=7d&q=zenith"))

    # a card per online service (the account's marketplace), and the job status filter
    marketplace = billing_world.account.marketplace
    assert f'data-service="{marketplace}"' in page
    failed = csv_rows(alpha_admin_client.get("/reports/operations/export/?period=30d&status=orders:failed"))
    assert failed[1][failed[0].index("Orders: total")] == "1"
    assert failed[1][failed[0].index("Licence requests: total")] == "0"
    card = text(alpha_admin_client.get(f"/reports/operations/?period=30d&service={marketplace}"))
    assert f'data-service="{marketplace}" aria-current="true"' in card
    other = "alef" if marketplace != "alef" else "also"
    assert "No operations in this period" in text(
        alpha_admin_client.get(f"/reports/operations/?period=30d&service={other}")
    )


# -- custom report --------------------------------------------------------------------------------------------------


def test_the_custom_report_groups_a_measure_by_a_dimension(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/custom/?dimension=customer&measure=seats"))
    assert 'id="custom-chart-data"' in page
    rows = csv_rows(alpha_admin_client.get("/reports/custom/export/?dimension=customer&measure=seats"))
    assert rows[1:] == [["Alpine Bakery", "6", "66.7"], ["Zenith Logistics", "3", "33.3"]]
    rows = csv_rows(alpha_admin_client.get("/reports/custom/export/?dimension=customer&measure=unassigned"))
    assert rows[1:] == [["Zenith Logistics", "2", "100.0"], ["Alpine Bakery", "0", "0.0"]]
    rows = csv_rows(alpha_admin_client.get("/reports/custom/export/?dimension=marketplace&measure=revenue"))
    assert rows[1:] == [["ALSO Test", "94.50", "EUR", "100.0"]]  # 9 seats × 10.50 a month


def test_a_user_saves_and_deletes_their_own_custom_reports(billing_world, alpha_admin_client, partner_alpha):
    response = alpha_admin_client.post(
        "/reports/custom/save/", {"name": "Seats per customer", "dimension": "customer", "measure": "seats"}
    )
    assert response.status_code == 302
    response = alpha_admin_client.post(
        "/reports/custom/save/", {"name": "seats PER customer", "dimension": "status", "measure": "seats"}
    )
    assert "You already have a report with this name." in text(alpha_admin_client.get(response["Location"]))
    with schema_context(partner_alpha.schema_name):
        saved = SavedReport.objects.get()
        user_with("other", REPORTS_VIEW)
        assert AuditEvent.objects.filter(action="reports.saved_report.create").count() == 1
    assert "Seats per customer" in text(alpha_admin_client.get("/reports/custom/"))
    other = signed_in_client(partner_alpha, "other", PASSWORD)
    assert "Seats per customer" not in text(other.get("/reports/custom/"))
    assert other.get(f"/reports/custom/{saved.pk}/delete/").status_code == 404
    assert other.post(f"/reports/custom/{saved.pk}/delete/").status_code == 404
    assert "Delete the saved report" in text(alpha_admin_client.get(f"/reports/custom/{saved.pk}/delete/"))
    assert alpha_admin_client.post(f"/reports/custom/{saved.pk}/delete/").status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert not SavedReport.objects.exists()


def test_the_cost_measure_is_only_offered_to_users_who_see_cost_prices(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("noprices", REPORTS_VIEW)
    client = signed_in_client(partner_alpha, "noprices", PASSWORD)
    page = text(client.get("/reports/custom/?dimension=customer&measure=cost"))
    assert 'value="cost"' not in page
    assert "Select a valid choice" not in page  # falls back to the default measure
    response = client.post("/reports/custom/save/", {"name": "Costs", "dimension": "customer", "measure": "cost"})
    assert response.status_code == 403


# -- overview cost report --------------------------------------------------------------------------------------------


def test_the_cost_report_shows_monthly_revenue_and_cost_per_customer_and_marketplace(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("prices", REPORTS_AND_COST)
        user_with("noprices", REPORTS_VIEW)
        SubscriptionFactory(
            customer_tenant=billing_world.ours_subscription.customer_tenant,
            offer__account=billing_world.account,
            offer__billing_cycle="annual",
            offer__cost_price="120.00",
            quantity=2,
        )
    with_cost = signed_in_client(partner_alpha, "prices", PASSWORD)
    rows = csv_rows(with_cost.get("/reports/cost/export/"))
    assert rows[0] == [
        "Group", "Name", "Currency", "Subscriptions", "Seats", "Monthly revenue",
        "Monthly cost", "Margin", "Margin %", "Without price",
    ]  # fmt: skip
    # Alpine: 6 × 10.50 monthly + 2 × 126.00 / 12 annual = 63.00 + 21.00.
    assert ["Customer", "Alpine Bakery", "EUR", "2", "8", "84.00", "80.00", "4.00", "4.8", "0"] in rows
    assert ["Marketplace account", "ALSO Test", "EUR", "3", "11", "115.50", "110.00", "5.50", "4.8", "0"] in rows
    page = text(with_cost.get("/reports/cost/"))
    assert "Monthly cost" in page and "115.50" in page
    without = signed_in_client(partner_alpha, "noprices", PASSWORD)
    assert "Monthly cost" not in text(without.get("/reports/cost/"))
    assert "Monthly cost" not in csv_rows(without.get("/reports/cost/export/"))[0]


def test_reports_need_the_reports_permission(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("noreports", {PermissionModule.CUSTOMERS: AccessLevel.MANAGE})
    client = signed_in_client(partner_alpha, "noreports", PASSWORD)
    for url in ("/reports/usage/", "/reports/activity/", "/reports/operations/", "/reports/custom/", "/reports/cost/"):
        assert client.get(url).status_code == 403, url
    assert 'data-section="reports"' not in text(client.get("/"))


def test_the_report_center_is_in_the_navigation(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/"))
    assert 'data-section="reports"' in page and 'href="/reports/"' in page
    for title in ("Subscription usage", "Customer operations", "User activity", "Overview cost report", "Custom report",
                  "Billing", "Reconciliation"):  # fmt: skip
        assert title in page
    assert CustomerTenantFactory._meta.model.objects is not None
