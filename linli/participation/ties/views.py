"""The ties page (/activities/ties/): per-unit network measures and the people to visit.

For micro-grid leads, building-group leaders (their group) and above: everything here is
read off vulnerability tags, so it needs VIEW_SENSITIVE; anyone else gets 404. It reads the
stored snapshots only (ties.selectors); `?unit=ID` narrows both lists to a unit.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from linli.participation.ties import selectors

# One page of people to visit; a micro-grid rarely has more, and the API pages the rest.
ISOLATED_LIMIT = 300


@login_required
def overview(request):
    if not selectors.may_view_ties(request.user):
        raise Http404
    unit = None
    snapshots = selectors.snapshots_visible(user=request.user).order_by("grid_path")
    if request.GET.get("unit"):
        unit = selectors.tie_unit_get(user=request.user, unit_id=request.GET["unit"])
        snapshots = snapshots.within([unit.path])
    isolated = selectors.isolated_visible(user=request.user, path=unit.path if unit else None)
    snapshots = list(snapshots[:500])
    return render(
        request,
        "participation/ties/overview.html",
        {
            "unit": unit,
            "snapshots": snapshots,
            "computed_at": max((s.computed_at for s in snapshots), default=None),
            "isolated": list(isolated[:ISOLATED_LIMIT]),
            "isolated_limit": ISOLATED_LIMIT,
        },
    )
