"""Behaviour of the `/api/v1` registry routes: shapes, masking, filters, paging, writes."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from linli.conftest import ID_NUMBERS
from linli.grids.models import Visit
from linli.grids.services import household_create, resident_create, visit_record
from linli.testing.builders import id_number
from linli.testing.clients import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def client():
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def post_json(client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def add_residents(world, count: int) -> None:
    """`count` more residents in the micro-grid lead's building, through the services."""
    for index in range(count):
        household = household_create(building=world.building, room=f"{300 + index}")
        resident_create(
            household=household,
            name=f"居民{index:03d}",
            sex="male",
            birth_year=1950,
            phone=f"1380000{index:04d}",
            id_number=id_number(index),
            vulnerability_tags=["empty_nest"] if index % 2 else [],
        )


# Residents: shape and privacy ---------------------------------------------------------


def test_resident_detail_shows_masked_numbers_and_no_encrypted_fields(world):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(
        f"/api/v1/residents/{world.resident.pk}"
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": world.resident.pk,
        "name": "张桂英",
        "sex": "female",
        "birth_year": 1946,
        "household_id": world.household.pk,
        "building": "1号楼",
        "room": "101",
        "phone": "138****1234",
        "id_number": "110101********0038",
        "residency_type": "registered",
        "party_membership": "",
        "vulnerability_tags": ["elderly_alone"],
    }
    assert "13812341234" not in response.content.decode()
    assert ID_NUMBERS[0] not in response.content.decode()


def test_resident_list_hides_tags_from_a_role_without_view_sensitive(world, monkeypatch):
    monkeypatch.setitem(
        ROLE_PERMISSIONS,
        Role.BUILDING_GROUP_LEADER,
        frozenset({Permission.VIEW_REGISTRY, Permission.RECORD_VISIT}),
    )
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    body = client.get("/api/v1/residents").json()
    assert [(item["name"], item["vulnerability_tags"]) for item in body["items"]] == [
        ("张桂英", []),
        ("李建国", []),
    ]
    # Filtering on a tag must not disclose it either.
    assert client.get("/api/v1/residents?tag=elderly_alone").json() == {"items": [], "count": 0}


def test_resident_sees_the_tags_of_their_own_household(world):
    body = client_for(world.users[Role.RESIDENT]).get("/api/v1/residents").json()
    assert [(item["name"], item["vulnerability_tags"]) for item in body["items"]] == [
        ("张桂英", ["elderly_alone"])
    ]


# Residents: filters -------------------------------------------------------------------


def test_resident_list_filters_by_name_grid_unit_and_tag(world):
    client = client_for(world.users[Role.SECRETARY])

    def names(query: str) -> list[str]:
        return [item["name"] for item in client.get(f"/api/v1/residents?{query}").json()["items"]]

    assert names("q=建国") == ["李建国"]
    assert names("q=201") == ["王芳"]
    assert names(f"grid_unit_id={world.other_micro_grid.pk}") == ["王芳"]
    assert names("tag=pregnant") == ["王芳"]
    assert names(f"tag=pregnant&grid_unit_id={world.micro_grid.pk}") == []


def test_micro_grid_lead_can_filter_their_residents_by_tag(world):
    body = client_for(world.users[Role.MICRO_GRID_LEAD]).get("/api/v1/residents?tag=elderly_alone")
    assert [item["name"] for item in body.json()["items"]] == ["张桂英"]


def test_resident_list_refuses_a_grid_unit_outside_scope(world):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(
        f"/api/v1/residents?grid_unit_id={world.other_micro_grid.pk}"
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "grid_unit_id"}


def test_resident_list_rejects_an_unknown_tag(world):
    response = client_for(world.users[Role.SECRETARY]).get("/api/v1/residents?tag=rich")
    assert response.status_code == 422
    assert response.json()["field"] == "tag"


# Paging -------------------------------------------------------------------------------


def test_list_pages_with_limit_and_offset(world):
    add_residents(world, 60)
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    first = client.get("/api/v1/residents").json()
    assert first["count"] == 62
    assert len(first["items"]) == 50
    second = client.get("/api/v1/residents?limit=50&offset=50").json()
    assert len(second["items"]) == 12
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 62
    assert client.get("/api/v1/residents?offset=100").json() == {"items": [], "count": 62}


