"""Reading a registry file: the rows of a .csv or of an .xlsx's first sheet, as text, one at a
time (a million-row file is never held whole), numbered as the spreadsheet shows them."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Generator, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from linli.grids.importing.limits import Limits
from linli.grids.importing.report import ImportAborted

# A background import tells its page how far it got every this many rows.
PROGRESS_EVERY = 500


def cell_text(value: Any) -> str:
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


def csv_rows(binary: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from enumerate(csv.reader(text), start=1)
    except UnicodeDecodeError:
        raise ImportAborted("encoding") from None
    except csv.Error:
        raise ImportAborted("unreadable") from None
    finally:
        # Leave the caller's file open: a TextIOWrapper closes what it wraps when collected.
        with contextlib.suppress(ValueError):  # already closed by the caller
            text.detach()


class RowWithFormulas(list):
    """A sheet row in which some cells hold formulas: those cells are blank here and their
    positions are in `formulas`, so that the check can refuse them by name."""

    formulas: tuple[int, ...] = ()


def xlsx_rows(binary: BinaryIO, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, read as a stream (openpyxl's read-only mode) after
    `upload_inspect` passed the file; still stopped at the row cap and each cell cut at the
    cell limit, whatever the file claims. Formulas are read as formulas (data_type "f"), not
    as the result the file may or may not carry, and handed on as RowWithFormulas."""
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
            cells = ["" if cell.data_type == "f" else cell_text(cell.value)[:width] for cell in row]
            formulas = tuple(index for index, cell in enumerate(row) if cell.data_type == "f")
            if formulas:
                cells = RowWithFormulas(cells)
                cells.formulas = formulas
            yield number, cells
    finally:
        workbook.close()


def capped(
    rows: Iterator[tuple[int, list[str]]],
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> Generator[tuple[int, list[str]], None, None]:
    """`rows` stopped at the row cap, telling `progress` every PROGRESS_EVERY rows how many
    data rows were read (the header, row 1, not counted: the run page shows them against
    the data rows the upload holds)."""
    cap = limits.sheet_rows
    for number, cells in rows:
        if cap is not None and number > cap:
            raise ImportAborted("too_many_rows", limit=limits.rows)
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number - 1)
        yield number, cells


def file_kind(filename: str) -> str | None:
    suffix = Path(filename).suffix.lower()
    return {".csv": "csv", ".xlsx": "xlsx"}.get(suffix)
