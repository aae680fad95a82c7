"""The coverage curve (share of targeted households contacted over time) as the page's
inline SVG and table, and the time axis the PDF's chart shares with them."""

from __future__ import annotations

import math
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from linli.emergency.report.text import minutes_text


def thin_curve(curve: list, span: float, buckets: int) -> list:
    """At most one point per `buckets`-th of the time axis (the last in each), so a
    street-sized activation's thousands of contacts draw as a few hundred steps; the
    curve looks the same at the chart's resolution."""
    if len(curve) <= buckets:
        return curve
    kept: dict[int, list] = {}
    for point in curve[1:]:
        kept[round(point[0] / span * buckets)] = point
    return [curve[0], *kept.values()]


def coverage_table_points(curve: list, steps: int = 20) -> list[tuple[int, list]]:
    """The rows of the coverage table: every contact for a small activation, otherwise the
    first contact at or past each 5% of the targeted households (and the last)."""
    numbered = list(enumerate(curve))
    if len(curve) <= steps * 2 + 1:
        return numbered
    rows, reached = [numbered[0]], 0
    for number, point in numbered[1:]:
        level = math.floor(point[1] * steps + 1e-9)
        if level > reached:
            rows.append((number, point))
            reached = level
    if rows[-1][0] != numbered[-1][0]:
        rows.append(numbered[-1])
    return rows


def coverage_svg(summary: dict, width: int = 640, height: int = 240) -> SafeString:
    """The coverage curve as an inline SVG step chart (no script): share of targeted
    households contacted against minutes since activation, with the 50/90/100% lines."""
    left, right, top, bottom = 44, 12, 12, 36
    plot_width, plot_height = width - left - right, height - top - bottom
    span = chart_span(summary)
    curve = thin_curve(summary.get("coverage_curve") or [[0.0, 0.0]], span, plot_width)

    def x(minute: float) -> float:
        return round(left + plot_width * minute / span, 1)

    def y(share: float) -> float:
        return round(top + plot_height * (1 - share), 1)

    path = [f"M{x(0)},{y(0)}"]
    for minute, share in curve[1:]:
        path.append(f"H{x(minute)}V{y(share)}")
    end_minute = min(summary.get("duration_minutes") or curve[-1][0], span)
    path.append(f"H{x(max(end_minute, curve[-1][0]))}")
    parts = [
        f'<svg class="coverage-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="coverage-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="coverage-title">{escape(coverage_description(summary))}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_width}" height="{plot_height}" '
        f'fill="none" stroke="#d8dde3"/>',
    ]
    for percent in (0, 50, 90, 100):
        level = y(percent / 100)
        parts.append(
            f'<line x1="{left}" y1="{level}" x2="{left + plot_width}" y2="{level}" '
            f'stroke="#d8dde3" stroke-dasharray="{"" if percent in (0, 100) else "4 3"}"/>'
            f'<text x="{left - 6}" y="{level + 4}" text-anchor="end" font-size="11" '
            f'fill="#5b636e">{percent}%</text>'
        )
    for step in range(5):
        minute = span * step / 4
        parts.append(
            f'<text x="{x(minute)}" y="{top + plot_height + 16}" text-anchor="middle" '
            f'font-size="11" fill="#5b636e">{minute:g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11" fill="#5b636e">{escape(_("Minutes since activation"))}</text>'
    )
    parts.append(
        f'<path d="{"".join(path)}" fill="none" stroke="#b4232a" stroke-width="2.5" '
        f'data-testid="coverage-line"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def chart_span(summary: dict) -> float:
    """The minutes the chart's time axis covers: a little past the last contact, so a long
    emergency whose households were all reached in the first hours still shows its curve
    (the table gives every point); the whole duration when nobody was reached."""
    curve = summary.get("coverage_curve") or [[0.0, 0.0]]
    duration = summary.get("duration_minutes") or 0
    last = curve[-1][0]
    span = min(duration, last * 1.25) if last else duration
    return _nice_ceiling(max(span, last, 10))


def _nice_ceiling(value: float) -> float:
    """The smallest round number at or above `value` whose quarters are round too (axis
    ticks): 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6 or 8 × 10^n."""
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        if value <= round(factor * magnitude, 6):
            return round(factor * magnitude, 6)
    return 10 * magnitude  # pragma: no cover - the loop always returns


def coverage_description(summary: dict) -> str:
    return _(
        "%(contacted)d of %(targeted)d targeted households contacted; 50%% after %(to50)s, "
        "90%% after %(to90)s, 100%% after %(to100)s."
    ) % {
        "contacted": summary.get("contacted_households", 0),
        "targeted": summary.get("targeted_households", 0),
        "to50": minutes_text((summary.get("minutes_to") or {}).get("50")),
        "to90": minutes_text((summary.get("minutes_to") or {}).get("90")),
        "to100": minutes_text((summary.get("minutes_to") or {}).get("100")),
    }
