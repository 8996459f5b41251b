"""Uploads an attacker shapes: a zip bomb dressed as a workbook, too many rows, overlong cells.

Every table the console accepts goes through portal.core.uploads; the reseller batch invite is the
upload screen, so the attacks are made there and against the reader itself.
"""

import csv
import io
import re
import zipfile

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from portal.core import uploads
from portal.core.uploads import UploadLimits, UploadRefused, upload_table_read
from resellers.forms import BATCH_SIGNING_SALT
from resellers.models import ResellerLink

BATCH_URL = "/resellers/invite/batch/"


def _workbook(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Organisation name", "Email"])
    for row in rows:
        sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _with_member(content: bytes, member: str, data: bytes) -> bytes:
    """The workbook with one part replaced (or added), deflated as Excel does."""
    source = zipfile.ZipFile(io.BytesIO(content))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != member:
                target.writestr(item.filename, source.read(item.filename))
        target.writestr(member, data)
    return output.getvalue()


def _shared_string_bomb(characters: int = 50 * 1024 * 1024) -> bytes:
    """A small XLSX whose one shared string is `characters` long, used by the first data row."""
    workbook = _workbook([("Bomb", "owner@bomb.example")])
    strings = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>" + b"A" * characters + b"</t></si></sst>"
    )
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>Organisation name</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>Email</t></is></c></row>'
        b'<row r="2"><c r="A2" t="s"><v>0</v></c>'
        b'<c r="B2" t="inlineStr"><is><t>owner@bomb.example</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    bomb = _with_member(workbook, "xl/sharedStrings.xml", strings)
    return _with_member(bomb, "xl/worksheets/sheet1.xml", sheet)


def _csv(rows, header=("Organisation name", "Email")) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode()


def _upload(client, name: str, content: bytes):
    return client.post(BATCH_URL, {"file": SimpleUploadedFile(name, content), "send_email": "on"})


def _results(content: str) -> dict[int, str]:
    return {int(line): result for line, result in re.findall(r'data-line="(\d+)" data-result="(\w+)"', content)}


@pytest.fixture
def client(beta_admin_client):
    return beta_admin_client


# -- the XLSX bomb ----------------------------------------------------------------------------------------------------


def test_the_shared_string_bomb_is_small_on_the_wire():
    bomb = _shared_string_bomb()
    assert len(bomb) < 200 * 1024
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("xl/sharedStrings.xml").file_size > 50 * 1024 * 1024


def test_an_xlsx_bomb_is_refused_before_openpyxl_opens_it(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl was handed a zip bomb")

    monkeypatch.setattr(uploads, "load_workbook", never)
    with pytest.raises(UploadRefused, match="expands to more than"):
        upload_table_read(name="resellers.xlsx", content=_shared_string_bomb())


def test_the_batch_invite_refuses_an_xlsx_bomb_and_shows_no_preview(partner_beta, client):
    response = _upload(client, "resellers.xlsx", _shared_string_bomb())

    content = response.content.decode()
    assert response.status_code == 200
    assert "The text in the workbook expands to more than 4.0" in content
    assert "Nothing was invited." in content
    assert 'data-testid="batch-preview"' not in content
    assert len(response.content) < 1024 * 1024
    assert not ResellerLink.objects.exists()


def test_shared_strings_under_the_member_limit_but_over_their_own_are_refused():
    bomb = _shared_string_bomb(characters=5 * 1024 * 1024)  # under the 8 MB part limit, over the 4 MB text limit
    with pytest.raises(UploadRefused, match="text in the workbook"):
        upload_table_read(name="resellers.xlsx", content=bomb)


def test_a_huge_worksheet_part_is_refused():
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (line, line) for line in range(1, 400_000))
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + rows
        + b"</sheetData></worksheet>"
    )
    bomb = _with_member(_workbook([]), "xl/worksheets/sheet1.xml", sheet)
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(UploadRefused, match="A part of the workbook expands to more than 8.0"):
        upload_table_read(name="resellers.xlsx", content=bomb)


def test_the_sum_of_the_parts_is_bounded():
    workbook = _workbook([("Acme", "owner@acme.example")])
    for index in range(3):
        workbook = _with_member(workbook, f"xl/media/padding{index}.xml", b"<a/>" + b" " * (7 * 1024 * 1024))
    with pytest.raises(UploadRefused, match="The workbook expands to more than 16.0"):
        upload_table_read(name="resellers.xlsx", content=workbook)


def test_a_workbook_declaring_entities_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>'
    )
    workbook = _with_member(_workbook([("Acme", "owner@acme.example")]), "xl/sharedStrings.xml", laughs)
    with pytest.raises(UploadRefused, match="XML entities"):
        upload_table_read(name="resellers.xlsx", content=workbook)