@pytest.mark.parametrize(
    ("query", "field"), [("limit=201", "limit"), ("limit=0", "limit"), ("offset=-1", "offset")]
)
def test_list_rejects_a_page_outside_bounds(world, query, field):
    response = client_for(world.users[Role.SECRETARY]).get(f"/api/v1/residents?{query}")
    assert response.status_code == 422
    assert set(response.json()) == {"message", "field"}
    assert response.json()["field"] == field


def test_list_accepts_the_maximum_page_of_200(world):
    response = client_for(world.users[Role.SECRETARY]).get("/api/v1/residents?limit=200")
    assert response.status_code == 200


@pytest.mark.parametrize("resource", ["grids", "buildings", "households", "residents", "visits"])
def test_list_query_count_does_not_grow_with_page_size(
    client, world, django_assert_num_queries, resource
):
    add_residents(world, 60)
    lead = world.users[Role.MICRO_GRID_LEAD]
    for household in world.building.households.all():
        visit_record(visitor=lead, household=household, method="door", finding="ok")
    client.force_login(lead)
    # Session, user, the user's posts, their own households, the count, the page.
    for limit in (5, 50):
        with django_assert_num_queries(6):
            response = client.get(f"/api/v1/{resource}?limit={limit}")
        assert response.status_code == 200
    expected_last_page = {
        "grids": 2,
        "buildings": 1,
        "households": 50,
        "residents": 50,
        "visits": 50,
    }
    assert len(response.json()["items"]) == expected_last_page[resource]


# Grid units ---------------------------------------------------------------------------


def test_grid_detail_carries_counts_within_scope(world):
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(f"/api/v1/grids/{world.community.pk}")
    assert response.json() == {
        "id": world.community.pk,
        "level": "community",
        "code": "A",
        "name": "A社区",
        "parent_id": world.block.pk,
        "path": "/S/B/A/",
        "counts": {
            "buildings": 2,
            "households": 3,
            "residents": 3,
            "vulnerable": 2,
            "visits_30d": 0,
        },
    }


def test_grid_list_filters_by_level_and_parent(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    body = client.get("/api/v1/grids?level=micro_grid").json()
    assert [item["code"] for item in body["items"]] == ["A1", "A2", "C1"]
    body = client.get(f"/api/v1/grids?parent_id={world.community.pk}").json()
    assert [item["code"] for item in body["items"]] == ["A1", "A2"]


# Visits -------------------------------------------------------------------------------


def test_building_group_leader_records_a_visit(world):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    response = post_json(
        client,
        "/api/v1/visits",
        {
            "household_id": world.household.pk,
            "method": "door",
            "finding": "Knee pain, needs a lift to the clinic",
            "mood": "low",
            "needs_follow_up": True,
            "visited_at": "2026-03-01T09:30:00",
        },
    )
    assert response.status_code == 201
    visit = Visit.objects.get()
    assert response.json() == {
        "id": visit.pk,
        "household_id": world.household.pk,
        "building": "1号楼",
        "room": "101",
        "visitor_id": leader.pk,
        "visitor": "building_group_leader",
        "visited_at": "2026-03-01T09:30:00+08:00",
        "method": "door",
        "finding": "Knee pain, needs a lift to the clinic",
        "mood": "low",
        "needs_follow_up": True,
    }
    # A time without an offset is read in Asia/Shanghai, and shown there when read back.
    assert visit.visited_at == datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI)
    assert visit.grid_path == world.household.grid_path
    listed = client.get("/api/v1/visits").json()["items"]
    assert [item["visited_at"] for item in listed] == ["2026-03-01T09:30:00+08:00"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"method": "pigeon"}, "method"),
        ({"method": "door", "mood": "ecstatic"}, "mood"),
        ({"method": "door", "needs_follow_up": True}, "finding"),
        ({"method": "door", "visited_at": "2099-01-01T00:00:00+08:00"}, "visited_at"),
    ],
)
def test_visit_with_bad_input_names_the_field_and_writes_nothing(world, payload, field):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = post_json(client, "/api/v1/visits", {"household_id": world.household.pk, **payload})
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert set(response.json()) == {"message", "field"}
    assert Visit.objects.count() == 0


