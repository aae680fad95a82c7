"""Import page, templates and the `linli import residents` command."""

import io
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.importing import COLUMNS
from linli.grids.importing import writers as import_writers
from linli.grids.models import Resident
from linli.grids.tests.test_importing import (
    GOOD_ROWS,
    NEW_IDS,
    csv_bytes,
    registry_counts,
    xlsx_bytes,
)
from linli.testing.clients import client_for

ROLES_WITHOUT_IMPORT = [
    Role.MICRO_GRID_LEAD,
    Role.BUILDING_GROUP_LEADER,
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
]


def upload(rows, name="residents.csv", **extra):
    return {"file": SimpleUploadedFile(name, csv_bytes(rows).getvalue()), **extra}


def test_secretary_sees_the_import_page(world):
    response = client_for(world.users[Role.SECRETARY]).get(reverse("grids:import"))
    assert response.status_code == 200
    assert b"template.xlsx" in response.content


@pytest.mark.parametrize("role", ROLES_WITHOUT_IMPORT)
def test_import_page_and_templates_are_404_without_the_permission(world, role):
    client = client_for(world.users[role])
    for name in ("grids:import", "grids:import_template_xlsx", "grids:import_template_csv"):
        assert client.get(reverse(name)).status_code == 404


@pytest.mark.parametrize("role", ROLES_WITHOUT_IMPORT)
def test_denied_upload_writes_nothing(world, role):
    before = registry_counts()
    response = client_for(world.users[role]).post(reverse("grids:import"), upload(GOOD_ROWS))
    assert response.status_code == 404
    assert registry_counts() == before


def test_anonymous_is_sent_to_log_in(world):
    response = Client().get(reverse("grids:import"))
    assert response.status_code == 302


def test_upload_imports_and_shows_the_counts(world):
    before = registry_counts()
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("grids:import"), upload(GOOD_ROWS)
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok and not report.dry_run
    assert report.residents.created == 5
    assert registry_counts()[2] == before[2] + 5
    assert b"Imported" in response.content


def test_check_only_writes_nothing(world):
    before = registry_counts()
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("grids:import"), upload(GOOD_ROWS, dry_run="on")
    )
    assert response.context["report"].residents.created == 5
    assert b"Check passed: nothing was written" in response.content
    assert registry_counts() == before


def test_bad_rows_are_listed_in_a_table_with_both_languages(world):
    before = registry_counts()
    rows = [
        GOOD_ROWS[0],
        ["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""],
    ]
    response = client_for(world.users[Role.SECRETARY]).post(reverse("grids:import"), upload(rows))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="import-errors"' in content
    assert "This row cannot be imported here." in content
    assert "此行无法在此导入。" in content
    assert "1 problem found: nothing was written" in content
    assert registry_counts() == before


def test_wrong_file_type_is_a_form_error(world):
    before = registry_counts()
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("grids:import"), upload(GOOD_ROWS, name="residents.txt")
    )
    assert response.context["report"] is None
    assert response.context["form"].errors["file"] == ["Upload a .xlsx or a .csv file."]
    assert registry_counts() == before


def test_templates_hold_the_header_and_the_column_notes(world):
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("grids:import_template_csv"))
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip() == ",".join(c.zh for c in COLUMNS)
    response = client.get(reverse("grids:import_template_xlsx"))
    workbook = load_workbook(io.BytesIO(response.content))
    first, notes = workbook.worksheets
    assert [cell.value for cell in first[1]] == [c.zh for c in COLUMNS]
    assert first.max_row == 1
    assert [row[1] for row in notes.iter_rows(min_row=2, max_row=12, values_only=True)] == [
        c.key for c in COLUMNS
    ]


def test_the_empty_template_imports_cleanly(world):
    client = client_for(world.users[Role.SECRETARY])
    content = client.get(reverse("grids:import_template_xlsx")).content
    response = client.post(
        reverse("grids:import"),
        {"file": SimpleUploadedFile("template.xlsx", content), "dry_run": "on"},
    )
    assert response.context["report"].ok
    assert response.context["report"].rows == 0


# The command ---------------------------------------------------------------------------


def write_csv(tmp_path, rows, name="residents.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows).getvalue())
    return path


def test_command_imports_and_prints_the_report(world, tmp_path):
    out = io.StringIO()
    call_command("import", "residents", str(write_csv(tmp_path, GOOD_ROWS)), stdout=out)
    assert "residents: created 5, updated 0, unchanged 0" in out.getvalue()
    assert Resident.objects.filter(name="陈秀兰").count() == 1
    assert AuditEntry.objects.get(action="import").actor is None


def test_command_sets_the_switch_interval_for_the_import_and_puts_it_back(
    world, tmp_path, monkeypatch
):
    # `linli import` is a process of the import's own (unlike a request or the worker).
    previous = sys.getswitchinterval()
    changes = []
    monkeypatch.setattr(sys, "setswitchinterval", changes.append)
    call_command("import", "residents", str(write_csv(tmp_path, GOOD_ROWS)), stdout=io.StringIO())
    assert changes == [import_writers.SWITCH_INTERVAL, previous]
    assert Resident.objects.filter(name="陈秀兰").count() == 1


def test_command_as_a_user_uses_their_scope(world, tmp_path):
    rows = [
        GOOD_ROWS[0],
        ["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""],
    ]
    before = registry_counts()
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 errors: nothing was written"):
        call_command(
            "import", "residents", str(write_csv(tmp_path, rows)), "--as", "secretary", stdout=out
        )
    assert "第3行 楼组网格编码" in out.getvalue()
    assert "row 3 building_group_code: This row cannot be imported here." in (out.getvalue())
    assert registry_counts() == before


def test_command_prints_every_bad_row_and_fails(world, tmp_path):
    rows = [
        ["A1-1", "5号楼", "101", "", "女", "1940", "", NEW_IDS[0], "", "", ""],
        ["A1-1", "5号楼", "102", "甲", "女", "1940", "", "123", "", "", ""],
    ]
    before = registry_counts()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "residents", str(write_csv(tmp_path, rows)), stdout=out)
    text = out.getvalue()
    assert "row 2 name: This field is required." in text
    assert "row 3 id_number" in text
    assert registry_counts() == before


def test_command_dry_run_writes_nothing(world, tmp_path):
    before = registry_counts()
    out = io.StringIO()
    call_command(
        "import", "residents", str(write_csv(tmp_path, GOOD_ROWS)), "--dry-run", stdout=out
    )
    assert "dry run, nothing written" in out.getvalue()
    assert registry_counts() == before


def test_command_refuses_a_user_without_the_permission(world, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "import", "residents", str(write_csv(tmp_path, GOOD_ROWS)), "--as", "micro_grid_lead"
        )
    with pytest.raises(CommandError, match="no active user"):
        call_command("import", "residents", str(write_csv(tmp_path, GOOD_ROWS)), "--as", "nobody")


def test_large_uploads_spooled_to_disk_import_the_same(world, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every upload goes to a temporary file
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(reverse("grids:import"), upload(GOOD_ROWS))
    assert response.context["report"].residents.created == 5
    workbook_rows = [[*row[:5], int(row[5]), *row[6:]] for row in GOOD_ROWS]
    response = client.post(
        reverse("grids:import"),
        {"file": SimpleUploadedFile("again.xlsx", xlsx_bytes(workbook_rows).getvalue())},
    )
    assert response.context["report"].residents.unchanged == 5
