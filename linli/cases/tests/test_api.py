"""Behaviour of `/api/v1/cases`: filing, the workbench, scope, the state machine over HTTP."""

from datetime import timedelta

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent
from linli.cases.services import case_create
from linli.testing.clients import client_for

URL = "/api/v1/cases"


@pytest.fixture
def client():
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def post_json(client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def file(world, category, reporter_role=Role.RESIDENT, **kwargs) -> Case:
    return case_create(
        reporter=world.users[reporter_role],
        category=category,
        description="楼道堆物",
        source="resident_report",
        **{"building": world.building, **kwargs},
    )


def act(client, case_id: int, action: str, version: int, **extra):
    return post_json(
        client,
        f"{URL}/{case_id}/actions",
        {"action": action, "expected_version": version, **extra},
    )


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return case.state, case.version, CaseEvent.objects.filter(case=case).count()


# Filing -------------------------------------------------------------------------------


def test_resident_files_a_case_routed_to_the_building_group_with_a_due_time(world, category):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"category": "SAF-01", "description": "楼道里堆满纸箱", "building_id": world.building.pk},
    )
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["id"] == case.pk
    assert body["reference"] == case.reference
    assert body["category"] == {"code": "SAF-01", "name": category.name_en}
    assert body["state"] == "reported"
    assert body["source"] == "resident_report"
    assert body["priority"] == "normal"
    assert body["building"] == "1号楼"
    assert body["grid_unit"] == world.building_group.name
    assert body["escalation_level"] == "building_group"
    assert body["is_overdue"] is False
    assert body["version"] == 1
    assert body["satisfaction"] is None
    assert case.owner_unit == world.building_group
    assert case.due_at - case.created_at == timedelta(hours=category.sla_hours)
    assert [(e["action"], e["to_state"]) for e in body["events"]] == [("create", "reported")]
    # No reporter name, phone or room in the answer.
    text = response.content.decode()
    assert "张桂英" not in text and "13812341234" not in text and "101" not in body["building"]


def test_staff_filing_defaults_to_the_staff_source(world, category):
    response = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]),
        URL,
        {"category": str(category.pk), "description": "电梯异响", "building_id": world.building.pk},
    )
    assert response.status_code == 201
    assert response.json()["source"] == "staff"


def test_filing_a_major_class_is_400_naming_the_field_and_writes_nothing(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"category": "SAF", "description": "x", "building_id": world.building.pk},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "category"
    assert Case.objects.count() == 0


def test_filing_an_unknown_building_is_400_naming_the_field(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"category": "SAF-01", "description": "x", "building_id": 999999},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "building_id"
    assert Case.objects.count() == 0


def test_filing_without_a_description_field_is_422(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"category": "SAF-01", "building_id": world.building.pk},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "description"


def test_resident_filing_in_another_community_is_403(world, category):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {
            "category": "SAF-01",
            "description": "x",
            "building_id": world.other_community_household.building_id,
        },
    )
    assert response.status_code == 403
    assert Case.objects.count() == 0


# Lists and scope ----------------------------------------------------------------------


@pytest.fixture
def cases(world, category):
    here = file(world, category)
    other_grid = file(
        world, category, Role.SECRETARY, building=world.other_micro_grid_household.building
    )
    far = file(
        world, category, Role.STREET_ADMIN, building=world.other_community_household.building
    )
    return here, other_grid, far


@pytest.mark.parametrize(
    ("role", "count"),
    [
        (Role.STREET_ADMIN, 3),
        (Role.SECRETARY, 2),
        (Role.MICRO_GRID_LEAD, 1),
        (Role.BUILDING_GROUP_LEADER, 1),
        (Role.RESIDENT, 1),
        (Role.VOLUNTEER, 0),
        (Role.PARTNER_LIAISON, 0),
    ],
)
def test_list_count_per_role(world, cases, role, count):
    response = client_for(world.users[role]).get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == count
    assert len(response.json()["items"]) == count


def test_anonymous_list_is_401(client, world, cases):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required.", "field": None}


def test_staff_list_puts_overdue_first(world, category, cases):
    here, other_grid, _far = cases
    charging = file(world, CaseCategory.objects.get(code="SAF-02"))
    Case.objects.filter(pk=other_grid.pk).update(due_at=here.due_at - timedelta(days=10))
    response = client_for(world.users[Role.SECRETARY]).get(URL)
    items = response.json()["items"]
    assert [item["id"] for item in items] == [other_grid.pk, charging.pk, here.pk]
    assert [item["is_overdue"] for item in items] == [True, False, False]


def test_staff_list_filters_and_pages(world, category, cases):
    file(world, CaseCategory.objects.get(code="SAF-02"))
    secretary = client_for(world.users[Role.SECRETARY])
    response = secretary.get(URL, {"category": "SAF-02"})
    assert response.json()["count"] == 1
    response = secretary.get(URL, {"building_id": world.building.pk, "limit": 1})
    assert (response.json()["count"], len(response.json()["items"])) == (2, 1)
    assert secretary.get(URL, {"limit": 201}).status_code == 422


def test_detail_outside_scope_is_404(world, cases):
    here, other_grid, _far = cases
    lead = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = lead.get(f"{URL}/{other_grid.pk}")
    assert response.status_code == 404
    assert response.json()["field"] == "case_id"
    assert lead.get(f"{URL}/{here.pk}").status_code == 200


