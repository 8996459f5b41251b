"""Reconciliation: the classification of gaps on crafted cases, the four legs put side by side per
customer and offer, fetching the marketplaces' invoices (ALSO simulator), filters, export and scope."""

import csv
import io
from datetime import date
from decimal import Decimal

import httpx
import pytest
from django_tenants.utils import schema_context

from marketplace.connections import override_provider_transport
from marketplace.secrets import secret_encrypt
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.models import AuditEvent
from reports.choices import GapKind, InvoiceImportStatus
from reports.models import InvoiceImport, InvoiceLine
from reports.reconciliation import reconciliation_gaps
from reports.services import invoice_lines_import
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from tests.factories.accounts import user_with
from tests.factories.marketplace import AccountFactory, connect
from tests.factories.reports import scoped_viewer
from tests.support import PASSWORD, signed_in_client

FEBRUARY = "month=2024-02"


def kinds(gaps):
    return [(gap.kind, gap.seats) for gap in gaps]


# -- classification ---------------------------------------------------------------------------------------------------


def test_matching_legs_have_no_gap():
    assert reconciliation_gaps(invoiced=10, quantity=10, assigned=10, billed=10) == []


@pytest.mark.parametrize(
    ("invoiced", "billed", "expected"),
    [
        (12, 10, [(GapKind.UNDER_BILLED, 2)]),
        (8, 10, [(GapKind.OVER_BILLED, 2)]),
        (0, 3, [(GapKind.OVER_BILLED, 3)]),
        (5, 0, [(GapKind.UNBILLED, 5)]),
    ],
)
def test_invoice_against_billing(invoiced, billed, expected):
    assert kinds(reconciliation_gaps(invoiced=invoiced, quantity=None, assigned=None, billed=billed)) == expected


def test_unassigned_seats_are_a_gap_of_their_own_and_combine_with_billing_gaps():
    gaps = reconciliation_gaps(invoiced=12, quantity=12, assigned=7, billed=10, unit_price=Decimal("10.50"))
    assert kinds(gaps) == [(GapKind.UNDER_BILLED, 2), (GapKind.UNASSIGNED_SEATS, 5)]
    assert gaps[0].amount == Decimal("21.00")
    assert "Bill the customer for 2 more seats" in gaps[0].action
    assert "decrease by 5 at the next cancellation window" in gaps[1].action


def test_without_the_invoice_only_the_tenant_leg_is_checked():
    assert kinds(reconciliation_gaps(invoiced=None, quantity=5, assigned=3, billed=0)) == [
        (GapKind.UNASSIGNED_SEATS, 2)
    ]
    assert reconciliation_gaps(invoiced=None, quantity=5, assigned=None, billed=0) == []


def test_an_unconnected_marketplace_customer_is_unbilled_with_the_fix_to_connect_it():
    [gap] = reconciliation_gaps(invoiced=3, quantity=None, assigned=None, billed=0, customer_known=False)
    assert gap.kind == GapKind.UNBILLED
    assert "Connect this marketplace customer" in gap.action


def test_every_action_names_its_seats_in_the_right_number():
    [gap] = reconciliation_gaps(invoiced=1, quantity=None, assigned=None, billed=0)
    assert gap.action == "Bill the customer for 1 seat."
    [gap] = reconciliation_gaps(invoiced=0, quantity=None, assigned=None, billed=1)
    assert gap.action.startswith("Issue a credit note for 1 seat,")


# -- the legs side by side --------------------------------------------------------------------------------------------


def invoice(invoice_import, customer, offer, quantity, *, name="Business Standard", price=Decimal("10.00")):
    return InvoiceLine.objects.create(
        invoice_import=invoice_import,
        invoice_id="INV-2024-02",
        customer_external_id=customer,
        customer_name=f"Marketplace {customer}",
        subscription_external_id="",
        offer_external_id=offer,
        name=name,
        charge_type="cycle_fee",
        charge_start=date(2024, 2, 1),
        charge_end=date(2024, 2, 29),
        quantity=quantity,
        unit_price=price,
        amount=price * quantity,
        currency="EUR",
    )


@pytest.fixture
def invoiced_world(billing_world, partner_alpha):
    """February 2024 invoiced by the marketplace: Alpine's 6 seats (as billed), Zenith's 4 (billed 3),
    an offer of Alpine's nobody bills, and a marketplace customer connected to no tenant."""
    from django.utils import timezone

    with schema_context(partner_alpha.schema_name):
        connect(billing_world.account, billing_world.ours_subscription.customer_tenant, "C-1")
        connect(billing_world.account, billing_world.theirs_subscription.customer_tenant, "C-2")
        invoice_import = InvoiceImport.objects.create(
            account=billing_world.account,
            period_start=date(2024, 2, 1),
            period_end=date(2024, 2, 29),
            status=InvoiceImportStatus.SUCCEEDED,
            line_count=4,
            fetched_at=timezone.now(),
        )
        invoice(invoice_import, "C-1", "BS|Monthly", 6)
        invoice(invoice_import, "C-2", "BS|Monthly", 4)
        invoice(invoice_import, "C-1", "EXO|Monthly", 2, name="Exchange Online")
        invoice(invoice_import, "C-9", "BS|Monthly", 1)
    return billing_world


