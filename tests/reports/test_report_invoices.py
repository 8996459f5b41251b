"""The Invoices section: the partner's marketplace invoices by period with totals, lines, downloads and
a link to reconciliation; a customer's own users see the statements issued to their customer, and
nothing of another customer or of the partner's costs."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from marketplace.connections import override_provider_transport
from marketplace.secrets import secret_encrypt
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from reports.billing import BillingCycle
from reports.models import BillingStatement, InvoiceLine
from reports.services import invoice_lines_import
from reports.statements import billing_cycle_close
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from tests.factories.accounts import user_with
from tests.factories.marketplace import AccountFactory
from tests.factories.reports import REPORTS_AND_COST, REPORTS_VIEW
from tests.support import PASSWORD, signed_in_client

FEBRUARY = BillingCycle(start=date(2024, 2, 1), end=date(2024, 2, 29))


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def fetched(partner_alpha):
    """This month's ALSO invoices, fetched as reconciliation fetches them."""
    simulator = AlsoSimulator()
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        with schema_context(partner_alpha.schema_name):
            account = AccountFactory(
                display_name="ALSO Germany", username=DEMO_USERNAME, secret_ciphertext=secret_encrypt(DEMO_PASSWORD)
            )
            today = timezone.localdate()
            fetch = invoice_lines_import(
                actor=None, account=account, period_start=today.replace(day=1), period_end=today
            )
            yield fetch.invoice_import


def test_the_partner_sees_each_marketplace_invoice_with_its_total(partner_alpha, fetched):
    client = signed_in_client(partner_alpha)
    page = text(client.get(reverse("invoices:invoice_list")))

    with schema_context(partner_alpha.schema_name):
        invoice_ids = set(InvoiceLine.objects.values_list("invoice_id", flat=True))
        first = sorted(invoice_ids)[0]
        total = sum(line.amount for line in InvoiceLine.objects.filter(invoice_id=first))
    assert 'data-testid="invoice-table"' in page
    for invoice_id in invoice_ids:
        assert f">{invoice_id}</a>" in page
    assert "ALSO Germany" in page
    detail = text(client.get(reverse("invoices:invoice_detail", args=[fetched.pk, first])))
    assert f"€{total:,.2f}" in detail
    assert f"month={fetched.period_end:%Y-%m}&amp;account={fetched.account_id}" in detail


def test_an_invoice_downloads_as_csv_with_every_line(partner_alpha, fetched):
    client = signed_in_client(partner_alpha)
    with schema_context(partner_alpha.schema_name):
        invoice_id = InvoiceLine.objects.values_list("invoice_id", flat=True).first()
        count = InvoiceLine.objects.filter(invoice_id=invoice_id).count()

    response = client.get(reverse("invoices:invoice_detail", args=[fetched.pk, invoice_id]), {"format": "csv"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["Invoice", "Customer"]
    assert len(rows) == count + 1 and {row[0] for row in rows[1:]} == {invoice_id}


def test_without_invoices_the_list_says_where_to_fetch_them(alpha_admin_client):
    page = text(alpha_admin_client.get(reverse("invoices:invoice_list")))
    assert 'data-testid="no-invoices"' in page and "Reconciliation" in page


def test_a_reports_viewer_without_cost_prices_is_refused_and_an_unknown_invoice_is_404(partner_alpha, fetched):
    with schema_context(partner_alpha.schema_name):
        user_with("viewer", REPORTS_VIEW)
        user_with("costs", REPORTS_AND_COST)
    viewer = signed_in_client(partner_alpha, username="viewer", password=PASSWORD)
    costs = signed_in_client(partner_alpha, username="costs", password=PASSWORD)

    assert viewer.get(reverse("invoices:invoice_list")).status_code == 403
    assert costs.get(reverse("invoices:invoice_list")).status_code == 200
    assert costs.get(reverse("invoices:invoice_detail", args=[fetched.pk, "NOPE"])).status_code == 404


def test_a_customers_own_user_sees_its_issued_statements_only(partner_alpha, billing_world):
    with schema_context(partner_alpha.schema_name):
        billing_cycle_close(actor="test", cycle=FEBRUARY)
        ours = BillingStatement.objects.get(customer=billing_world.ours)
        theirs = BillingStatement.objects.get(customer=billing_world.theirs)
        admin = user_with(
            "bakeryadmin",
            {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW},
            all_customers=False,
            kind=UserKind.CUSTOMER_ADMIN,
        )
        admin.customers.add(billing_world.ours)
    client = signed_in_client(partner_alpha, username="bakeryadmin", password=PASSWORD)

    page = text(client.get(reverse("invoices:invoice_list")))
    assert "Alpine Bakery" in page and "Zenith Logistics" not in page
    assert "€57.57" in page
    detail = text(client.get(reverse("invoices:statement_detail", args=[ours.pk])))
    assert 'data-testid="statement-total">€57.57<' in detail
    assert client.get(reverse("invoices:statement_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("invoices:invoice_detail", args=[1, "X"])).status_code == 404


def test_another_partner_sees_none_of_alphas_invoices(partner_beta, fetched):
    beta = signed_in_client(partner_beta)
    page = text(beta.get(reverse("invoices:invoice_list")))
    assert 'data-testid="no-invoices"' in page
    assert beta.get(reverse("invoices:invoice_detail", args=[fetched.pk, "x"])).status_code == 404
