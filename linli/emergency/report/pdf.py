"""`report_pdf` lays the report out with ReportLab (A4), Chinese text in its built-in CID
font (nothing to download)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.emergency.models import Activation
from linli.emergency.report.chart import chart_span, thin_curve
from linli.emergency.report.context import report_context
from linli.emergency.report.text import parse_moment
from linli.pdf import PDF_FONT, pdf_register_font, pdf_styles, pdf_table


def PART_NOTE() -> str:  # noqa: N802 - a message, read in the active language
    return _(
        "This report covers only your part of the emergency: its tasks, help requests, "
        "volunteers and supplies."
    )


def _pdf_chart(summary: dict, width: float):
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    span = chart_span(summary)
    curve = thin_curve(summary.get("coverage_curve") or [[0.0, 0.0]], span, 400)
    # A step line: the share holds until the next contact.
    steps = [(0.0, 0.0)]
    for minute, share in curve[1:]:
        steps.append((minute, steps[-1][1]))
        steps.append((minute, share * 100))
    steps.append((max(min(summary.get("duration_minutes") or 0, span), curve[-1][0]), steps[-1][1]))
    drawing = Drawing(width, 190)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 30, width - 60, 145
    plot.data = [steps]
    plot.lines[0].strokeColor = colors.HexColor("#b4232a")
    plot.lines[0].strokeWidth = 2
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, span
    plot.xValueAxis.valueStep = span / 4
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 25
    plot.yValueAxis.labelTextFormat = "%d%%"
    plot.xValueAxis.labelTextFormat = "%g"
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#d8dde3")
    drawing.add(plot)
    drawing.add(
        String(
            40 + (width - 60) / 2,
            4,
            _("Minutes since activation"),
            fontName=PDF_FONT,
            fontSize=8.5,
            textAnchor="middle",
        )
    )
    return drawing


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "–"


def report_pdf(activation: Activation, paths: list[str] | None = None) -> bytes:
    """The after-action report as a PDF (A4), in the active language, for the reader's
    part of the scope (`paths`, as report_context)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdf_register_font()
    context = report_context(activation, paths)
    summary = context["summary"]
    styles = pdf_styles()
    buffer = BytesIO()
    title = _("After-action report: %(plan)s · %(scope)s") % {
        "plan": activation.plan.name,
        "scope": activation.scope.name,
    }
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="Linli",
    )
    width = A4[0] - 32 * mm

    def paragraph(text: str, style: str = "body"):
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    story = [paragraph(title, "title")]
    if context["is_live"]:
        story.append(
            paragraph(
                _("Running report: the emergency is still active; figures as of %(time)s.")
                % {"time": _local(parse_moment(summary.get("computed_at")))},
                "muted",
            )
        )
    if context["is_part"]:
        story.append(paragraph(PART_NOTE(), "muted"))
    facts = [
        [_("Scope"), activation.scope.name],
        [_("Plan"), activation.plan.name],
        [_("Hazard"), activation.get_hazard_display()],
        [_("Grade"), context["grade"]],
        [_("Kind"), _("Drill") if activation.is_drill else _("Real emergency")],
        [_("Activated at"), _local(activation.activated_at)],
        [_("Stood down at"), _local(activation.stood_down_at)],
    ]
    if activation.stand_down_reason:
        facts.append([_("Reason for standing down"), activation.stand_down_reason])
    story += [pdf_table(facts, styles, [45 * mm, width - 45 * mm], header=False)]

    story += [paragraph(_("Key figures"), "h2")]
    story.append(
        pdf_table(
            [[_("Figure"), _("Value")], *[list(row) for row in context["figures"]]],
            styles,
            [70 * mm, width - 70 * mm],
        )
    )

    story += [paragraph(_("Contact coverage"), "h2"), paragraph(context["coverage_description"])]
    if summary.get("targeted_households"):
        story.append(_pdf_chart(summary, width))
    else:
        story.append(paragraph(_("No households were targeted by welfare checks."), "muted"))

    story += [paragraph(_("Tasks"), "h2")]
    task_rows = [[_("State"), _("Tasks")], *[[label, n] for label, n in context["tasks_by_state"]]]
    story.append(pdf_table(task_rows, styles, [70 * mm, 30 * mm]))
    if context["unassigned_reasons"]:
        story += [Spacer(1, 4), paragraph(_("Without a volunteer, by reason"), "muted")]
        story.append(
            pdf_table(
                [[_("Reason"), _("Tasks")], *[[r, n] for r, n in context["unassigned_reasons"]]],
                styles,
                [110 * mm, 30 * mm],
            )
        )

    story += [paragraph(_("Help requests"), "h2")]
    story.append(
        pdf_table(
            [
                [
                    _("Urgency"),
                    _("Requests"),
                    _("Median to dispatch"),
                    _("Longest to dispatch"),
                    _("Median to done"),
                    _("Longest to done"),
                ],
                *[
                    [
                        row["label"],
                        row["count"],
                        row["dispatch_median"],
                        row["dispatch_max"],
                        row["done_median"],
                        row["done_max"],
                    ]
                    for row in context["help_rows"]
                ],
            ],
            styles,
            [38 * mm, 20 * mm, *[(width - 58 * mm) / 4] * 4],
        )
    )

    story += [paragraph(_("Volunteers' load"), "h2")]
    if context["volunteers"]:
        story.append(
            pdf_table(
                [
                    [
                        _("Volunteer"),
                        _("Tasks held"),
                        _("Done"),
                        _("Reports"),
                        _("First report"),
                        _("Last report"),
                        _("Hours"),
                    ],
                    *[
                        [
                            entry["name"],
                            entry["tasks"],
                            entry["done"],
                            entry["reports"],
                            _local(entry["first_report"]),
                            _local(entry["last_report"]),
                            f"{entry['hours']:g}",
                        ]
                        for entry in context["volunteers"]
                    ],
                ],
                styles,
                [32 * mm, 17 * mm, 14 * mm, 15 * mm, 32 * mm, 32 * mm, width - 142 * mm],
            )
        )
    else:
        story.append(paragraph(_("No volunteer held a task."), "muted"))

    story += [paragraph(_("Supplies used"), "h2")]
    if context["supplies"]:
        story.append(
            pdf_table(
                [
                    [_("Item"), _("Quantity"), _("Draws")],
                    *[
                        [entry["item"], f"{entry['quantity']} {entry['unit']}", entry["draws"]]
                        for entry in context["supplies"]
                    ],
                ],
                styles,
                [80 * mm, 40 * mm, 25 * mm],
            )
        )
    else:
        story.append(paragraph(_("No supplies were drawn."), "muted"))

    story += [paragraph(_("Timeline"), "h2")]
    story.append(
        pdf_table(
            [
                [_("Time"), _("Event"), _("What happened"), _("By")],
                *[
                    [_local(row["at"]), row["label"], row["text"], row["actor"]]
                    for row in context["timeline"]
                ],
            ],
            styles,
            [28 * mm, 26 * mm, width - 82 * mm, 28 * mm],
        )
    )

    story += [paragraph(_("Lessons learned"), "h2")]
    story.append(
        paragraph(activation.lessons)
        if activation.lessons
        else paragraph(_("No lessons recorded yet."), "muted")
    )
    document.build(story)
    return buffer.getvalue()
