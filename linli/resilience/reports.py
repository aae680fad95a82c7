"""Monthly and quarterly resilience reports of one grid unit: the figures, the PDF and the
workbook.

`report_data` computes the period's indicators LIVE (not from the weekly snapshots): every
indicator of the catalogue for the unit and the units one level below it (the micro-grids
of a community, the communities of a street), measured over the month or quarter up to its
end — or up to now while it is still running. The stored weekly `IndexSnapshot` rows of the
period give the trend, and the emergencies and drills activated in the period bring the
figures kept on `Activation.summary` at stand-down. `report_pdf` lays this out with
ReportLab, Chinese text in its built-in CID font (nothing to download), charts drawn with
reportlab.graphics; `report_xlsx` writes the same figures as sheets for further analysis.

Periods are local (Asia/Shanghai) calendar months and quarters, named "2026-10" and
"2026-Q3".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from io import BytesIO

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import within_or_above
from linli.accounts.models import User
from linli.emergency.models import Activation, ActivationState
from linli.emergency.report import minutes_text, share_text
from linli.emergency.selectors import activations_visible
from linli.grids.models import GridLevel, GridUnit
from linli.pdf import PDF_FONT, pdf_register_font, pdf_styles, pdf_table
from linli.resilience.catalogue import indicators
from linli.resilience.engine import Indicator, context_for
from linli.resilience.models import Dimension, IndexSnapshot
from linli.resilience.selectors import CHILD_LEVEL
from linli.resilience.services import Computed, compute_all

MONTH = "month"
QUARTER = "quarter"
KINDS = (MONTH, QUARTER)
# How many recent periods the reports page offers.
RECENT_MONTHS = 12
RECENT_QUARTERS = 4
INDEX_KEYS = ("structural", "capacity", "cultural", "overall")
_MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_PATTERN = re.compile(r"^(\d{4})-Q(\d)$")


class PeriodError(ValueError):
    """A report period that cannot be read; the message names the part that is wrong."""


# ---------------------------------------------------------------------------------------
# Periods


def _add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass(frozen=True)
class Period:
    kind: str
    # "2026-10" or "2026-Q3": the name in URLs and file names.
    label: str
    first_day: date
    # The first day after the period.
    next_day: date

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.next_day)

    @property
    def last_day(self) -> date:
        return self.next_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.next_day - self.first_day).days

    @property
    def title(self) -> str:
        """ "2026年10月" / "October 2026"; "2026年第3季度" / "Q3 2026"."""
        if self.kind == MONTH:
            return date_format(self.first_day, "YEAR_MONTH_FORMAT")
        quarter = (self.first_day.month - 1) // 3 + 1
        return _("Q%(quarter)d %(year)d") % {"quarter": quarter, "year": self.first_day.year}

    def is_running(self, now: datetime) -> bool:
        return self.start <= now < self.end


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period(MONTH, f"{year:04d}-{month:02d}", first, _add_months(first, 1))


def quarter_period(year: int, quarter: int) -> Period:
    first = date(year, 3 * (quarter - 1) + 1, 1)
    return Period(QUARTER, f"{year:04d}-Q{quarter}", first, _add_months(first, 3))


def period_parse(kind: str, text: str) -> Period:
    """ "month", "2026-10" → October 2026; "quarter", "2026-Q3" → July–September 2026.
    Raises PeriodError naming the wrong part."""
    if kind == MONTH:
        match = _MONTH_PATTERN.match(text)
        if not match:
            raise PeriodError(
                _("The month must be written as year-month, e.g. 2026-10 (got “%(text)s”).")
                % {"text": text}
            )
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(_("There is no month %(month)d.") % {"month": month})
        period = month_period(year, month) if year >= 1 else None
    elif kind == QUARTER:
        match = _QUARTER_PATTERN.match(text)
        if not match:
            raise PeriodError(
                _("The quarter must be written as year-Q1 to Q4, e.g. 2026-Q3 (got “%(text)s”).")
                % {"text": text}
            )
        year, quarter = int(match[1]), int(match[2])
        if not 1 <= quarter <= 4:
            raise PeriodError(_("There is no quarter %(quarter)d.") % {"quarter": quarter})
        period = quarter_period(year, quarter) if year >= 1 else None
    else:
        raise PeriodError(
            _("Unknown kind of report “%(kind)s”: use month or quarter.") % {"kind": kind}
        )
    if period is None:
        raise PeriodError(_("There is no year 0."))
    return period


def period_of(kind: str, day: date) -> Period:
    if kind == MONTH:
        return month_period(day.year, day.month)
    return quarter_period(day.year, (day.month - 1) // 3 + 1)


def recent_periods(kind: str, today: date) -> list[Period]:
    """The periods offered on the reports page, newest first, the running one included."""
    count, step = (RECENT_MONTHS, 1) if kind == MONTH else (RECENT_QUARTERS, 3)
    current = period_of(kind, today)
    return [period_of(kind, _add_months(current.first_day, -step * back)) for back in range(count)]


# ---------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class IndicatorRow:
    indicator: Indicator
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float
    score: float | None


@dataclass(frozen=True)
class UnitFigures:
    id: int
    path: str
    level: str
    name: str
    index: dict[str, float | None]
    rows: list[IndicatorRow]

    def by_dimension(self) -> list[tuple[str, list[IndicatorRow]]]:
        return [
            (label, [row for row in self.rows if row.indicator.dimension == dimension])
            for dimension, label in Dimension.choices
        ]

    def weakest(self) -> IndicatorRow | None:
        """The indicator furthest below its target (lowest score), if any is measured."""
        scored = [row for row in self.rows if row.score is not None]
        return min(scored, key=lambda row: (row.score, row.indicator.code)) if scored else None


@dataclass(frozen=True)
class TrendPoint:
    unit_name: str
    path: str
    week_ending: date
    structural: float | None
    capacity: float | None
    cultural: float | None
    overall: float | None


@dataclass(frozen=True)
class ActivationRow:
    activation: Activation
    targeted: int | None
    contacted: int | None
    coverage_share: float | None
    minutes_to_90: float | None
    minutes_to_100: float | None
    help_requests: int | None
    duration_minutes: float | None

    @property
    def has_summary(self) -> bool:
        return bool(self.activation.summary)


@dataclass(frozen=True)
class ReportData:
    unit: GridUnit
    period: Period
    # The figures are measured up to here: the period's end, or now while it runs.
    measured_until: datetime
    computed_at: datetime
    figures: UnitFigures
    child_level: str | None
    children: list[UnitFigures]
    # The unit's weekly snapshots in the period, oldest first; `children_trend` likewise.
    trend: list[TrendPoint]
    children_trend: list[TrendPoint]
    activations: list[ActivationRow]

    @property
    def is_running(self) -> bool:
        return self.measured_until < self.period.end


def _unit_figures(computed: Computed, unit) -> UnitFigures:
    rows = []
    for indicator in indicators():
        measure = computed.measures.get(indicator.code, {}).get(unit.path)
        if measure is None:
            # The indicator means nothing at this level (e.g. a drill below a community).
            continue
        rows.append(
            IndicatorRow(
                indicator=indicator,
                value=measure.value,
                numerator=measure.numerator,
                denominator=measure.denominator,
                target=computed.settings.targets[indicator.code],
                score=computed.scores[unit.path].get(indicator.code),
            )
        )
    return UnitFigures(
        id=unit.id,
        path=unit.path,
        level=unit.level,
        name=unit.name,
        index=computed.index[unit.path],
        rows=rows,
    )


def _activation_rows(
    unit: GridUnit, period: Period, until: datetime, user: User | None
) -> list[ActivationRow]:
    """Emergencies and drills activated in the period inside the unit or covering it (a
    street-wide emergency belongs to each community's report), as `user` may see them."""
    queryset = activations_visible(user=user) if user is not None else Activation.objects.all()
    activations = (
        queryset.filter(activated_at__gte=period.start, activated_at__lt=until)
        .filter(within_or_above([unit.path]))
        .select_related("plan", "scope")
        .order_by("activated_at", "id")
    )
    rows = []
    for activation in activations:
        summary = activation.summary or {}
        minutes_to = summary.get("minutes_to") or {}
        rows.append(
            ActivationRow(
                activation=activation,
                targeted=summary.get("targeted_households"),
                contacted=summary.get("contacted_households"),
                coverage_share=summary.get("coverage_share"),
                minutes_to_90=minutes_to.get("90"),
                minutes_to_100=minutes_to.get("100"),
                help_requests=(summary.get("help_requests") or {}).get("total"),
                duration_minutes=summary.get("duration_minutes"),
            )
        )
    return rows


def report_data(
    unit: GridUnit, period: Period, *, user: User | None = None, now: datetime | None = None
) -> ReportData:
    """The report's figures (see the module docstring). `user` limits the emergencies
    listed to those the person sees; the indicators are aggregates of the whole unit."""
    now = now or clock.now()
    if period.start >= now:
        raise PeriodError(_("The period %(period)s has not begun yet.") % {"period": period.label})
    until = min(period.end, now)
    child_level = CHILD_LEVEL.get(unit.level)
    levels = [unit.level, child_level] if child_level else [unit.level]
    days = math.ceil((until - period.start) / timedelta(days=1))
    context = context_for(unit, end=until, days=days, levels=levels)
    # A running period is measured from its first day even when `days` rounded up.
    context.start = period.start
    computed = compute_all(context)
    by_path = {row.path: row for row in context.units}
    figures = _unit_figures(computed, by_path[unit.path])
    children = [_unit_figures(computed, row) for row in context.units if row.path != unit.path]
    snapshots = IndexSnapshot.objects.filter(
        grid_unit_id__in=[row.id for row in context.units],
        period_end__gte=period.first_day,
        period_end__lte=period.last_day,
    ).order_by("grid_path", "period_end")
    names = {row.path: row.name for row in context.units}
    trend, children_trend = [], []
    for snapshot in snapshots:
        point = TrendPoint(
            unit_name=names[snapshot.grid_path],
            path=snapshot.grid_path,
            week_ending=snapshot.period_end,
            structural=snapshot.structural,
            capacity=snapshot.capacity,
            cultural=snapshot.cultural,
            overall=snapshot.overall,
        )
        (trend if snapshot.grid_path == unit.path else children_trend).append(point)
    return ReportData(
        unit=unit,
        period=period,
        measured_until=until,
        computed_at=now,
        figures=figures,
        child_level=child_level,
        children=children,
        trend=trend,
        children_trend=children_trend,
        activations=_activation_rows(unit, period, until, user),
    )


# ---------------------------------------------------------------------------------------
# What the reader sees


def _number(value: float, decimals: int = 1) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def value_text(indicator: Indicator, value: float | None) -> str:
    """A value in its indicator's unit: 0.875 share → "87.5%", 26.0 hours → "26 h"."""
    if value is None:
        return "–"
    if indicator.unit == "share":
        return f"{_number(value * 100)}%"
    if indicator.unit == "hours":
        return _("%(value)s h") % {"value": _number(value)}
    if indicator.unit == "days":
        return _("%(value)s d") % {"value": _number(value)}
    if indicator.unit == "minutes":
        return minutes_text(value)
    if indicator.unit == "score":
        return _number(value, 2)
    return _number(value)


def score_text(score: float | None) -> str:
    """An index or score on 0–1, two decimals ("0.83"); "–" when nothing was measured."""
    return "–" if score is None else f"{score:.2f}"


def count_text(row: IndicatorRow) -> str:
    """ "312 / 340" behind a ratio; the number of values behind a median."""
    if row.numerator is not None and row.denominator is not None:
        return f"{_number(row.numerator)} / {_number(row.denominator)}"
    if row.denominator is not None:
        return _("of %(count)s") % {"count": _number(row.denominator)}
    return ""


def index_labels() -> dict[str, str]:
    labels = {dimension: str(label) for dimension, label in Dimension.choices}
    labels["overall"] = _("Overall index")
    return labels


def activation_title(activation: Activation) -> str:
    return f"{activation.plan.name} · {activation.scope.name}"


def activation_kind(activation: Activation) -> str:
    return _("Drill") if activation.is_drill else _("Real emergency")


def report_title(data: ReportData) -> str:
    return _("Resilience report: %(unit)s, %(period)s") % {
        "unit": data.unit.name,
        "period": data.period.title,
    }


def file_name(data: ReportData, extension: str) -> str:
    return f"linli-resilience-{data.unit.code}-{data.period.label}.{extension}"


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "–"


# ---------------------------------------------------------------------------------------
# PDF

CHART_COLOURS = ("#2f6f9f", "#d08c2f", "#4f8f5f", "#b4232a")


def _index_chart(index: dict[str, float | None], width: float):
    """Bars of the three sub-indices and the overall index, 0–1."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    labels = index_labels()
    drawing = Drawing(width, 170)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, width - 60, 125
    chart.data = [[index[key] or 0.0 for key in INDEX_KEYS]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 1, 0.25
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#d8dde3")
    chart.categoryAxis.categoryNames = [labels[key] for key in INDEX_KEYS]
    chart.categoryAxis.labels.fontName = PDF_FONT
    chart.categoryAxis.labels.fontSize = 8.5
    chart.barWidth = 18
    chart.bars[0].strokeColor = None
    for position in range(len(INDEX_KEYS)):
        chart.bars[(0, position)].fillColor = colors.HexColor(CHART_COLOURS[position])
    # A dimension with nothing measured is labelled "–", not a misleading 0.00.
    chart.barLabelFormat = "values"
    chart.barLabelArray = [[score_text(index[key]) for key in INDEX_KEYS]]
    chart.barLabels.nudge = 7
    chart.barLabels.fontSize = 8
    drawing.add(chart)
    return drawing


def _trend_chart(trend: list[TrendPoint], width: float):
    """One line per sub-index and the overall index across the weeks of the period; a
    dimension without any value that period draws no line."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    labels = index_labels()
    days = [point.week_ending.toordinal() for point in trend]
    series = []
    for position, key in enumerate(INDEX_KEYS):
        points = [
            (day, getattr(point, key))
            for day, point in zip(days, trend, strict=True)
            if getattr(point, key) is not None
        ]
        if points:
            # A line needs two points: one week alone is drawn as its marker.
            series.append((position, key, points if len(points) > 1 else points * 2))
    drawing = Drawing(width, 190)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 45, width - 60, 130
    plot.data = [points for _position, _key, points in series] or [[(days[0], 0), (days[0], 0)]]
    first, last = min(days), max(days)
    plot.xValueAxis.valueMin = first - 3.5
    plot.xValueAxis.valueMax = last + 3.5
    plot.xValueAxis.valueSteps = sorted(set(days))
    plot.xValueAxis.labelTextFormat = lambda day: date.fromordinal(int(day)).strftime("%m-%d")
    plot.xValueAxis.labels.fontSize = 8
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 1, 0.25
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#d8dde3")
    for line, (position, key, _points) in enumerate(series):
        colour = colors.HexColor(CHART_COLOURS[position])
        plot.lines[line].strokeColor = colour
        plot.lines[line].strokeWidth = 2.5 if key == "overall" else 1.5
        plot.lines[line].symbol = makeMarker("FilledCircle", size=4, fillColor=colour)
    if not series:
        plot.lines[0].strokeColor = None
    drawing.add(plot)
    legend = Legend()
    legend.x, legend.y = 40, 12
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontName = PDF_FONT
    legend.fontSize = 8.5
    legend.dx, legend.dy, legend.deltax = 8, 8, 90
    legend.colorNamePairs = [
        (colors.HexColor(CHART_COLOURS[position]), labels[key]) for position, key, _ in series
    ]
    drawing.add(legend)
    return drawing


def _children_heading(child_level: str | None) -> str:
    headings = {
        GridLevel.COMMUNITY: _("Communities"),
        GridLevel.MICRO_GRID: _("Micro-grids"),
        GridLevel.BUILDING_GROUP: _("Building groups"),
    }
    return headings.get(child_level, _("Units below"))


def report_pdf(data: ReportData) -> bytes:
    """The report as a PDF (A4), in the active language."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdf_register_font()
    styles = pdf_styles()
    labels = index_labels()
    buffer = BytesIO()
    title = report_title(data)
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Linli",
    )
    width = A4[0] - 32 * mm

    def page_footer(canvas, doc):
        footer = _("Linli resilience report · %(unit)s · %(period)s · page %(page)d") % {
            "unit": data.unit.name,
            "period": data.period.label,
            "page": doc.page,
        }
        canvas.saveState()
        canvas.setFont(PDF_FONT, 8)
        canvas.drawString(16 * mm, 10 * mm, footer)
        canvas.restoreState()

    def paragraph(text: str, style: str = "body"):
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    story = [paragraph(title, "title")]
    if data.is_running:
        story.append(
            paragraph(
                _("The period is still running: figures up to %(time)s.")
                % {"time": _local(data.measured_until)},
                "muted",
            )
        )
    facts = [
        [_("Unit"), f"{data.unit.name} ({data.unit.get_level_display()})"],
        [
            _("Period"),
            f"{data.period.title}: {data.period.first_day:%Y-%m-%d} – {data.period.last_day:%Y-%m-%d}",
        ],
        [_("Computed at"), _local(data.computed_at)],
    ]
    story.append(pdf_table(facts, styles, [40 * mm, width - 40 * mm], header=False))

    story += [paragraph(_("Resilience index"), "h2")]
    story.append(
        paragraph(
            _(
                "Each indicator is scored 0–1 against its target; the scores are averaged "
                "within each dimension into the sub-indices, and those into the overall index."
            ),
            "muted",
        )
    )
    story.append(
        pdf_table(
            [
                [_("Index"), _("Score")],
                *[[labels[key], score_text(data.figures.index[key])] for key in INDEX_KEYS],
            ],
            styles,
            [70 * mm, 30 * mm],
        )
    )
    story.append(_index_chart(data.figures.index, width))

    story += [paragraph(_("Weekly trend"), "h2")]
    if data.trend:
        story.append(_trend_chart(data.trend, width))
        story.append(
            pdf_table(
                [
                    [_("Week ending"), *[labels[key] for key in INDEX_KEYS]],
                    *[
                        [
                            f"{point.week_ending:%Y-%m-%d}",
                            *[score_text(getattr(point, key)) for key in INDEX_KEYS],
                        ]
                        for point in data.trend
                    ],
                ],
                styles,
                [34 * mm, *[(width - 34 * mm) / 4] * 4],
            )
        )
    else:
        story.append(paragraph(_("No weekly snapshots were taken in this period."), "muted"))

    story += [paragraph(_("Indicators"), "h2")]
    for dimension_label, rows in data.figures.by_dimension():
        story.append(paragraph(str(dimension_label), "h3"))
        if not rows:
            story.append(paragraph(_("No indicators in this dimension yet."), "muted"))
            continue
        story.append(
            pdf_table(
                [
                    [_("Indicator"), _("Value"), _("Counted"), _("Target"), _("Score")],
                    *[
                        [
                            f"{row.indicator.name} ({row.indicator.code})",
                            value_text(row.indicator, row.value),
                            count_text(row),
                            value_text(row.indicator, row.target),
                            score_text(row.score),
                        ]
                        for row in rows
                    ],
                ],
                styles,
                [width - 100 * mm, 22 * mm, 30 * mm, 24 * mm, 24 * mm],
            )
        )

    if data.child_level:
        story += [paragraph(_children_heading(data.child_level), "h2")]
        if data.children:
            story.append(
                pdf_table(
                    [
                        [_("Unit"), *[labels[key] for key in INDEX_KEYS], _("Weakest indicator")],
                        *[
                            [
                                child.name,
                                *[score_text(child.index[key]) for key in INDEX_KEYS],
                                str(weakest.indicator.name)
                                if (weakest := child.weakest())
                                else "–",
                            ]
                            for child in data.children
                        ],
                    ],
                    styles,
                    [32 * mm, *[20 * mm] * 4, width - 112 * mm],
                )
            )
        else:
            story.append(paragraph(_("No units below this one."), "muted"))

    story += [paragraph(_("Emergencies and drills"), "h2")]
    if data.activations:
        story.append(
            pdf_table(
                [
                    [
                        _("Emergency"),
                        _("Activated at"),
                        _("Targeted households"),
                        _("Contacted"),
                        _("Time to %(percent)s%% contacted") % {"percent": 90},
                        _("Time to %(percent)s%% contacted") % {"percent": 100},
                        _("Help requests"),
                    ],
                    *[
                        [
                            f"{activation_title(row.activation)} ({activation_kind(row.activation)})",
                            _local(row.activation.activated_at),
                            "–" if row.targeted is None else row.targeted,
                            share_text(row.coverage_share),
                            minutes_text(row.minutes_to_90) if row.has_summary else "–",
                            minutes_text(row.minutes_to_100) if row.has_summary else "–",
                            "–" if row.help_requests is None else row.help_requests,
                        ]
                        for row in data.activations
                    ],
                ],
                styles,
                [width - 130 * mm, 28 * mm, 20 * mm, 20 * mm, 22 * mm, 22 * mm, 18 * mm],
            )
        )
        if any(row.activation.state == ActivationState.ACTIVE for row in data.activations):
            story += [
                Spacer(1, 4),
                paragraph(_("An emergency still active has no after-action figures yet."), "muted"),
            ]
    else:
        story.append(paragraph(_("No emergency or drill was activated in this period."), "muted"))

    document.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Workbook


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def report_xlsx(data: ReportData) -> bytes:
    """The report's figures as a workbook: indicators per unit, the index per unit, the
    weekly trend, and the emergencies and drills. Numbers stay numbers (shares 0–1)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from linli.exports import xlsx_append

    workbook = Workbook()
    bold = Font(bold=True)
    units = [data.figures, *data.children]
    labels = index_labels()

    def sheet(title: str, header: list[str], rows: list[list], first: bool = False):
        target = workbook.active if first else workbook.create_sheet()
        target.title = title
        xlsx_append(target, header)
        for cell in target[1]:
            cell.font = bold
        for row in rows:
            xlsx_append(target, row)
        target.freeze_panes = "A2"
        return target

    sheet(
        _("Indicators"),
        [
            _("Unit"),
            _("Grid path"),
            _("Code"),
            _("Indicator"),
            _("Dimension"),
            _("Value"),
            _("Numerator"),
            _("Denominator"),
            _("Target"),
            _("Score"),
        ],
        [
            [
                unit.name,
                unit.path,
                row.indicator.code,
                str(row.indicator.name),
                str(Dimension(row.indicator.dimension).label),
                _rounded(row.value),
                row.numerator,
                row.denominator,
                row.target,
                _rounded(row.score),
            ]
            for unit in units
            for row in unit.rows
        ],
        first=True,
    )
    sheet(
        _("Index"),
        [_("Unit"), _("Grid path"), _("Level"), *[labels[key] for key in INDEX_KEYS]],
        [
            [
                unit.name,
                unit.path,
                str(GridLevel(unit.level).label),
                *[_rounded(unit.index[key]) for key in INDEX_KEYS],
            ]
            for unit in units
        ],
    )
    sheet(
        _("Weekly trend"),
        [_("Unit"), _("Grid path"), _("Week ending"), *[labels[key] for key in INDEX_KEYS]],
        [
            [
                point.unit_name,
                point.path,
                point.week_ending,
                *[_rounded(getattr(point, key)) for key in INDEX_KEYS],
            ]
            for point in [*data.trend, *data.children_trend]
        ],
    )
    sheet(
        _("Emergencies and drills"),
        [
            _("Emergency"),
            _("Kind"),
            _("Scope"),
            _("State"),
            _("Activated at"),
            _("Stood down at"),
            _("Targeted households"),
            _("Households contacted"),
            _("Share contacted"),
            _("Minutes to %(percent)s%% contacted") % {"percent": 90},
            _("Minutes to %(percent)s%% contacted") % {"percent": 100},
            _("Help requests"),
        ],
        [
            [
                row.activation.plan.name,
                activation_kind(row.activation),
                row.activation.scope.name,
                str(row.activation.get_state_display()),
                _local(row.activation.activated_at),
                _local(row.activation.stood_down_at),
                row.targeted,
                row.contacted,
                row.coverage_share,
                row.minutes_to_90,
                row.minutes_to_100,
                row.help_requests,
            ]
            for row in data.activations
        ],
    )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
