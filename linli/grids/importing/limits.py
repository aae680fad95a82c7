"""Limits on an uploaded registry file, checked before anything parses it.

An .xlsx is a zip of XML: 600 KB can unpack to gigabytes (a "zip bomb"), a sheet can claim
20 million rows, a single cell can hold 300 MB. openpyxl would hold a web worker for minutes
and gigabytes on such a file, so `upload_inspect` looks at the zip first (member count,
unpacked total, compression ratio of each member), then streams every XML member through
expat, counting without keeping anything: rows (and the row numbers the sheet claims, since
openpyxl fills gaps with empty rows), cells, characters per cell. It refuses a DOCTYPE (no
spreadsheet has one; entity expansion is how XML bombs work). A .csv is read with the csv
module up to the row cap. The limits are settings (LINLI_IMPORT_*); every refusal names the
limit in Chinese and English.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO
from xml.parsers import expat

from django.conf import settings

# A member that unpacks to more than this much and more than MAX_RATIO times its packed size
# is not a spreadsheet (real sheets pack about 10:1).
RATIO_FLOOR_BYTES = 10 * 1024 * 1024
MAX_RATIO = 100
# A workbook has a dozen members; a zip with thousands is built to cost time.
MAX_MEMBERS = 1_000
# Columns a sheet may claim (the import has 11; extra columns are ignored but still read).
MAX_COLUMNS = 200
# XML elements per allowed row (a row of 11 inline-string cells is about 34).
ELEMENTS_PER_ROW = 100
READ_CHUNK = 64 * 1024

# code -> (English, Chinese); `{limit}` is filled in.
MESSAGES: dict[str, tuple[str, str]] = {
    "file_too_large": ("The file is larger than {limit} MB.", "文件超过 {limit} MB。"),
    "unpacked_too_large": (
        "The file unpacks to more than {limit} MB: remove pictures and other sheets, or split "
        "it into several files.",
        "文件解压后超过 {limit} MB，请删除图片和其他工作表，或拆分为多个文件。",
    ),
    "compression": (
        "Part of the file is packed more than {limit}:1, which no spreadsheet is: it is not read.",
        "文件中有部分压缩比超过 {limit}:1，不是正常的表格文件，不予读取。",
    ),
    "too_many_parts": (
        "The file has more than {limit} parts: it is not an ordinary spreadsheet.",
        "文件包含超过 {limit} 个部件，不是正常的表格文件。",
    ),
    "too_many_rows": (
        "The file has more than {limit} rows: split it into several files.",
        "文件超过 {limit} 行，请拆分为多个文件。",
    ),
    "too_many_columns": ("The sheet has more than {limit} columns.", "工作表超过 {limit} 列。"),
    "too_many_cells": (
        "The sheet holds more cells than {limit} rows can: it is not read.",
        "工作表的单元格数量超出 {limit} 行的容量，不予读取。",
    ),
    "cell_too_long": (
        "A cell holds more than {limit} characters.",
        "有单元格超过 {limit} 个字符。",
    ),
    "unreadable": ("The file could not be read as a spreadsheet.", "无法读取此表格文件。"),
}


class UploadRefused(Exception):
    """The file breaks a limit: `code` (a MESSAGES key), the limit and where, if known."""

    def __init__(self, code: str, limit: int | str | None = "", row: int = 0):
        super().__init__(code)
        self.code = code
        self.limit = limit
        self.row = row

    @property
    def message_en(self) -> str:
        text = MESSAGES[self.code][0].format(limit=self.limit)
        return f"Row {self.row}: {text}" if self.row else text

    @property
    def message_zh(self) -> str:
        text = MESSAGES[self.code][1].format(limit=self.limit)
        return f"第{self.row}行：{text}" if self.row else text

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    unpacked_bytes: int
    rows: int | None  # data rows (the header not counted); None: no cap (command line)
    cell_chars: int

    @classmethod
    def from_settings(cls, *, rows: bool = True) -> Limits:
        return cls(
            file_bytes=settings.LINLI_IMPORT_MAX_FILE_BYTES,
            unpacked_bytes=settings.LINLI_IMPORT_MAX_UNCOMPRESSED_BYTES,
            rows=settings.LINLI_IMPORT_MAX_ROWS if rows else None,
            cell_chars=settings.LINLI_IMPORT_MAX_CELL_CHARS,
        )

    @property
    def sheet_rows(self) -> int | None:
        """Rows a sheet may have: the data rows and the header."""
        return None if self.rows is None else self.rows + 1


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}"


_REF_ROW = re.compile(r"([A-Za-z]*)(\d*)$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (ord(letter) - 64)
    return number


class _SheetScan:
    """Counts through one XML member; raises UploadRefused as soon as a limit is passed."""

    def __init__(self, limits: Limits, *, worksheet: bool):
        self.limits = limits
        self.worksheet = worksheet
        self.rows = 0
        self.last_row = 0
        self.elements = 0
        self.max_elements = (
            None if limits.sheet_rows is None else limits.sheet_rows * ELEMENTS_PER_ROW + 10_000
        )
        self.in_cell = False
        self.cell_chars = 0

    def parser(self):
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        return parser

    def doctype(self, *args) -> None:
        raise UploadRefused("unreadable")

    def _row_number(self, reference: str) -> int:
        match = _REF_ROW.search(reference)
        if match is None or not match.group(2):
            return 0
        letters, digits = match.groups()
        if letters and _column_number(letters[-3:]) > MAX_COLUMNS:
            raise UploadRefused("too_many_columns", MAX_COLUMNS)
        return int(digits[:12])

    def start(self, name: str, attributes: dict) -> None:
        self.elements += 1
        if self.max_elements is not None and self.elements > self.max_elements:
            raise UploadRefused("too_many_cells", self.limits.rows, self.last_row)
        local = name.rpartition(":")[2]
        if local in ("c", "si"):
            self.in_cell = True
            self.cell_chars = 0
            if self.worksheet and "r" in attributes:
                self._check_row(self._row_number(attributes["r"]))
        elif local == "row" and self.worksheet:
            self.rows += 1
            number = attributes.get("r", "")
            self.last_row = int(number[:12]) if number.isdigit() else self.last_row + 1
            self._check_row(max(self.rows, self.last_row))
        elif local == "dimension" and self.worksheet:
            reference = attributes.get("ref", "").rpartition(":")[2]
            self._check_row(self._row_number(reference))

    def _check_row(self, number: int) -> None:
        cap = self.limits.sheet_rows
        if cap is not None and number > cap:
            raise UploadRefused("too_many_rows", self.limits.rows)

    def end(self, name: str) -> None:
        if name.rpartition(":")[2] in ("c", "si"):
            self.in_cell = False

    def text(self, data: str) -> None:
        if self.in_cell:
            self.cell_chars += len(data)
            if self.cell_chars > self.limits.cell_chars:
                raise UploadRefused("cell_too_long", self.limits.cell_chars, self.last_row)


def _xlsx_inspect(binary: BinaryIO, limits: Limits) -> int:
    try:
        archive = zipfile.ZipFile(binary)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UploadRefused("unreadable") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UploadRefused("too_many_parts", MAX_MEMBERS)
        if sum(member.file_size for member in members) > limits.unpacked_bytes:
            raise UploadRefused("unpacked_too_large", _megabytes(limits.unpacked_bytes))
        for member in members:
            if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(
                member.compress_size, 1
            ):
                raise UploadRefused("compression", MAX_RATIO)
        rows = 0
        for member in members:
            if not member.filename.endswith((".xml", ".rels", ".vml")):
                continue
            worksheet = member.filename.startswith("xl/worksheets/")
            scan = _SheetScan(limits, worksheet=worksheet)
            parser = scan.parser()
            try:
                with archive.open(member) as stream:
                    unpacked = 0
                    while chunk := stream.read(READ_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > limits.unpacked_bytes:  # the zip's sizes lied
                            raise UploadRefused(
                                "unpacked_too_large", _megabytes(limits.unpacked_bytes)
                            )
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
            except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                raise UploadRefused("unreadable") from None
            except RuntimeError:  # an encrypted member
                raise UploadRefused("unreadable") from None
            if worksheet:
                rows = max(rows, scan.rows)
        return rows


def _csv_inspect(binary: BinaryIO, limits: Limits) -> int:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    rows = 0
    try:
        for rows, cells in enumerate(csv.reader(text), start=1):
            if limits.sheet_rows is not None and rows > limits.sheet_rows:
                raise UploadRefused("too_many_rows", limits.rows)
            if any(len(cell) > limits.cell_chars for cell in cells):
                raise UploadRefused("cell_too_long", limits.cell_chars, rows)
    except (UnicodeDecodeError, csv.Error):
        # The importer reports these with its own words; nothing here to refuse.
        pass
    finally:
        with contextlib.suppress(ValueError):
            text.detach()
    return rows


def upload_inspect(binary: BinaryIO, kind: str, limits: Limits, size: int | None = None) -> int:
    """Check `binary` (an .xlsx or .csv) against `limits` before anything parses it; returns
    how many rows its sheet has (the header included) and leaves the file at its start.
    Raises UploadRefused."""
    if size is None:
        binary.seek(0, io.SEEK_END)
        size = binary.tell()
    if size > limits.file_bytes:
        raise UploadRefused("file_too_large", _megabytes(limits.file_bytes))
    binary.seek(0)
    try:
        if kind == "xlsx":
            return _xlsx_inspect(binary, limits)
        return _csv_inspect(binary, limits)
    finally:
        binary.seek(0)
