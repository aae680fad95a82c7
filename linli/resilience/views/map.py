"""The 民情 map page and the small JSON answer behind a building's popup.

Thin views over linli.resilience.map: the page computes the unit's GeoJSON once, draws it
with Leaflet (linli/resilience/static/resilience/map.js) and lists the same numbers in tables
(the map's text version, and what a screen reader or a browser without JavaScript gets).
A unit or building outside the viewer's registry scope answers 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.grid_paths import path_depth
from linli.grids import selectors as grid_selectors
from linli.resilience import map as resilience_map
from linli.resilience.models import Dimension

# Above this many buildings the page lists units only (a street's thousands of buildings
# would make a page nobody reads); the map still draws them all.
BUILDING_TABLE_LIMIT = 500
# Placeholder id the script swaps for the clicked building's id.
BUILDING_ID_PLACEHOLDER = 999999999


def map_layers() -> list[dict]:
    """The four colourings. `breaks` split values into four classes (none: the script
    splits the range it finds); `better` says which end is good, for the colour ramp."""
    return [
        {
            "key": "open_cases",
            "label": _("Open cases"),
            "property": "open_cases",
            "format": "count",
            "better": "lower",
            "breaks": None,
        },
        {
            "key": "visit_coverage",
            "label": _("Households visited in 30 days"),
            "property": "visit_coverage",
            "format": "percent",
            "better": "higher",
            "breaks": [0.5, 0.7, 0.9],
        },
        {
            "key": "vulnerable_density",
            "label": _("Vulnerable residents per household"),
            "property": "vulnerable_per_household",
            "format": "ratio",
            "better": None,
            "breaks": None,
        },
        {
            "key": "index",
            "label": _("Resilience index"),
            "property": "index",
            "format": "score",
            "better": "higher",
            "breaks": [0.4, 0.6, 0.8],
        },
    ]


def _labels() -> dict[str, str]:
    # Words the script writes into popups and the legend.
    return {
        "households": _("Households"),
        "residents": _("Residents"),
        "visited": _("Visited in 30 days"),
        "not_visited": _("Not visited in 30 days"),
        "last_visit": _("Last visit"),
        "vulnerable": _("Vulnerable residents"),
        "vulnerable_households": _("Households with vulnerable residents"),
        "open_cases": _("Open cases"),
        "overdue_cases": _("Overdue"),
        "index": _("Resilience index"),
        "structural": str(Dimension.STRUCTURAL.label),
        "capacity": str(Dimension.CAPACITY.label),
        "cultural": str(Dimension.CULTURAL.label),
        "no_data": _("No data"),
        "loading": _("Loading…"),
        "failed": _("Could not load the counts."),
        "open_unit": _("Open this unit's map"),
        "open_building": _("Open the building"),
        "hidden": _("not shown"),
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _number(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _texts(row: dict) -> dict[str, str]:
    """A feature's numbers as the tables print them."""
    return {
        "visit_coverage": _percent(row["visit_coverage"]),
        "vulnerable": "—" if row["vulnerable"] is None else str(row["vulnerable"]),
        "vulnerable_per_household": _number(row["vulnerable_per_household"]),
        "index": _number(row["index"]),
    }


@login_required
def map_page(request):
    user = request.user
    grid_selectors.needs_registry(user=user)
    unit_id = request.GET.get("unit")
    if unit_id:
        unit = resilience_map.map_unit_get(user=user, unit_id=unit_id)
    else:
        unit = resilience_map.map_default_unit(user=user)
        if unit is None:
            raise Http404
    collection = resilience_map.map_geojson(user=user, unit=unit)
    units = [f["properties"] for f in collection["features"] if f["properties"]["kind"] == "unit"]
    buildings = [
        f["properties"] for f in collection["features"] if f["properties"]["kind"] == "building"
    ]
    root_depth = path_depth(unit.path)
    for row in units:
        row["indent"] = path_depth(row["path"]) - root_depth
    for row in units + buildings:
        row["text"] = _texts(row)
    shaped = {
        f["properties"]["id"]
        for f in collection["features"]
        if f["properties"]["kind"] == "unit" and f["geometry"]
    }
    for row in units:
        row["has_shape"] = row["id"] in shaped
    located = {
        f["properties"]["id"]
        for f in collection["features"]
        if f["properties"]["kind"] == "building" and f["geometry"]
    }
    building_url = reverse("resilience:map_building", args=[BUILDING_ID_PLACEHOLDER])
    config = {
        "tiles": settings.LINLI_MAP_TILE_URL,
        "attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
        "layers": map_layers(),
        "labels": _labels(),
        "building_url": building_url,
        "building_page_url": reverse("grids:building_detail", args=[BUILDING_ID_PLACEHOLDER]),
        "placeholder": str(BUILDING_ID_PLACEHOLDER),
        "unit_url": reverse("resilience:map") + "?unit=",
    }
    return render(
        request,
        "resilience/map/index.html",
        {
            "unit": unit,
            "crumbs": grid_selectors.ancestors_visible(user=user, grid_unit=unit),
            "collection": collection,
            "config": config,
            "layers": config["layers"],
            "units": units,
            "buildings": buildings if len(buildings) <= BUILDING_TABLE_LIMIT else None,
            "building_count": len(buildings),
            "unlocated": len(buildings) - len(located),
            "unshaped": len(units) - len(shaped),
        },
    )


@login_required
def map_building(request, building_id: int):
    return JsonResponse(
        resilience_map.building_counts(user=request.user, building_id=building_id),
        json_dumps_params={"ensure_ascii": False},
    )
