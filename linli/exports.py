"""Spreadsheet cells that stay data: every XLSX and CSV that Linli writes goes through here.

A spreadsheet program runs a cell as a formula when its text begins with `=`, `+`, `-` or
`@` (and some also after a leading tab or carriage return): a resident named
`=HYPERLINK("http://evil","x")` would become a live link in the secretary's Excel
(OWASP "CSV injection"). `safe_cell` puts an apostrophe before such text, which Excel and
WPS show as plain text; for XLSX `xlsx_row` also marks every text cell as a string, so that
openpyxl never stores it as a formula. Numbers, dates and booleans stay what they are (-3 is
a number, not a formula); a phone number typed as the text "-123" is neutralised.
"""

from collections.abc import Iterable
from typing import Any

# The characters that make a spreadsheet read the cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` unchanged unless it is text a spreadsheet would run: then prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_row(sheet, values: Iterable[Any]) -> list:
    """Cells for `sheet.append` (normal or write-only sheets): text neutralised and typed
    as a string, everything else as openpyxl would store it."""
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, row=1, column=1, value=safe_cell(value))
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def xlsx_append(sheet, values: Iterable[Any]) -> None:
    """Append one row of neutralised cells to `sheet`."""
    sheet.append(xlsx_row(sheet, values))


def csv_row(values: Iterable[Any]) -> list:
    """One CSV row with every formula-like text neutralised."""
    return [safe_cell(value) for value in values]


def csv_writerow(writer, values: Iterable[Any]) -> None:
    writer.writerow(csv_row(values))