def rows_of(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_reconciliation_puts_the_four_legs_side_by_side_and_classifies_each_gap(invoiced_world, alpha_admin_client):
    response = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Billing cycle 2024-02-01 – 2024-02-29" in page
    rows = rows_of(alpha_admin_client.get(f"/reports/reconciliation/export/?{FEBRUARY}"))
    header = rows[0]
    by_key = {(row[header.index("Customer")], row[header.index("Offer ID")]): row for row in rows[1:]}
    column = header.index
    alpine = by_key[("Alpine Bakery", "BS|Monthly")]
    assert [alpine[column("Invoiced seats")], alpine[column("Subscription quantity")]] == ["6", "6"]
    assert [alpine[column("Assigned seats")], alpine[column("Billed seats")], alpine[column("Gaps")]] == ["6", "6", ""]
    assert alpine[column("Billed amount")] == "57.57"
    zenith = by_key[("Zenith Logistics", "BS|Monthly")]
    assert zenith[column("Gaps")] == "Under-billed; Unassigned seats"
    assert "Bill the customer for 1 more seat" in zenith[column("Actions")]
    exchange = by_key[("Alpine Bakery", "EXO|Monthly")]
    assert exchange[column("Gaps")] == "Unbilled"
    unknown = by_key[("Marketplace C-9", "BS|Monthly")]
    assert unknown[column("Gaps")] == "Unbilled" and "Connect this marketplace customer" in unknown[column("Actions")]
    assert 'data-gap="under_billed"' in page and 'data-gap="unassigned_seats"' in page


def test_the_gap_filter_keeps_the_rows_with_that_gap(invoiced_world, alpha_admin_client):
    rows = rows_of(alpha_admin_client.get(f"/reports/reconciliation/export/?{FEBRUARY}&gap=unbilled"))
    assert sorted(row[2] for row in rows[1:]) == ["Alpine Bakery", "Marketplace C-9"]
    rows = rows_of(alpha_admin_client.get(f"/reports/reconciliation/export/?{FEBRUARY}&gap=any"))
    assert len(rows) == 1 + 3
    page = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}&gap=over_billed").content.decode()
    assert "Nothing to reconcile" in page


def test_an_invoice_that_charges_less_than_billed_is_over_billing(invoiced_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        InvoiceLine.objects.filter(customer_external_id="C-1", offer_external_id="BS|Monthly").update(quantity=5)
    rows = rows_of(alpha_admin_client.get(f"/reports/reconciliation/export/?{FEBRUARY}&gap=over_billed"))
    assert [(row[2], row[-2]) for row in rows[1:]] == [("Alpine Bakery", "Over-billed")]


def test_without_an_invoice_the_page_says_it_was_not_fetched(billing_world, alpha_admin_client):
    page = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}").content.decode()
    assert "invoice not fetched" in page
    rows = rows_of(alpha_admin_client.get(f"/reports/reconciliation/export/?{FEBRUARY}"))
    zenith = next(row for row in rows[1:] if row[2] == "Zenith Logistics")
    assert zenith[6] == "not fetched" and zenith[-2] == "Unassigned seats"


