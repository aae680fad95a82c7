"""Case metrics pages: the dashboard of one grid unit and period, and the list of the cases
behind any one of its numbers (DESIGN §5: every number traces to its rows).

Thin views over `linli.cases.metrics`; a unit outside the user's registry scope, and any
user without a registry post (residents, volunteers, partners), answers 404.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.roles import Permission
from linli.cases import metrics
from linli.grids.models import GridUnit
from linli.grids.selectors import scope_for

PAGE_SIZE = 50


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _period(request) -> metrics.Period:
    """The period named by the query string; bad input is said and the current month shown."""
    try:
        return metrics.period_from_params(
            period=request.GET.get("period") or None,
            day=request.GET.get("date") or None,
            start=request.GET.get("start") or None,
            end=request.GET.get("end") or None,
        )
    except ValidationError as error:
        # Named by the label the form shows, so the user sees which input to correct.
        labels = {
            "period": _("Period"),
            "date": _("Any day in the period"),
            "start": _("Start date"),
            "end": _("End date"),
        }
        messages.error(
            request,
            " ".join(
                _("%(field)s: %(message)s") % {"field": labels.get(name, name), "message": text}
                for name, texts in error.message_dict.items()
                for text in texts
            ),
        )
        return metrics.period_from_params()


def _query(unit: GridUnit, period: metrics.Period, **extra) -> str:
    return urlencode({"unit": unit.pk, **period.params(), **extra})


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


class _Links:
    """URLs of the case lists behind the numbers of one unit (or its own row)."""

    def __init__(self, unit: GridUnit, period: metrics.Period, direct: bool = False):
        extra = {"direct": 1} if direct else {}
        self.query = _query(unit, period, **extra)

    def __call__(self, metric: str) -> str:
        return f"{reverse('cases:metric_cases', args=[metric])}?{self.query}"


def _row(unit: GridUnit, direct: bool, result: metrics.CaseMetrics, period) -> dict:
    link = _Links(unit, period, direct)
    counts = result.counts
    return {
        "unit": unit,
        "direct": direct,
        "dashboard": None if direct else f"{reverse('cases:metrics')}?{_query(unit, period)}",
        "counts": counts,
        "links": {name: link(name) for name in metrics.METRICS},
        "closure_rate": _percent(result.closure_rate),
        "on_time_rate": _percent(result.on_time_rate),
        "median_accept": _number(result.median_hours_to_accept),
        "median_close": _number(result.median_hours_to_close),
        "escalation_rate": _percent(result.escalation_rate),
        "reopen_rate": _percent(result.reopen_rate),
        "satisfaction": _number(result.average_satisfaction),
        "open": sum(result.open_by_age.values()),
        "ages": [
            {"name": name, "label": label, "count": counts[name], "url": link(name)}
            for name, label, _low, _high in metrics.AGE_BUCKETS
        ],
    }


@login_required
def dashboard(request):
    user = request.user
    unit = metrics.metrics_unit(user=user, unit_id=_int(request.GET.get("unit")))
    period = _period(request)
    now = clock.now()
    breakdown = metrics.case_metrics_breakdown(user=user, unit=unit, period=period, now=now)
    trend = metrics.case_metrics_trend(user=user, unit=unit, period=period, now=now)
    parent_path = unit.ancestor_paths()[-2] if unit.parent_id else None
    # Offer the way up only when the user may see the parent (checked on the path, no query).
    may_go_up = parent_path is not None and scope_for(user).allows(
        Permission.VIEW_REGISTRY, parent_path
    )
    chart = {
        # A week's full label is two dates; its first day is enough under a chart point.
        "labels": [
            point["period"].first_day.isoformat()
            if point["period"].kind == "week"
            else point["period"].label
            for point in trend
        ],
        "urls": [f"{reverse('cases:metrics')}?{_query(unit, point['period'])}" for point in trend],
        "series": [
            {
                "name": _("Closure rate"),
                "data": [_chart_value(point["closure_rate"]) for point in trend],
            },
            {
                "name": _("On-time closure rate"),
                "data": [_chart_value(point["on_time_rate"]) for point in trend],
            },
        ],
    }
    return render(
        request,
        "cases/metrics.html",
        {
            "unit": unit,
            "period": period,
            "now": now,
            "kinds": [
                ("week", _("Week")),
                ("month", _("Month")),
                ("quarter", _("Quarter")),
                ("year", _("Year")),
            ],
            "previous": f"?{_query(unit, period.shifted(-1))}",
            "next": f"?{_query(unit, period.shifted(1))}",
            "up": f"?unit={unit.parent_id}&{urlencode(period.params())}" if may_go_up else None,
            "total": _row(unit, False, breakdown.total, period),
            "rows": [
                _row(child, direct, result, period) for child, direct, result in breakdown.rows
            ],
            "trend": [
                {
                    **point,
                    "label": point["period"].label,
                    "closure": _percent(point["closure_rate"]),
                    "on_time": _percent(point["on_time_rate"]),
                    "url": url,
                }
                for point, url in zip(trend, chart["urls"], strict=True)
            ],
            "chart": chart,
        },
    )


def _chart_value(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


@login_required
def metric_cases(request, metric: str):
    user = request.user
    if metric not in metrics.METRICS:
        raise Http404
    unit = metrics.metrics_unit(user=user, unit_id=_int(request.GET.get("unit")))
    period = _period(request)
    direct = request.GET.get("direct") == "1"
    cases = metrics.metric_cases(user=user, unit=unit, period=period, metric=metric, direct=direct)
    return render(
        request,
        "cases/metrics_cases.html",
        {
            "unit": unit,
            "period": period,
            "metric": metric,
            "metric_label": metrics.METRICS[metric],
            "direct": direct,
            "dashboard": f"{reverse('cases:metrics')}?{_query(unit, period)}",
            "page": Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


@login_required
def summary(request):
    """This month's closure and on-time rates of the user's own unit, for the home page
    (fetched by htmx after the page loads, so the home page costs no extra query)."""
    user = request.user
    unit = metrics.metrics_unit(user=user)
    period = metrics.period_from_params()
    result = metrics.case_metrics(user=user, unit=unit, period=period)
    return render(
        request,
        "cases/metrics_summary.html",
        {
            "unit": unit,
            "closure_rate": _percent(result.closure_rate),
            "on_time_rate": _percent(result.on_time_rate),
            "dashboard": f"{reverse('cases:metrics')}?{_query(unit, period)}",
        },
    )
