"""The emergency half of the API permission matrix: `/api/v1/emergency` routes × every role.

Expected outcomes are written out by hand from the world (linli/conftest.py) and the
emergency fixtures: A社区's typhoon drill at grade IV checks on 1号楼 101 (张桂英, in the
building group A1-1) and 2号楼 201 (王芳, in the micro-grid A2), both held by 陈志愿 (the
world's volunteer user). Callers authenticate with bearer tokens, as apps do. Refused
writes change nothing.
"""

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.emergency.models import Activation, HelpRequest, Task, TaskReport
from linli.emergency.services import activation_start
from linli.testing.clients import token_headers

URL = "/api/v1/emergency"
ANONYMOUS = "anonymous"
ROLES = [
    ANONYMOUS,
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]

# Activations each role sees in the list: staff see the emergency touching their paths
# (a micro-grid lead or building-group leader the community-wide one above them).
ACTIVATIONS_SEEN = {
    Role.RESIDENT: 0,
    Role.VOLUNTEER: 0,
    Role.PARTNER_LIAISON: 0,
    Role.BUILDING_GROUP_LEADER: 1,
    Role.MICRO_GRID_LEAD: 1,
    Role.SECRETARY: 1,
    Role.STREET_ADMIN: 1,
}
# Rooms of the welfare checks each role sees: staff their subtree, the volunteer their own.
TASKS_SEEN = {
    Role.RESIDENT: set(),
    Role.VOLUNTEER: {"101", "201"},
    Role.PARTNER_LIAISON: set(),
    Role.BUILDING_GROUP_LEADER: {"101"},
    Role.MICRO_GRID_LEAD: {"101"},
    Role.SECRETARY: {"101", "201"},
    Role.STREET_ADMIN: {"101", "201"},
}
# Reporting the check of 101 (陈志愿's): the holder and those commanding 1号楼 may; a
# building-group leader sees it but does not command; a resident inside the emergency is
# refused; a partner liaison takes no part in it.
REPORT_101 = {
    ANONYMOUS: 401,
    Role.RESIDENT: 403,
    Role.VOLUNTEER: 200,
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 403,
    Role.MICRO_GRID_LEAD: 200,
    Role.SECRETARY: 200,
    Role.STREET_ADMIN: 200,
}
# Reassigning the check of 201 (micro-grid A2): only those commanding A2.
REASSIGN_201 = {
    ANONYMOUS: 401,
    Role.RESIDENT: 404,
    Role.VOLUNTEER: 403,  # they hold it, and see it, but do not command
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 404,
    Role.MICRO_GRID_LEAD: 404,
    Role.SECRETARY: 200,
    Role.STREET_ADMIN: 200,
}
# Activating C社区 with A社区's plan: only the street administrator may activate there; the
# secretary of A does not see C, and the micro-grid lead and below see no plan at all.
ACTIVATE_C = {
    ANONYMOUS: (401, None),
    Role.RESIDENT: (404, "plan_id"),
    Role.VOLUNTEER: (404, "plan_id"),
    Role.PARTNER_LIAISON: (404, "plan_id"),
    Role.BUILDING_GROUP_LEADER: (404, "plan_id"),
    Role.MICRO_GRID_LEAD: (404, "plan_id"),
    Role.SECRETARY: (404, "scope_id"),
    # Allowed to activate there, but A社区's own plan is refused for C社区.
    Role.STREET_ADMIN: (400, "plan"),
}
# Filing help for 1号楼 101: the resident of it, the volunteer checking on it, and staff
# with EMERGENCY_HELP over it.
HELP_101 = {
    ANONYMOUS: 401,
    Role.RESIDENT: 201,
    Role.VOLUNTEER: 201,
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 201,
    Role.MICRO_GRID_LEAD: 201,
    Role.SECRETARY: 201,
    Role.STREET_ADMIN: 201,
}


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def activation(emergency_world, plan) -> Activation:
    return activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=True,
    )


def snapshot(task: Task) -> tuple:
    task.refresh_from_db()
    return task.state, task.assignee_id, task.version, TaskReport.objects.count()


@pytest.mark.parametrize("role", ROLES)
def test_activation_and_task_lists_show_exactly_the_role_scope(
    client, emergency_world, activation, role
):
    headers = token_headers(emergency_world.users[role])
    activations = client.get(f"{URL}/activations", headers=headers)
    tasks = client.get(f"{URL}/tasks?limit=200", headers=headers)
    if role == ANONYMOUS:
        assert (activations.status_code, tasks.status_code) == (401, 401)
        return
    assert activations.json()["count"] == ACTIVATIONS_SEEN[role]
    rooms = {item["address"].split()[-1] for item in tasks.json()["items"]}
    assert rooms == TASKS_SEEN[role]
    detail = client.get(f"{URL}/activations/{activation.pk}", headers=headers)
    assert detail.status_code == (200 if ACTIVATIONS_SEEN[role] else 404)


@pytest.mark.parametrize("role", ROLES)
def test_reporting_a_task_is_allowed_only_to_its_holder_and_commanders(
    client, emergency_world, activation, role
):
    task = Task.objects.get(activation=activation, household__room="101")
    headers = token_headers(emergency_world.users[role])
    before = snapshot(task)
    response = client.post(
        f"{URL}/tasks/{task.pk}/report",
        {"outcome": "safe"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == REPORT_101[role]
    if response.status_code == 200:
        assert snapshot(task) == ("done", before[1], before[2] + 1, 1)
    else:
        assert snapshot(task) == before
        assert set(response.json()) == {"message", "field"}
    if response.status_code == 404:
        assert response.json() == {"message": "Not found.", "field": "task_id"}


@pytest.mark.parametrize("role", ROLES)
def test_reassigning_a_task_is_allowed_only_to_its_commanders(
    client, emergency_world, activation, role
):
    task = Task.objects.get(activation=activation, household__room="201")
    headers = token_headers(emergency_world.users[role])
    before = snapshot(task)
    response = client.post(
        f"{URL}/tasks/{task.pk}/reassign",
        {"expected_version": 1, "volunteer_id": emergency_world.second_volunteer.pk},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == REASSIGN_201[role]
    if response.status_code == 200:
        assert snapshot(task) == ("assigned", emergency_world.second_volunteer.pk, 2, 0)
    else:
        assert snapshot(task) == before


@pytest.mark.parametrize("role", ROLES)
def test_activation_is_allowed_only_within_the_activate_scope(client, emergency_world, plan, role):
    world = emergency_world
    headers = token_headers(world.users[role])
    response = client.post(
        f"{URL}/activations",
        {"plan_id": plan.pk, "scope_id": world.other_community.pk, "grade": 4},
        content_type="application/json",
        headers=headers,
    )
    status, field = ACTIVATE_C[role]
    assert response.status_code == status
    if status != 401:
        assert response.json()["field"] == field
    assert (Activation.objects.count(), Task.objects.count()) == (0, 0)


@pytest.mark.parametrize("role", ROLES)
def test_filing_help_is_allowed_to_the_household_its_volunteer_and_staff(
    client, emergency_world, activation, role
):
    world = emergency_world
    headers = token_headers(world.users[role])
    response = client.post(
        f"{URL}/help-requests",
        {"household_id": world.household.pk, "kind": "water", "urgency": 2, "description": "停水"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == HELP_101[role]
    assert HelpRequest.objects.count() == (1 if response.status_code == 201 else 0)
    if response.status_code == 404:
        assert response.json() == {"message": "Not found.", "field": "household_id"}
