"""Import of buildings, households and residents from .xlsx or .csv (README "Import columns").

One service, `registry_import`. The rules: every bad row is reported (row as the spreadsheet
shows it, column, reason in Chinese and English) and nothing is written unless every row is
good; importing the same file again changes nothing (buildings match on (building group,
name), households on (building, room), residents on the keyed hash of their ID number).

It is built for a million rows (bench/import_residents.py):
- the file is parsed as a stream and validated in plain Python, never through model
  `full_clean`;
- existing buildings and households of the importer's scope are loaded once; existing
  residents are looked up per batch by hash (skipped when the table was empty);
- on PostgreSQL new residents go straight into their table with COPY, one batch at a time,
  through psycopg's queued writer thread: the database ingests batch k on one core while
  Python validates, hashes and encrypts batch k+1 on the other. Each batch is sorted by ID
  hash, so the ID-hash indexes fill in sweeps rather than at random pages. New buildings and
  households get ids reserved from their sequences under a table lock and are copied per
  batch (foreign keys are checked at commit, as Django declares them deferred). Changed
  residents go through a temporary table and one UPDATE;
- on SQLite the same plan runs with `executemany`.
Everything happens in one transaction; rows after the first bad one are still validated
(to report them all) but no longer written, and the transaction is rolled back.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.privacy import (
    encrypt_text,
    id_number_hash,
    mask_id_number,
    mask_phone,
    phone_is_valid,
)
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.exports import csv_writerow, xlsx_append
from linli.grids.import_limits import MESSAGES as LIMIT_MESSAGES
from linli.grids.import_limits import Limits, UploadRefused, upload_inspect
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    PartyMembership,
    ResidencyType,
    Resident,
    Sex,
    VulnerabilityTag,
)
from linli.grids.selectors import scope_for

# Rows per batch: one existence look-up and one COPY each. Measured on 1M rows: 25k, 50k
# and 100k cost the same; sorting each batch by ID hash cut the database's work by a
# quarter; the short GIL switch interval (so that the COPY writer thread feeds the server
# promptly) took the whole import from 50 s to 21 s.
BATCH_ROWS = 50_000
SORT_BATCHES = True
SWITCH_INTERVAL = 0.0005
# From this many changed residents on, PostgreSQL updates them through a temporary table.
UPDATES_VIA_TEMP_TABLE = 1000
# A background import tells its page how far it got every this many rows.
PROGRESS_EVERY = 500

# Columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the English header, also the field name
    zh: str  # the Chinese header (primary)
    required: bool
    help_en: str
    help_zh: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "building_group_code",
        "楼组网格编码",
        True,
        "Code of an existing building-group grid inside your area",
        "已有的楼组网格编码，须在您的管辖范围内",
        "A1-1",
    ),
    Column("building", "楼栋", True, "Building name, e.g. 12号楼", "楼栋名称，如 12号楼", "12号楼"),
    Column("room", "室号", True, "Room, e.g. 301", "室号，如 301", "301"),
    Column("name", "姓名", True, "Full name", "姓名", "张桂英"),
    Column("sex", "性别", True, "男 / 女 (male / female)", "男 / 女", "女"),
    Column("birth_year", "出生年份", True, "Year of birth, e.g. 1948", "出生年份，如 1948", "1948"),
    Column(
        "phone",
        "手机号",
        False,
        "Mobile number: 11 digits starting with 1",
        "以1开头的11位手机号，可不填",
        "13812341234",
    ),
    Column(
        "id_number",
        "身份证号",
        True,
        "18-character resident ID number (check character verified)",
        "18位居民身份证号（校验码须正确）",
        "110101194603070029",
    ),
    Column(
        "residency_type",
        "户籍类型",
        False,
        "户籍 / 常住 / 外来 (registered / permanent / migrant); empty means 户籍",
        "户籍 / 常住 / 外来，不填视为户籍",
        "户籍",
    ),
    Column(
        "party_membership",
        "党员类型",
        False,
        "Empty, or 在职 / 退休 / 流动 (in_service / retired / floating)",
        "非党员不填；党员填 在职 / 退休 / 流动",
        "退休",
    ),
    Column(
        "vulnerability_tags",
        "困难标签",
        False,
        "Separated by 、 ; or ,: 独居老人 空巢 残疾 重病 低保 孕产妇 留守儿童",
        "多个用 、 ; 或 , 分隔：独居老人 空巢 残疾 重病 低保 孕产妇 留守儿童",
        "独居老人、低保",
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

TAG_LABELS_ZH = {
    VulnerabilityTag.ELDERLY_ALONE: "独居老人",
    VulnerabilityTag.EMPTY_NEST: "空巢",
    VulnerabilityTag.DISABLED: "残疾",
    VulnerabilityTag.SERIOUS_ILLNESS: "重病",
    VulnerabilityTag.LOW_INCOME: "低保",
    VulnerabilityTag.PREGNANT: "孕产妇",
    VulnerabilityTag.LEFT_BEHIND_CHILD: "留守儿童",
}
RESIDENCY_LABELS_ZH = {
    ResidencyType.REGISTERED: "户籍",
    ResidencyType.PERMANENT: "常住",
    ResidencyType.MIGRANT: "外来",
}
PARTY_LABELS_ZH = {
    PartyMembership.NONE: "",
    PartyMembership.IN_SERVICE: "在职",
    PartyMembership.RETIRED: "退休",
    PartyMembership.FLOATING: "流动",
}
SEX_LABELS_ZH = {Sex.MALE: "男", Sex.FEMALE: "女"}


def _header_key(text: str) -> str:
    return text.strip().lstrip("*").strip().lower().replace(" ", "_").replace("-", "_")


_HEADERS = {}
for _column in COLUMNS:
    _HEADERS[_header_key(_column.key)] = _column.key
    _HEADERS[_header_key(_column.zh)] = _column.key
_HEADERS.update(
    {
        "building_group": "building_group_code",
        "楼组编码": "building_group_code",
        "网格编码": "building_group_code",
        "房号": "room",
        "室": "room",
        "手机": "phone",
        "联系电话": "phone",
        "身份证": "id_number",
        "公民身份号码": "id_number",
        "户籍": "residency_type",
        "党员": "party_membership",
        "标签": "vulnerability_tags",
        "tags": "vulnerability_tags",
    }
)

_SEX = {"男": Sex.MALE.value, "女": Sex.FEMALE.value, "male": "male", "female": "female"}
_SEX.update({"m": "male", "f": "female", "男性": "male", "女性": "female"})
_RESIDENCY = {"": ResidencyType.REGISTERED.value}
_RESIDENCY.update({value: value for value in ResidencyType.values})
_RESIDENCY.update({zh: str(code) for code, zh in RESIDENCY_LABELS_ZH.items()})
_RESIDENCY.update({"户籍人口": "registered", "常住人口": "permanent", "外来人口": "migrant"})
_RESIDENCY.update({"流动": "migrant", "流动人口": "migrant"})
_PARTY = {value: value for value in PartyMembership.values}
_PARTY.update({zh: str(code) for code, zh in PARTY_LABELS_ZH.items()})
_PARTY.update({"无": "", "否": "", "群众": "", "非党员": "", "none": ""})
_PARTY.update({"在职党员": "in_service", "退休党员": "retired", "流动党员": "floating"})
_TAGS = {value: value for value in VulnerabilityTag.values}
_TAGS.update({zh: str(code) for code, zh in TAG_LABELS_ZH.items()})
_TAGS.update({"空巢老人": "empty_nest", "残疾人": "disabled", "低保户": "low_income"})
_TAG_SPLIT = re.compile(r"[、;；,，\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Errors ----------------------------------------------------------------------------------

# code -> (English, Chinese); `{name}` placeholders are filled from RowError.params.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("This field is required.", "不能为空。"),
    "too_long": ("At most {limit} characters.", "不能超过{limit}个字符。"),
    "control": ("Contains a tab or a line break.", "包含制表符或换行符。"),
    # One answer for every row refused because of the importer's scope (a building group
    # code outside it, an ID number registered outside it): a dry run must not tell whether
    # a person is registered elsewhere.
    "not_here": ("This row cannot be imported here.", "此行无法在此导入。"),
    "sex": ("Use 男 / 女 (male / female).", "请填写“男”或“女”。"),
    "birth_year": ("A year between 1900 and {year}.", "应为1900至{year}之间的年份。"),
    "phone": (
        "A mobile number has 11 digits and starts with 1.",
        "手机号应为以1开头的11位数字。",
    ),
    "id_number": (
        "Not a valid 18-character resident ID number (the check character does not match).",
        "不是有效的18位居民身份证号（校验码不符）。",
    ),
    "duplicate_id": (
        "The same ID number is already on row {row}.",
        "与第{row}行的身份证号重复。",
    ),
    "residency_type": (
        "Use 户籍 / 常住 / 外来 (registered / permanent / migrant).",
        "请填写“户籍”“常住”或“外来”。",
    ),
    "party_membership": (
        "Leave empty, or use 在职 / 退休 / 流动 (in_service / retired / floating).",
        "非党员不填，党员请填写“在职”“退休”或“流动”。",
    ),
    "tag": ("Unknown tag: {tag}.", "未知的困难标签：{tag}。"),
    # A formula's result is not in a file saved by a program other than Excel (nor is it
    # what was typed): ask for the value itself rather than report an empty cell.
    "formula": (
        "Formulas are not accepted: type the value itself.",
        "不接受公式，请直接填写内容本身。",
    ),
    "missing_column": (
        "The header row has no column {header}.",
        "表头缺少“{header}”列。",
    ),
    "duplicate_column": (
        "This column appears twice in the header row.",
        "表头中此列重复出现。",
    ),
    "empty_file": ("The file has no header row.", "文件没有表头行。"),
    "encoding": (
        "The file is not UTF-8 text: save it as “CSV UTF-8”.",
        "文件不是UTF-8编码，请另存为“CSV UTF-8”格式。",
    ),
    "file_type": ("Upload a .xlsx or a .csv file.", "请上传 .xlsx 或 .csv 文件。"),
    "unreadable": ("The file could not be read as a spreadsheet.", "无法读取此表格文件。"),
    # The limits on an upload (linli.grids.import_limits): `{limit}` rows, MB or characters.
    **LIMIT_MESSAGES,
}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet shows it: the header is row 1; 0 for the file as a whole
    column: str  # a COLUMNS key, or "" for the whole row / file
    code: str
    value: str = ""  # what the cell held (phone and ID number masked)
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def message_en(self) -> str:
        return MESSAGES[self.code][0].format(**dict(self.params))

    @property
    def message_zh(self) -> str:
        return MESSAGES[self.code][1].format(**dict(self.params))

    @property
    def message(self) -> str:
        """The reason in the active language."""
        language = translation.get_language() or "zh-hans"
        return self.message_zh if language.startswith("zh") else self.message_en

    @property
    def column_zh(self) -> str:
        return COLUMN_BY_KEY[self.column].zh if self.column in COLUMN_BY_KEY else ""

    def as_text(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        where_en = f"row {self.row}" if self.row else "file"
        column = f" {self.column_zh}" if self.column_zh else ""
        column_en = f" {self.column}" if self.column else ""
        value = f" [{self.value}]" if self.value else ""
        return (
            f"{where}{column}: {self.message_zh} / {where_en}{column_en}: {self.message_en}{value}"
        )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    rows: int = 0  # data rows read (blank rows not counted)
    errors: list[RowError] = field(default_factory=list)
    buildings: Counts = field(default_factory=Counts)
    households: Counts = field(default_factory=Counts)
    residents: Counts = field(default_factory=Counts)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
            }
            for name, counts in (
                ("buildings", self.buildings),
                ("households", self.households),
                ("residents", self.residents),
            )
        }

    def summary(self) -> str:
        state = "检查" if self.dry_run else "导入"
        lines = [
            f"{state} {self.filename}: {self.rows} 行 / rows, {self.seconds:.1f} s"
            f"{' (dry run, nothing written)' if self.dry_run else ''}"
        ]
        for label, counts in (
            ("楼栋 buildings", self.buildings),
            ("户 households", self.households),
            ("居民 residents", self.residents),
        ):
            lines.append(
                f"  {label}: created {counts.created}, updated {counts.updated}, "
                f"unchanged {counts.unchanged}"
            )
        if self.errors:
            lines.append(
                f"{len(self.errors)} 处错误，未写入任何数据 / {len(self.errors)} errors, "
                "nothing was written"
            )
        return "\n".join(lines)


class ImportAborted(Exception):
    """A file-level problem (unreadable, wrong header, a limit): report it and stop reading."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# Reading ---------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _csv_rows(binary: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from enumerate(csv.reader(text), start=1)
    except UnicodeDecodeError:
        raise ImportAborted("encoding") from None
    except csv.Error:
        raise ImportAborted("unreadable") from None
    finally:
        # Leave the caller's file open: a TextIOWrapper closes what it wraps when collected.
        try:
            text.detach()
        except ValueError:  # already closed by the caller
            pass


