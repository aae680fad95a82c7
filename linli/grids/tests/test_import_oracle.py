"""The import's dry run is no oracle across scopes: a person registered outside the
importer's area and a building group outside it get the same words, and every run that
writes nothing (dry run or refused file) is audited, without ID numbers."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS
from linli.grids.importing import registry_import
from linli.grids.models import Resident
from linli.grids.tests.test_importing import GOOD_ROWS, NEW_IDS, csv_bytes

# 赵强 (ID_NUMBERS[3]) lives in C社区, outside the secretary of A社区's area.
OUTSIDE_PERSON = ["A1-1", "1号楼", "101", "赵强", "男", "1970", "", ID_NUMBERS[3], "", "", ""]
OUTSIDE_GROUP = ["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""]


def dry_run(world, rows, role=Role.SECRETARY):
    return registry_import(
        actor=world.users[role], source=csv_bytes(rows), filename="check.csv", dry_run=True
    )


def test_a_person_registered_elsewhere_and_a_group_elsewhere_get_the_same_words(world):
    report = dry_run(world, [OUTSIDE_PERSON, OUTSIDE_GROUP])
    assert [(error.row, error.column, error.code) for error in report.errors] == [
        (2, "id_number", "not_here"),
        (3, "building_group_code", "not_here"),
    ]
    assert {(error.message_en, error.message_zh) for error in report.errors} == {
        ("This row cannot be imported here.", "此行无法在此导入。")
    }
    text = " ".join(error.as_text() for error in report.errors)
    for word in ("registered", "outside", "登记", "以外", "赵强"):
        assert word not in text


def test_a_dry_run_is_audited_with_counts_and_no_id_numbers(world):
    report = dry_run(world, [GOOD_ROWS[0], OUTSIDE_PERSON])
    assert report.rows == 2
    entry = AuditEntry.objects.get(object_type="registry_import")
    assert (entry.actor, entry.action, entry.object_type, entry.object_label) == (
        world.users[Role.SECRETARY],
        "import_check",
        "registry_import",
        "check.csv",
    )
    assert entry.changes == {
        "rows": 2,
        "dry_run": True,
        "errors": 1,
        "buildings": {"created": 1, "updated": 0, "unchanged": 1},
        "households": {"created": 1, "updated": 0, "unchanged": 1},
        "residents": {"created": 1, "updated": 0, "unchanged": 0},
    }
    assert entry.grid_path == world.community.path
    stored = str(entry.changes) + entry.object_label + entry.reason
    for number in (ID_NUMBERS[3], NEW_IDS[0], ID_NUMBERS[3][-4:], NEW_IDS[0][-4:]):
        assert number not in stored


def test_a_clean_dry_run_is_audited_too_and_writes_nothing_else(world):
    before = Resident.objects.count()
    report = dry_run(world, GOOD_ROWS)
    assert report.ok
    assert Resident.objects.count() == before
    checks = AuditEntry.objects.filter(object_type="registry_import")
    assert list(checks.values_list("action", "changes__rows", "changes__errors")) == [
        ("import_check", 5, 0)
    ]


def test_a_refused_real_import_is_audited_as_a_check(world):
    report = registry_import(
        actor=world.users[Role.SECRETARY],
        source=csv_bytes([OUTSIDE_PERSON]),
        filename="real.csv",
    )
    assert not report.written
    entry = AuditEntry.objects.get(object_type="registry_import")
    assert (
        entry.action,
        entry.object_label,
        entry.changes["dry_run"],
        entry.changes["errors"],
    ) == (
        "import_check",
        "real.csv",
        False,
        1,
    )


def test_a_written_import_is_audited_as_an_import_not_a_check(world):
    report = registry_import(
        actor=world.users[Role.SECRETARY], source=csv_bytes(GOOD_ROWS), filename="good.csv"
    )
    assert report.written
    assert not AuditEntry.objects.filter(action="import_check").exists()
    assert AuditEntry.objects.filter(action="import", object_label="good.csv").count() == 1


def test_the_import_page_dry_run_is_audited_with_the_address(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.1.2.3")
    client.force_login(world.users[Role.SECRETARY])
    response = client.post(
        reverse("grids:import"),
        {
            "file": SimpleUploadedFile("page.csv", csv_bytes([OUTSIDE_PERSON]).getvalue()),
            "dry_run": "on",
        },
    )
    assert response.status_code == 200
    assert b"This row cannot be imported here." in response.content
    assert b"outside your area" not in response.content
    entry = AuditEntry.objects.get(object_type="registry_import")
    assert (entry.action, entry.object_label, entry.ip_address) == (
        "import_check",
        "page.csv",
        "10.1.2.3",
    )
