"""Batch invite files: the template (XLSX and CSV), reading an upload, and judging each row.

Reading and judging change nothing: the screen shows every row's result first, and only the
confirmation calls `resellers.services.reseller_batch_invite`, which judges the rows again.
"""

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from portal.core.exports import csv_bytes, xlsx_cell
from portal.partners.models import Partner
from resellers.choices import BatchRowResult, ResellerStatus
from resellers.models import ResellerLink
from resellers.selectors import partner_not_invitable_reason

TEMPLATE_HEADERS = ("Organisation name", "Email")
# Header spellings accepted for each column (lower case).
ORGANISATION_HEADERS = {"organisation name", "organization name", "organisation", "organization", "name"}
EMAIL_HEADERS = {"email", "email address", "e-mail", "tenant owner", "tenant owner email"}
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BatchFileUnreadable(Exception):
    """The upload is not a template we can read; the message says what to do."""


@dataclass(frozen=True)
class BatchRow:
    line: int
    organisation_name: str
    email: str
    result: str
    message: str = ""
    partner_id: int | None = None
    partner_name: str = ""

    @property
    def result_label(self) -> str:
        return str(BatchRowResult(self.result).label)

    @property
    def is_actionable(self) -> bool:
        return self.result in (BatchRowResult.INVITE, BatchRowResult.NOT_REGISTERED)


# --- Template -----------------------------------------------------------------------------------


def batch_template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Resellers"
    sheet.append([xlsx_cell(str(header)) for header in TEMPLATE_HEADERS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 40
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def batch_template_csv() -> bytes:
    return csv_bytes(TEMPLATE_HEADERS)


# --- Reading ------------------------------------------------------------------------------------


def _cell(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _read_xlsx(content: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise BatchFileUnreadable(
            _("The file could not be read as an Excel workbook. Upload the XLSX or CSV template.")
        ) from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell(value) for value in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _read_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BatchFileUnreadable(
            _("The file is not a UTF-8 text file. Save it as CSV (UTF-8) or upload the XLSX template.")
        ) from error
    if "\x00" in text:
        raise BatchFileUnreadable(_("The file is not a CSV file. Upload the XLSX or CSV template."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        rows = []
        for values in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append([_cell(value) for value in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error as error:
        raise BatchFileUnreadable(_("The CSV file could not be read: %(error)s") % {"error": error}) from error


def batch_file_read(*, name: str, content: bytes) -> list[tuple[int, str, str]]:
    """(line, organisation name, email) of every non-empty row of an uploaded template."""
    if not content:
        raise BatchFileUnreadable(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise BatchFileUnreadable(_("The file is larger than 2 MB."))
    lowered = name.lower()
    if lowered.endswith(".xlsx") or content[:2] == b"PK":
        table = _read_xlsx(content)
    elif lowered.endswith(".csv") or lowered.endswith(".txt"):
        table = _read_csv(content)
    else:
        raise BatchFileUnreadable(_("Upload the template as an XLSX or CSV file."))
    if not table:
        raise BatchFileUnreadable(_("The file has no rows."))
    header = [value.lower() for value in table[0]]
    organisation_column = next((i for i, value in enumerate(header) if value in ORGANISATION_HEADERS), None)
    email_column = next((i for i, value in enumerate(header) if value in EMAIL_HEADERS), None)
    if email_column is None:
        raise BatchFileUnreadable(
            _("The first row must name the columns %(columns)s: download the template and fill it in.")
            % {"columns": ", ".join(TEMPLATE_HEADERS)}
        )
    rows = []
    for line, values in enumerate(table[1:], start=2):
        if not any(values):
            continue

        def value(index: int | None, values=values) -> str:
            return values[index] if index is not None and index < len(values) else ""

        rows.append((line, value(organisation_column), value(email_column)))
    if not rows:
        raise BatchFileUnreadable(_("The file has no resellers in it: add one row per reseller below the headers."))
    if len(rows) > MAX_ROWS:
        raise BatchFileUnreadable(_("The file has more than %(count)s resellers: split it.") % {"count": MAX_ROWS})
    return rows


# --- Judging ------------------------------------------------------------------------------------


def batch_rows_classify(
    *, large_account_reseller: Partner, rows: Iterable[tuple[str, str]] | Iterable[tuple[int, str, str]]
) -> list[BatchRow]:
    """What inviting each row would do. Rows are (organisation name, email) or (line, name, email)."""
    normalised: list[tuple[int, str, str]] = []
    for index, row in enumerate(rows, start=2):
        if len(row) == 3:
            line, organisation_name, email = row
        else:
            line, (organisation_name, email) = index, row
        normalised.append((int(line), _cell(organisation_name), _cell(email).lower()))
    emails = {email for _line, _name, email in normalised if email}
    partners = {
        partner.owner_lower: partner
        for partner in Partner.objects.exclude(schema_name="public")
        .annotate(owner_lower=Lower("owner_email"))
        .filter(owner_lower__in=emails)
    }
    links = list(
        ResellerLink.objects.filter(large_account_reseller=large_account_reseller).values_list(
            "reseller_id", "email", "status"
        )
    )
    linked_partners = {
        reseller_id for reseller_id, _email, status in links if reseller_id and status != ResellerStatus.DECLINED
    }
    invited_emails = {email.lower() for reseller_id, email, _status in links if reseller_id is None}

    seen: set[str] = set()
    judged = []
    for line, organisation_name, email in normalised:
        if not email:
            judged.append(BatchRow(line, organisation_name, email, BatchRowResult.INVALID, _("The email is missing.")))
            continue
        try:
            validate_email(email)
        except ValidationError:
            judged.append(
                BatchRow(line, organisation_name, email, BatchRowResult.INVALID, _("This is not an email address."))
            )
            continue
        if email in seen:
            judged.append(
                BatchRow(
                    line, organisation_name, email, BatchRowResult.DUPLICATE, _("The address is in the file twice.")
                )
            )
            continue
        seen.add(email)
        partner = partners.get(email)
        if partner is not None:
            reason = partner_not_invitable_reason(large_account_reseller=large_account_reseller, partner=partner)
            if reason:
                row = BatchRow(line, organisation_name, email, BatchRowResult.NOT_ALLOWED, reason, partner.pk)
            elif partner.pk in linked_partners:
                row = BatchRow(
                    line,
                    organisation_name,
                    email,
                    BatchRowResult.ALREADY_LINKED,
                    _("%(name)s is already in your reseller directory.") % {"name": partner.name},
                    partner.pk,
                )
            else:
                row = BatchRow(
                    line,
                    organisation_name,
                    email,
                    BatchRowResult.INVITE,
                    _("Registered as %(name)s.") % {"name": partner.name},
                    partner.pk,
                    partner.name,
                )
        elif email in invited_emails:
            row = BatchRow(
                line,
                organisation_name,
                email,
                BatchRowResult.ALREADY_LINKED,
                _("This address was already invited by email."),
            )
        else:
            row = BatchRow(line, organisation_name, email, BatchRowResult.NOT_REGISTERED)
        judged.append(row)
    return judged
