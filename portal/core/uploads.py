"""Reading an uploaded table (XLSX or CSV) without letting the file decide how much memory it takes.

An XLSX file is a zip: a few kilobytes can expand to gigabytes, and openpyxl loads every shared
string into memory when it opens a workbook, even in read-only mode. So before openpyxl touches
the file, every zip member's uncompressed size is checked (zipfile never yields more than the size
a member declares: a member that lies fails its CRC check), the shared strings on their own, and
XML that declares entities is refused. Then rows, columns and the length of each cell are bounded
while reading. Every refusal is a translated sentence that names the limit.

Every screen that accepts a table calls `upload_table_read` with its own `UploadLimits`.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

SHARED_STRINGS_MEMBER = "xl/sharedStrings.xml"


class UploadRefused(Exception):
    """The upload was not read; the message says why and which limit it passed."""


@dataclass(frozen=True)
class UploadLimits:
    file_bytes: int = 2 * 1024 * 1024
    # An XLSX template of 1,000 rows expands to well under 1 MB; these leave room for styling.
    expanded_bytes: int = 16 * 1024 * 1024
    member_bytes: int = 8 * 1024 * 1024
    shared_strings_bytes: int = 4 * 1024 * 1024
    zip_members: int = 200
    rows: int = 1000
    columns: int = 50
    cell_characters: int = 1000


def _count(value: int) -> str:
    return number_format(value, force_grouping=True)


def _cell(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _check_xlsx_archive(content: bytes, limits: UploadLimits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UploadRefused(
            _("The file could not be read as an Excel workbook. Upload the XLSX or CSV template.")
        ) from error
    with archive:
        members = archive.infolist()
        if len(members) > limits.zip_members:
            raise UploadRefused(
                _("The workbook has more than %(count)s parts: save it again as a plain XLSX file.")
                % {"count": _count(limits.zip_members)}
            )
        expanded = 0
        for member in members:
            if member.filename == SHARED_STRINGS_MEMBER and member.file_size > limits.shared_strings_bytes:
                raise UploadRefused(
                    _("The text in the workbook expands to more than %(size)s: the file is refused.")
                    % {"size": filesizeformat(limits.shared_strings_bytes)}
                )
            if member.file_size > limits.member_bytes:
                raise UploadRefused(
                    _("A part of the workbook expands to more than %(size)s: the file is refused.")
                    % {"size": filesizeformat(limits.member_bytes)}
                )
            expanded += member.file_size
            if expanded > limits.expanded_bytes:
                raise UploadRefused(
                    _("The workbook expands to more than %(size)s: the file is refused.")
                    % {"size": filesizeformat(limits.expanded_bytes)}
                )
        for member in members:
            if not member.filename.endswith((".xml", ".rels")):
                continue
            try:
                head = archive.open(member).read(4096)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
                raise UploadRefused(
                    _("The file could not be read as an Excel workbook. Upload the XLSX or CSV template.")
                ) from error
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise UploadRefused(_("The workbook declares XML entities, which a template never does."))


def _too_many_rows(limits: UploadLimits) -> UploadRefused:
    return UploadRefused(
        _("The file has more than %(count)s rows: split it into several files.") % {"count": _count(limits.rows)}
    )


def _check_row(values: list[str], line: int, limits: UploadLimits) -> None:
    for column, value in enumerate(values, start=1):
        if len(value) > limits.cell_characters:
            raise UploadRefused(
                _("Row %(line)s, column %(column)s is longer than %(count)s characters: the file is refused.")
                % {"line": line, "column": column, "count": _count(limits.cell_characters)}
            )


class _RowCounter:
    """Counts rows with something in them (the header included); blank rows are bounded too,
    generously, since spreadsheets often carry formatted empty rows."""

    def __init__(self, limits: UploadLimits):
        self.limits = limits
        self.filled = 0
        self.read = 0

    def add(self, values: list[str]) -> None:
        self.read += 1
        if any(values):
            self.filled += 1
        if self.filled > self.limits.rows + 1 or self.read > 10 * (self.limits.rows + 1):
            raise _too_many_rows(self.limits)


def _read_xlsx(content: bytes, limits: UploadLimits) -> list[list[str]]:
    _check_xlsx_archive(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise UploadRefused(
            _("The file could not be read as an Excel workbook. Upload the XLSX or CSV template.")
        ) from error
    try:
        if not workbook.worksheets:
            return []
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        counter = _RowCounter(limits)
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(values) > limits.columns and any(value is not None for value in values[limits.columns :]):
                raise UploadRefused(
                    _("The file has more than %(count)s columns: keep only the template's columns.")
                    % {"count": _count(limits.columns)}
                )
            row = [_cell(value) for value in values[: limits.columns]]
            _check_row(row, line, limits)
            counter.add(row)
            rows.append(row)
        return rows
    finally:
        workbook.close()


def _read_csv(content: bytes, limits: UploadLimits) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRefused(
            _("The file is not a UTF-8 text file. Save it as CSV (UTF-8) or upload the XLSX template.")
        ) from error
    if "\x00" in text:
        raise UploadRefused(_("The file is not a CSV file. Upload the XLSX or CSV template."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows: list[list[str]] = []
    counter = _RowCounter(limits)
    try:
        for line, values in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            if len(values) > limits.columns and any(values[limits.columns :]):
                raise UploadRefused(
                    _("The file has more than %(count)s columns: keep only the template's columns.")
                    % {"count": _count(limits.columns)}
                )
            row = [_cell(value) for value in values[: limits.columns]]
            _check_row(row, line, limits)
            counter.add(row)
            rows.append(row)
    except csv.Error as error:
        raise UploadRefused(_("The CSV file could not be read: %(error)s") % {"error": error}) from error
    return rows


def upload_table_read(*, name: str, content: bytes, limits: UploadLimits | None = None) -> list[list[str]]:
    """The rows of an uploaded XLSX (first sheet) or CSV file as lists of strings, the header first,
    whitespace collapsed. Raises UploadRefused with a sentence for the user. Read an upload with
    `upload.read(limits.file_bytes + 1)`, so a huge file is never read whole."""
    limits = limits or UploadLimits()
    if not content:
        raise UploadRefused(_("The file is empty."))
    if len(content) > limits.file_bytes:
        raise UploadRefused(_("The file is larger than %(size)s.") % {"size": filesizeformat(limits.file_bytes)})
    lowered = name.lower()
    if lowered.endswith(".xlsx") or content[:2] == b"PK":
        return _read_xlsx(content, limits)
    if lowered.endswith((".csv", ".txt")):
        return _read_csv(content, limits)
    raise UploadRefused(_("Upload the template as an XLSX or CSV file."))
