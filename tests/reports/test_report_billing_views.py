"""The billing report as users see it: cycles aligned to the billing day, lines with their derivation,
customer totals, exports (CSV, XLSX, PDF, streamed), permissions and customer scope."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from catalog.models import CustomerPrice
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.audit.models import AuditEvent
from reports.models import BillingDay
from reports.services import billing_day_set
from tests.factories.accounts import user_with
from tests.factories.reports import REPORTS_AND_COST, REPORTS_VIEW, scoped_viewer
from tests.support import PASSWORD, host_of, signed_in_client

Q1 = "preset=custom&first_month=2024-01&last_month=2024-03"


def text(response) -> str:
    return response.content.decode()


def streamed_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(streamed_text(response))))


def test_one_customers_report_has_a_report_per_cycle_with_every_line_and_how_it_was_computed(
    billing_world, alpha_admin_client
):
    response = alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}")
    page = text(response)
    assert response.status_code == 200
    # Calendar-month cycles (no billing day set): reports dated the 1st of the next month, newest first.
    assert (
        page.index("Report dated 1 Apr 2024")
        < page.index("Report dated 1 Mar 2024")
        < page.index("Report dated 1 Feb 2024")
    )
    # February 2024 (29 days): fee for 5 seats, +3 on the 20th for 10 days, −2 on the 22nd inside the window.
    assert "5 × 10.50 = 52.50" in page
    assert "3 × 10.50 × 10/29 = 10.86" in page
    assert "−2 × 10.50 × 8/29 = -5.79" in page
    assert "€57.57" in page  # 52.50 + 10.86 − 5.79
    assert "6 × 10.50 = 63.00" in page  # March's fee for the 6 seats kept
    # The unit price says where it comes from: the cost price and the partner's default markup.
    assert "Partner price at ALSO (ALSO Test)" in page
    assert "Default markup 5%" in page
    assert "10.00 × 1.05 = 10.50" in page
    assert f'data-subscription="{billing_world.ours_tracked.pk}"' in page
    assert f'data-subscription="{billing_world.theirs_tracked.pk}"' not in page


def test_the_partner_view_totals_each_cycle_and_lists_customer_totals_of_the_opened_cycle(
    billing_world, alpha_admin_client
):
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&cycle=2024-02-01"))
    assert "€89.07" in page  # February: 57.57 (Alpine) + 3 × 10.50 (Zenith)
    assert "€94.50" in page  # March: 63.00 + 31.50
    assert f'data-customer="{billing_world.ours.pk}"' in page
    assert f'data-customer="{billing_world.theirs.pk}"' in page


def test_a_customer_price_replaces_the_default_markup_in_every_line(billing_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        CustomerPrice.objects.create(
            customer=billing_world.ours, offer=billing_world.ours_subscription.offer, price=Decimal("9.00")
        )
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert "5 × 9.00 = 45.00" in page
    assert "Customer price (Alpine Bakery)" in page


def test_the_billing_day_aligns_the_cycles(billing_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        billing_day_set(actor=None, cycle_end_day=15)
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert "Report dated 16 Mar 2024" in page
    assert "16 Feb 2024 – 15 Mar 2024 (29 days)" in page
    # 16 Feb – 15 Mar: fee for 5, +3 on 20 Feb for 25 of 29 days, −2 on 22 Feb for 23 days.
    assert "3 × 10.50 × 25/29 = 27.16" in page
    assert "−2 × 10.50 × 23/29 = -16.66" in page


def test_changing_the_billing_day_is_for_report_managers_and_audited(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("viewer", REPORTS_VIEW)
        user_with("manager", {PermissionModule.REPORTS: AccessLevel.MANAGE})
    viewer = signed_in_client(partner_alpha, "viewer", PASSWORD)
    assert viewer.get("/reports/billing/billing-day/").status_code == 200
    assert viewer.post("/reports/billing/billing-day/", {"cycle_end_day": "15"}).status_code == 403
    manager = signed_in_client(partner_alpha, "manager", PASSWORD)
    response = manager.post("/reports/billing/billing-day/", {"cycle_end_day": "40"})
    assert response.status_code == 200 and "Ensure this value is less than or equal to 31" in text(response)
    response = manager.post("/reports/billing/billing-day/", {"cycle_end_day": "15"})
    assert response.status_code == 302
    response = manager.post(
        "/reports/billing/billing-day/", {"cycle_end_day": "20", "account": billing_world.account.pk}
    )
    with schema_context(partner_alpha.schema_name):
        assert BillingDay.objects.get(account__isnull=True).cycle_end_day == 15
        assert BillingDay.objects.get(account=billing_world.account).cycle_end_day == 20
        assert AuditEvent.objects.filter(action="reports.billing_day.set").count() == 2
    page = text(manager.get(f"/reports/billing/?account={billing_world.account.pk}"))
    assert "ends on day 20" in page


def test_an_invalid_range_says_why_and_falls_back_to_the_last_cycle(billing_world, alpha_admin_client):
    page = text(alpha_admin_client.get("/reports/billing/?preset=custom&first_month=2024-05&last_month=2024-01"))
    assert "The last month is before the first." in page
    page = text(alpha_admin_client.get("/reports/billing/?preset=custom&first_month=2022-01&last_month=2024-12"))
    assert "Choose at most 24 months at a time." in page


def test_the_csv_export_streams_one_row_per_line(billing_world, alpha_admin_client):
    response = alpha_admin_client.get(f"/reports/billing/export/?{Q1}&format=csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    header, lines = rows[0], rows[1:]
    assert header[:4] == ["Report date", "Cycle start", "Cycle end", "Customer"]
    assert "Unit cost" in header  # the administrator sees cost prices
    february = [line for line in lines if line[1] == "2024-02-01"]
    assert [(line[3], line[7], line[13]) for line in february] == [
        ("Alpine Bakery", "Cycle fee", "52.50"),
        ("Alpine Bakery", "Pro-rata", "10.86"),
        ("Alpine Bakery", "Refund", "-5.79"),
        ("Zenith Logistics", "Cycle fee", "31.50"),
    ]
    assert february[1][15] == "3 × 10.50 × 10/29 = 10.86"
    assert "Default markup 5%" in february[1][16]


def test_the_xlsx_export_streams_a_workbook_from_a_temporary_file(billing_world, alpha_admin_client):
    response = alpha_admin_client.get(f"/reports/billing/export/?{Q1}&format=xlsx&customer={billing_world.ours.pk}")
    assert isinstance(response, FileResponse)
    assert response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "alpine-bakery" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Report date"
    amounts = [row[13] for row in rows[1:]]
    assert sum(Decimal(str(amount)) for amount in amounts) == Decimal("52.50") + Decimal("57.57") + Decimal("63.00")
    assert {row[3] for row in rows[1:]} == {"Alpine Bakery"}


def test_the_pdf_is_a_customers_billing_report(billing_world, alpha_admin_client):
    response = alpha_admin_client.get(f"/reports/billing/pdf/?{Q1}&customer={billing_world.ours.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/Lang (en)" in response.content
    # Without a customer there is nothing to print: back to the report with a hint.
    response = alpha_admin_client.get(f"/reports/billing/pdf/?{Q1}")
    assert response.status_code == 302


def test_the_pdf_speaks_the_customers_language(billing_world, alpha_admin_client, partner_alpha):
    """Japanese labels need a font with Japanese glyphs: the vendored IPAexGothic is embedded."""
    with schema_context(partner_alpha.schema_name):
        type(billing_world.ours).objects.filter(pk=billing_world.ours.pk).update(preferred_language="ja")
    response = alpha_admin_client.get(f"/reports/billing/pdf/?{Q1}&customer={billing_world.ours.pk}")
    assert response.status_code == 200
    assert b"/Lang (ja)" in response.content
    assert b"IPAexGothic" in response.content


@pytest.mark.parametrize("export_format", ["csv", "xlsx", "pdf"])
def test_an_unknown_export_format_is_not_found(billing_world, alpha_admin_client, export_format):
    if export_format == "pdf":
        assert alpha_admin_client.get("/reports/billing/export/?format=pdf").status_code == 404
    else:
        assert alpha_admin_client.get(f"/reports/billing/export/?format={export_format}").status_code == 200


def test_cost_figures_only_for_users_who_see_cost_prices(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("noprices", REPORTS_VIEW)
        user_with("prices", REPORTS_AND_COST)
    without = signed_in_client(partner_alpha, "noprices", PASSWORD)
    with_cost = signed_in_client(partner_alpha, "prices", PASSWORD)
    query = f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"
    assert '<th class="text-end">Cost</th>' not in text(without.get(query))
    assert '<th class="text-end">Cost</th>' in text(with_cost.get(query))
    header = csv_rows(without.get(f"/reports/billing/export/?{Q1}"))[0]
    assert "Unit cost" not in header and "Margin" not in header
    assert "Unit cost" in csv_rows(with_cost.get(f"/reports/billing/export/?{Q1}"))[0]


def test_a_role_scoped_to_a_customer_group_bills_only_its_customers(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        scoped_viewer("scoped", [billing_world.ours])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    page = text(client.get(f"/reports/billing/?{Q1}&cycle=2024-02-01"))
    assert f'data-customer="{billing_world.ours.pk}"' in page
    assert f'data-customer="{billing_world.theirs.pk}"' not in page and "Zenith Logistics" not in page
    assert "€57.57" in page and "89.07" not in page
    lines = csv_rows(client.get(f"/reports/billing/export/?{Q1}"))[1:]
    assert {line[3] for line in lines} == {"Alpine Bakery"}
    # Asking for the other customer is no way around the scope: it is not a choice, nothing of it shows.
    page = text(client.get(f"/reports/billing/?{Q1}&customer={billing_world.theirs.pk}"))
    assert "Zenith Logistics" not in page
    assert client.get(f"/reports/billing/pdf/?{Q1}&customer={billing_world.theirs.pk}").status_code == 404


def test_without_the_reports_permission_billing_is_forbidden(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("noreports", {PermissionModule.CUSTOMERS: AccessLevel.MANAGE})
        admin = user_with(
            "tenantadmin",
            {PermissionModule.CUSTOMERS: AccessLevel.MANAGE, PermissionModule.REPORTS: AccessLevel.MANAGE},
            kind=UserKind.CUSTOMER_ADMIN,
        )
        admin.customers.add(billing_world.ours)
    for username in ("noreports", "tenantadmin"):
        client = signed_in_client(partner_alpha, username, PASSWORD)
        for url in ("/reports/", "/reports/billing/", f"/reports/billing/export/?{Q1}", "/reports/billing/pdf/"):
            assert client.get(url).status_code == 403, (username, url)


def test_another_partners_session_is_anonymous_here(billing_world, partner_alpha, beta_admin_client):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    response = intruder.get(f"/reports/billing/export/?{Q1}")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


def test_a_subscription_the_marketplace_stopped_listing_is_billed_until_it_vanished(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        billing_world.theirs_subscription.delete()  # what the sync does with a subscription no longer listed
        billing_world.theirs_tracked.refresh_from_db()
        assert billing_world.theirs_tracked.subscription_id is None
        billing_world.theirs_tracked.last_seen = date(2024, 2, 10)
        billing_world.theirs_tracked.save()
    rows = csv_rows(alpha_admin_client.get(f"/reports/billing/export/?{Q1}&customer={billing_world.theirs.pk}"))[1:]
    assert [(row[1], row[7], row[13]) for row in rows] == [
        ("2024-01-01", "Cycle fee", "31.50"),
        ("2024-02-01", "Cycle fee", "31.50"),
        ("2024-02-01", "Decrease without refund", "0.00"),
    ]
