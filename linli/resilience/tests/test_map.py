"""The 民情 map: GeoJSON of a unit's subtree with exact counts, the building popup's counts,
scope (404 outside, nothing outside included), and a query count that does not grow with
the number of buildings."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource, CaseState
from linli.cases.services import case_create
from linli.grids.models import GridUnit, VulnerabilityTag
from linli.grids.services import building_create, household_create, visit_record
from linli.resilience import map as resilience_map
from linli.resilience.models import IndexSnapshot

A_SHAPE = {
    "type": "Polygon",
    "coordinates": [
        [[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.01], [121.0, 31.0]]
    ],
}
A1_SHAPE = {
    "type": "Polygon",
    "coordinates": [
        [[121.0, 31.0], [121.005, 31.0], [121.005, 31.01], [121.0, 31.01], [121.0, 31.0]]
    ],
}
WEEK = date(2026, 11, 22)


def _file_case(world, *, building=None, grid_unit=None):
    return case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=CaseCategory.objects.get(code="SAF-01"),
        description="楼道堆物",
        source=CaseSource.STAFF,
        building=building,
        grid_unit=grid_unit,
    )


@pytest.fixture
def mapped(world):
    """Shapes on community A and micro-grid A1, a point on 1号楼; visits, cases, snapshots."""
    GridUnit.objects.filter(pk=world.community.pk).update(boundary=A_SHAPE)
    # A pasted GeoJSON Feature is unwrapped to its geometry.
    GridUnit.objects.filter(pk=world.micro_grid.pk).update(
        boundary={"type": "Feature", "properties": {}, "geometry": A1_SHAPE}
    )
    world.building.latitude = Decimal("31.005000")
    world.building.longitude = Decimal("121.002500")
    world.building.save()
    now = timezone.now()
    secretary = world.users[Role.SECRETARY]
    # 101 visited twice in the 30 days (one household), 201 only 40 days ago, 102 never.
    for days in (3, 10):
        visit_record(
            visitor=secretary,
            household=world.household,
            method="door",
            visited_at=now - timedelta(days=days),
        )
    visit_record(
        visitor=secretary,
        household=world.other_micro_grid_household,
        method="door",
        visited_at=now - timedelta(days=40),
    )
    # Two open cases at 1号楼, one closed there, one open at 2号楼组 with no building,
    # one open in community C.
    _file_case(world, building=world.building)
    _file_case(world, building=world.building)
    closed = _file_case(world, building=world.building)
    Case.objects.filter(pk=closed.pk).update(state=CaseState.CLOSED)
    _file_case(world, grid_unit=world.other_building_group)
    _file_case(world, grid_unit=GridUnit.objects.get(code="C1-1"))
    # The latest week wins over an older one.
    for week, overall in ((WEEK - timedelta(days=7), 0.1), (WEEK, 0.62)):
        IndexSnapshot.objects.create(
            grid_unit=world.community,
            grid_path=world.community.path,
            level="community",
            period_end=week,
            structural=0.5,
            capacity=0.7,
            cultural=0.66,
            overall=overall,
        )
    IndexSnapshot.objects.create(
        grid_unit=world.micro_grid,
        grid_path=world.micro_grid.path,
        level="micro_grid",
        period_end=WEEK,
        structural=0.25,
        capacity=None,
        cultural=0.75,
        overall=0.5,
    )
    return world


def _counts(households, residents, visited, coverage, open_cases, vulnerable, per_household):
    return {
        "households": households,
        "residents": residents,
        "visited_30d": visited,
        "visit_coverage": coverage,
        "open_cases": open_cases,
        "vulnerable": vulnerable,
        "vulnerable_households": vulnerable,
        "vulnerable_per_household": per_household,
    }


def _unit(world_unit, parent, counts, index=(None, None, None, None)):
    overall, structural, capacity, cultural = index
    return {
        "kind": "unit",
        "id": world_unit.pk,
        "name": world_unit.name,
        "level": world_unit.level,
        "path": world_unit.path,
        "parent_id": parent.pk,
        **counts,
        "index": overall,
        "structural": structural,
        "capacity": capacity,
        "cultural": cultural,
    }


def test_geojson_lists_the_subtree_with_exact_counts_shapes_and_latest_index(mapped):
    world = mapped
    collection = resilience_map.map_geojson(user=world.users[Role.SECRETARY], unit=world.community)

    assert collection["type"] == "FeatureCollection"
    assert collection["unit"] == {
        "id": world.community.pk,
        "name": "A社区",
        "level": "community",
        "path": "/S/B/A/",
    }
    assert collection["period_end"] == "2026-11-22"
    features = collection["features"]
    assert [feature["id"] for feature in features] == [
        f"unit-{world.community.pk}",
        f"unit-{world.micro_grid.pk}",
        f"unit-{world.building_group.pk}",
        f"unit-{world.other_micro_grid.pk}",
        f"unit-{world.other_building_group.pk}",
        f"building-{world.building.pk}",
        f"building-{world.other_micro_grid_household.building_id}",
    ]
    assert [feature["geometry"] for feature in features] == [
        A_SHAPE,
        A1_SHAPE,
        None,
        None,
        None,
        {"type": "Point", "coordinates": [121.0025, 31.005]},
        None,
    ]
    properties = [feature["properties"] for feature in features]
    assert properties[0] == _unit(
        world.community,
        world.block,
        _counts(3, 3, 1, 0.3333, 3, 2, 0.667),
        index=(0.62, 0.5, 0.7, 0.66),
    )
    assert properties[1] == _unit(
        world.micro_grid,
        world.community,
        _counts(2, 2, 1, 0.5, 2, 1, 0.5),
        index=(0.5, 0.25, None, 0.75),
    )
    assert properties[2] == _unit(
        world.building_group, world.micro_grid, _counts(2, 2, 1, 0.5, 2, 1, 0.5)
    )
    assert properties[3] == _unit(
        world.other_micro_grid, world.community, _counts(1, 1, 0, 0.0, 1, 1, 1.0)
    )
    assert properties[4] == _unit(
        world.other_building_group, world.other_micro_grid, _counts(1, 1, 0, 0.0, 1, 1, 1.0)
    )
    assert properties[5] == {
        "kind": "building",
        "id": world.building.pk,
        "name": "1号楼",
        "unit_id": world.building_group.pk,
        "path": world.building_group.path,
        **_counts(2, 2, 1, 0.5, 2, 1, 0.5),
        "index": None,
    }
    # The case filed at 2号楼组 without a building counts for the units, not the building.
    assert properties[6] == {
        "kind": "building",
        "id": world.other_micro_grid_household.building_id,
        "name": "2号楼",
        "unit_id": world.other_building_group.pk,
        "path": world.other_building_group.path,
        **_counts(1, 1, 0, 0.0, 0, 1, 1.0),
        "index": None,
    }


def test_building_in_a_micro_grid_snapshot_takes_its_group_index(mapped):
    world = mapped
    IndexSnapshot.objects.create(
        grid_unit=world.building_group,
        grid_path=world.building_group.path,
        level="building_group",
        period_end=WEEK,
        overall=0.8125,
    )
    collection = resilience_map.map_geojson(
        user=world.users[Role.MICRO_GRID_LEAD], unit=world.micro_grid
    )
    building = next(f for f in collection["features"] if f["id"] == f"building-{world.building.pk}")
    assert building["properties"]["index"] == 0.8125


def test_map_shows_only_the_viewers_scope(mapped):
    world = mapped
    lead = world.users[Role.MICRO_GRID_LEAD]
    collection = resilience_map.map_geojson(user=lead, unit=world.micro_grid)
    assert [feature["id"] for feature in collection["features"]] == [
        f"unit-{world.micro_grid.pk}",
        f"unit-{world.building_group.pk}",
        f"building-{world.building.pk}",
    ]
    # A street administrator's map of community A leaves community C's 9号楼 out.
    street = resilience_map.map_geojson(user=world.users[Role.STREET_ADMIN], unit=world.community)
    names = {feature["properties"]["name"] for feature in street["features"]}
    assert "9号楼" not in names
    assert {"1号楼", "2号楼"} <= names


@pytest.mark.parametrize(
    ("role", "unit_name"),
    [
        (Role.MICRO_GRID_LEAD, "community"),
        (Role.MICRO_GRID_LEAD, "other_micro_grid"),
        (Role.SECRETARY, "other_community"),
        (Role.BUILDING_GROUP_LEADER, "micro_grid"),
        (Role.VOLUNTEER, "community"),
        (Role.RESIDENT, "building_group"),
    ],
)
def test_a_unit_outside_scope_answers_404_everywhere(client, mapped, role, unit_name):
    world = mapped
    user = world.users[role]
    unit = getattr(world, unit_name)
    with pytest.raises(Http404):
        resilience_map.map_unit_get(user=user, unit_id=unit.pk)
    with pytest.raises(Http404):
        resilience_map.map_geojson(user=user, unit=unit)
    client.force_login(user)
    assert client.get(f"/resilience/map/?unit={unit.pk}").status_code == 404
    response = client.get(f"/api/v1/resilience/map/{unit.pk}.geojson")
    assert response.status_code == 404
    assert response.json()["field"] == "unit_id"


def test_building_counts_exact_for_the_popup(mapped):
    world = mapped
    counts = resilience_map.building_counts(
        user=world.users[Role.SECRETARY], building_id=world.building.pk
    )
    last_visit = counts.pop("last_visit")
    assert last_visit is not None
    assert counts == {
        "id": world.building.pk,
        "name": "1号楼",
        "unit_id": world.building_group.pk,
        "unit": "1号楼组",
        "households": 2,
        "residents": 2,
        "visited_30d": 1,
        "not_visited_30d": 1,
        "visit_coverage": 0.5,
        "vulnerable": 1,
        "vulnerable_households": 1,
        "vulnerable_by_tag": [
            {"tag": "elderly_alone", "label": str(VulnerabilityTag.ELDERLY_ALONE.label), "count": 1}
        ],
        "open_cases": 2,
        "overdue_cases": 0,
        "open_cases_by_category": [
            {"category": CaseCategory.objects.get(code="SAF-01").name, "count": 2}
        ],
    }
    # Names and phones never appear.
    text = json.dumps(counts, ensure_ascii=False)
    assert "张桂英" not in text
    assert "1381234" not in text


@pytest.mark.parametrize(
    ("role", "building"),
    [
        (Role.MICRO_GRID_LEAD, "other"),
        (Role.SECRETARY, "far"),
        # A resident sees their own household, never their building's counts.
        (Role.RESIDENT, "own"),
        (Role.VOLUNTEER, "own"),
    ],
)
def test_building_counts_outside_scope_answer_404(client, mapped, role, building):
    world = mapped
    building_id = {
        "own": world.building.pk,
        "other": world.other_micro_grid_household.building_id,
        "far": world.other_community_household.building_id,
    }[building]
    user = world.users[role]
    with pytest.raises(Http404):
        resilience_map.building_counts(user=user, building_id=building_id)
    client.force_login(user)
    assert client.get(f"/resilience/map/building/{building_id}.json").status_code == 404
    response = client.get(f"/api/v1/resilience/map/buildings/{building_id}")
    assert response.status_code == 404
    assert response.json()["field"] == "building_id"


def test_default_unit_is_the_viewers_top_unit(mapped):
    world = mapped
    assert resilience_map.map_default_unit(user=world.users[Role.STREET_ADMIN]) == world.street
    assert resilience_map.map_default_unit(user=world.users[Role.SECRETARY]) == world.community
    assert resilience_map.map_default_unit(user=world.users[Role.MICRO_GRID_LEAD]) == (
        world.micro_grid
    )
    assert resilience_map.map_default_unit(user=world.users[Role.RESIDENT]) is None


def _query_count(world) -> int:
    user = world.users[Role.SECRETARY]
    unit = GridUnit.objects.get(pk=world.community.pk)
    user = type(user).objects.get(pk=user.pk)  # a fresh user: its scope is not cached
    with CaptureQueriesContext(connection) as queries:
        resilience_map.map_geojson(user=user, unit=unit)
    return len(queries)


def test_query_count_does_not_grow_with_buildings(mapped):
    world = mapped
    before = _query_count(world)
    for number in range(20):
        building = building_create(grid_unit=world.other_building_group, name=f"{number + 10}号楼")
        household_create(building=building, room="101")
        _file_case(world, building=building)
    after = _query_count(world)
    assert before == after
    # Scope (roles, own household), then units, buildings, households, residents, visits,
    # cases and the latest snapshots.
    assert after <= 9


def test_api_serves_geojson_to_a_signed_in_secretary(client, mapped):
    world = mapped
    client.force_login(world.users[Role.SECRETARY])
    response = client.get(f"/api/v1/resilience/map/{world.community.pk}.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 7
    building = client.get(f"/api/v1/resilience/map/buildings/{world.building.pk}").json()
    assert building["open_cases"] == 2
    assert building["vulnerable_by_tag"][0]["tag"] == "elderly_alone"


def test_api_needs_a_login(client, mapped):
    response = client.get(f"/api/v1/resilience/map/{mapped.community.pk}.geojson")
    assert response.status_code == 401


def test_page_defaults_to_the_top_unit_with_a_plain_background(client, mapped, settings):
    settings.LINLI_MAP_TILE_URL = ""
    world = mapped
    client.force_login(world.users[Role.SECRETARY])
    response = client.get("/resilience/map/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="resilience-map"' in page
    assert "web/vendor/leaflet/leaflet.js" in page
    assert "resilience/map.js" in page
    config = response.context["config"]
    assert config["tiles"] == ""
    assert [layer["key"] for layer in config["layers"]] == [
        "open_cases",
        "visit_coverage",
        "vulnerable_density",
        "index",
    ]
    assert response.context["unit"] == world.community
    # The tables carry the numbers without JavaScript.
    units = response.context["units"]
    assert [row["name"] for row in units] == [
        "A社区",
        "第一微网格",
        "1号楼组",
        "第二微网格",
        "2号楼组",
    ]
    assert units[0]["text"] == {
        "visit_coverage": "33%",
        "vulnerable": "2",
        "vulnerable_per_household": "0.67",
        "index": "0.62",
    }
    assert [row["name"] for row in response.context["buildings"]] == ["1号楼", "2号楼"]
    assert 'data-testid="map-buildings"' in page
    assert "https://" not in json.dumps(config)


def test_page_uses_the_configured_tile_server(client, mapped, settings):
    settings.LINLI_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    world = mapped
    client.force_login(world.users[Role.SECRETARY])
    response = client.get(f"/resilience/map/?unit={world.micro_grid.pk}")
    assert response.status_code == 200
    assert response.context["config"]["tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert response.context["unit"] == world.micro_grid


def test_page_is_404_for_people_without_a_registry_post(client, mapped):
    client.force_login(mapped.users[Role.VOLUNTEER])
    assert client.get("/resilience/map/").status_code == 404


def test_page_needs_a_login(client, mapped):
    response = client.get("/resilience/map/")
    assert response.status_code == 302


def test_page_with_a_malformed_unit_is_404(client, mapped):
    client.force_login(mapped.users[Role.SECRETARY])
    assert client.get("/resilience/map/?unit=abc").status_code == 404
