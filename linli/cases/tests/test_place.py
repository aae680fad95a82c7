"""Filing by a point on the map: the case goes to the unit that owns the point."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.roles import Role
from linli.cases.models import Case
from linli.cases.services import case_create, case_transition
from linli.grids.geo import point_in_geojson
from linli.grids.models import Building, GridUnit
from linli.grids.selectors import grid_unit_at_point


def square(lat: float, lng: float, size: float = 0.001) -> dict:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def draw(unit: GridUnit, boundary: dict) -> None:
    GridUnit.objects.filter(pk=unit.pk).update(boundary=boundary)


def test_point_in_polygon_respects_holes_and_multipolygons():
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    polygon = {"type": "Polygon", "coordinates": [outer, hole]}
    assert point_in_geojson(2, 2, polygon) is True
    assert point_in_geojson(5, 5, polygon) is False
    assert point_in_geojson(11, 2, polygon) is False
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[outer], [[[20, 20], [30, 20], [30, 30], [20, 20]]]],
    }
    assert point_in_geojson(latitude=21, longitude=25, geometry=multi) is True
    feature = {"type": "Feature", "geometry": polygon}
    assert point_in_geojson(2, 2, feature) is True
    assert point_in_geojson(2, 2, None) is False


def test_point_goes_to_the_deepest_unit_whose_boundary_holds_it(world):
    draw(world.community, square(31.0, 121.0, 0.01))
    draw(world.building_group, square(31.002, 121.002))
    inside_group = grid_unit_at_point(latitude=Decimal("31.0025"), longitude=Decimal("121.0025"))
    assert inside_group == world.building_group
    only_community = grid_unit_at_point(latitude=31.008, longitude=121.008)
    assert only_community == world.community


def test_point_without_boundaries_goes_to_the_nearest_buildings_group_within_300_m(world):
    Building.objects.filter(pk=world.building.pk).update(latitude=31.0, longitude=121.0)
    Building.objects.filter(name="2号楼").update(latitude=31.002, longitude=121.0)
    # About 55 m north of 1号楼 and 170 m south of 2号楼.
    assert grid_unit_at_point(latitude=31.0005, longitude=121.0) == world.building_group
    assert grid_unit_at_point(latitude=31.0018, longitude=121.0) == world.other_building_group
    # About 440 m from the nearest building: nobody's patch.
    assert grid_unit_at_point(latitude=30.996, longitude=121.0) is None


def test_point_search_can_be_kept_inside_one_community(world):
    draw(world.other_community, square(31.0, 121.0))
    assert grid_unit_at_point(latitude=31.0005, longitude=121.0005) == world.other_community
    assert grid_unit_at_point(latitude=31.0005, longitude=121.0005, within=world.community) is None


def test_staff_files_a_case_at_a_map_point_without_a_building(world, category):
    draw(world.building_group, square(31.0, 121.0))
    case = case_create(
        reporter=world.users[Role.MICRO_GRID_LEAD],
        category=category,
        description="绿地被占用种菜",
        source="patrol",
        latitude=Decimal("31.0004"),
        longitude=Decimal("121.0006"),
    )
    assert (case.grid_unit, case.owner_unit, case.building) == (
        world.building_group,
        world.building_group,
        None,
    )
    assert (case.latitude, case.longitude, case.escalation_level) == (
        Decimal("31.0004"),
        Decimal("121.0006"),
        "building_group",
    )


def test_a_point_in_nobodys_patch_is_refused_and_writes_nothing(world, category):
    with pytest.raises(ValidationError) as error:
        case_create(
            reporter=world.users[Role.MICRO_GRID_LEAD],
            category=category,
            description="绿地被占用种菜",
            source="patrol",
            latitude=Decimal("10"),
            longitude=Decimal("10"),
        )
    assert list(error.value.message_dict) == ["latitude"]
    assert Case.objects.count() == 0


def test_a_case_without_building_or_point_names_the_building_field(world, category):
    with pytest.raises(ValidationError) as error:
        case_create(
            reporter=world.users[Role.MICRO_GRID_LEAD],
            category=category,
            description="x",
            source="staff",
        )
    assert list(error.value.message_dict) == ["building"]
    assert Case.objects.count() == 0


def test_resident_may_not_file_by_point_outside_their_community(world, category):
    draw(world.other_community, square(31.0, 121.0))
    with pytest.raises(ValidationError) as error:
        case_create(
            reporter=world.users[Role.RESIDENT],
            category=category,
            description="x",
            source="resident_report",
            latitude=31.0005,
            longitude=121.0005,
        )
    assert error.value.code == "permission_denied"
    assert Case.objects.count() == 0


def test_reassign_hands_a_dispatched_case_to_another_post_holder(world, category):
    lead = world.users[Role.MICRO_GRID_LEAD]
    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )
    case = case_transition(case=case, actor=lead, action="accept")
    case = case_transition(case=case, actor=lead, action="dispatch", owner_user=lead)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    case = case_transition(case=case, actor=lead, action="reassign", owner_user=leader)
    assert (case.state, case.owner_user, case.version) == ("dispatched", leader, 4)
    assert case.events.last().data == {"owner_user": leader.pk, "handler_text": case.handler_text}


def test_reassign_needs_a_person_or_team(world, category):
    lead = world.users[Role.MICRO_GRID_LEAD]
    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )
    case = case_transition(case=case, actor=lead, action="accept")
    case = case_transition(case=case, actor=lead, action="dispatch", handler_text="物业")
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=lead, action="reassign")
    assert list(error.value.message_dict) == ["owner_user"]
    case.refresh_from_db()
    assert (case.version, case.events.count()) == (3, 3)


def test_reassign_to_someone_without_a_post_over_the_case_is_refused(world, category):
    lead = world.users[Role.MICRO_GRID_LEAD]
    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )
    case = case_transition(case=case, actor=lead, action="accept")
    case = case_transition(case=case, actor=lead, action="dispatch", handler_text="物业")
    with pytest.raises(ValidationError) as error:
        case_transition(
            case=case, actor=lead, action="reassign", owner_user=world.users[Role.VOLUNTEER]
        )
    assert list(error.value.message_dict) == ["owner_user"]


def test_a_trusted_channel_files_without_a_login_inside_its_community_only(world, category):
    draw(world.building_group, square(31.0, 121.0))
    draw(world.other_community, square(32.0, 121.0))
    case = case_create(
        reporter=None,
        category=category,
        description="路灯不亮",
        source="open311",
        latitude=31.0005,
        longitude=121.0005,
        channel_community=world.community,
    )
    assert (case.grid_unit, case.reporter, case.source) == (world.building_group, None, "open311")
    # A point in another community is outside the key's patch: not found there, refused.
    with pytest.raises(ValidationError) as error:
        case_create(
            reporter=None,
            category=category,
            description="路灯不亮",
            source="open311",
            latitude=32.0005,
            longitude=121.0005,
            channel_community=world.community,
        )
    assert list(error.value.message_dict) == ["latitude"]
    with pytest.raises(ValidationError) as error:
        case_create(
            reporter=None,
            category=category,
            description="路灯不亮",
            source="open311",
            building=Building.objects.get(name="9号楼"),
            channel_community=world.community,
        )
    assert error.value.code == "permission_denied"
    assert Case.objects.count() == 1


def test_api_files_a_case_at_a_map_point(client, world, category):
    draw(world.building_group, square(31.0, 121.0))
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    response = client.post(
        "/api/v1/cases",
        {
            "category": "SAF-01",
            "description": "绿地被占",
            "latitude": "31.0004",
            "longitude": "121.0006",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert (response.json()["building"], response.json()["grid_unit"]) == ("", "1号楼组")
    case = Case.objects.get()
    assert (case.grid_unit, case.latitude) == (world.building_group, Decimal("31.0004"))


def test_api_refuses_a_point_in_nobodys_patch_naming_latitude(client, world, category):
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    response = client.post(
        "/api/v1/cases",
        {"category": "SAF-01", "description": "绿地被占", "latitude": "10", "longitude": "10"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["field"]) == (400, "latitude")
    assert Case.objects.count() == 0


def test_the_filing_answer_is_what_the_detail_route_reads_back(client, world, category):
    # The filing route builds its answer without reading the case back; it must not differ.
    client.force_login(world.users[Role.RESIDENT])
    filed = client.post(
        "/api/v1/cases",
        {"category": "SAF-01", "description": "楼道堆物", "building_id": world.building.pk},
        content_type="application/json",
    ).json()
    assert client.get(f"/api/v1/cases/{filed['id']}").json() == filed
