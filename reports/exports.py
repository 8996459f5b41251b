"""Streamed CSV and XLSX exports, and the PDF of a customer's billing report.

Every cell is written by `portal.core.exports`, which keeps a spreadsheet from running text as a
formula. A large partner's export must not sit in memory: CSV rows are written to the response as the
report's generator yields them (`StreamingHttpResponse`); XLSX rows go through openpyxl's write-only
workbook, which spools each row to disk as it comes, into a temporary file that is then streamed
in chunks (`FileResponse`) and deleted when the response closes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.core.exports import csv_lines, xlsx_cell

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(value: Any) -> str:
    """A value as the PDF prints it (a PDF runs nothing, so text is not neutralised there)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def export_filename(stem: str, extension: str) -> str:
    return f"{slugify(stem) or 'report'}-{timezone.localdate():%Y%m%d}.{extension}"


def stream_csv(*, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_file(*, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    """The workbook in an anonymous temporary file, positioned at its start (the caller closes it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or "Report")[:31])
    bold = Font(bold=True)
    header_cells = []
    for column in header:
        cell = WriteOnlyCell(sheet, value=xlsx_cell(str(column)))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    spooled = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        workbook.save(spooled)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def stream_xlsx(
    *, filename: str, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> FileResponse:
    spooled = xlsx_file(sheet_title=sheet_title, header=header, rows=rows)
    return FileResponse(spooled, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def export_response(
    *, export_format: str, stem: str, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse | FileResponse:
    if export_format == "xlsx":
        return stream_xlsx(filename=export_filename(stem, "xlsx"), sheet_title=sheet_title, header=header, rows=rows)
    return stream_csv(filename=export_filename(stem, "csv"), header=header, rows=rows)


# -- PDF ------------------------------------------------------------------------------------------------------------

_FONT_DIRECTORY = Path(__file__).resolve().parent / "fonts"


def pdf_response(*, filename: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Document:
    """A small layer over fpdf2 with the vendored fonts: DejaVu Sans for text, IPAexGothic for what
    DejaVu lacks (Japanese), so a document prints in every language the console speaks."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_title(title)
        self.pdf.set_lang(get_language() or "en")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_font("Body", "", str(_FONT_DIRECTORY / "DejaVuSans.ttf"))
        self.pdf.add_font("Body", "B", str(_FONT_DIRECTORY / "DejaVuSans-Bold.ttf"))
        self.pdf.add_font("Japanese", "", str(_FONT_DIRECTORY / "ipaexg.ttf"))
        self.pdf.add_font("Japanese", "B", str(_FONT_DIRECTORY / "ipaexg.ttf"))
        self.pdf.set_fallback_fonts(["Japanese"], exact_match=False)
        self.family = "Body"
        self.pdf.add_page()

    def text(self, value: Any) -> str:
        return _text(value)

    def heading(self, value: str, size: int = 14) -> None:
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, 7, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, value: str, size: int = 9) -> None:
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(0, 5, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def table(self, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int], size: int = 8) -> None:
        from fpdf.fonts import FontFace

        self.pdf.set_font(self.family, "", size)
        with self.pdf.table(
            col_widths=tuple(widths), text_align="LEFT", headings_style=FontFace(emphasis="BOLD"), line_height=5
        ) as table:
            heading = table.row()
            for column in header:
                heading.cell(self.text(column))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.text(value))

    def space(self, height: float = 3) -> None:
        self.pdf.ln(height)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def billing_pdf(*, partner_name: str, customer, summaries) -> bytes:
    """A customer's billing report: per cycle, per subscription, every line with how it was computed.

    Made in the active language; the view enters the customer's preferred language first."""
    from catalog.pricing import money_format
    from portal.core.formatting import when_text
    from reports.choices import BillingLineKind

    title = _("Billing report for %(customer)s") % {"customer": customer.name}
    columns = [_("Line"), _("Effective"), _("Seats"), _("Days"), _("Unit price"), _("Computation"), _("Amount")]
    document = _Document(title)
    document.heading(title, 15)
    document.paragraph(partner_name)
    address = ", ".join(
        part
        for part in (customer.address_line1, customer.postal_code, customer.city, str(customer.country.name or ""))
        if part
    )
    document.paragraph(f"{customer.name}" + (f" · {address}" if address else ""))
    document.paragraph(_("Generated on %(day)s") % {"day": when_text(timezone.localdate())})
    for summary in summaries:
        document.space(4)
        totals = " · ".join(money_format(amount, currency) for currency, amount in summary.total.items())
        document.heading(
            _("Billing report dated %(date)s (cycle %(start)s – %(end)s)")
            % {
                "date": when_text(summary.cycle.report_date),
                "start": when_text(summary.cycle.start),
                "end": when_text(summary.cycle.end),
            },
            12,
        )
        document.paragraph(f"{_('Total')}: {totals or '—'}", 10)
        if summary.issued_at is not None:
            document.paragraph(_("Issued on %(day)s") % {"day": when_text(timezone.localdate(summary.issued_at))}, 8)
        if not summary.bills:
            document.paragraph(_("Nothing billed in this cycle."))
            continue
        for bill in summary.bills:
            document.space(2)
            name = f"{bill.friendly_name} ({bill.name})" if bill.friendly_name else bill.name
            if bill.po_number:
                name += " · " + _("PO %(number)s") % {"number": bill.po_number}
            document.heading(f"{name} · {bill.account_name} · {money_format(bill.total, bill.currency)}", 10)
            if bill.price is not None:
                document.paragraph(
                    _("Unit price")
                    + ": "
                    + " → ".join(
                        f"{step.label} {money_format(step.amount, bill.price.currency)}" for step in bill.price.steps
                    ),
                    7,
                )
            else:
                document.paragraph(_("No price: the offer is no longer in the catalog."), 8)
                continue
            document.table(
                columns,
                [
                    (
                        str(BillingLineKind(line.kind).label),
                        when_text(line.day),
                        line.quantity,
                        f"{line.days}/{line.period_days}" if line.period_days else "",
                        money_format(line.unit_price, line.currency),
                        line.formula,
                        money_format(line.amount, line.currency),
                    )
                    for line in bill.lines
                ],
                widths=(26, 20, 12, 16, 20, 62, 24),
            )
    return document.output()


