"""The Invoices section. A partner user with the reports module and cost prices sees the partner's
invoices from each marketplace (as fetched for reconciliation), by period with totals, lines and
CSV / XLSX downloads, linked to that period's reconciliation. A customer's own users (and a partner
user who opened a customer's account) see the statements issued to their customer. Views stay thin."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketplace.providers.base import ProviderError
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import user_has_permission, user_sees_cost_prices
from portal.core.tasks import enqueue_on_commit
from portal.partners.selectors import partner_current
from reports.exports import EXPORT_FORMATS, export_response, invoice_pdf, pdf_response
from reports.selectors import report_accounts
from reports.selectors_invoices import (
    invoice_document,
    marketplace_invoice_lines,
    marketplace_invoices,
    statements_visible_to,
)
from reports.tasks import invoice_previews_fetch

MANAGE = AccessLevel.MANAGE

PER_PAGE = 25


def partner_sees_invoices(user) -> bool:
    """The marketplace invoices are what the partner pays: its own business, with cost prices."""
    return (
        user.kind == UserKind.PARTNER
        and user_has_permission(user, PermissionModule.REPORTS, AccessLevel.VIEW)
        and user_sees_cost_prices(user)
    )


def customer_sees_statements(user) -> bool:
    return user.kind == UserKind.CUSTOMER_ADMIN and user_has_permission(user, PermissionModule.SUBSCRIPTIONS)


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    if customer_sees_statements(request.user):
        page = Paginator(statements_visible_to(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "reports/invoice_statements.html", {"page": page})
    if not partner_sees_invoices(request.user):
        raise PermissionDenied
    accounts = report_accounts()
    raw_account, raw_year = request.GET.get("account", ""), request.GET.get("year", "")
    account = accounts.filter(pk=int(raw_account)).first() if raw_account.isdigit() else None
    year = int(raw_year) if raw_year.isdigit() else None
    invoices = marketplace_invoices(account_id=account.pk if account else None, year=year)
    page = Paginator(invoices, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "accounts": accounts,
        "account": account,
        "year": year,
        "can_fetch_previews": user_has_permission(request.user, PermissionModule.REPORTS, MANAGE),
    }
    return render(request, "reports/invoice_list.html", context)


def _invoice(request: HttpRequest, import_pk: int, invoice_id: str):
    if not partner_sees_invoices(request.user):
        raise Http404 if request.user.kind == UserKind.CUSTOMER_ADMIN else PermissionDenied
    lines = marketplace_invoice_lines(import_id=import_pk, invoice_id=invoice_id)
    first = lines.first()
    if first is None:
        raise Http404
    return first.invoice_import, lines


@login_required
@require_GET
def invoice_detail(request: HttpRequest, import_pk: int, invoice_id: str) -> HttpResponse:
    invoice_import, lines = _invoice(request, import_pk, invoice_id)
    export_format = request.GET.get("format", "")
    if export_format in EXPORT_FORMATS:
        return _export(export_format, invoice_id, lines)
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
    if export_format == "pdf":
        return _pdf(request, invoice_import, invoice_id, lines, sorted(totals.items()))
    context = {
        "invoice_import": invoice_import,
        "invoice_id": invoice_id,
        "lines": lines,
        "totals": sorted(totals.items()),
        "reconciliation_month": invoice_import.period_end.strftime("%Y-%m"),
    }
    return render(request, "reports/invoice_detail.html", context)


def _stem(invoice_id: str) -> str:
    return "invoice-" + "".join(character if character.isalnum() else "-" for character in invoice_id)


def _pdf(request: HttpRequest, invoice_import, invoice_id: str, lines, totals) -> HttpResponse:
    """The marketplace's own PDF where it has one (Partner Center's statement), else the invoice printed
    from its lines; a preview is printed and marked as one."""
    try:
        document = invoice_document(invoice_import=invoice_import, invoice_id=invoice_id)
    except ProviderError as error:
        messages.error(request, _("The marketplace did not hand out the invoice's PDF: %(error)s") % {"error": error})
        return redirect("invoices:invoice_detail", import_pk=invoice_import.pk, invoice_id=invoice_id)
    if document is None:
        partner = partner_current()
        document = invoice_pdf(
            partner_name=partner.name if partner else "",
            invoice_import=invoice_import,
            invoice_id=invoice_id,
            lines=lines,
            totals=totals,
        )
    return pdf_response(filename=f"{_stem(invoice_id)}.pdf", content=document)


@login_required
@require_POST
def invoice_previews_fetch_view(request: HttpRequest) -> HttpResponse:
    """Fetch the preview invoices of every marketplace account (those whose marketplace has previews)."""
    if not (
        partner_sees_invoices(request.user) and user_has_permission(request.user, PermissionModule.REPORTS, MANAGE)
    ):
        raise PermissionDenied
    accounts = list(report_accounts())
    for account in accounts:
        enqueue_on_commit(invoice_previews_fetch, account_id=account.pk, actor_id=request.user.pk)
    messages.success(request, _("Fetching the preview invoices; reload in a moment."))
    return redirect("invoices:invoice_list")


def _export(export_format: str, invoice_id: str, lines):
    header = [
        _("Invoice"),
        _("Customer"),
        _("Marketplace customer ID"),
        _("Subscription ID"),
        _("Offer ID"),
        _("Name"),
        _("Charge"),
        _("Charged from"),
        _("Charged until"),
        _("Quantity"),
        _("Unit price"),
        _("Amount"),
        _("Currency"),
    ]
    rows = (
        [
            line.invoice_id,
            line.customer_name,
            line.customer_external_id,
            line.subscription_external_id,
            line.offer_external_id,
            line.name,
            line.charge_type,
            line.charge_start,
            line.charge_end,
            line.quantity,
            line.unit_price,
            line.amount,
            line.currency,
        ]
        for line in lines
    )
    return export_response(
        export_format=export_format, stem=_stem(invoice_id), sheet_title=_("Invoice"), header=header, rows=rows
    )


@login_required
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A statement issued to a customer: its lines as issued, never recomputed. The customer's own users
    and the partner's report viewers who see that customer open it."""
    user = request.user
    if not (customer_sees_statements(user) or user_has_permission(user, PermissionModule.REPORTS)):
        raise Http404
    statement = get_object_or_404(statements_visible_to(user=request.user), pk=pk)
    lines = statement.lines.order_by("position")
    return render(request, "reports/invoice_statement_detail.html", {"statement": statement, "lines": lines})