def test_a_scoped_role_reconciles_only_its_customers(invoiced_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        scoped_viewer("scoped", [invoiced_world.ours])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    rows = rows_of(client.get(f"/reports/reconciliation/export/?{FEBRUARY}"))
    assert {row[2] for row in rows[1:]} == {"Alpine Bakery"}
    assert "Invoiced amount" not in rows[0]  # no cost prices without the catalog permission


# -- fetching invoices ----------------------------------------------------------------------------------------------


@pytest.fixture
def also_simulator():
    simulator = AlsoSimulator()
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        yield simulator


def test_fetching_invoices_imports_the_marketplaces_lines_and_audits_it(also_simulator, partner_alpha):
    from django.utils import timezone

    today = timezone.localdate()
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(username=DEMO_USERNAME, secret_ciphertext=secret_encrypt(DEMO_PASSWORD))
        fetch = invoice_lines_import(actor=None, account=account, period_start=today.replace(day=1), period_end=today)
        assert fetch.invoice_import.status == InvoiceImportStatus.SUCCEEDED
        lines = list(InvoiceLine.objects.filter(invoice_import=fetch.invoice_import))
        assert lines and fetch.invoice_import.line_count == len(lines)
        assert {line.currency for line in lines} == {"EUR"}
        # Fetching the same period again replaces the lines, it does not add to them.
        invoice_lines_import(actor=None, account=account, period_start=today.replace(day=1), period_end=today)
        assert InvoiceLine.objects.count() == len(lines)
        assert AuditEvent.objects.filter(action="reports.invoices.fetch", result="success").count() == 2


def test_a_failed_or_unsupported_fetch_is_recorded_not_raised(also_simulator, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        wrong = AccountFactory(username=DEMO_USERNAME, secret_ciphertext=secret_encrypt("wrong"))
        fetch = invoice_lines_import(
            actor=None, account=wrong, period_start=date(2024, 2, 1), period_end=date(2024, 2, 29)
        )
        assert fetch.invoice_import.status == InvoiceImportStatus.FAILED
        assert "password" in fetch.invoice_import.error_message
        cloudmore = AccountFactory(marketplace="cloudmore", secret_ciphertext=secret_encrypt("x"))

        class NoInvoices:
            def supports(self, capability):
                return False

            def close(self):
                pass

        fetch = invoice_lines_import(
            actor=None,
            account=cloudmore,
            period_start=date(2024, 2, 1),
            period_end=date(2024, 2, 29),
            provider=NoInvoices(),
        )
        assert fetch.invoice_import.status == InvoiceImportStatus.UNSUPPORTED
        assert AuditEvent.objects.filter(action="reports.invoices.fetch", result="failure").count() == 2


def test_the_fetch_button_is_for_report_managers_and_runs_in_the_background(
    also_simulator, partner_alpha, django_capture_on_commit_callbacks
):
    with schema_context(partner_alpha.schema_name):
        AccountFactory(username=DEMO_USERNAME, secret_ciphertext=secret_encrypt(DEMO_PASSWORD))
        user_with("viewer", {PermissionModule.REPORTS: AccessLevel.VIEW})
        user_with("manager", {PermissionModule.REPORTS: AccessLevel.MANAGE})
    viewer = signed_in_client(partner_alpha, "viewer", PASSWORD)
    assert viewer.post("/reports/reconciliation/fetch/", {"month": "2024-02"}).status_code == 403
    assert "fetch-invoices" not in viewer.get(f"/reports/reconciliation/?{FEBRUARY}").content.decode()
    manager = signed_in_client(partner_alpha, "manager", PASSWORD)
    assert manager.get("/reports/reconciliation/fetch/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post("/reports/reconciliation/fetch/", {"month": "2024-02"})
    assert response.status_code == 302 and response["Location"] == "/reports/reconciliation/?month=2024-02"
    with schema_context(partner_alpha.schema_name):
        fetched = InvoiceImport.objects.get()
        assert (fetched.period_start, fetched.period_end, fetched.status) == (
            date(2024, 2, 1),
            date(2024, 2, 29),
            InvoiceImportStatus.SUCCEEDED,
        )
    page = manager.get(f"/reports/reconciliation/?{FEBRUARY}").content.decode()
    assert "Fetched" in page


def test_an_issued_cycle_is_kept_for_the_screen_until_invoices_arrive_and_per_user_scope(
    billing_world, alpha_admin_client, partner_alpha
):
    """An issued cycle's rows are computed once and kept; fetching the marketplace's invoice is seen
    at once, and a role scoped to one customer never gets the rows the administrator was shown."""
    from django.utils import timezone

    from reports.billing import BillingCycle
    from reports.statements import billing_cycle_close

    with schema_context(partner_alpha.schema_name):
        billing_cycle_close(actor="test", cycle=BillingCycle(start=date(2024, 2, 1), end=date(2024, 2, 29)))
        connect(billing_world.account, billing_world.ours_subscription.customer_tenant, "C-1")
        scoped_viewer("scoped", [billing_world.ours])
    first = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}").content.decode()
    assert "Zenith Logistics" in first and "Alpine Bakery" in first
    again = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}").content.decode()
    assert again.count("<tr") == first.count("<tr")

    scoped = signed_in_client(partner_alpha, "scoped", PASSWORD).get(f"/reports/reconciliation/?{FEBRUARY}")
    assert "Alpine Bakery" in scoped.content.decode() and "Zenith Logistics" not in scoped.content.decode()

    with schema_context(partner_alpha.schema_name):
        invoice_import = InvoiceImport.objects.create(
            account=billing_world.account,
            period_start=date(2024, 2, 1),
            period_end=date(2024, 2, 29),
            status=InvoiceImportStatus.SUCCEEDED,
            line_count=1,
            fetched_at=timezone.now(),
        )
        invoice(invoice_import, "C-1", "EXO|Monthly", 2, name="Exchange Online")
    fetched = alpha_admin_client.get(f"/reports/reconciliation/?{FEBRUARY}&gap=unbilled").content.decode()
    assert "Exchange Online" in fetched
