"""`/api/v1/resilience/map`: the 民情 map's GeoJSON and one building's counts.

Mounted by linli/api.py with `api.add_router("/resilience/map", router)`. Both read through
linli.resilience.map, which answers 404 outside the caller's VIEW_REGISTRY scope and
returns counts only (no names, rooms or phones).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from linli.api_shared import ERRORS, Id, visible_or_404
from linli.resilience import map as resilience_map

router = Router(tags=["resilience"])

GEOJSON_CONTENT_TYPE = "application/geo+json"


class TagCountOut(Schema):
    tag: str
    label: str
    count: int


class CategoryCountOut(Schema):
    category: str
    count: int


class BuildingCountsOut(Schema):
    id: int
    name: str
    unit_id: int
    unit: str
    households: int
    residents: int
    visited_30d: int
    not_visited_30d: int
    visit_coverage: float | None
    last_visit: str | None
    # Null where the caller may not see vulnerability tags.
    vulnerable: int | None
    vulnerable_households: int | None
    vulnerable_by_tag: list[TagCountOut] | None
    open_cases: int
    overdue_cases: int
    open_cases_by_category: list[CategoryCountOut]


@router.get(
    "/{unit_id}.geojson",
    response=ERRORS,
    summary="One unit's subtree as GeoJSON, with counts and index per unit and building",
    openapi_extra={
        "responses": {
            200: {
                "description": "A GeoJSON FeatureCollection",
                "content": {GEOJSON_CONTENT_TYPE: {"schema": {"type": "object"}}},
            }
        }
    },
)
def map_geojson(request: HttpRequest, unit_id: Id):
    unit = visible_or_404(
        resilience_map.map_unit_get, "unit_id", user=request.auth, unit_id=unit_id
    )
    collection = resilience_map.map_geojson(user=request.auth, unit=unit)
    return HttpResponse(
        json.dumps(collection, cls=DjangoJSONEncoder, ensure_ascii=False),
        content_type=GEOJSON_CONTENT_TYPE,
    )


@router.get(
    "/buildings/{building_id}",
    response={200: BuildingCountsOut, **ERRORS},
    summary="One building's counts for the map's popup",
)
def building_counts(request: HttpRequest, building_id: Id):
    return visible_or_404(
        resilience_map.building_counts, "building_id", user=request.auth, building_id=building_id
    )
