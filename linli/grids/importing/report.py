"""What an import found: every bad cell as a RowError (row, column, reason in Chinese and
English), the counts of what was or would be created, updated and left unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils import translation

from linli.grids.importing.columns import COLUMN_BY_KEY
from linli.grids.importing.limits import MESSAGES as LIMIT_MESSAGES

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
    # The limits on an upload (linli.grids.importing.limits): `{limit}` rows, MB or characters.
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


class ErrorSink(Protocol):
    """Records one bad cell (row as the spreadsheet shows it, column key, MESSAGES code)."""

    def __call__(
        self, number: int, column: str, code: str, value: str = "", **params: object
    ) -> None: ...