class _RowWithFormulas(list):
    """A sheet row in which some cells hold formulas: those cells are blank here and their
    positions are in `formulas`, so that the check can refuse them by name."""

    formulas: tuple[int, ...] = ()


def _xlsx_rows(binary: BinaryIO, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, read as a stream (openpyxl's read-only mode) after
    `upload_inspect` passed the file; still stopped at the row cap and each cell cut at the
    cell limit, whatever the file claims. Formulas are read as formulas (data_type "f"), not
    as the result the file may or may not carry, and handed on as _RowWithFormulas."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(binary, read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportAborted("unreadable") from None
    cap, width = limits.sheet_rows, limits.cell_chars
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if cap is not None and number > cap:
                raise ImportAborted("too_many_rows", limit=limits.rows)
            cells = [
                "" if cell.data_type == "f" else _cell_text(cell.value)[:width] for cell in row
            ]
            formulas = tuple(index for index, cell in enumerate(row) if cell.data_type == "f")
            if formulas:
                cells = _RowWithFormulas(cells)
                cells.formulas = formulas
            yield number, cells
    finally:
        workbook.close()


def _capped(
    rows: Iterator[tuple[int, list[str]]],
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[int, list[str]]]:
    """`rows` stopped at the row cap, telling `progress` every PROGRESS_EVERY rows."""
    cap = limits.sheet_rows
    for number, cells in rows:
        if cap is not None and number > cap:
            raise ImportAborted("too_many_rows", limit=limits.rows)
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number)
        yield number, cells


def file_kind(filename: str) -> str | None:
    suffix = Path(filename).suffix.lower()
    return {".csv": "csv", ".xlsx": "xlsx"}.get(suffix)


# The fast GB 11643 check: weights are 2^(17-k) mod 11, and 13 ≡ 2 (mod 11), so the weighted
# sum is 2 × (the first 17 digits read in base 13) mod 11. Proven equal to
# linli.accounts.privacy.id_number_is_valid in tests/test_importing.py.
_ID_CHECK = "10X98765432"


def id_number_ok(value: str) -> bool:
    if len(value) != 18 or not value.isascii():
        return False
    body = value[:17]
    if not body.isdigit():
        return False
    return _ID_CHECK[(2 * int(body, 13)) % 11] == value[17]


def _copy_escape(value: str) -> str:
    """Text-format COPY escaping (values with control characters never get this far)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _common_path(paths: Iterable[str]) -> str:
    paths = list(paths)
    if not paths:
        return ""
    prefix = os.path.commonprefix(paths)
    return prefix[: prefix.rfind("/") + 1] or "/"


# Writing: one class per database ---------------------------------------------------------

_RESIDENT_INSERT_COLUMNS = (
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
    "created_at",
    "updated_at",
)
_LOOKUP_COLUMNS = (
    "id_number_hash",
    "id",
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
)
_UPDATE_COLUMNS = (
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
)
_TABLES = {
    "building": Building._meta.db_table,
    "household": Household._meta.db_table,
    "resident": Resident._meta.db_table,
}


class _Writer(ABC):
    """What differs between PostgreSQL and SQLite; the importer calls these in order."""

    def __init__(self, now: datetime):
        self.now = now
        self.cursor = connection.cursor()

    def lock(self) -> None:  # noqa: B027 - most databases need no lock beyond the transaction
        """Keep concurrent writers out of the registry tables for the import's duration."""

    def table_has_rows(self, table: str) -> bool:
        self.cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (fixed names)
        return self.cursor.fetchone() is not None

    @abstractmethod
    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        """Implemented per database."""

    @abstractmethod
    def first_free_id(self, table: str) -> int:
        """Implemented per database."""

    def ids_used(self, table: str, last: int) -> None:  # noqa: B027 - optional hook
        """Tell the database which ids were taken (PostgreSQL moves its sequences)."""

    def prepare_residents(self, rows: list[tuple]) -> Any:
        """Whatever `write_residents` sends, made before waiting for the database."""
        return rows

    @abstractmethod
    def write_residents(self, payload: Any) -> None:
        """Implemented per database."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Wait until every queued row has reached the database."""

    def insert_buildings(self, rows: list[tuple]) -> None:
        self.cursor.executemany(
            f"INSERT INTO {_TABLES['building']} (id, grid_unit_id, grid_path, name, address) "
            "VALUES (%s, %s, %s, %s, '')",
            rows,
        )

    def insert_households(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        self.cursor.executemany(
            f"INSERT INTO {_TABLES['household']} "
            "(id, building_id, grid_path, room, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(*row, now, now) for row in rows],
        )

    def update_residents(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        assignments = ", ".join(f"{column} = %s" for column in _UPDATE_COLUMNS)
        self.cursor.executemany(
            f"UPDATE {_TABLES['resident']} SET {assignments}, updated_at = %s WHERE id = %s",
            [(*row[1:], now, row[0]) for row in rows],
        )

    def close(self) -> None:
        self.cursor.close()


class _SqliteWriter(_Writer):
    chunk = 500

    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        found = {}
        columns = ", ".join(_LOOKUP_COLUMNS)
        for start in range(0, len(hashes), self.chunk):
            part = hashes[start : start + self.chunk]
            marks = ", ".join(["%s"] * len(part))
            self.cursor.execute(
                f"SELECT {columns} FROM {_TABLES['resident']} WHERE id_number_hash IN ({marks})",
                part,
            )
            for row in self.cursor.fetchall():
                found[row[0]] = row
        return found

    def first_free_id(self, table: str) -> int:
        # The import holds SQLite's write lock (BEGIN IMMEDIATE) for its whole transaction.
        self.cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        highest = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = self.cursor.fetchone()
        return max(highest, row[0] if row else 0) + 1

    def write_residents(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        columns = ", ".join(_RESIDENT_INSERT_COLUMNS)
        marks = ", ".join(["%s"] * len(_RESIDENT_INSERT_COLUMNS))
        self.cursor.executemany(
            f"INSERT INTO {_TABLES['resident']} ({columns}) VALUES ({marks})",
            [(*row, now, now) for row in rows],
        )


class _PostgresWriter(_Writer):
    def __init__(self, now: datetime):
        super().__init__(now)
        self.now_text = now.isoformat()
        self._copy_stack: ExitStack | None = None
        self._copy = None

    def lock(self) -> None:
        # Readers go on; other writers to these tables wait until the import commits, so the
        # existing keys read at the start stay true and reserved ids stay free.
        self.cursor.execute(
            "LOCK TABLE {building}, {household}, {resident} IN SHARE ROW EXCLUSIVE MODE".format(
                **_TABLES
            )
        )
        # A crash loses at most this transaction, which then did not happen at all.
        self.cursor.execute("SET LOCAL synchronous_commit = off")

    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        self.flush()
        columns = ", ".join(_LOOKUP_COLUMNS)
        self.cursor.execute(
            f"SELECT {columns} FROM {_TABLES['resident']} WHERE id_number_hash = ANY(%s)",
            [hashes],
        )
        return {row[0]: row for row in self.cursor.fetchall()}

    def first_free_id(self, table: str) -> int:
        self.cursor.execute(
            f"SELECT GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))",
            [table],
        )
        return self.cursor.fetchone()[0]

    def ids_used(self, table: str, last: int) -> None:
        self.cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, last])

    def _copy_start(self, sql: str):
        from psycopg.copy import QueuedLibpqWriter

        raw = self.cursor.cursor  # the psycopg cursor under Django's wrapper
        self._copy_stack = ExitStack()
        self._copy = self._copy_stack.enter_context(raw.copy(sql, writer=QueuedLibpqWriter(raw)))
        return self._copy

    def prepare_residents(self, rows: list[tuple]) -> bytes:
        # Sorted by hash: the two ID-hash indexes then fill page after page.
        if SORT_BATCHES:
            rows.sort(key=lambda row: row[7])
        now = self.now_text
        escape = _copy_escape
        lines = [
            f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t{r[8]}\t"
            f"{r[9]}\t{r[10]}\t{r[11]}\t{now}\t{now}\n"
            for r in (
                row if "\\" not in row[1] and "\\" not in row[2] else _escaped(row) for row in rows
            )
        ]
        del escape
        return "".join(lines).encode()

    def write_residents(self, payload: bytes) -> None:
        copy = self._copy or self._copy_start(
            f"COPY {_TABLES['resident']} ({', '.join(_RESIDENT_INSERT_COLUMNS)}) FROM STDIN"
        )
        copy.write(payload)

    def flush(self) -> None:
        """End the COPY in flight (waits for the server to take the rest)."""
        if self._copy_stack is not None:
            stack, self._copy_stack, self._copy = self._copy_stack, None, None
            stack.close()

    def _copy_rows(self, sql: str, rows: Iterable[tuple]) -> None:
        self.flush()
        with self.cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _copy_text(self, sql: str, lines: list[str]) -> None:
        self.flush()
        with self.cursor.cursor.copy(sql) as copy:
            copy.write("".join(lines).encode())

    def insert_buildings(self, rows: list[tuple]) -> None:
        escape = _copy_escape
        self._copy_text(
            f"COPY {_TABLES['building']} (id, grid_unit_id, grid_path, name, address) FROM STDIN",
            [
                f"{pk}\t{group}\t{escape(path)}\t{escape(name)}\t\n"
                for pk, group, path, name in rows
            ],
        )

    def insert_households(self, rows: list[tuple]) -> None:
        escape, now = _copy_escape, self.now_text
        self._copy_text(
            f"COPY {_TABLES['household']} "
            "(id, building_id, grid_path, room, created_at, updated_at) FROM STDIN",
            [
                f"{pk}\t{building}\t{escape(path)}\t{escape(room)}\t{now}\t{now}\n"
                for pk, building, path, room in rows
            ],
        )

    def update_residents(self, rows: list[tuple]) -> None:
        self.flush()
        if len(rows) < UPDATES_VIA_TEMP_TABLE:
            super().update_residents(rows)
            return
        self.cursor.execute(
            "CREATE TEMP TABLE linli_import_update "
            f"(id bigint, {', '.join(f'{c} text' for c in _UPDATE_COLUMNS)}) ON COMMIT DROP"
        )
        self._copy_rows(
            f"COPY linli_import_update (id, {', '.join(_UPDATE_COLUMNS)}) FROM STDIN", rows
        )
        casts = {"household_id": "::bigint", "birth_year": "::smallint"}
        assignments = ", ".join(f"{c} = u.{c}{casts.get(c, '')}" for c in _UPDATE_COLUMNS)
        self.cursor.execute(
            f"UPDATE {_TABLES['resident']} r SET {assignments}, updated_at = %s "
            "FROM linli_import_update u WHERE r.id = u.id",
            [self.now],
        )

    def close(self) -> None:
        try:
            self.flush()
        except DatabaseError:  # the transaction failed and is being rolled back anyway
            pass
        super().close()


# The importer ----------------------------------------------------------------------------


class _Importer:
    def __init__(
        self,
        *,
        actor: User | None,
        scope_paths: list[str],
        report: ImportReport,
        ip_address: str | None = None,
    ):
        self.actor = actor
        self.ip_address = ip_address
        self.scope_paths = scope_paths
        self.report = report
        self.errors = report.errors
        self.writing = not report.dry_run
        self.now = clock.now()
        self.max_year = clock.localdate().year
        writer_class = _PostgresWriter if connection.vendor == "postgresql" else _SqliteWriter
        self.writer = writer_class(self.now)
        # Existing keys of the importer's scope.
        self.groups: dict[str, tuple[int, str]] = {}
        self.buildings: dict[tuple[int, str], tuple[int, str]] = {}
        self.households: dict[tuple[int, str], tuple[int, str]] = {}
        # Keys seen in this file.
        self.household_cache: dict[tuple[str, str, str], tuple[int, str]] = {}
        self.touched_buildings: set[int] = set()
        self.touched_households: set[int] = set()
        self.new_buildings: list[tuple] = []
        self.new_households: list[tuple] = []
        self.stale_buildings: list[tuple[int, str]] = []
        self.stale_households: list[tuple[int, str]] = []
        self.seen_ids: dict[str, int] = {}
        self.updates: list[tuple] = []
        self.update_audits: list[AuditEntry] = []
        self.group_paths: set[str] = set()
        self.created_ids: set[int] = set()  # buildings planned by this import
        self.buildings_written = 0
        self.households_written = 0

    def _error(self, number: int, column: str, code: str, value: str = "", **params) -> None:
        self.errors.append(RowError(number, column, code, value, tuple(sorted(params.items()))))
        self.writing = False

    def _within_scope(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.scope_paths)

    # -- setup ----------------------------------------------------------------------------

    def load_existing(self) -> None:
        units = GridUnit.objects.filter(level=GridLevel.BUILDING_GROUP).within(self.scope_paths)
        self.groups = {
            code: (pk, path) for pk, code, path in units.values_list("id", "code", "path")
        }
        in_scope = _paths_q("grid_unit__path", self.scope_paths)
        for pk, group_id, name, path, group_path in Building.objects.filter(in_scope).values_list(
            "id", "grid_unit_id", "name", "grid_path", "grid_unit__path"
        ):
            self.buildings[(group_id, name)] = (pk, path if path == group_path else "")
        in_scope = _paths_q("building__grid_unit__path", self.scope_paths)
        for pk, building_id, room, path, group_path in (
            Household.objects.filter(in_scope)
            .values_list("id", "building_id", "room", "grid_path", "building__grid_unit__path")
            .iterator(chunk_size=20_000)
        ):
            self.households[(building_id, room)] = (pk, path if path == group_path else "")

    # -- the row loop ---------------------------------------------------------------------

    def validated(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple]:
        """Yield (row, household_id, grid_path, name, sex, birth_year, phone, id_number,
        residency, party, tags) for every good row; record an error for every bad cell."""
        try:
            header_number, header = next(rows)
        except StopIteration:
            self._error(0, "", "empty_file")
            return
        positions = self._header_positions(header_number, header)
        if positions is None:
            return
        p_group, p_building, p_room, p_name, p_sex, p_year = (
            positions[key]
            for key in ("building_group_code", "building", "room", "name", "sex", "birth_year")
        )
        p_id = positions["id_number"]
        p_phone, p_residency, p_party, p_tags = (
            positions.get(key, -1)
            for key in ("phone", "residency_type", "party_membership", "vulnerability_tags")
        )
        width = max(positions.values()) + 1
        column_at = {index: key for key, index in positions.items()}
        error = self._error
        household_cache = self.household_cache
        seen_ids = self.seen_ids
        sexes, residencies, parties = _SEX, _RESIDENCY, _PARTY
        control = _CONTROL.search
        phone_ok = phone_is_valid
        max_year = self.max_year
        report = self.report
        for number, cells in rows:
            formulas = getattr(cells, "formulas", ())
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            if not cells[p_id] and not cells[p_name] and not any(c.strip() for c in cells):
                if not formulas:
                    continue  # a blank row
            report.rows += 1
            bad = len(self.errors)

            key = (cells[p_group].strip(), cells[p_building].strip(), cells[p_room].strip())
            household = household_cache.get(key)
            if household is None:
                household = self._household(number, key)

            name = cells[p_name].strip()
            if not name:
                error(number, "name", "required")
            elif len(name) > 50:
                error(number, "name", "too_long", name[:60], limit=50)
            elif control(name):
                error(number, "name", "control")

            raw = cells[p_sex]
            sex = sexes.get(raw) or sexes.get(raw.strip().lower())
            if sex is None:
                error(number, "sex", "required" if not raw.strip() else "sex", raw[:40])

            raw = cells[p_year].strip()
            year = None
            if not raw:
                error(number, "birth_year", "required")
            else:
                try:
                    year = int(raw)
                except ValueError:
                    year = None
                if year is None or year < 1900 or year > max_year:
                    year = None
                    error(number, "birth_year", "birth_year", raw[:40], year=max_year)

            phone = None
            if p_phone >= 0:
                phone = cells[p_phone]
                if phone and not phone_ok(phone):
                    phone = phone.strip().replace(" ", "").replace("-", "")
                    if phone and not phone_ok(phone):
                        error(number, "phone", "phone", mask_phone(phone)[:40])

            id_number = cells[p_id]
            if len(id_number) != 18 or not id_number_ok(id_number):
                id_number = id_number.strip().upper().replace(" ", "")
                if not id_number:
                    error(number, "id_number", "required")
                elif not id_number_ok(id_number):
                    error(number, "id_number", "id_number", _mask_bad_id(id_number))
            if id_number:
                first = seen_ids.get(id_number)
                if first is None:
                    seen_ids[id_number] = number
                else:
                    error(number, "id_number", "duplicate_id", _mask_bad_id(id_number), row=first)

            residency = None
            if p_residency >= 0:
                raw = cells[p_residency]
                residency = residencies.get(raw)
                if residency is None:
                    residency = residencies.get(raw.strip().lower())
                    if residency is None:
                        error(number, "residency_type", "residency_type", raw[:40])

            party = None
            if p_party >= 0:
                raw = cells[p_party]
                party = parties.get(raw)
                if party is None:
                    party = parties.get(raw.strip().lower())
                    if party is None:
                        error(number, "party_membership", "party_membership", raw[:40])

            tags = None
            if p_tags >= 0:
                raw = cells[p_tags]
                tags = self._tags(number, raw) if raw else ""

            if formulas:
                self._refuse_formulas(
                    number, bad, [column_at[i] for i in formulas if i in column_at]
                )

            if len(self.errors) == bad and household is not None:
                yield (
                    number,
                    household[0],
                    household[1],
                    name,
                    sex,
                    year,
                    phone,
                    id_number,
                    residency,
                    party,
                    tags,
                )

    def _refuse_formulas(self, number: int, bad: int, columns: list[str]) -> None:
        """Formula cells of row `number` (blank as read) are refused as formulas, in place of
        whatever the blank made the other checks say about those columns. The formula is
        not echoed: it may hold a phone or ID number."""
        if not columns:
            return
        refused = set(columns)
        self.errors[bad:] = [e for e in self.errors[bad:] if e.column not in refused]
        for column in COLUMNS:
            if column.key in refused:
                self._error(number, column.key, "formula")

    def _header_positions(self, number: int, header: list[str]) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        for index, text in enumerate(header):
            key = _HEADERS.get(_header_key(text or ""))
            if key is None:
                continue  # extra columns (notes, serial numbers) are ignored
            if key in positions:
                self._error(number, key, "duplicate_column", text)
                continue
            positions[key] = index
        for column in COLUMNS:
            if column.required and column.key not in positions:
                self._error(number, column.key, "missing_column", header=column.zh)
        return None if self.errors else positions

    def _tags(self, number: int, raw: str) -> str | None:
        codes = []
        for part in _TAG_SPLIT.split(raw.strip()):
            if not part:
                continue
            code = _TAGS.get(part) or _TAGS.get(part.lower())
            if code is None:
                self._error(number, "vulnerability_tags", "tag", raw[:80], tag=part[:30])
                return None
            codes.append(code)
        return Resident.encode_tags(codes)

    def _household(self, number: int, key: tuple[str, str, str]) -> tuple[int, str] | None:
        """Find or plan the household for (group code, building, room); None when bad."""
        code, building_name, room = key
        ok = True
        group = self.groups.get(code)
        if not code:
            self._error(number, "building_group_code", "required")
            ok = False
        elif group is None:
            self._error(number, "building_group_code", "not_here", code[:40])
            ok = False
        for column, value, limit in (("building", building_name, 50), ("room", room, 20)):
            if not value:
                self._error(number, column, "required")
                ok = False
            elif len(value) > limit:
                self._error(number, column, "too_long", value[:60], limit=limit)
                ok = False
            elif _CONTROL.search(value):
                self._error(number, column, "control")
                ok = False
        if not ok:
            return None
        group_id, group_path = group
        self.group_paths.add(group_path)
        building = self.buildings.get((group_id, building_name))
        if building is None:
            building_id = self._next_id("building")
            self.new_buildings.append((building_id, group_id, group_path, building_name))
            self.buildings[(group_id, building_name)] = (building_id, group_path)
            self.created_ids.add(building_id)
        else:
            building_id, path = building
            if building_id not in self.touched_buildings and building_id not in self.created_ids:
                self.touched_buildings.add(building_id)
                if path != group_path:
                    self.stale_buildings.append((building_id, group_path))
                    self.buildings[(group_id, building_name)] = (building_id, group_path)
        existing = self.households.get((building_id, room))
        if existing is None:
            household_id = self._next_id("household")
            self.new_households.append((household_id, building_id, group_path, room))
        else:
            household_id, path = existing
            self.touched_households.add(household_id)
            if path != group_path:  # (a household is planned once: the cache has the key)
                self.stale_households.append((household_id, group_path))
        result = (household_id, group_path)
        self.household_cache[key] = result
        self.households[(building_id, room)] = (household_id, group_path)
        return result

    # -- ids ------------------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    # -- batches --------------------------------------------------------------------------

    def process(self, batch: list[tuple], check_existing: bool) -> None:
        hashes = [id_number_hash(row[7]) for row in batch]
        existing = self.writer.lookup(hashes) if check_existing else {}
        counts = self.report.residents
        inserts = []
        writing = self.writing
        for row, digest in zip(batch, hashes, strict=True):
            found = existing.get(digest) if existing else None
            if found is not None:
                self._compare(row, found)
                continue
            counts.created += 1
            if writing:
                _n, household_id, path, name, sex, year, phone, id_number = row[:8]
                inserts.append(
                    (
                        household_id,
                        path,
                        name,
                        sex,
                        year,
                        phone or "",
                        encrypt_text(id_number),
                        digest,
                        mask_id_number(id_number),
                        row[8] or "registered",
                        row[9] or "",
                        row[10] or "",
                    )
                )
        if self.writing:
            # Prepare this batch while the database still takes the last one; then write the
            # batch's new buildings and households (which ends the COPY in flight) and queue
            # the residents.
            payload = self.writer.prepare_residents(inserts) if inserts else None
            self.write_planned()
            if payload is not None:
                self.writer.write_residents(payload)

    def write_planned(self) -> None:
        """Write the buildings and households planned since the last batch."""
        if self.buildings_written < len(self.new_buildings):
            self.writer.insert_buildings(self.new_buildings[self.buildings_written :])
            self.buildings_written = len(self.new_buildings)
        if self.households_written < len(self.new_households):
            self.writer.insert_households(self.new_households[self.households_written :])
            self.households_written = len(self.new_households)

    def _compare(self, row: tuple, found: tuple) -> None:
        number, household_id, path, name, sex, year, phone, _id, residency, party, tags = row[:11]
        (_, pk, old_household, old_path, old_name, old_sex, old_year, old_phone) = found[:8]
        old_residency, old_party, old_tags = found[8:11]
        if not self._within_scope(old_path):
            self._error(number, "id_number", "not_here", _mask_bad_id(_id))
            return
        new = (
            household_id,
            path,
            name,
            sex,
            year,
            old_phone if phone is None else phone,
            old_residency if residency is None else residency,
            old_party if party is None else party,
            old_tags if tags is None else tags,
        )
        old = (
            old_household,
            old_path,
            old_name,
            old_sex,
            old_year,
            old_phone,
            old_residency,
            old_party,
            old_tags,
        )
        if new == old:
            self.report.residents.unchanged += 1
            return
        self.report.residents.updated += 1
        if not self.writing:
            return
        self.updates.append((pk, *new))
        changes = {}
        for column, before, after in zip(_UPDATE_COLUMNS, old, new, strict=True):
            if before != after:
                if column == "phone":
                    before, after = mask_phone(before), mask_phone(after)
                changes[column] = [before, after]
        self.update_audits.append(
            AuditEntry(
                actor=self.actor,
                action=AuditAction.UPDATE,
                object_type="resident",
                object_id=str(pk),
                object_label=name[:200],
                changes=changes,
                reason=f"import {self.report.filename}"[:300],
                grid_path=path,
            )
        )

    # -- the whole run --------------------------------------------------------------------

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        writer = self.writer
        if self.writing:
            writer.lock()
        self.load_existing()
        self.next_ids = {
            "building": writer.first_free_id(_TABLES["building"]),
            "household": writer.first_free_id(_TABLES["household"]),
        }
        check_existing = writer.table_has_rows(_TABLES["resident"])
        batch: list[tuple] = []
        # The COPY writer thread must get the GIL promptly whenever the socket can take more,
        # or the database waits for data while this thread validates.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            # A small first batch gets the database busy sooner.
            size = min(BATCH_ROWS, 5_000)
            for row in self.validated(rows):
                batch.append(row)
                if len(batch) >= size:
                    self.process(batch, check_existing)
                    batch, size = [], BATCH_ROWS
        except ImportAborted as aborted:
            self._error(0, "", aborted.code, **aborted.params)
        finally:
            sys.setswitchinterval(switch_interval)
        if batch:
            self.process(batch, check_existing)
        writer.flush()
        report = self.report
        report.buildings.created = len(self.new_buildings)
        report.buildings.updated = len(self.stale_buildings)
        report.buildings.unchanged = len(self.touched_buildings) - len(self.stale_buildings)
        report.households.created = len(self.new_households)
        report.households.updated = len(self.stale_households)
        report.households.unchanged = len(self.touched_households) - len(self.stale_households)
        if not self.writing:
            return
        self.write_planned()
        if self.new_buildings:
            writer.ids_used(_TABLES["building"], self.next_ids["building"] - 1)
        if self.new_households:
            writer.ids_used(_TABLES["household"], self.next_ids["household"] - 1)
        for model, stale in ((Building, self.stale_buildings), (Household, self.stale_households)):
            for pk, path in stale:
                model.objects.filter(pk=pk).update(grid_path=path)
        if self.updates:
            writer.update_residents(self.updates)
            AuditEntry.objects.bulk_create(self.update_audits, batch_size=2000)
        audit_record(
            actor=self.actor,
            action=AuditAction.IMPORT,
            object_type="registry_import",
            object_label=report.filename,
            changes={"rows": report.rows, **report.counts()},
            grid_path=_common_path(self.group_paths)
            or (self.scope_paths[0] if self.scope_paths else ""),
            ip_address=self.ip_address,
        )


def _escaped(row: tuple) -> tuple:
    return (row[0], _copy_escape(row[1]), _copy_escape(row[2]), *row[3:])


def _paths_q(field_name: str, paths: list[str]):
    from django.db.models import Q

    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field_name}__startswith": path})
    return condition


def _mask_bad_id(value: str) -> str:
    """Enough of a (possibly wrong) ID number to find the row, never the whole of it."""
    value = value[:40]
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


# The service -----------------------------------------------------------------------------


def import_scope_paths(actor: User | None) -> list[str]:
    """Where `actor` may import: their IMPORT_REGISTRY subtrees; everywhere for the system."""
    if actor is None:
        return ["/"]
    return scope_for(actor).paths_for(Permission.IMPORT_REGISTRY)


def registry_import(
    *,
    actor: User | None,
    source: BinaryIO | str | Path,
    filename: str,
    dry_run: bool = False,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
    ip_address: str | None = None,
) -> ImportReport:
    """Import buildings, households and residents from a .xlsx or .csv file.

    `actor` None is the command line without --as: the system, with the whole registry in
    scope. Returns the report; writes nothing unless every row is good (and not `dry_run`).
    `limits` (the web's: Limits.from_settings()) bound the file before it is parsed; without
    them (the command line, the benchmark) an .xlsx is still checked for its unpacked size,
    compression and cell sizes, but rows are not capped. `progress(rows read)` is called
    every PROGRESS_EVERY rows. Every run that writes nothing (a dry run, a refused file) is
    audited as an import check: file name, rows and counts, never an ID number.
    """
    started = time.perf_counter()
    scope_paths = import_scope_paths(actor)
    if not scope_paths:
        raise ValidationError(_("You may not import residents."), code="permission_denied")
    report = ImportReport(filename=Path(filename).name, dry_run=dry_run)
    kind = file_kind(filename)
    if kind is None:
        report.errors.append(RowError(0, "", "file_type"))
        _check_audit(actor, report, scope_paths, ip_address)
        return report
    if limits is None:
        limits = Limits.from_settings(rows=False)
    with ExitStack() as stack:
        binary = (
            stack.enter_context(open(source, "rb")) if isinstance(source, str | Path) else source
        )
        refused = None
        if kind == "xlsx" or limits.rows is not None:
            try:
                upload_inspect(binary, kind, limits)
            except UploadRefused as refusal:
                refused = RowError(
                    refusal.row, "", refusal.code, params=(("limit", refusal.limit),)
                )
        if refused is not None:
            report.errors.append(refused)
        else:
            rows = _csv_rows(binary) if kind == "csv" else _xlsx_rows(binary, limits)
            rows = _capped(rows, limits, progress)
            with transaction.atomic():
                importer = _Importer(
                    actor=actor, scope_paths=scope_paths, report=report, ip_address=ip_address
                )
                try:
                    importer.run(rows)
                finally:
                    rows.close()
                    importer.writer.close()
                if not report.written:
                    transaction.set_rollback(True)
    report.errors.sort(key=lambda error: (error.row, _COLUMN_ORDER.get(error.column, -1)))
    report.seconds = time.perf_counter() - started
    if not report.written:
        _check_audit(actor, report, scope_paths, ip_address)
    return report


def _check_audit(
    actor: User | None, report: ImportReport, scope_paths: list[str], ip_address: str | None
) -> None:
    """One audit entry for a run that wrote nothing: what was checked, never an ID number."""
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT_CHECK,
        object_type="registry_import",
        object_label=report.filename,
        changes={
            "rows": report.rows,
            "dry_run": report.dry_run,
            "errors": len(report.errors),
            **report.counts(),
        },
        grid_path=_common_path(scope_paths),
        ip_address=ip_address,
    )


