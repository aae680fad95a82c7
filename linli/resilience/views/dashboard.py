"""The resilience dashboard, the drill-down behind each indicator value, the list behind the
unvisited-vulnerable alert, and the indicator catalogue (targets and weights, edited by
street administrators).

Thin views over linli.resilience.selectors (stored snapshots, scoped), .alerts (live) and
.services (audited settings). A unit outside the user's registry scope answers 404.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.roles import Permission
from linli.grids.models import GridUnit
from linli.grids.selectors import grid_unit_get, scope_for
from linli.resilience import alerts as live_alerts
from linli.resilience import selectors, services
from linli.resilience.engine import REGISTRY, Indicator
from linli.resilience.index import settings_in_force
from linli.resilience.models import Dimension, IndicatorValue

# How a value of each indicator unit reads (engine.Indicator.unit).
UNIT_FORMATS = {
    "per_100": lambda number: _("%(value)s per 100") % {"value": number},
    "hours": lambda number: _("%(value)s h") % {"value": number},
    "days": lambda number: _("%(value)s days") % {"value": number},
    "minutes": lambda number: _("%(value)s min") % {"value": number},
}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _plain(number: float) -> str:
    """12.0 → "12", 12.345 → "12.3" (one decimal is as precise as these records are)."""
    rounded = round(number, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "score":
        return f"{value:.2f}"
    if unit in UNIT_FORMATS:
        return UNIT_FORMATS[unit](_plain(value))
    return _plain(value)


def format_index(score: float | None) -> str:
    """A 0–1 score or sub-index, read as points out of 100."""
    return "—" if score is None else f"{score * 100:.1f}"


def format_count(number: float | None) -> str:
    return "—" if number is None else _plain(number)


def _chart_points(score: float | None) -> float | None:
    return None if score is None else round(score * 100, 1)


def _drilldown_url(unit: GridUnit, code: str, period_end: date | None) -> str:
    url = reverse("resilience:drilldown", args=[unit.pk, code])
    return f"{url}?period={period_end.isoformat()}" if period_end else url


def _dimension_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Dimension.choices}


def _up(user, unit: GridUnit) -> str | None:
    """The dashboard of the highest visible unit above whose table lists this one (a
    community goes up to its street, past the block); one query at most."""
    scope = scope_for(user)
    paths = [
        path for path in unit.ancestor_paths()[:-1] if scope.allows(Permission.VIEW_REGISTRY, path)
    ]
    if not paths:
        return None
    for parent in GridUnit.objects.filter(path__in=paths).order_by("path").only("pk", "level"):
        if selectors.child_level(parent) == unit.level:
            return f"{reverse('resilience:dashboard')}?unit={parent.pk}"
    return None


@login_required
def dashboard(request):
    user = request.user
    unit = selectors.dashboard_unit(user=user, unit_id=_int(request.GET.get("unit")))
    # One query gives the trend, the latest week and its index.
    trend = selectors.trend(unit=unit)
    snapshot = trend[-1] if trend else None
    period_end = snapshot.period_end if snapshot else None
    alerts = live_alerts.alerts_for(user=user, unit=unit)
    context = {
        "unit": unit,
        "up": _up(user, unit),
        "period_end": period_end,
        "alerts": alerts,
        "todos": live_alerts.todo_list(alerts),
        "may_edit": selectors.may_change_settings(user),
    }
    if period_end is None:
        return render(request, "resilience/dashboard/index.html", context)

    settings = settings_in_force()
    labels = _dimension_labels()
    children = selectors.children_table(user=user, unit=unit, period_end=period_end)
    groups = selectors.indicator_lines(unit=unit, period_end=period_end, settings=settings)
    index_names = {**labels, "overall": _("Overall index")}
    context.update(
        {
            "snapshot": snapshot,
            "index": _index_cells(snapshot, index_names),
            "radar": {
                "indicators": [
                    {"name": labels[dimension], "max": 100} for dimension in Dimension.values
                ],
                "name": unit.name,
                "values": [
                    _chart_points(getattr(snapshot, dimension, None))
                    for dimension in Dimension.values
                ],
            },
            "trend_chart": {
                "labels": [point.period_end.isoformat() for point in trend],
                "series": [
                    {
                        "name": index_names[name],
                        "data": [_chart_points(getattr(point, name)) for point in trend],
                    }
                    for name in selectors.INDEX_FIELDS
                ],
            },
            "trend": [
                {
                    "period_end": point.period_end,
                    "values": _index_cells(point, index_names),
                }
                for point in reversed(trend)
            ],
            "index_names": [index_names[name] for name in selectors.INDEX_FIELDS],
            "children": [_child_row(row, period_end, index_names) for row in children],
            "groups": [
                {
                    "dimension": dimension,
                    "label": labels[dimension],
                    "lines": [_line(unit, line, period_end) for line in lines],
                }
                for dimension, lines in groups.items()
                if lines
            ],
        }
    )
    return render(request, "resilience/dashboard/index.html", context)


def _index_cells(snapshot, names: dict[str, str]) -> list[dict]:
    return [
        {"key": key, "name": names[key], "value": format_index(getattr(snapshot, key, None))}
        for key in selectors.INDEX_FIELDS
    ]


def _child_row(row: selectors.ChildRow, period_end: date, names: dict[str, str]) -> dict:
    return {
        "unit": row.unit,
        "url": f"{reverse('resilience:dashboard')}?unit={row.unit.pk}",
        "values": _index_cells(row.snapshot, names),
        "weakest": [
            {
                "code": value.code,
                "name": REGISTRY[value.code].name,
                "value": format_value(value.value, REGISTRY[value.code].unit),
                "score": format_index(value.score),
                "url": _drilldown_url(row.unit, value.code, period_end),
            }
            for value in row.weakest
        ],
    }


def _line(unit: GridUnit, line: selectors.IndicatorLine, period_end: date) -> dict:
    indicator = line.indicator
    stored = line.stored
    return {
        "code": indicator.code,
        "name": indicator.name,
        "value": format_value(line.value, indicator.unit),
        "numerator": format_count(stored.numerator) if stored else "—",
        "denominator": format_count(stored.denominator) if stored else "—",
        "is_ratio": bool(stored and stored.numerator is not None),
        "target": format_value(line.target, indicator.unit),
        "direction": indicator.direction,
        "score": format_index(line.score),
        "weak": line.score is not None and line.score < 0.5,
        "url": _drilldown_url(unit, indicator.code, period_end),
    }


def _period_param(request, unit: GridUnit) -> date | None:
    """The stored week asked for (`?period=YYYY-MM-DD`), else the unit's latest."""
    raw = request.GET.get("period")
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise Http404 from None
    return selectors.latest_period(unit=unit)


