"""Every spreadsheet Linli writes keeps formula-like text as text (OWASP CSV injection):
the residents export, a resident's download of their data, the service-hours ledger, the import
templates and the resilience report, through the one helper in linli/exports.py."""

import csv
import io
from datetime import date
from decimal import Decimal

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from linli.accounts.roles import Role
from linli.exports import csv_row, safe_cell, xlsx_append
from linli.grids import exporting, importing
from linli.grids.services import resident_create
from linli.volunteers.exporting import hours_export
from linli.volunteers.services import service_hours_record, volunteer_review, volunteer_signup

HOSTILE = '=HYPERLINK("http://evil","x")'
AT = "@SUM(1)"


def cells_of(content: bytes, sheet: int | str = 0) -> list[list]:
    workbook = load_workbook(io.BytesIO(content))
    worksheet = workbook.worksheets[sheet] if isinstance(sheet, int) else workbook[sheet]
    return [list(row) for row in worksheet.iter_rows()]


def test_safe_cell_prefixes_text_that_starts_like_a_formula_and_leaves_the_rest():
    assert [safe_cell(value) for value in ("=1+1", "+86", "-123", "@x", "\tx", "\rx")] == [
        "'=1+1",
        "'+86",
        "'-123",
        "'@x",
        "'\tx",
        "'\rx",
    ]
    assert [safe_cell(value) for value in ("张=三", "", "a-b", -3, 2.5, None, True)] == [
        "张=三",
        "",
        "a-b",
        -3,
        2.5,
        None,
        True,
    ]
    assert csv_row([HOSTILE, -1, "ok"]) == ["'" + HOSTILE, -1, "ok"]


def test_xlsx_append_types_text_as_string_and_numbers_as_numbers():
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    xlsx_append(sheet, [HOSTILE, -5, 1.5, "-123", date(2026, 3, 5)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (row,) = cells_of(buffer.getvalue())
    assert [(cell.data_type, cell.value) for cell in row[:4]] == [
        ("s", "'" + HOSTILE),
        ("n", -5),
        ("n", 1.5),
        ("s", "'-123"),
    ]
    assert row[4].is_date


def test_residents_export_keeps_hostile_names_as_text(world):
    resident_create(
        household=world.neighbour_household,
        name=HOSTILE,
        sex="male",
        birth_year=1960,
        id_number="110101199003070118",
    )
    resident_create(
        household=world.neighbour_household,
        name=AT,
        sex="female",
        birth_year=1962,
        id_number="110101199003070134",
    )
    with translation.override("zh-hans"):
        export = exporting.residents_export(user=world.users[Role.SECRETARY])
    names = {row[3].value: row[3].data_type for row in cells_of(export.content)[1:]}
    assert names == {
        "张桂英": "s",
        "李建国": "s",
        "'" + HOSTILE: "s",
        "'" + AT: "s",
        "王芳": "s",
    }
    # Numbers stay numbers.
    assert {row[5].data_type for row in cells_of(export.content)[1:]} == {"n"}


def test_own_data_download_keeps_hostile_names_as_text(world):
    resident_create(
        household=world.household,
        name="+86 老伴",
        sex="male",
        birth_year=1944,
        id_number="110101199003070118",
    )
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(world.users[Role.RESIDENT])
    response = client.post(reverse("privacy:my_data"))
    assert response.status_code == 200
    rows = cells_of(response.content)[1:]
    assert [(row[3].value, row[3].data_type) for row in rows] == [
        ("张桂英", "s"),
        ("'+86 老伴", "s"),
    ]


def test_service_hours_export_keeps_hostile_names_and_notes_as_text(world):
    secretary = world.users[Role.SECRETARY]
    volunteer = volunteer_signup(
        actor=secretary,
        grid_unit=world.community,
        name=AT,
        skills=["medical"],
        willingness=["medical_support"],
        availability=["mon_am"],
        work_unit="=cmd",
    )
    volunteer = volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
    with time_machine.travel("2026-03-06 10:00 +0800", tick=False):
        service_hours_record(
            volunteer=volunteer,
            hours=Decimal("2"),
            source_kind="activity",
            source_id=None,
            note="-1+1 cmd|' /C calc'!A0",
            actor=None,
            occurred_on=date(2026, 3, 5),
        )
        with translation.override("en"):
            exported = hours_export(user=secretary, start=date(2026, 3, 1))
    (entry,) = cells_of(exported.content, "Service hours")[1:]
    assert [(cell.value, cell.data_type) for cell in (entry[1], entry[3], entry[6])] == [
        ("'" + AT, "s"),
        (2, "n"),
        ("'-1+1 cmd|' /C calc'!A0", "s"),
    ]
    (total,) = cells_of(exported.content, "Totals")[1:]
    assert [(cell.value, cell.data_type) for cell in total] == [("'" + AT, "s"), (2, "n")]


def test_import_templates_hold_only_plain_text():
    header = cells_of(importing.import_template_xlsx())[0]
    assert {cell.data_type for cell in header} == {"s"}
    assert not any(str(cell.value).startswith("'") for cell in header)
    (row,) = list(csv.reader(io.StringIO(importing.import_template_csv().decode("utf-8-sig"))))
    assert row == [column.zh for column in importing.COLUMNS]
