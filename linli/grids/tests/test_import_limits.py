"""Hostile uploads are refused before anything parses them: zip bombs, sheets that claim
millions of rows (or lie about it), cells over the limit, DOCTYPEs, oversized files. Each
refusal is an error on the file field naming the limit in Chinese and English, and nothing
is written. The bombs are built here, streamed into the zip, so the test stays small."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.grids.importing import registry_import
from linli.grids.tests.test_importing import GOOD_ROWS, csv_bytes, registry_counts, xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
MB = 1024 * 1024


def crafted(parts, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A real workbook whose first sheet is replaced by the chunks `parts` yields."""
    original = zipfile.ZipFile(xlsx_bytes([GOOD_ROWS[0]]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for member in original.infolist():
            if member.filename != SHEET:
                bomb.writestr(member.filename, original.read(member.filename))
        with bomb.open(SHEET, "w", force_zip64=True) as sheet:
            for part in parts:
                sheet.write(part)
        for name, content in (extra or {}).items():
            bomb.writestr(name, content)
    return buffer.getvalue()


def rows_xml(count: int, start: int = 1):
    for number in range(start, start + count):
        yield f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()


def sheet(*, dimension="A1:K2", body=()):
    yield HEAD + f'<dimension ref="{dimension}"/><sheetData>'.encode()
    yield from body
    yield b"</sheetData></worksheet>"


@pytest.fixture
def no_parsing(monkeypatch):
    """openpyxl must never see a refused file."""

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to parse a refused file")

    monkeypatch.setattr("openpyxl.load_workbook", refuse)


def post(world, content: bytes, name="bomb.xlsx"):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[Role.SECRETARY])
    return client.post(
        reverse("grids:import"), {"file": SimpleUploadedFile(name, content), "dry_run": "on"}
    )


def refusal_of(response) -> list[str]:
    assert response.status_code == 200
    return response.context["form"].errors["file"]


def test_a_zip_bomb_over_the_unpacked_limit_is_refused(world, no_parsing):
    # 51 MB of sheet XML, about 60 KB packed.
    content = crafted(sheet(body=(b" " * MB for _ in range(51))))
    assert len(content) < 400_000
    before = registry_counts()
    assert refusal_of(post(world, content)) == [
        "文件解压后超过 50 MB，请删除图片和其他工作表，或拆分为多个文件。 / The file unpacks "
        "to more than 50 MB: remove pictures and other sheets, or split it into several files."
    ]
    assert registry_counts() == before


def test_a_member_packed_beyond_any_spreadsheet_is_refused(world, no_parsing):
    content = crafted(sheet(body=(b" " * MB for _ in range(11))))
    assert refusal_of(post(world, content)) == [
        "文件中有部分压缩比超过 100:1，不是正常的表格文件，不予读取。 / Part of the file is "
        "packed more than 100:1, which no spreadsheet is: it is not read."
    ]


def test_a_sheet_claiming_twenty_million_rows_is_refused(world, no_parsing):
    content = crafted(sheet(dimension="A1:K20000000", body=rows_xml(2)))
    before = registry_counts()
    assert refusal_of(post(world, content)) == [
        "文件超过 20000 行，请拆分为多个文件。 / The file has more than 20000 rows: split it into "
        "several files."
    ]
    assert registry_counts() == before


def test_a_sheet_whose_dimension_lies_is_stopped_at_the_row_cap(world, no_parsing):
    # The dimension says 2 rows; the sheet holds 20,002.
    content = crafted(sheet(dimension="A1:K2", body=rows_xml(20_002)))
    assert "The file has more than 20000 rows" in refusal_of(post(world, content))[0]


def test_a_single_row_numbered_past_the_cap_is_refused(world, no_parsing):
    # openpyxl would fill the gap with twenty million empty rows.
    content = crafted(sheet(body=[*rows_xml(1), *rows_xml(1, start=20_000_000)]))
    assert "The file has more than 20000 rows" in refusal_of(post(world, content))[0]


def test_a_cell_over_the_limit_is_refused_with_its_row(world, no_parsing):
    long_cell = (
        b'<row r="3"><c r="D3" t="inlineStr"><is><t>' + b"x" * 2_001 + b"</t></is></c></row>"
    )
    content = crafted(sheet(body=[*rows_xml(2), long_cell]))
    assert refusal_of(post(world, content)) == [
        "第3行：有单元格超过 2000 个字符。 / Row 3: A cell holds more than 2000 characters."
    ]


def test_a_shared_string_over_the_limit_is_refused(world, no_parsing):
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><r><t>'
        + b"y" * 1_500
        + b"</t></r><r><t>"
        + b"y" * 600
        + b"</t></r></si></sst>"
    )
    content = crafted(sheet(body=rows_xml(2)), extra={"xl/sharedStrings.xml": strings})
    assert "A cell holds more than 2000 characters." in refusal_of(post(world, content))[0]


def test_a_doctype_is_refused(world, no_parsing):
    entities = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><worksheet><sheetData/></worksheet>'
    )
    content = crafted([entities])
    assert refusal_of(post(world, content)) == [
        "无法读取此表格文件。 / The file could not be read as a spreadsheet."
    ]


def test_a_csv_over_the_row_cap_is_refused(world, settings):
    settings.LINLI_IMPORT_MAX_ROWS = 3
    before = registry_counts()
    response = post(world, csv_bytes(GOOD_ROWS).getvalue(), name="big.csv")
    assert refusal_of(response) == [
        "文件超过 3 行，请拆分为多个文件。 / The file has more than 3 rows: split it into several "
        "files."
    ]
    assert registry_counts() == before


def test_a_file_over_the_size_limit_is_refused(world, settings):
    settings.LINLI_IMPORT_MAX_FILE_BYTES = 1024 * 1024
    content = csv_bytes(GOOD_ROWS).getvalue() + b"\n" * (1024 * 1024)
    assert refusal_of(post(world, content, name="big.csv")) == [
        "文件超过 1 MB。 / The file is larger than 1 MB."
    ]


def test_a_file_within_the_limits_still_imports(world):
    response = post(world, xlsx_bytes(GOOD_ROWS).getvalue(), name="good.xlsx")
    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert response.context["report"].ok


def test_the_command_line_path_reports_the_refusal_and_writes_nothing(world, no_parsing):
    before = registry_counts()
    report = registry_import(
        actor=None,
        source=io.BytesIO(crafted(sheet(body=(b" " * MB for _ in range(51))))),
        filename="bomb.xlsx",
    )
    assert [(error.row, error.code, error.message_en) for error in report.errors] == [
        (
            0,
            "unpacked_too_large",
            "The file unpacks to more than 50 MB: remove pictures and other sheets, or split "
            "it into several files.",
        )
    ]
    assert registry_counts() == before


def test_the_command_line_caps_no_rows(world):
    rows = [
        [*GOOD_ROWS[0][:3], f"居民{index}", "女", "1950", "", "", "", "", ""] for index in range(3)
    ]
    report = registry_import(actor=None, source=csv_bytes(rows), filename="rows.csv", dry_run=True)
    # Three bad rows (no ID number) are all read: no cap cut them short.
    assert report.rows == 3
