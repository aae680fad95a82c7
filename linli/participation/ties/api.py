"""`/api/v1/ties`: the co-participation network's stored measures and the people to visit.

Mounted by linli/api.py with `api.add_router("/ties", router)`. Reads stored snapshots only
(rebuilt nightly, or by `linli ties rebuild`); nothing here recomputes. Everything sits
behind VIEW_SENSITIVE (who has no ties is read off vulnerability tags): micro-grid leads,
building-group leaders for their group, and above; anyone else gets empty pages, and a
unit outside the caller's scope is 404.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from linli.api_shared import ERRORS, Id, PageIn, column_text, paginate, visible_or_404
from linli.participation.ties import selectors
from linli.participation.ties.models import TieSnapshot

router = Router(tags=["ties"])


class TieFilters(Schema):
    unit_id: Id | None = Field(None, description="Only this unit's subtree")
    level: column_text(TieSnapshot, "level") | None = Field(
        None, description="community, micro_grid or building_group"
    )


class SnapshotOut(Schema):
    unit_id: int
    unit: str
    path: str
    level: str
    computed_at: datetime
    window_days: int
    residents: int
    participants: int
    ties: int
    shared_events: int
    density: float
    largest_component_share: float | None
    isolated_vulnerable: int


class SnapshotPage(Schema):
    items: list[SnapshotOut]
    count: int


class IsolatedOut(Schema):
    resident_id: int
    name: str
    building: str
    room: str
    path: str
    tags: list[str]
    tag_labels: list[str]


class IsolatedPage(Schema):
    items: list[IsolatedOut]
    count: int


def _snapshot(snapshot) -> dict[str, Any]:
    return {
        "unit_id": snapshot.unit_id,
        "unit": snapshot.unit.name,
        "path": snapshot.grid_path,
        "level": snapshot.level,
        "computed_at": snapshot.computed_at,
        "window_days": snapshot.window_days,
        "residents": snapshot.residents,
        "participants": snapshot.participants,
        "ties": snapshot.ties,
        "shared_events": snapshot.shared_events,
        "density": snapshot.density,
        "largest_component_share": snapshot.largest_component_share,
        "isolated_vulnerable": snapshot.isolated_vulnerable,
    }


def _path(request: HttpRequest, unit_id: Id | None) -> str | None:
    if unit_id is None:
        return None
    unit = visible_or_404(selectors.tie_unit_get, "unit_id", user=request.auth, unit_id=unit_id)
    return unit.path


@router.get("", response={200: SnapshotPage, **ERRORS}, summary="Network measures per unit")
def snapshot_list(request: HttpRequest, filters: Query[TieFilters], page: Query[PageIn]):
    snapshots = selectors.snapshots_visible(user=request.auth).order_by("grid_path")
    path = _path(request, filters.unit_id)
    if path:
        snapshots = snapshots.within([path])
    if filters.level:
        snapshots = snapshots.filter(level=filters.level)
    items, count = paginate(snapshots, page)
    return {"items": [_snapshot(item) for item in items], "count": count}


@router.get(
    "/isolated", response={200: IsolatedPage, **ERRORS}, summary="Vulnerable residents, no ties"
)
def isolated_list(request: HttpRequest, filters: Query[TieFilters], page: Query[PageIn]):
    rows = selectors.isolated_visible(user=request.auth, path=_path(request, filters.unit_id))
    items, count = paginate(rows, page)
    return {
        "items": [
            {
                "resident_id": row.resident_id,
                "name": row.resident.name,
                "building": row.resident.household.building.name,
                "room": row.resident.household.room,
                "path": row.grid_path,
                "tags": row.resident.tags,
                "tag_labels": row.resident.tag_labels,
            }
            for row in items
        ],
        "count": count,
    }
