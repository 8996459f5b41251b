"""Batch invite: the templates, the preview with every row's result, the confirmation, bad files."""

import csv
import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from resellers.choices import BatchRowResult, ResellerStatus
from resellers.models import ResellerLink

ROWS = [
    ("Alpha IT Services", "admin@alpha.example"),  # registered: invited
    ("New Reseller", "owner@new-reseller.example"),  # not registered: email
    ("Broken", "not-an-email"),  # bad
    ("No address", ""),  # bad
    ("Alpha again", "ADMIN@alpha.example"),  # duplicate of row 2
    ("Ourselves", "admin@beta.example"),  # the LAR itself
]


def _csv(rows, header=("Organisation name", "Email")) -> SimpleUploadedFile:
    output = io.StringIO()
    writer = csv.writer(output)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile("resellers.csv", output.getvalue().encode(), content_type="text/csv")


def _xlsx(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Organisation name", "Email"])
    for row in rows:
        sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile("resellers.xlsx", output.getvalue())


def _results(content: str) -> dict[int, str]:
    return {int(line): result for line, result in re.findall(r'data-line="(\d+)" data-result="(\w+)"', content)}


def _payload(content: str) -> str:
    return re.search(r'name="payload" value="([^"]+)"', content).group(1)


@pytest.fixture
def client(beta_admin_client):
    return beta_admin_client


def test_the_templates_download_as_xlsx_and_csv(partner_beta, client):
    response = client.get("/resellers/invite/batch/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="reseller-invitations.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == ["Organisation name", "Email"]
    response = client.get("/resellers/invite/batch/template.csv")
    assert response.content.decode("utf-8-sig").strip() == "Organisation name,Email"


def test_the_preview_reports_every_row_and_invites_nothing(partner_beta, partner_alpha, client):
    response = client.post("/resellers/invite/batch/", {"file": _csv(ROWS), "send_email": "on"})
    assert response.status_code == 200
    content = response.content.decode()
    assert _results(content) == {
        2: BatchRowResult.INVITE,
        3: BatchRowResult.NOT_REGISTERED,
        4: BatchRowResult.INVALID,
        5: BatchRowResult.INVALID,
        6: BatchRowResult.DUPLICATE,
        7: BatchRowResult.NOT_ALLOWED,
    }
    assert "This is not an email address." in content
    assert "The email is missing." in content
    assert "The address is in the file twice." in content
    assert "This is your own organisation." in content
    assert not ResellerLink.objects.exists()
    assert mail.outbox == []


def test_confirming_invites_the_good_rows_and_emails_those_not_registered(
    partner_beta, partner_alpha, client, django_capture_on_commit_callbacks
):
    preview = client.post("/resellers/invite/batch/", {"file": _csv(ROWS), "send_email": "on"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/resellers/invite/batch/confirm/", {"payload": _payload(preview), "send_email": "on"})
    assert response.status_code == 302
    links = {link.email: link for link in ResellerLink.objects.all()}
    assert set(links) == {"admin@alpha.example", "owner@new-reseller.example"}
    assert links["admin@alpha.example"].status == ResellerStatus.PENDING
    assert links["owner@new-reseller.example"].status == ResellerStatus.UNMAPPED
    assert links["owner@new-reseller.example"].organisation_name == "New Reseller"
    assert [message.to for message in mail.outbox] == [["owner@new-reseller.example"]]
    page = client.get("/resellers/").content.decode()
    assert "1 reseller(s) invited, 1 invitation email(s) sent, 4 row(s) skipped." in page
    # each skipped row says why
    assert "line 4 (not-an-email)" in page and "line 5 (-)" in page
    assert "line 6 (admin@alpha.example)" in page and "line 7 (admin@beta.example)" in page


def test_without_emails_the_unregistered_rows_are_skipped(partner_beta, partner_alpha, client):
    preview = client.post("/resellers/invite/batch/", {"file": _xlsx(ROWS[:2])}).content.decode()
    assert _results(preview) == {2: BatchRowResult.INVITE, 3: BatchRowResult.NOT_REGISTERED}
    client.post("/resellers/invite/batch/confirm/", {"payload": _payload(preview)})
    assert list(ResellerLink.objects.values_list("email", flat=True)) == ["admin@alpha.example"]
    assert mail.outbox == []


def test_rows_already_in_the_directory_are_reported(partner_beta, partner_alpha, client):
    ResellerLink.objects.create(
        large_account_reseller=partner_beta, reseller=partner_alpha, email="admin@alpha.example"
    )
    ResellerLink.objects.create(
        large_account_reseller=partner_beta, email="owner@new-reseller.example", status=ResellerStatus.UNMAPPED
    )
    preview = client.post("/resellers/invite/batch/", {"file": _csv(ROWS[:2])}).content.decode()
    assert _results(preview) == {2: BatchRowResult.ALREADY_LINKED, 3: BatchRowResult.ALREADY_LINKED}
    assert "No row of this file can be invited." in preview


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("resellers.xlsx", b"PK\x03\x04 this is no workbook"),
            "could not be read as an Excel workbook",
        ),
        (SimpleUploadedFile("resellers.csv", b"\xff\xfe\x00garbage"), "not a UTF-8 text file"),
        (SimpleUploadedFile("resellers.pdf", b"%PDF-1.4"), "Upload the template as an XLSX or CSV file."),
        (SimpleUploadedFile("resellers.csv", b"Name;Address\nAcme;owner@acme.example\n"), "The first row must name"),
        (SimpleUploadedFile("resellers.csv", b"Organisation name,Email\n"), "no resellers in it"),
    ],
)
def test_an_unreadable_file_is_a_clear_error_and_nothing_is_invited(partner_beta, client, upload, message):
    response = client.post("/resellers/invite/batch/", {"file": upload, "send_email": "on"})
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content.replace("&#x27;", "'")
    assert "Nothing was invited." in content
    assert 'data-testid="batch-preview"' not in content
    assert not ResellerLink.objects.exists()
    assert mail.outbox == []


def test_a_tampered_preview_is_refused(partner_beta, partner_alpha, client):
    preview = client.post("/resellers/invite/batch/", {"file": _csv(ROWS[:1])}).content.decode()
    response = client.post("/resellers/invite/batch/confirm/", {"payload": _payload(preview)[:-3] + "abc"}, follow=True)
    assert "This preview has expired: upload the file again." in response.content.decode()
    assert not ResellerLink.objects.exists()