# -- rows -------------------------------------------------------------------------------------------------------------


def test_a_csv_with_too_many_rows_is_refused_naming_the_limit(partner_beta, client):
    rows = [(f"Reseller {number}", f"owner{number}@reseller.example") for number in range(1001)]

    response = _upload(client, "resellers.csv", _csv(rows))

    content = response.content.decode()
    assert "The file has more than 1,000 rows: split it into several files." in content
    assert 'data-testid="batch-preview"' not in content
    assert not ResellerLink.objects.exists()


def test_a_flood_of_empty_lines_is_refused_not_walked():
    with pytest.raises(UploadRefused, match="more than 1,000 rows"):
        upload_table_read(name="resellers.csv", content=b"Organisation name,Email\n" + b",\n" * 500_000)


def test_blank_rows_do_not_hide_the_rows_after_them(partner_beta, client):
    """The old reader stopped after 1,001 lines, blank or not: rows after a blank stretch vanished."""
    first = [(f"First {number}", f"first{number}@reseller.example") for number in range(500)]
    last = [(f"Last {number}", f"last{number}@reseller.example") for number in range(500)]
    content = _csv([*first, *([("", "")] * 600), *last])

    response = _upload(client, "resellers.csv", content)

    results = _results(response.content.decode())
    assert len(results) == 1000
    assert max(results) == 1 + 500 + 600 + 500


def test_too_many_columns_are_refused():
    with pytest.raises(UploadRefused, match="more than 50 columns"):
        upload_table_read(name="resellers.csv", content=_csv([["x"] * 60], header=["h"] * 60))


# -- cells ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resellers.csv", "resellers.xlsx"])
def test_an_overlong_cell_refuses_the_file_naming_the_limit(partner_beta, client, name):
    rows = [("Acme", "owner@acme.example"), ("A" * 10_000, "owner@long.example")]
    content = _csv(rows) if name.endswith(".csv") else _workbook(rows)

    response = _upload(client, name, content)

    body = response.content.decode()
    assert "Row 3, column 1 is longer than 1,000 characters: the file is refused." in body
    assert 'data-testid="batch-preview"' not in body
    assert not ResellerLink.objects.exists()


def test_an_organisation_name_over_200_characters_is_a_row_with_its_reason(partner_beta, client):
    rows = [("Acme", "owner@acme.example"), ("B" * 300, "owner@long.example")]

    response = _upload(client, "resellers.csv", _csv(rows))

    body = response.content.decode()
    assert _results(body) == {2: "not_registered", 3: "invalid"}
    assert "Organisation name: The name is longer than 200 characters." in body
    payload = re.search(r'name="payload" value="([^"]+)"', body).group(1)
    signed = signing.loads(payload, salt=BATCH_SIGNING_SALT)
    # every row goes back to the confirmation, which judges it again and counts what it skips
    assert [email for _line, _name, email in signed] == ["owner@acme.example", "owner@long.example"]


def test_every_row_listed_as_actionable_is_invited(partner_beta, client):
    """Nothing is listed as actionable and then silently skipped at the confirmation."""
    rows = [("Acme", "owner@acme.example"), ("C" * 250, "owner@long.example"), ("Zeta\u202e", "z@zeta.example")]
    preview = _upload(client, "resellers.csv", _csv(rows)).content.decode()
    assert _results(preview) == {2: "not_registered", 3: "invalid", 4: "invalid"}
    payload = re.search(r'name="payload" value="([^"]+)"', preview).group(1)

    response = client.post("/resellers/invite/batch/confirm/", {"payload": payload, "send_email": "on"}, follow=True)

    assert "0 reseller(s) invited, 1 invitation email(s) sent, 2 row(s) skipped." in response.content.decode()
    assert list(ResellerLink.objects.values_list("email", flat=True)) == ["owner@acme.example"]


def test_a_huge_upload_is_not_read_whole(partner_beta, client):
    response = _upload(client, "resellers.csv", b"Organisation name,Email\n" + b"a,b@c.example\n" * 200_000)
    assert "The file is larger than 2.0" in response.content.decode()


def test_limits_are_per_screen():
    small = UploadLimits(rows=2)
    content = _csv([("A", "a@a.example"), ("B", "b@b.example"), ("C", "c@c.example")])
    with pytest.raises(UploadRefused, match="more than 2 rows"):
        upload_table_read(name="x.csv", content=content, limits=small)
    assert len(upload_table_read(name="x.csv", content=content)) == 4