def test_visit_without_household_is_a_schema_error_naming_the_field(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = post_json(client, "/api/v1/visits", {"method": "door"})
    assert response.status_code == 422
    assert response.json() == {"message": "Field required", "field": "household_id"}


def test_visit_to_a_household_outside_scope_is_not_found(world):
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    response = post_json(
        client,
        "/api/v1/visits",
        {"household_id": world.other_micro_grid_household.pk, "method": "door"},
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "household_id"}
    assert Visit.objects.count() == 0


def test_visit_list_filters_by_household_and_follow_up(client, world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    visit_record(visitor=lead, household=world.household, method="door", finding="Fine")
    visit_record(
        visitor=lead,
        household=world.neighbour_household,
        method="phone",
        finding="Leaking roof",
        needs_follow_up=True,
    )
    client.force_login(lead)
    body = client.get(f"/api/v1/visits?household_id={world.household.pk}").json()
    assert [item["finding"] for item in body["items"]] == ["Fine"]
    body = client.get("/api/v1/visits?needs_follow_up=true").json()
    assert [item["finding"] for item in body["items"]] == ["Leaking roof"]
    assert client.get("/api/v1/visits").json()["count"] == 2


def test_visit_list_is_newest_first(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    now = timezone.now()
    for days, finding in [(3, "old"), (1, "new"), (2, "middle")]:
        visit_record(
            visitor=lead,
            household=world.household,
            method="door",
            finding=finding,
            visited_at=now - timezone.timedelta(days=days),
        )
    body = client_for(world.users[Role.MICRO_GRID_LEAD]).get("/api/v1/visits").json()
    assert [item["finding"] for item in body["items"]] == ["new", "middle", "old"]


# Reveal -------------------------------------------------------------------------------


def test_reveal_of_id_number_returns_the_full_value_and_is_audited(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    response = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]),
        f"/api/v1/residents/{world.resident.pk}/reveal",
        {
            "field": "id_number",
            "purpose": "verify_identity",
            "reason": "Applying for the elderly allowance",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": ID_NUMBERS[0]}
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.object_type, entry.object_id, entry.field, entry.reason) == (
        lead,
        "resident",
        str(world.resident.pk),
        "id_number",
        "Applying for the elderly allowance",
    )
    assert entry.ip_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"field": "phone", "purpose": "visit_contact", "reason": "    "}, "reason"),
        ({"field": "name", "purpose": "visit_contact", "reason": "curious"}, "field"),
    ],
)
def test_reveal_with_bad_input_reveals_and_audits_nothing(world, payload, field):
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"/api/v1/residents/{world.resident.pk}/reveal",
        payload,
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert "value" not in response.json()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_denied_to_building_group_leader_is_403_with_the_error_shape(world):
    response = post_json(
        client_for(world.users[Role.BUILDING_GROUP_LEADER]),
        f"/api/v1/residents/{world.resident.pk}/reveal",
        {"field": "phone", "purpose": "other", "reason": "Curious about the number"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "message": "You may not reveal personal numbers in this grid.",
        "field": None,
    }


# OpenAPI ------------------------------------------------------------------------------


def test_openapi_lists_the_registry_routes(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Linli API"
    for path in [
        "/api/v1/grids",
        "/api/v1/grids/{grid_unit_id}",
        "/api/v1/buildings",
        "/api/v1/households",
        "/api/v1/residents",
        "/api/v1/residents/{resident_id}/reveal",
        "/api/v1/visits",
    ]:
        assert path in schema["paths"]
    assert set(schema["paths"]["/api/v1/visits"]) == {"get", "post"}
    resident_fields = set(schema["components"]["schemas"]["ResidentOut"]["properties"])
    assert not {"id_number_encrypted", "id_number_hash"} & resident_fields


def test_docs_page_is_served(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
