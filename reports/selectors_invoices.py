"""Reads of the Invoices section: the partner's marketplace invoices (what it pays, as fetched for
reconciliation), and for a customer's own users the statements issued to their customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Min, QuerySet, Sum

from customers.selectors import customers_visible_to
from reports.models import BillingStatement, InvoiceImport, InvoiceLine


@dataclass(frozen=True)
class MarketplaceInvoice:
    """One marketplace invoice as fetched: its lines are `InvoiceLine` rows of one import."""

    import_id: int
    invoice_id: str
    account_name: str
    marketplace: str
    account_id: int
    period_start: date
    period_end: date
    currency: str
    total: Decimal
    line_count: int
    first_charge: date
    last_charge: date
    preview: bool = False


def marketplace_invoices(*, account_id: int | None = None, year: int | None = None) -> list[MarketplaceInvoice]:
    """Every fetched invoice, newest period first, with its total and line count."""
    lines = InvoiceLine.objects.all()
    if account_id is not None:
        lines = lines.filter(invoice_import__account_id=account_id)
    if year is not None:
        lines = lines.filter(invoice_import__period_end__year=year)
    rows = (
        lines.values(
            "invoice_import_id",
            "invoice_id",
            "currency",
            "invoice_import__account_id",
            "invoice_import__account__display_name",
            "invoice_import__account__marketplace",
            "invoice_import__period_start",
            "invoice_import__period_end",
            "invoice_import__preview",
        )
        .annotate(total=Sum("amount"), line_count=Count("pk"), first=Min("charge_start"), last=Max("charge_end"))
        .order_by(
            "-invoice_import__preview",
            "-invoice_import__period_end",
            "invoice_import__account__display_name",
            "invoice_id",
        )
    )
    return [
        MarketplaceInvoice(
            import_id=row["invoice_import_id"],
            invoice_id=row["invoice_id"],
            account_name=row["invoice_import__account__display_name"],
            marketplace=row["invoice_import__account__marketplace"],
            account_id=row["invoice_import__account_id"],
            period_start=row["invoice_import__period_start"],
            period_end=row["invoice_import__period_end"],
            currency=row["currency"],
            total=row["total"],
            line_count=row["line_count"],
            first_charge=row["first"],
            last_charge=row["last"],
            preview=row["invoice_import__preview"],
        )
        for row in rows
    ]


def marketplace_invoice_lines(*, import_id: int, invoice_id: str) -> QuerySet[InvoiceLine]:
    return (
        InvoiceLine.objects.filter(invoice_import_id=import_id, invoice_id=invoice_id)
        .select_related("invoice_import__account")
        .order_by("customer_name", "name", "charge_start", "id")
    )


def statements_visible_to(*, user) -> QuerySet[BillingStatement]:
    """The statements issued to the customers the user may see (a customer's own invoices)."""
    return (
        BillingStatement.objects.filter(customer__in=customers_visible_to(user=user))
        .select_related("close")
        .order_by("-cycle_end", "customer_name", "currency")
    )


def invoice_document(*, invoice_import: InvoiceImport, invoice_id: str) -> bytes | None:
    """The marketplace's own PDF of an issued invoice, where it hands one out; None otherwise (a preview
    is never issued). Raises the provider's errors for the screen to say what went wrong."""
    from marketplace.connections import provider_for_account

    if invoice_import.preview:
        return None
    provider = provider_for_account(invoice_import.account)
    try:
        return provider.invoice_document(invoice_id=invoice_id)
    finally:
        provider.close()
