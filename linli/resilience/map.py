"""The 民情 map's data: one unit's subtree as GeoJSON, with the counts each colouring needs.

A FeatureCollection of the grid units of the subtree (geometry: their stored boundary, or
null where none is drawn) and of its buildings (a Point where coordinates are known, else
null), each carrying counts: households, residents, households visited in the last 30 days
(and the share), open cases, vulnerable residents and households (and vulnerable residents
per household), and the unit's latest stored index. Counts only: no names, rooms or phones.

Cost does not grow with the number of buildings: a fixed handful of grouped queries over the
subtree (units, buildings, households, residents, visits, cases, snapshots), each grouped by
(grid_path, building), then summed in Python into every building and every ancestor unit —
the same pattern as the indicator engine's `rollup`.

Scope: the viewer needs VIEW_REGISTRY over the unit (anything else is 404, like every other
page). Rows are read only inside the viewer's VIEW_REGISTRY subtrees; a resident's access to
their own household does not open their building's counts. Vulnerability counts are shown
only where the viewer may also see vulnerability tags (VIEW_SENSITIVE); elsewhere they are
null.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases.models import OPEN_STATES, Case, CaseCategory
from linli.grids.models import (
    Building,
    GridUnit,
    Household,
    Resident,
    Visit,
    VulnerabilityTag,
)
from linli.grids.selectors import scope_for
from linli.resilience.models import IndexSnapshot

VISIT_WINDOW_DAYS = 30
# Feature kinds, in the order features are listed.
UNIT = "unit"
BUILDING = "building"

_VULNERABLE = ~Q(vulnerability_tags="")


def _counters() -> dict[str, int]:
    return {
        "households": 0,
        "residents": 0,
        "visited_30d": 0,
        "open_cases": 0,
        "vulnerable": 0,
        "vulnerable_households": 0,
    }


def _add(totals: dict, key: str, path: str, building_id: int | None, amount: int, known: set):
    """Add one grouped row into its building and into every unit of the subtree above it."""
    if building_id is not None and building_id in totals["building"]:
        totals["building"][building_id][key] += amount
    for ancestor in path_ancestors(path):
        if ancestor in known:
            totals["unit"][ancestor][key] += amount


def _share(numerator: int, denominator: int, digits: int) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _properties(counts: dict[str, int], sensitive: bool) -> dict:
    households = counts["households"]
    return {
        "households": households,
        "residents": counts["residents"],
        "visited_30d": counts["visited_30d"],
        "visit_coverage": _share(counts["visited_30d"], households, 4),
        "open_cases": counts["open_cases"],
        "vulnerable": counts["vulnerable"] if sensitive else None,
        "vulnerable_households": counts["vulnerable_households"] if sensitive else None,
        "vulnerable_per_household": (
            _share(counts["vulnerable"], households, 3) if sensitive else None
        ),
    }


def _geometry(boundary) -> dict | None:
    # Boundaries are stored as a GeoJSON geometry; a pasted Feature is unwrapped.
    if isinstance(boundary, dict) and boundary.get("type") == "Feature":
        boundary = boundary.get("geometry")
    if isinstance(boundary, dict) and boundary.get("type") in ("Polygon", "MultiPolygon"):
        return boundary
    return None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def map_unit_get(*, user: User, unit_id: int) -> GridUnit:
    """The unit whose map is asked for; 404 unless the viewer may see its registry."""
    paths = scope_for(user).paths_for(Permission.VIEW_REGISTRY)
    try:
        return GridUnit.objects.within(paths).get(pk=unit_id)
    except (GridUnit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def map_default_unit(*, user: User) -> GridUnit | None:
    """The viewer's top unit: the highest of the units their VIEW_REGISTRY posts cover
    (the first street for an unrestricted account), or None without any."""
    scope = scope_for(user)
    paths = scope.paths_for(Permission.VIEW_REGISTRY)
    if not paths:
        return None
    if scope.unrestricted:
        units = GridUnit.objects.filter(parent__isnull=True)
    else:
        units = GridUnit.objects.filter(path__in=paths)
    return min(units, key=lambda unit: (unit.depth, unit.path), default=None)


def map_geojson(*, user: User, unit: GridUnit, now: datetime | None = None) -> dict:
    """The subtree of `unit` as a GeoJSON FeatureCollection (see the module docstring)."""
    scope = scope_for(user)
    if not scope.allows(Permission.VIEW_REGISTRY, unit.path):
        raise Http404
    now = now or clock.now()
    paths = scope.paths_for(Permission.VIEW_REGISTRY)
    root = unit.path

    units = list(
        GridUnit.objects.within(paths)
        .filter(path__startswith=root)
        .order_by("path")
        .values_list("id", "path", "level", "name", "parent_id", "boundary")
    )
    buildings = list(
        Building.objects.within(paths)
        .filter(grid_path__startswith=root)
        .order_by("grid_path", "name", "id")
        .values_list("id", "name", "grid_path", "grid_unit_id", "latitude", "longitude")
    )
    known = {path for _id, path, *_rest in units}
    totals = {
        "unit": defaultdict(_counters, {path: _counters() for path in known}),
        "building": {row[0]: _counters() for row in buildings},
    }

    households = (
        Household.objects.within(paths)
        .filter(grid_path__startswith=root)
        .values("grid_path", "building_id")
        .annotate(n=Count("id"))
        .values_list("grid_path", "building_id", "n")
        .order_by()
    )
    for path, building_id, n in households:
        _add(totals, "households", path, building_id, n, known)

    residents = (
        Resident.objects.within(paths)
        .filter(grid_path__startswith=root)
        .values("grid_path", "household__building_id")
        .annotate(
            n=Count("id"),
            vulnerable=Count("id", filter=_VULNERABLE),
            vulnerable_households=Count("household_id", filter=_VULNERABLE, distinct=True),
        )
        .values_list(
            "grid_path", "household__building_id", "n", "vulnerable", "vulnerable_households"
        )
        .order_by()
    )
    for path, building_id, n, vulnerable, vulnerable_households in residents:
        _add(totals, "residents", path, building_id, n, known)
        _add(totals, "vulnerable", path, building_id, vulnerable, known)
        _add(totals, "vulnerable_households", path, building_id, vulnerable_households, known)

    # Counted through the households, each asked whether it has a visit in the window: the
    # visit_household_recent index answers that at once, where reading the community's
    # visits by path went through a year of them to keep one month (bench/README.md).
    visits = (
        Household.objects.within(paths)
        .filter(grid_path__startswith=root)
        .filter(
            Exists(
                Visit.objects.filter(
                    household=OuterRef("pk"),
                    visited_at__gte=now - timedelta(days=VISIT_WINDOW_DAYS),
                    visited_at__lte=now,
                )
            )
        )
        .values("grid_path", "building_id")
        .annotate(n=Count("id"))
        .values_list("grid_path", "building_id", "n")
        .order_by()
    )
    for path, building_id, n in visits:
        _add(totals, "visited_30d", path, building_id, n, known)

    cases = (
        Case.objects.within(paths)
        .filter(grid_path__startswith=root, state__in=OPEN_STATES)
        .values("grid_path", "building_id")
        .annotate(n=Count("id"))
        .values_list("grid_path", "building_id", "n")
        .order_by()
    )
    for path, building_id, n in cases:
        _add(totals, "open_cases", path, building_id, n, known)

    # The latest week the subtree was snapshotted (all units are snapshotted together).
    latest_week = (
        IndexSnapshot.objects.filter(grid_path__startswith=root)
        .order_by("-period_end")
        .values("period_end")[:1]
    )
    snapshots = {
        unit_id: (period_end, structural, capacity, cultural, overall)
        for unit_id, period_end, structural, capacity, cultural, overall in (
            IndexSnapshot.objects.within(paths)
            .filter(grid_path__startswith=root, period_end=Subquery(latest_week))
            .values_list(
                "grid_unit_id", "period_end", "structural", "capacity", "cultural", "overall"
            )
        )
    }
    period_end = next(iter(snapshots.values()))[0] if snapshots else None

    features = []
    for unit_id, path, level, name, parent_id, boundary in units:
        _week, structural, capacity, cultural, overall = snapshots.get(
            unit_id, (None, None, None, None, None)
        )
        features.append(
            {
                "type": "Feature",
                "id": f"{UNIT}-{unit_id}",
                "geometry": _geometry(boundary),
                "properties": {
                    "kind": UNIT,
                    "id": unit_id,
                    "name": name,
                    "level": level,
                    "path": path,
                    "parent_id": parent_id,
                    **_properties(
                        totals["unit"][path], scope.allows(Permission.VIEW_SENSITIVE, path)
                    ),
                    "index": _round(overall),
                    "structural": _round(structural),
                    "capacity": _round(capacity),
                    "cultural": _round(cultural),
                },
            }
        )
    for building_id, name, path, unit_id, latitude, longitude in buildings:
        has_point = latitude is not None and longitude is not None
        features.append(
            {
                "type": "Feature",
                "id": f"{BUILDING}-{building_id}",
                # GeoJSON puts longitude first.
                "geometry": (
                    {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
                    if has_point
                    else None
                ),
                "properties": {
                    "kind": BUILDING,
                    "id": building_id,
                    "name": name,
                    "unit_id": unit_id,
                    "path": path,
                    **_properties(
                        totals["building"][building_id],
                        scope.allows(Permission.VIEW_SENSITIVE, path),
                    ),
                    # A building has no index of its own: its building group's.
                    "index": _round(snapshots.get(unit_id, (None,) * 5)[4]),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "unit": {"id": unit.pk, "name": unit.name, "level": unit.level, "path": unit.path},
        "computed_at": now.isoformat(),
        "period_end": period_end.isoformat() if period_end else None,
        "features": features,
    }


def building_counts(*, user: User, building_id: int, now: datetime | None = None) -> dict:
    """One building's counts for the map's popup: households, residents, vulnerable
    residents by tag, visits in the last 30 days, open and overdue cases by category.
    404 unless the building lies in the viewer's VIEW_REGISTRY scope."""
    scope = scope_for(user)
    paths = scope.paths_for(Permission.VIEW_REGISTRY)
    try:
        building = Building.objects.within(paths).select_related("grid_unit").get(pk=building_id)
    except (Building.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    now = now or clock.now()
    sensitive = scope.allows(Permission.VIEW_SENSITIVE, building.grid_path)

    households = Household.objects.filter(building=building)
    household_count = households.count()
    visited = (
        Visit.objects.filter(
            household__building=building,
            visited_at__gte=now - timedelta(days=VISIT_WINDOW_DAYS),
            visited_at__lte=now,
        )
        .values("household_id")
        .distinct()
        .count()
    )
    last_visit = (
        Visit.objects.filter(household__building=building)
        .order_by("-visited_at")
        .values_list("visited_at", flat=True)
        .first()
    )
    residents = Resident.objects.filter(household__building=building)
    resident_count = residents.count()
    vulnerable = None
    vulnerable_households = None
    tags: dict[str, int] = {}
    if sensitive:
        vulnerable_rows = list(
            residents.filter(_VULNERABLE).values_list("household_id", "vulnerability_tags")
        )
        vulnerable = len(vulnerable_rows)
        vulnerable_households = len({household_id for household_id, _tags in vulnerable_rows})
        for _household_id, encoded in vulnerable_rows:
            for tag in encoded.split(","):
                if tag:
                    tags[tag] = tags.get(tag, 0) + 1
    labels = dict(VulnerabilityTag.choices)
    open_cases = Case.objects.filter(building=building, state__in=OPEN_STATES)
    by_category = list(
        open_cases.values("category_id")
        .annotate(n=Count("id"))
        .order_by("-n", "category_id")
        .values_list("category_id", "n")
    )
    # Category names in the page's language (CaseCategory.name is a property).
    categories = CaseCategory.objects.in_bulk([category_id for category_id, _n in by_category])
    return {
        "id": building.pk,
        "name": building.name,
        "unit_id": building.grid_unit_id,
        "unit": building.grid_unit.name,
        "households": household_count,
        "residents": resident_count,
        "visited_30d": visited,
        "not_visited_30d": household_count - visited,
        "visit_coverage": _share(visited, household_count, 4),
        "last_visit": last_visit.isoformat() if last_visit else None,
        "vulnerable": vulnerable,
        "vulnerable_households": vulnerable_households,
        "vulnerable_by_tag": (
            [
                {"tag": tag, "label": str(labels.get(tag, tag)), "count": count}
                for tag, count in sorted(tags.items())
            ]
            if sensitive
            else None
        ),
        "open_cases": sum(n for _category_id, n in by_category),
        "overdue_cases": open_cases.overdue(now).count(),
        "open_cases_by_category": [
            {"category": categories[category_id].name, "count": n} for category_id, n in by_category
        ],
    }
