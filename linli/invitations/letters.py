"""The invitation letters: one A4 page a household, in plain words and a large type for
elderly readers, with the household's personal QR code and the date it stops working.

Drawn in the site's language (Chinese) whoever prints them: the letters are for the
residents. The QR code is drawn as vector rectangles from segno's matrix (sharp at any
printer resolution, no image library), and the same address is printed under it and
linked, for a reader who types it.
"""

from dataclasses import dataclass
from datetime import date
from html import escape
from io import BytesIO

import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from linli.pdf import PDF_FONT, pdf_register_font

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
MARGIN = 20 * MM
QR_SIZE = 72 * MM
QR_BORDER = 4  # the quiet zone, in modules, that a scanner needs


@dataclass(frozen=True)
class Letter:
    """What one page says: the address, the name (empty unless staff asked for names), the
    personal link and the last day it works."""

    url: str
    building: str
    room: str
    name: str
    expires_on: date


def date_words(day: date) -> str:
    """A date as an elderly reader reads it: 2027年1月4日 in Chinese, 2027-01-04 otherwise."""
    if (translation.get_language() or "").startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def qr_for(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def _styles():
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    common = {"fontName": PDF_FONT, "wordWrap": "CJK"}
    return {
        "header": ParagraphStyle(
            "header", fontSize=11, leading=15, textColor=colors.HexColor("#5b636e"), **common
        ),
        "address": ParagraphStyle("address", fontSize=22, leading=30, **common),
        "greeting": ParagraphStyle("greeting", fontSize=17, leading=26, spaceBefore=6, **common),
        "body": ParagraphStyle("body", fontSize=15, leading=25, spaceBefore=8, **common),
        "strong": ParagraphStyle("strong", fontSize=16, leading=25, spaceBefore=6, **common),
        # The address for typing, in a Latin font: plain ASCII, evenly spaced.
        "url": ParagraphStyle(
            "url",
            fontName="Helvetica",
            fontSize=10,
            leading=14,
            textColor=colors.HexColor("#5b636e"),
            spaceBefore=4,
        ),
    }


def draw_qr(canvas, qr: segno.QRCode, *, x: float, y: float, size: float) -> None:
    """The code's dark modules as rectangles, one per run of a row, in a square of `size`
    points whose lower left corner is (x, y), the quiet zone included. Drawn in module
    units (an integer grid, row 0 at the top), so a test can read the matrix back."""
    matrix = qr.matrix
    count = len(matrix)
    module = size / (count + 2 * QR_BORDER)
    canvas.saveState()
    canvas.translate(x + QR_BORDER * module, y + QR_BORDER * module)
    canvas.scale(module, module)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = count - 1 - row_index
        column = 0
        while column < count:
            if row[column]:
                start = column
                while column < count and row[column]:
                    column += 1
                path.rect(start, top, column - start, 1)
            else:
                column += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _paragraph(text: str, style):
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text), style)


class _Page:
    """The words of a letter. Those the same on every page are laid out once (wrapping
    Chinese text is most of a page's cost) and drawn again on each page."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.styles = styles = _styles()
        self.header = self._wrapped(
            _paragraph(_("Linli: an invitation from your community"), styles["header"])
        )
        self.greeting = self._wrapped(_paragraph(_("Dear neighbours,"), styles["greeting"]))
        self.body = [
            self._wrapped(
                _paragraph(
                    _(
                        "Your community invites you to join Linli on your phone. Once you are "
                        "in, you see the community's activities and notices on your phone, can "
                        "tell the community about a problem, and find help faster when you "
                        "need it."
                    ),
                    styles["body"],
                )
            ),
            self._wrapped(
                _paragraph(
                    _(
                        "How to join: scan the code below with WeChat's “Scan” or your "
                        "phone's camera, then write your name, your phone number and the last "
                        "four characters of your ID card. Your building and room are already "
                        "filled in."
                    ),
                    styles["body"],
                )
            ),
        ]
        self.help = self._wrapped(
            _paragraph(
                _(
                    "No smartphone, or not sure how? Ask your family or your building-group "
                    "leader, or bring this letter to the community office: the staff will "
                    "help you register."
                ),
                styles["body"],
            )
        )

    def _wrapped(self, flowable):
        flowable.wrapOn(self.canvas, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT)
        return flowable

    def draw(self, letter: Letter) -> None:
        styles = self.styles
        address = _("%(building)s, room %(room)s") % {
            "building": letter.building,
            "room": letter.room,
        }
        greeting = self.greeting
        if letter.name:
            greeting = self._wrapped(
                _paragraph(_("Dear %(name)s,") % {"name": letter.name}, styles["greeting"])
            )
        above = [
            self.header,
            self._wrapped(_paragraph(address, styles["address"])),
            greeting,
            *self.body,
        ]
        y = self._draw(above, top=PAGE_HEIGHT - MARGIN)
        qr_y = y - 6 * MM - QR_SIZE
        qr_x = (PAGE_WIDTH - QR_SIZE) / 2
        draw_qr(self.canvas, qr_for(letter.url), x=qr_x, y=qr_y, size=QR_SIZE)
        self.canvas.linkURL(letter.url, (qr_x, qr_y, qr_x + QR_SIZE, qr_y + QR_SIZE), relative=0)
        expiry = _("This code is for your household only. It works until %(date)s.") % {
            "date": date_words(letter.expires_on)
        }
        below = [
            self._wrapped(_paragraph(expiry, styles["strong"])),
            self.help,
            self._wrapped(_paragraph(letter.url, styles["url"])),
        ]
        self._draw(below, top=qr_y - 2 * MM)

    def _draw(self, flowables: list, *, top: float) -> float:
        """Draw wrapped flowables top-down from `top`; returns the y below the last."""
        y = top
        for flowable in flowables:
            y -= flowable.getSpaceBefore() + flowable.height
            flowable.drawOn(self.canvas, MARGIN, y)
        return y


def letters_pdf(letters: list[Letter]) -> bytes:
    """One A4 page per letter, in the order given."""
    from reportlab.pdfgen.canvas import Canvas

    pdf_register_font()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    with translation.override(settings.LANGUAGE_CODE):
        canvas.setTitle(_("Invitations to join Linli"))
        canvas.setAuthor("Linli")
        page = _Page(canvas)
        for letter in letters:
            page.draw(letter)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()