_COLUMN_ORDER = {column.key: index for index, column in enumerate(COLUMNS)}


# Downloadable templates ------------------------------------------------------------------


def import_template_csv() -> bytes:
    """The header row, with a BOM so that Excel opens it as UTF-8."""
    buffer = io.StringIO()
    csv_writerow(csv.writer(buffer), [column.zh for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode()


def import_template_xlsx() -> bytes:
    """Sheet 1: the header row to fill in. Sheet 2: what each column takes, with examples."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "居民 Residents"
    xlsx_append(sheet, [column.zh for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(COLUMNS):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        sheet.column_dimensions[letter].width = 14 if column.key != "id_number" else 22
        # Text cells: Excel would turn an 18-digit ID number into a rounded float.
        sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明 Columns")
    xlsx_append(
        notes, ["表头", "English header", "必填 Required", "说明", "Values", "示例 Example"]
    )
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        xlsx_append(
            notes,
            [
                column.zh,
                column.key,
                "是 yes" if column.required else "否 no",
                column.help_zh,
                column.help_en,
                column.example,
            ],
        )
    for letter, width in zip("ABCDEF", (14, 22, 12, 44, 60, 20), strict=True):
        notes.column_dimensions[letter].width = width
    notes.append([])
    xlsx_append(
        notes,
        [
            "每个错误行都会列出（行号、列、原因）；只要有一行出错，就不写入任何数据。"
            "重复导入同一文件不会产生重复数据。"
        ],
    )
    xlsx_append(
        notes,
        [
            "Every bad row is reported (row, column, reason); nothing is written unless every "
            "row is good. Importing the same file again changes nothing."
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