def test_resident_cannot_see_a_neighbours_case(world, category):
    staff_case = file(world, category, Role.MICRO_GRID_LEAD)
    response = client_for(world.users[Role.RESIDENT]).get(f"{URL}/{staff_case.pk}")
    assert response.status_code == 404


def test_categories_are_a_tree_of_active_classes(world):
    response = client_for(world.users[Role.RESIDENT]).get(f"{URL}/categories")
    assert response.status_code == 200
    tree = response.json()
    assert len(tree) == 6
    assert sum(len(major["children"]) for major in tree) == 12
    safety = next(major for major in tree if major["code"] == "SAF")
    assert safety["sla_hours"] is None
    assert "SAF-01" in {minor["code"] for minor in safety["children"]}


def test_duplicates_before_filing_show_references_not_reporters(world, category, cases):
    here, _other_grid, _far = cases
    response = client_for(world.users[Role.RESIDENT]).get(
        f"{URL}/duplicates", {"category": "SAF-01", "building_id": world.building.pk}
    )
    assert response.status_code == 200
    assert [row["reference"] for row in response.json()] == [here.reference]
    assert set(response.json()[0]) == {"reference", "state", "building", "distance_metres"}


# The state machine over HTTP ----------------------------------------------------------


def test_full_loop_through_the_api_and_the_resident_rates(world, category):
    case = file(world, category)
    lead = Client(headers={"Accept-Language": "en"})
    lead.force_login(world.users[Role.MICRO_GRID_LEAD])
    version = 1
    for action in ("accept", "dispatch", "start", "resolve", "verify", "close"):
        response = act(lead, case.pk, action, version, note="已清理" if action == "resolve" else "")
        assert response.status_code == 200, (action, response.json())
        version += 1
        assert response.json()["version"] == version
    assert response.json()["state"] == "closed"
    response = act(client_for(world.users[Role.RESIDENT]), case.pk, "rate", version, satisfaction=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["satisfaction"]) == ("closed", 5)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in body["events"]] == [
        ("create", "", "reported"),
        ("accept", "reported", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("verify", "resolved", "verified"),
        ("close", "verified", "closed"),
        ("rate", "closed", "closed"),
    ]
    assert body["events"][1]["actor"] == str(world.users[Role.MICRO_GRID_LEAD])
    assert body["events"][4]["note"] == "已清理"


def test_illegal_action_is_409_and_writes_nothing(world, category):
    case = file(world, category)
    response = act(client_for(world.users[Role.SECRETARY]), case.pk, "close", 1)
    assert response.status_code == 409
    assert response.json() == {
        "message": "“Close” is not possible while the case is “Reported”.",
        "field": None,
    }
    assert snapshot(case) == ("reported", 1, 1)


def test_stale_version_is_409_and_writes_nothing(world, category):
    case = file(world, category)
    secretary = client_for(world.users[Role.SECRETARY])
    assert act(secretary, case.pk, "accept", 1).status_code == 200
    response = act(secretary, case.pk, "dispatch", 1)
    assert response.status_code == 409
    assert response.json()["message"] == "Someone else changed this case; reload it and try again."
    assert snapshot(case) == ("accepted", 2, 2)


def test_denied_role_is_403_and_writes_nothing(world, category):
    case = file(world, category)
    response = act(client_for(world.users[Role.RESIDENT]), case.pk, "accept", 1)
    assert response.status_code == 403
    assert response.json() == {
        "message": "You may not do “Accept (立案)” on this case.",
        "field": None,
    }
    assert snapshot(case) == ("reported", 1, 1)


def test_missing_note_is_400_naming_the_field(world, category):
    case = file(world, category)
    response = act(client_for(world.users[Role.SECRETARY]), case.pk, "reject", 1)
    assert response.status_code == 400
    assert response.json()["field"] == "note"
    assert snapshot(case) == ("reported", 1, 1)


def test_unknown_action_is_400_naming_the_field(world, category):
    case = file(world, category)
    response = act(client_for(world.users[Role.SECRETARY]), case.pk, "explode", 1)
    assert response.status_code == 400
    assert response.json()["field"] == "action"
    assert snapshot(case) == ("reported", 1, 1)


def test_action_on_a_case_outside_scope_is_404(world, category, cases):
    _here, other_grid, _far = cases
    response = act(client_for(world.users[Role.MICRO_GRID_LEAD]), other_grid.pk, "accept", 1)
    assert response.status_code == 404
    assert snapshot(other_grid) == ("reported", 1, 1)


def test_escalate_moves_the_case_up_one_level(world, category):
    case = file(world, category)
    response = post_json(
        client_for(world.users[Role.BUILDING_GROUP_LEADER]),
        f"{URL}/{case.pk}/escalate",
        {"reason": "物业不处理", "expected_version": 1},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["escalation_level"], body["grid_unit"], body["version"]) == (
        "micro_grid",
        world.micro_grid.name,
        2,
    )
    assert body["events"][-1]["action"] == "escalate"


def test_escalate_with_a_stale_version_is_409(world, category):
    case = file(world, category)
    response = post_json(
        client_for(world.users[Role.BUILDING_GROUP_LEADER]),
        f"{URL}/{case.pk}/escalate",
        {"reason": "物业不处理", "expected_version": 7},
    )
    assert response.status_code == 409
    assert snapshot(case) == ("reported", 1, 1)
