"""The resilience reports: the page listing the months and quarters of the person's unit
with their PDF and XLSX downloads and the after-action reports of the emergencies and
drills in scope, and the two downloads.

A report reads the unit through the scope layer (grids' VIEW_REGISTRY: the secretary's
community, the street administrator's street, the micro-grid lead's micro-grid); a unit
outside it is 404. A period that cannot be read is a 400 naming the wrong part."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from linli import clock
from linli.accounts.grid_paths import within_or_above
from linli.accounts.roles import Permission
from linli.emergency.models import ActivationState
from linli.emergency.report import minutes_text, share_text
from linli.emergency.selectors import activations_visible
from linli.grids.selectors import grid_roots_for, grid_unit_get, grid_units_visible, scope_for
from linli.resilience import reports
from linli.resilience.reports import MONTH, QUARTER, PeriodError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# After-action reports listed on the page (the full list is the emergency app's).
ACTIVATIONS_SHOWN = 50


def _may_read(user) -> bool:
    return scope_for(user).allows_anywhere(Permission.VIEW_REGISTRY)


@login_required
def report_list(request):
    """The months and quarters of one unit (the person's own by default, or `?unit=` any
    unit they see), and the stood-down emergencies and drills of that unit."""
    if not _may_read(request.user):
        raise Http404
    roots = sorted(grid_roots_for(user=request.user), key=lambda unit: unit.path)
    if request.GET.get("unit"):
        try:
            unit_id = int(request.GET["unit"])
        except ValueError:
            raise Http404 from None
        unit = grid_unit_get(user=request.user, grid_unit_id=unit_id)
    elif roots:
        unit = roots[0]
    else:
        raise Http404
    today = clock.localdate()
    now = clock.now()
    periods = {
        kind: [
            {"period": period, "running": period.is_running(now)}
            for period in reports.recent_periods(kind, today)
        ]
        for kind in (MONTH, QUARTER)
    }
    child_level = reports.CHILD_LEVEL.get(unit.level)
    children = (
        list(
            grid_units_visible(user=request.user)
            .filter(path__startswith=unit.path, level=child_level)
            .order_by("path")
        )
        if child_level
        else []
    )
    activations = (
        activations_visible(user=request.user)
        .filter(state=ActivationState.STOOD_DOWN)
        .filter(
            # Inside the unit, or covering it: a street-wide emergency belongs to each
            # community's report.
            within_or_above([unit.path])
        )
        .select_related("plan", "scope")
        .order_by("-stood_down_at", "-id")[:ACTIVATIONS_SHOWN]
    )
    activation_rows = []
    for activation in activations:
        summary = activation.summary or {}
        minutes_to = summary.get("minutes_to") or {}
        activation_rows.append(
            {
                "activation": activation,
                "coverage": share_text(summary.get("coverage_share")),
                "to_90": minutes_text(minutes_to.get("90")) if summary else "–",
                "to_100": minutes_text(minutes_to.get("100")) if summary else "–",
            }
        )
    return render(
        request,
        "resilience/reports/list.html",
        {
            "unit": unit,
            "roots": roots,
            "parent": unit.parent
            if unit.parent_id
            and scope_for(request.user).allows(Permission.VIEW_REGISTRY, unit.parent.path)
            else None,
            "children": children,
            "months": periods[MONTH],
            "quarters": periods[QUARTER],
            "activation_rows": activation_rows,
        },
    )


def _report(request, unit_id: int, kind: str, period: str):
    if not _may_read(request.user):
        raise Http404
    unit = grid_unit_get(user=request.user, grid_unit_id=unit_id)
    try:
        parsed = reports.period_parse(kind, period)
        return reports.report_data(unit, parsed, user=request.user), None
    except PeriodError as error:
        return None, HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def report_pdf(request, unit_id: int, kind: str, period: str):
    data, refusal = _report(request, unit_id, kind, period)
    if refusal is not None:
        return refusal
    return _download(reports.report_pdf(data), "application/pdf", reports.file_name(data, "pdf"))


@login_required
def report_xlsx(request, unit_id: int, kind: str, period: str):
    data, refusal = _report(request, unit_id, kind, period)
    if refusal is not None:
        return refusal
    return _download(reports.report_xlsx(data), XLSX_TYPE, reports.file_name(data, "xlsx"))