def invoice_pdf(*, partner_name: str, invoice_import, invoice_id: str, lines, totals) -> bytes:
    """A marketplace invoice printed from its lines as fetched, where the marketplace hands out no PDF
    of its own (and for a preview, which is no invoice yet and says so)."""
    from catalog.pricing import money_format
    from portal.core.formatting import when_text

    title = _("Invoice %(number)s") % {"number": invoice_id}
    document = _Document(title)
    if invoice_import.preview:
        document.heading(_("PREVIEW: not an invoice. The period is still open and may change."), 11)
    document.heading(title, 15)
    document.paragraph(partner_name)
    document.paragraph(
        _("%(account)s · %(start)s – %(end)s")
        % {
            "account": invoice_import.account.display_name,
            "start": when_text(invoice_import.period_start),
            "end": when_text(invoice_import.period_end),
        }
    )
    document.paragraph(_("Fetched on %(day)s") % {"day": when_text(timezone.localdate(invoice_import.fetched_at))}, 8)
    document.space(3)
    document.table(
        [_("Customer"), _("Service"), _("Charge"), _("Charged"), _("Quantity"), _("Unit price"), _("Amount")],
        [
            (
                line.customer_name or line.customer_external_id,
                line.name,
                line.charge_type,
                f"{when_text(line.charge_start)} – {when_text(line.charge_end)}",
                line.quantity,
                money_format(line.unit_price, line.currency),
                money_format(line.amount, line.currency),
            )
            for line in lines
        ],
        widths=(34, 46, 18, 34, 14, 20, 24),
    )
    document.space(3)
    for currency, total in totals:
        document.heading(f"{_('Total')}: {money_format(total, currency)}", 11)
    return document.output()
