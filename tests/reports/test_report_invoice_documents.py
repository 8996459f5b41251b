"""Invoices in the console: ALSO's preview invoices fetched, listed and marked as previews (and kept out
of reconciliation); each invoice downloads as a PDF, Partner Center's own statement where the
marketplace hands one out, the console's print otherwise; CSV cells never become formulas."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from marketplace.connections import override_provider_transport, secret_options_encrypt
from marketplace.models import MarketplaceAccount
from marketplace.secrets import secret_encrypt
from reports.billing import BillingCycle
from reports.models import InvoiceImport, InvoiceLine
from reports.reconciliation import invoice_imports_for
from reports.services import invoice_lines_import, invoice_previews_import
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from simulators.partner_center import DEMO_CONNECTION, PartnerCenterSimulator
from tests.factories.accounts import user_with
from tests.factories.marketplace import AccountFactory
from tests.factories.reports import REPORTS_AND_COST
from tests.support import PASSWORD, signed_in_client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def also_previews(partner_alpha):
    """ALSO on 2026-03-06 at noon, after the month's first Friday morning: its previews exist."""
    simulator = AlsoSimulator()
    simulator.advance_clock(seconds=(datetime(2026, 3, 6, 12, tzinfo=UTC) - simulator.now()).total_seconds())
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        with schema_context(partner_alpha.schema_name):
            account = AccountFactory(
                display_name="ALSO Germany", username=DEMO_USERNAME, secret_ciphertext=secret_encrypt(DEMO_PASSWORD)
            )
            yield account


def test_preview_invoices_are_listed_marked_and_kept_out_of_reconciliation(partner_alpha, also_previews):
    with schema_context(partner_alpha.schema_name):
        first = invoice_previews_import(actor=None, account=also_previews)
        again = invoice_previews_import(actor=None, account=also_previews)
        assert first is not None and again is not None
        preview = InvoiceImport.objects.get(preview=True)  # the second fetch replaced the first
        assert preview.pk == again.invoice_import.pk and preview.line_count > 0
        assert (preview.period_start, preview.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
        invoice_id = InvoiceLine.objects.filter(invoice_import=preview).values_list("invoice_id", flat=True).first()
        cycle = BillingCycle(start=date(2026, 3, 1), end=date(2026, 3, 31))
        assert invoice_imports_for(cycle=cycle, accounts=[also_previews]) == {}

    client = signed_in_client(partner_alpha)
    listing = text(client.get(reverse("invoices:invoice_list")))
    assert f">{invoice_id}</a> " in listing and 'data-testid="invoice-preview"' in listing
    detail = text(client.get(reverse("invoices:invoice_detail", args=[preview.pk, invoice_id])))
    assert 'data-testid="invoice-preview"' in detail and "A preview is not an invoice" in detail
    assert 'data-testid="invoice-reconciliation"' not in detail

    pdf = client.get(reverse("invoices:invoice_detail", args=[preview.pk, invoice_id]), {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"%%EOF" in pdf.content[-64:]


def test_the_preview_fetch_button_needs_reports_management(
    partner_alpha, also_previews, django_capture_on_commit_callbacks
):
    with schema_context(partner_alpha.schema_name):
        user_with("costs", REPORTS_AND_COST)
    costs = signed_in_client(partner_alpha, username="costs", password=PASSWORD)
    assert 'data-testid="invoice-previews-fetch"' not in text(costs.get(reverse("invoices:invoice_list")))
    assert costs.post(reverse("invoices:invoice_previews_fetch")).status_code == 403

    admin = signed_in_client(partner_alpha)
    assert 'data-testid="invoice-previews-fetch"' in text(admin.get(reverse("invoices:invoice_list")))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("invoices:invoice_previews_fetch"))
    assert response.status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert InvoiceImport.objects.filter(preview=True, account=also_previews, line_count__gt=0).exists()


def test_an_also_invoice_prints_as_the_consoles_pdf_and_its_csv_stays_text(partner_alpha):
    simulator = AlsoSimulator()
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        with schema_context(partner_alpha.schema_name):
            account = AccountFactory(username=DEMO_USERNAME, secret_ciphertext=secret_encrypt(DEMO_PASSWORD))
            today = timezone.localdate()
            fetch = invoice_lines_import(
                actor=None, account=account, period_start=today.replace(day=1), period_end=today
            )
            line = InvoiceLine.objects.filter(invoice_import=fetch.invoice_import).first()
            line.customer_name = '=HYPERLINK("http://evil")'
            line.save()
        client = signed_in_client(partner_alpha)
        url = reverse("invoices:invoice_detail", args=[fetch.invoice_import.pk, line.invoice_id])
        pdf = client.get(url, {"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith('attachment; filename="invoice-')
    body = b"".join(client.get(url, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    cells = [row[1] for row in csv.reader(io.StringIO(body))][1:]
    assert '\'=HYPERLINK("http://evil")' in cells and not any(cell.startswith("=") for cell in cells)


@pytest.fixture
def partner_center(partner_alpha):
    simulator = PartnerCenterSimulator()
    with override_provider_transport("partner_center", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        with schema_context(partner_alpha.schema_name):
            account = MarketplaceAccount.objects.create(
                marketplace="partner_center",
                display_name="Microsoft direct",
                region=DEMO_CONNECTION.region,
                username=DEMO_CONNECTION.username,
                secret_ciphertext=secret_encrypt(DEMO_CONNECTION.secret),
                options={"tenant": DEMO_CONNECTION.options["tenant"]},
                secret_options_ciphertext=secret_options_encrypt(
                    {"refresh_token": DEMO_CONNECTION.options["refresh_token"]}
                ),
            )
            yield simulator, account


def test_a_partner_center_invoice_downloads_as_microsofts_own_statement(partner_alpha, partner_center):
    simulator, account = partner_center
    with schema_context(partner_alpha.schema_name):
        today = timezone.localdate()
        fetch = invoice_lines_import(actor=None, account=account, period_start=today.replace(day=1), period_end=today)
        invoice_id = (
            InvoiceLine.objects.filter(invoice_import=fetch.invoice_import).values_list("invoice_id", flat=True).first()
        )
    assert invoice_id, "the simulator's demo subscriptions are invoiced this month"
    client = signed_in_client(partner_alpha)
    detail_url = reverse("invoices:invoice_detail", args=[fetch.invoice_import.pk, invoice_id])
    assert f"{detail_url}?format=pdf" in text(client.get(detail_url))

    pdf = client.get(detail_url, {"format": "pdf"})

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and f"(Microsoft invoice {invoice_id})".encode() in pdf.content
    assert simulator.call_counts["GetInvoiceStatement"] == 1


def test_a_failing_marketplace_document_is_said_not_hidden(partner_alpha, partner_center):
    simulator, account = partner_center
    with schema_context(partner_alpha.schema_name):
        today = timezone.localdate()
        fetch = invoice_lines_import(actor=None, account=account, period_start=today.replace(day=1), period_end=today)
    client = signed_in_client(partner_alpha)
    # an invoice the marketplace does not know (lines kept from an earlier fetch, say)
    with schema_context(partner_alpha.schema_name):
        InvoiceLine.objects.filter(invoice_import=fetch.invoice_import).update(invoice_id="G000000000")
    detail_url = reverse("invoices:invoice_detail", args=[fetch.invoice_import.pk, "G000000000"])
    response = client.get(detail_url, {"format": "pdf"}, follow=True)
    assert response.redirect_chain and "did not hand out the invoice" in text(response)
