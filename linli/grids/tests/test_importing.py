"""registry_import: exact counts, idempotence, every bad row reported, nothing written on error."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from linli.accounts.models import AuditEntry
from linli.accounts.privacy import decrypt_text, id_number_hash, id_number_is_valid
from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS
from linli.grids.importing import COLUMNS, id_number_ok, registry_import
from linli.grids.importing import services as import_services
from linli.grids.importing import writers as import_writers
from linli.grids.models import Building, Household, Resident
from linli.testing.builders import with_check_character

HEADER_ZH = [column.zh for column in COLUMNS]
HEADER_EN = [column.key for column in COLUMNS]


NEW_IDS = [with_check_character(f"3101011950010{index:04d}") for index in range(1, 10)]


def csv_bytes(rows, header=HEADER_ZH, bom=True) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO((("\ufeff" if bom else "") + text.getvalue()).encode())


def xlsx_bytes(rows, header=HEADER_ZH) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


# Five good rows: a new building with two households (one of three people), and one new
# household in the existing 1号楼 of building group A1-1.
GOOD_ROWS = [
    [
        "A1-1",
        "5号楼",
        "101",
        "陈秀兰",
        "女",
        "1940",
        "13811112222",
        NEW_IDS[0],
        "户籍",
        "",
        "独居老人",
    ],
    ["A1-1", "5号楼", "102", "陈建华", "男", "1968", "", NEW_IDS[1], "常住", "在职", ""],
    ["A1-1", "5号楼", "102", "刘敏", "女", "1970", "13922223333", NEW_IDS[2], "外来", "", ""],
    ["A1-1", "5号楼", "102", "陈小雨", "女", "2012", "", NEW_IDS[3], "", "", "留守儿童"],
    ["A1-1", "1号楼", "103", "周伟", "男", "1955", "", NEW_IDS[4], "户籍", "退休", "空巢、低保"],
]


def registry_counts() -> tuple[int, int, int, int]:
    return (
        Building.objects.count(),
        Household.objects.count(),
        Resident.objects.count(),
        # A run that writes nothing still leaves its import check in the audit log.
        AuditEntry.objects.exclude(action="import_check").count(),
    )


def run(world, rows, *, role=Role.SECRETARY, **kwargs):
    source = kwargs.pop("source", None) or csv_bytes(rows)
    filename = kwargs.pop("filename", "residents.csv")
    return registry_import(actor=world.users[role], source=source, filename=filename, **kwargs)


def errors_of(report) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.code) for error in report.errors]


def test_good_file_creates_exact_counts(world):
    before = registry_counts()
    report = run(world, GOOD_ROWS)
    assert report.errors == []
    assert report.rows == 5
    assert report.counts() == {
        "buildings": {"created": 1, "updated": 0, "unchanged": 1},
        "households": {"created": 3, "updated": 0, "unchanged": 0},
        "residents": {"created": 5, "updated": 0, "unchanged": 0},
    }
    assert registry_counts() == (before[0] + 1, before[1] + 3, before[2] + 5, before[3] + 1)
    chen = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[0]))
    assert chen.household.building.name == "5号楼"
    assert chen.household.room == "101"
    assert (chen.name, chen.sex, chen.birth_year, chen.phone) == (
        "陈秀兰",
        "female",
        1940,
        "13811112222",
    )
    assert chen.grid_path == world.building_group.path
    assert chen.household.grid_path == world.building_group.path
    assert chen.household.building.grid_path == world.building_group.path
    assert chen.tags == ["elderly_alone"]
    assert decrypt_text(chen.id_number_encrypted) == NEW_IDS[0]
    assert chen.id_number_masked == NEW_IDS[0][:6] + "********" + NEW_IDS[0][-4:]
    zhou = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[4]))
    assert zhou.household.building == world.building
    assert zhou.tags == ["empty_nest", "low_income"]
    assert zhou.party_membership == "retired"
    daughter = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[3]))
    assert daughter.residency_type == "registered"
    assert (
        Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[2])).residency_type == "migrant"
    )
    assert Household.objects.get(building__name="5号楼", room="102").residents.count() == 3


def test_import_writes_one_audit_entry_with_counts(world):
    report = run(world, GOOD_ROWS)
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor == world.users[Role.SECRETARY]
    assert entry.object_label == "residents.csv"
    assert entry.changes == {"rows": 5, **report.counts()}
    assert entry.grid_path == world.building_group.path


def test_reimporting_the_same_file_changes_nothing(world):
    run(world, GOOD_ROWS)
    before = registry_counts()
    stamps = dict(Resident.objects.values_list("id", "updated_at"))
    report = run(world, GOOD_ROWS)
    assert report.errors == []
    assert report.counts() == {
        "buildings": {"created": 0, "updated": 0, "unchanged": 2},
        "households": {"created": 0, "updated": 0, "unchanged": 3},
        "residents": {"created": 0, "updated": 0, "unchanged": 5},
    }
    # Only the second import's own audit entry is new.
    assert registry_counts() == (before[0], before[1], before[2], before[3] + 1)
    assert dict(Resident.objects.values_list("id", "updated_at")) == stamps


def test_several_bad_rows_are_each_reported_and_nothing_is_written(world):
    before = registry_counts()
    rows = [
        GOOD_ROWS[0],
        ["A1-1", "5号楼", "102", "", "未知", "1890", "12345", "110101199003070039", "", "", ""],
        ["ZZ-9", "", "102", "王五", "男", "1980", "", NEW_IDS[5], "本地", "党员", "富裕"],
        GOOD_ROWS[1],
        ["A1-1", "5号楼", "103", "赵六", "男", "abc", "13800000000", NEW_IDS[0], "", "", ""],
    ]
    report = run(world, rows)
    assert errors_of(report) == [
        (3, "name", "required"),
        (3, "sex", "sex"),
        (3, "birth_year", "birth_year"),
        (3, "phone", "phone"),
        (3, "id_number", "id_number"),
        (4, "building_group_code", "not_here"),
        (4, "building", "required"),
        (4, "residency_type", "residency_type"),
        (4, "party_membership", "party_membership"),
        (4, "vulnerability_tags", "tag"),
        (6, "birth_year", "birth_year"),
        (6, "id_number", "duplicate_id"),
    ]
    assert report.errors[-1].message_en == "The same ID number is already on row 2."
    assert report.errors[-1].message_zh == "与第2行的身份证号重复。"
    assert report.rows == 5
    assert registry_counts() == before
    assert not report.written


def test_error_reasons_come_in_chinese_and_english_with_masked_values(world):
    rows = [
        [
            "A1-1",
            "5号楼",
            "101",
            "孙七",
            "女",
            "1950",
            "12345678901",
            "110101199003070039",
            "",
            "",
            "",
        ]
    ]
    report = run(world, rows)
    phone, id_number = report.errors
    assert phone.message_en == "A mobile number has 11 digits and starts with 1."
    assert phone.message_zh == "手机号应为以1开头的11位数字。"
    assert phone.value == "123****8901"
    assert id_number.value == "110101********0039"
    assert id_number.column_zh == "身份证号"
    assert "第2行 身份证号" in id_number.as_text()
    assert "row 2 id_number" in id_number.as_text()


def test_secretary_importing_into_another_communitys_building_group_gets_a_row_error(world):
    before = registry_counts()
    rows = [
        GOOD_ROWS[0],
        ["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""],
    ]
    report = run(world, rows)
    assert errors_of(report) == [(3, "building_group_code", "not_here")]
    assert registry_counts() == before


def test_street_admin_may_import_into_any_community(world):
    rows = [
        GOOD_ROWS[0],
        ["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""],
    ]
    report = run(world, rows, role=Role.STREET_ADMIN)
    assert report.errors == []
    assert report.residents.created == 2
    assert Resident.objects.get(name="钱八").grid_path == "/S/B/C/C1/C1-1/"


def test_known_person_registered_outside_the_importers_area_is_a_row_error(world):
    rows = [["A1-1", "1号楼", "101", "赵强", "男", "1970", "", ID_NUMBERS[3], "", "", ""]]
    before = registry_counts()
    report = run(world, rows)
    assert errors_of(report) == [(2, "id_number", "not_here")]
    assert registry_counts() == before
    assert Resident.objects.get(pk=world.other_community_resident.pk).grid_path == "/S/B/C/C1/C1-1/"


@pytest.mark.parametrize(
    "role", [Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER, Role.RESIDENT, Role.VOLUNTEER]
)
def test_roles_without_import_permission_are_refused_and_nothing_is_written(world, role):
    before = registry_counts()
    with pytest.raises(ValidationError) as raised:
        run(world, GOOD_ROWS, role=role)
    assert raised.value.code == "permission_denied"
    assert registry_counts() == before


def test_existing_resident_is_updated_and_moved_with_a_masked_audit_entry(world):
    neighbour = world.neighbour
    rows = [
        [
            "A2-1",
            "2号楼",
            "201",
            "李建国",
            "男",
            "1958",
            "13511112222",
            ID_NUMBERS[1],
            "户籍",
            "退休",
            "",
        ]
    ]
    report = run(world, rows)
    assert report.errors == []
    assert report.counts()["residents"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert report.counts()["households"] == {"created": 0, "updated": 0, "unchanged": 1}
    neighbour.refresh_from_db()
    assert neighbour.household == world.other_micro_grid_household
    assert neighbour.grid_path == world.other_building_group.path
    assert neighbour.phone == "13511112222"
    update = AuditEntry.objects.get(action="update", object_id=str(neighbour.pk))
    assert update.changes == {
        "household_id": [world.neighbour_household.pk, world.other_micro_grid_household.pk],
        "grid_path": [world.building_group.path, world.other_building_group.path],
        "phone": ["139****5678", "135****2222"],
    }
    assert update.actor == world.users[Role.SECRETARY]


def test_absent_optional_columns_keep_existing_values(world):
    header = ["楼组网格编码", "楼栋", "室号", "姓名", "性别", "出生年份", "身份证号"]
    rows = [["A1-1", "1号楼", "101", "张桂英", "女", "1946", ID_NUMBERS[0]]]
    report = run(world, rows, source=csv_bytes(rows, header=header))
    assert report.errors == []
    assert report.counts()["residents"] == {"created": 0, "updated": 0, "unchanged": 1}
    world.resident.refresh_from_db()
    assert world.resident.phone == "13812341234"
    assert world.resident.tags == ["elderly_alone"]


def test_duplicate_id_number_within_the_file_is_an_error(world):
    before = registry_counts()
    rows = [
        GOOD_ROWS[0],
        [*GOOD_ROWS[1][:7], NEW_IDS[0].lower()[:17] + NEW_IDS[0][17], *GOOD_ROWS[1][8:]],
    ]
    report = run(world, rows)
    assert errors_of(report) == [(3, "id_number", "duplicate_id")]
    assert registry_counts() == before


def test_xlsx_and_csv_import_the_same(world):
    rows = [[*row[:5], int(row[5]), *row[6:]] for row in GOOD_ROWS]
    report = run(world, rows, source=xlsx_bytes(rows), filename="居民.xlsx")
    assert report.errors == []
    assert report.residents.created == 5
    again = run(world, GOOD_ROWS, filename="residents.csv")
    assert again.counts()["residents"] == {"created": 0, "updated": 0, "unchanged": 5}


def test_xlsx_errors_report_the_spreadsheet_row(world):
    rows = [GOOD_ROWS[0], [], [*GOOD_ROWS[1][:4], "X", *GOOD_ROWS[1][5:]]]
    report = run(world, rows, source=xlsx_bytes(rows), filename="bad.xlsx")
    assert errors_of(report) == [(4, "sex", "sex")]


def test_a_formula_cell_is_refused_as_a_formula_naming_its_row_and_column(world):
    before = registry_counts()
    rows = [
        GOOD_ROWS[0],
        # openpyxl stores the formula without a result, as a program other than Excel does.
        [*GOOD_ROWS[1][:3], '=HYPERLINK("http://example.com","陈建华")', *GOOD_ROWS[1][4:]],
        # A formula alone on a row is not a blank row.
        ["", "", "", "=A2", "", "", "", "", "", "", ""],
        # Nor is an optional column's formula read as an empty phone number.
        [*GOOD_ROWS[2][:6], '="1381111"&"3333"', *GOOD_ROWS[2][7:]],
    ]
    report = run(world, rows, source=xlsx_bytes(rows), filename="formulas.xlsx")
    assert errors_of(report) == [
        (3, "name", "formula"),  # not "[empty value] 不能为空"
        (4, "building_group_code", "required"),
        (4, "building", "required"),
        (4, "room", "required"),
        (4, "name", "formula"),
        (4, "sex", "required"),
        (4, "birth_year", "required"),
        (4, "id_number", "required"),
        (5, "phone", "formula"),
    ]
    name_error = next(e for e in report.errors if (e.row, e.column) == (3, "name"))
    assert name_error.as_text() == (
        "第3行 姓名: 不接受公式，请直接填写内容本身。 / "
        "row 3 name: Formulas are not accepted: type the value itself."
    )
    assert registry_counts() == before


def test_english_headers_and_codes_are_accepted_and_csv_without_bom(world):
    rows = [
        [
            "A1-1",
            "5号楼",
            "101",
            "陈秀兰",
            "female",
            "1940",
            "",
            NEW_IDS[0],
            "migrant",
            "floating",
            "elderly_alone;disabled",
        ],
    ]
    report = run(world, rows, source=csv_bytes(rows, header=HEADER_EN, bom=False))
    assert report.errors == []
    chen = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[0]))
    assert (chen.sex, chen.residency_type, chen.party_membership) == (
        "female",
        "migrant",
        "floating",
    )
    assert chen.tags == ["disabled", "elderly_alone"]


def test_dry_run_reports_counts_and_writes_nothing(world):
    before = registry_counts()
    report = run(world, GOOD_ROWS, dry_run=True)
    assert report.errors == []
    assert report.residents.created == 5
    assert report.households.created == 3
    assert not report.written
    assert registry_counts() == before


def test_missing_required_column_is_reported_against_the_header(world):
    header = [h for h in HEADER_ZH if h != "身份证号"]
    report = run(world, [], source=csv_bytes([], header=header))
    assert errors_of(report) == [(1, "id_number", "missing_column")]
    assert report.errors[0].message_en == "The header row has no column 身份证号."


def test_a_file_that_is_not_utf8_is_reported(world):
    before = registry_counts()
    source = io.BytesIO(",".join(HEADER_ZH).encode("gbk") + b"\n")
    report = run(world, [], source=source)
    assert errors_of(report) == [(0, "", "encoding")]
    assert registry_counts() == before


def test_unsupported_file_type_is_reported(world):
    report = run(world, GOOD_ROWS, filename="residents.txt")
    assert errors_of(report) == [(0, "", "file_type")]


def test_many_batches_and_lookups_give_the_same_result(world, monkeypatch):
    monkeypatch.setattr(import_services, "BATCH_ROWS", 2)
    rows = [
        *GOOD_ROWS,
        [
            "A1-1",
            "1号楼",
            "101",
            "张桂英",
            "女",
            "1946",
            "13812341234",
            ID_NUMBERS[0],
            "户籍",
            "",
            "独居老人",
        ],
    ]
    report = run(world, rows)
    assert report.errors == []
    assert report.counts()["residents"] == {"created": 5, "updated": 0, "unchanged": 1}
    again = run(world, rows)
    assert again.counts()["residents"] == {"created": 0, "updated": 0, "unchanged": 6}
    late_error = [*rows, ["A1-1", "1号楼", "101", "某", "女", "1946", "", "1", "", "", ""]]
    before = registry_counts()
    failed = run(
        world,
        [
            *late_error[:1],
            ["A1-1", "8号楼", "1", "新", "男", "1990", "", NEW_IDS[8], "", "", ""],
            *late_error[1:],
        ],
    )
    assert errors_of(failed) == [(9, "id_number", "id_number")]
    assert registry_counts() == before
    assert not Building.objects.filter(name="8号楼").exists()


def test_a_new_household_created_after_a_failed_import_gets_a_fresh_id(world):
    failed = run(
        world, [GOOD_ROWS[0], ["A1-1", "5号楼", "109", "x", "男", "1", "", "", "", "", ""]]
    )
    assert not failed.ok
    report = run(world, GOOD_ROWS[:2])
    assert report.errors == []
    household = Household.objects.create(
        building=world.building, grid_path=world.building.grid_path, room="999"
    )
    assert household.pk > max(
        Household.objects.exclude(pk=household.pk).values_list("pk", flat=True)
    )


def test_command_line_actor_none_imports_everywhere(world):
    rows = [["C1-1", "9号楼", "902", "钱八", "男", "1960", "", NEW_IDS[5], "", "", ""]]
    report = registry_import(actor=None, source=csv_bytes(rows), filename="x.csv")
    assert report.errors == []
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor is None
    assert entry.grid_path == "/S/B/C/C1/C1-1/"


@given(st.text(alphabet="0123456789X", min_size=17, max_size=19))
def test_fast_id_check_agrees_with_the_privacy_module(value):
    assert id_number_ok(value) == id_number_is_valid(value)


def test_fast_id_check_agrees_on_valid_numbers():
    for body in range(10**16, 10**16 + 2000, 7):
        number = with_check_character(str(body).zfill(17))
        assert id_number_ok(number) and id_number_is_valid(number)
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        assert not id_number_ok(wrong) and not id_number_is_valid(wrong)


def test_many_updates_at_once_go_through_in_one_statement(world, monkeypatch):
    monkeypatch.setattr(import_writers, "UPDATES_VIA_TEMP_TABLE", 0)
    run(world, GOOD_ROWS)
    changed = [[*row[:3], row[3] + "改", *row[4:]] for row in GOOD_ROWS]
    changed[0][2] = "109"  # and one moves to a new household
    report = run(world, changed)
    assert report.errors == []
    assert report.counts()["residents"] == {"created": 0, "updated": 5, "unchanged": 0}
    assert report.counts()["households"] == {"created": 1, "updated": 0, "unchanged": 2}
    chen = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[0]))
    assert (chen.name, chen.household.room, chen.birth_year) == ("陈秀兰改", "109", 1940)
    assert AuditEntry.objects.filter(action="update", object_type="resident").count() == 5
    assert run(world, changed).counts()["residents"]["unchanged"] == 5


def test_backslashes_and_quotes_survive_the_copy(world):
    rows = [
        ["A1-1", "5\\号楼", "1\\01", 'O\'Brien "\\N"', "男", "1960", "", NEW_IDS[6], "", "", ""]
    ]
    report = run(world, rows)
    assert report.errors == []
    resident = Resident.objects.get(id_number_hash=id_number_hash(NEW_IDS[6]))
    assert resident.name == 'O\'Brien "\\N"'
    assert (resident.household.building.name, resident.household.room) == ("5\\号楼", "1\\01")
    assert run(world, rows).counts()["residents"]["unchanged"] == 1


def test_a_tab_or_line_break_in_a_cell_is_an_error(world):
    rows = [["A1-1", "5号楼", "1\t01", "王\n五", "男", "1960", "", NEW_IDS[6], "", "", ""]]
    report = run(world, rows)
    assert errors_of(report) == [(2, "room", "control"), (2, "name", "control")]
