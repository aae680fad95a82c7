"""The blank files offered for download on the import page: the header row to fill in, and in
the .xlsx a second sheet that says what each column takes."""

from __future__ import annotations

import csv
import io

from linli.exports import csv_writerow, xlsx_append
from linli.grids.importing.columns import COLUMNS


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