@login_required
def drilldown(request, unit_id: int, code: str):
    user = request.user
    unit = grid_unit_get(user=user, grid_unit_id=unit_id)
    indicator = selectors.indicator_for(unit=unit, code=code)
    period_end = _period_param(request, unit)
    stored: IndicatorValue | None = None
    rows = None
    if period_end is not None:
        stored = selectors.value_at(unit=unit, period_end=period_end, code=code)
        rows = selectors.drilldown_rows(user=user, unit=unit, code=code, period_end=period_end)
    settings = settings_in_force()
    return render(
        request,
        "resilience/dashboard/drilldown.html",
        {
            "unit": unit,
            "indicator": indicator,
            "period_end": period_end,
            "stored": stored,
            "value": format_value(stored.value if stored else None, indicator.unit),
            "numerator": format_count(stored.numerator if stored else None),
            "denominator": format_count(stored.denominator if stored else None),
            "score": format_index(stored.score if stored else None),
            "target": format_value(settings.targets[code], indicator.unit),
            "weight": _plain(settings.weights[code]),
            "dimension": _dimension_labels()[indicator.dimension],
            "rows": rows,
            "table": [
                {"cells": list(zip(rows.columns, cells, strict=False)), "link": link}
                for cells, link in zip(rows.rows, rows.links, strict=True)
            ]
            if rows
            else [],
            "dashboard": f"{reverse('resilience:dashboard')}?unit={unit.pk}",
        },
    )


@login_required
def alert_unvisited(request, unit_id: int):
    user = request.user
    unit = grid_unit_get(user=user, grid_unit_id=unit_id)
    rows, total = live_alerts.vulnerable_unvisited_rows(user=user, unit=unit)
    return render(
        request,
        "resilience/dashboard/alert_unvisited.html",
        {
            "unit": unit,
            "rows": rows,
            "total": total,
            "days": live_alerts.UNVISITED_DAYS,
            "dashboard": f"{reverse('resilience:dashboard')}?unit={unit.pk}",
        },
    )


# The catalogue -------------------------------------------------------------------------


def _indicator_row(row: selectors.CatalogueRow) -> dict:
    indicator: Indicator = row.indicator
    return {
        "code": indicator.code,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "formula": indicator.formula,
        "source": indicator.source,
        "direction": indicator.direction,
        "unit": indicator.unit,
        "target": row.target,
        "target_text": format_value(row.target, indicator.unit),
        "default_target": format_value(indicator.target, indicator.unit),
        "weight": row.weight,
        "changed": row.changed,
    }


@login_required
def catalogue(request):
    user = request.user
    if not selectors.may_view_dashboard(user):
        raise Http404
    may_edit = selectors.may_change_settings(user)
    errors: dict[str, dict[str, str]] = {}
    if request.method == "POST":
        if not may_edit:
            raise Http404
        errors = _save_setting(request)
        if not errors:
            return redirect("resilience:catalogue")
    settings = settings_in_force()
    labels = _dimension_labels()
    grouped = selectors.catalogue(settings)
    return render(
        request,
        "resilience/dashboard/catalogue.html",
        {
            "may_edit": may_edit,
            "errors": errors,
            "dimensions": [
                {
                    "dimension": dimension,
                    "label": labels[dimension],
                    "weight": settings.dimension_weights.get(dimension, 1.0),
                    "errors": errors.get(f"dimension:{dimension}", {}),
                    "rows": [
                        {**_indicator_row(row), "errors": errors.get(row.indicator.code, {})}
                        for row in grouped[dimension]
                    ],
                }
                for dimension in Dimension.values
            ],
        },
        status=400 if errors else 200,
    )


def _save_setting(request) -> dict[str, dict[str, str]]:
    """Apply one posted form (an indicator's target/weight or a dimension's weight);
    return the errors keyed by the form and the field at fault."""
    post = request.POST
    reason = post.get("reason", "").strip()
    if post.get("dimension"):
        key = f"dimension:{post['dimension']}"
        try:
            services.dimension_setting_update(
                actor=request.user,
                dimension=post["dimension"],
                weight=post.get("weight"),
                reason=reason,
            )
        except ValidationError as error:
            return {key: _field_errors(error)}
        messages.success(request, _("Dimension weight saved."))
        return {}
    code = post.get("code", "")
    try:
        services.indicator_setting_update(
            actor=request.user,
            code=code,
            target=post.get("target") or None,
            weight=post.get("weight") or None,
            reason=reason,
        )
    except ValidationError as error:
        return {code: _field_errors(error)}
    messages.success(request, _("Target and weight of %(code)s saved.") % {"code": code})
    return {}


def _field_errors(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {field: " ".join(messages_) for field, messages_ in error.message_dict.items()}
    return {"__all__": " ".join(error.messages)}
