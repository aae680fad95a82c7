"""The building's QR poster: one A4 page a building, to print and hang by the entrance.

The code holds the building's registration address on LINLI_SITE_URL (selectors.join_url),
drawn as vector squares from segno's matrix so it prints sharp at any size. The words are
in the site's language (the residents', whoever prints it), in the built-in Chinese CID font
(linli.pdf), big enough to read from a step away; the address is printed under the code for
anyone who would rather type it.

ReportLab and segno are imported inside the functions: most processes never draw a poster.
"""

from html import escape
from io import BytesIO

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from linli.grids.models import Building
from linli.pdf import PDF_FONT, pdf_register_font
from linli.registration.selectors import community_of, join_url

HEADLINE = "扫码注册 邻里"
# The code's side on paper, and its error correction: M survives a scuffed or dirty poster.
QR_SIDE_MM = 110
QR_ERROR = "m"


def poster_qr(url: str):
    """The QR code a poster draws for `url` (the tests compare the PDF's squares with it)."""
    import segno

    return segno.make(url, error=QR_ERROR, micro=False, boost_error=False)


def _draw_qr(canvas, qr, *, left: float, bottom: float, side: float) -> None:
    """Each row's runs of dark modules as filled rectangles, no quiet zone drawn (the paper
    around the code is left white, at least four modules wide)."""
    matrix = qr.matrix
    count = len(matrix)
    module = side / count
    top = bottom + side
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        column = 0
        while column < count:
            if not row[column] & 1:
                column += 1
                continue
            start = column
            while column < count and row[column] & 1:
                column += 1
            canvas.rect(
                left + start * module,
                top - (row_index + 1) * module,
                (column - start) * module,
                module,
                stroke=0,
                fill=1,
            )
    canvas.restoreState()


def _steps() -> list[str]:
    return [
        _("Scan this code with your phone's camera or WeChat."),
        _("Enter your mobile number and the code we send to it."),
        _("Write your name and room, and the last four characters of your ID number."),
        _(
            "If it matches the register you are signed in at once; if not, your "
            "building-group leader checks it and you get an SMS."
        ),
    ]


def _draw_page(canvas, building: Building) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph

    width, height = A4
    community = community_of(building)
    # A wide space between them: the CID font has no middle dot.
    place = "\u3000".join(
        part for part in (community.name if community else "", building.name) if part
    )
    canvas.setFont(PDF_FONT, 26)
    canvas.drawCentredString(width / 2, height - 30 * mm, place)
    canvas.setFont(PDF_FONT, 46)
    canvas.drawCentredString(width / 2, height - 55 * mm, HEADLINE)

    url = join_url(building)
    qr = poster_qr(url)
    side = QR_SIDE_MM * mm
    # The quiet zone a scanner needs: four modules of white on every side.
    quiet = 4 * side / len(qr.matrix) + 2 * mm
    qr_bottom = height - 62 * mm - quiet - side
    _draw_qr(canvas, qr, left=(width - side) / 2, bottom=qr_bottom, side=side)

    step_style = ParagraphStyle(
        "poster-step", fontName=PDF_FONT, fontSize=17, leading=24, wordWrap="CJK"
    )
    text_width = width - 40 * mm
    y = qr_bottom - quiet
    for number, step in enumerate(_steps(), start=1):
        paragraph = Paragraph(f"{number}. {escape(step)}", step_style)
        _w, used = paragraph.wrap(text_width, y)
        y -= used
        paragraph.drawOn(canvas, 20 * mm, y)
        y -= 3 * mm

    canvas.setFont("Helvetica", 10)
    canvas.drawCentredString(width / 2, 14 * mm, url)


def posters_pdf(buildings: list[Building]) -> bytes:
    """One A4 page a building, in the given order, in one PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    pdf_register_font()
    output = BytesIO()
    canvas = Canvas(output, pagesize=A4, pageCompression=1)
    canvas.setTitle(_("Registration posters"))
    canvas.setAuthor("Linli")
    # The residents' language, whoever prints it: the site's.
    with translation.override(settings.LANGUAGE_CODE):
        for building in buildings:
            _draw_page(canvas, building)
            canvas.showPage()
    canvas.save()
    return output.getvalue()
