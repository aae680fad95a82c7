"""What every PDF Linli writes shares (the after-action report, the resilience report): the
built-in Chinese CID font, the paragraph styles and the plain table. ReportLab's CID font
renders Chinese without downloading a font file, so the PDFs work on a closed network.

ReportLab is imported inside the functions: most processes never write a PDF.
"""

from html import escape

PDF_FONT = "STSong-Light"


def pdf_register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def pdf_styles() -> dict:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    common = {"fontName": PDF_FONT, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=17, leading=22, **common),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=12.5, leading=16, spaceBefore=10, **common
        ),
        "h3": ParagraphStyle(
            "h3", parent=base["Heading3"], fontSize=10.5, leading=14, spaceBefore=6, **common
        ),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=13, **common),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=8.5, leading=11, **common),
        "muted": ParagraphStyle(
            "muted",
            parent=base["BodyText"],
            fontSize=8.5,
            leading=11,
            textColor=colors.HexColor("#5b636e"),
            **common,
        ),
    }


def pdf_table(rows: list[list], styles: dict, widths=None, header: bool = True):
    """A table of text cells (escaped), a grid, the first row shaded as the header."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[Paragraph(escape(str(value)), styles["cell"]) for value in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d8dde3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f6f8")))
    table.setStyle(TableStyle(commands))
    return table
