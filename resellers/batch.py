"""Batch invite files: the template (XLSX and CSV), reading an upload, and judging each row.

Reading and judging change nothing: the screen shows every row's result first, and only the
confirmation calls `resellers.services.reseller_batch_invite`, which judges the rows again.
"""

import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.core.exports import csv_bytes, xlsx_cell
from portal.core.names import name_clean, name_collision_message, name_normalise, name_skeleton
from portal.core.uploads import UploadLimits, UploadRefused, upload_table_read
from portal.partners.models import Partner
from resellers.choices import BatchRowResult, ResellerStatus
from resellers.models import ResellerLink
from resellers.selectors import partner_not_invitable_reason

TEMPLATE_HEADERS = ("Organisation name", "Email")
# Header spellings accepted for each column (lower case).
ORGANISATION_HEADERS = {"organisation name", "organization name", "organisation", "organization", "name"}
EMAIL_HEADERS = {"email", "email address", "e-mail", "tenant owner", "tenant owner email"}
MAX_ROWS = 1000
UPLOAD_LIMITS = UploadLimits(rows=MAX_ROWS)
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


def batch_file_read(*, name: str, content: bytes) -> list[tuple[int, str, str]]:
    """(line, organisation name, email) of every non-empty row of an uploaded template."""
    try:
        table = upload_table_read(name=name, content=content, limits=UPLOAD_LIMITS)
    except UploadRefused as error:
        raise BatchFileUnreadable(str(error)) from error
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
        normalised.append((int(line), name_normalise(str(organisation_name or "")), _cell(email).lower()))
    emails = {email for _line, _name, email in normalised if email}
    partners = {
        partner.owner_lower: partner
        for partner in Partner.objects.exclude(schema_name="public")
        .annotate(owner_lower=Lower("owner_email"))
        .filter(owner_lower__in=emails)
    }
    links = list(
        ResellerLink.objects.filter(large_account_reseller=large_account_reseller).values_list(
            "reseller_id", "email", "status", "organisation_name"
        )
    )
    linked_partners = {
        reseller_id for reseller_id, _email, status, _name in links if reseller_id and status != ResellerStatus.DECLINED
    }
    invited_emails = {email.lower() for reseller_id, email, _status, _name in links if reseller_id is None}
    # What the names in the directory look like, to catch look-alikes as the service does: a row's
    # own link (the partner's, or the email invitation it turns into) does not count against it.
    directory_names = [
        (name_skeleton(name), name, reseller_id, (email or "").lower())
        for reseller_id, email, _status, name in links
        if name
    ]
    name_limit = ResellerLink._meta.get_field("organisation_name").max_length

    def look_alike(name: str, partner: Partner | None) -> str | None:
        skeleton = name_skeleton(name)
        for other_skeleton, other, reseller_id, other_email in directory_names:
            if other_skeleton != skeleton:
                continue
            own = partner is not None and (
                reseller_id == partner.pk
                or (reseller_id is None and other_email == (partner.owner_email or "").lower())
            )
            if not own:
                return other
        return None

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
        if organisation_name:
            try:
                name_clean(organisation_name, max_length=name_limit)
            except ValidationError as error:
                reason = _("Organisation name: %(problem)s") % {"problem": error.messages[0]}
                judged.append(BatchRow(line, organisation_name, email, BatchRowResult.INVALID, reason))
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
        if row.is_actionable and organisation_name:
            existing = look_alike(organisation_name, partner)
            if existing is not None:
                reason = _("Organisation name: %(problem)s") % {
                    "problem": name_collision_message(organisation_name, existing)
                }
                row = BatchRow(line, organisation_name, email, BatchRowResult.DUPLICATE, reason)
            else:  # the service creates it before the next row: later rows must not look like it
                directory_names.append((name_skeleton(organisation_name), organisation_name, row.partner_id, email))
        judged.append(row)
    return judged
