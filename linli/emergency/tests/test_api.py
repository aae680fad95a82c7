"""Behaviour of `/api/v1/emergency`: activations, tasks and help requests over HTTP.

The world (linli/conftest.py, linli/emergency/tests/conftest.py): A社区 with two targeted
households (张桂英 in 1号楼 101, 王芳 in 2号楼 201), 陈志愿 (care team, lives in 1号楼) and
刘志愿 (patrol team, lives in 2号楼). At grade IV the typhoon plan checks on both households,
and both checks go to 陈志愿, the only member of the care team. Refused calls change nothing.
"""

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    HelpRequest,
    Task,
    TaskReport,
    TaskTemplate,
    Unavailability,
)
from linli.emergency.services import activation_start, help_request_create
from linli.notify.models import Notification
from linli.partners.services import partner_create
from linli.testing.clients import client_for

URL = "/api/v1/emergency"
STATES = ["unassigned", "assigned", "acknowledged", "retry", "escalated", "done", "cancelled"]


def iso(moment) -> str | None:
    """A datetime as the API writes it."""
    return None if moment is None else DjangoJSONEncoder().default(moment)


def post_json(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def by_state(**counts: int) -> dict[str, int]:
    return {state: counts.get(state, 0) for state in STATES}


def task_state(task: Task) -> tuple:
    task.refresh_from_db()
    return task.state, task.assignee_id, task.version, task.reports.count()


@pytest.fixture
def activation(emergency_world, plan) -> Activation:
    return activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=True,
        note="防台演练",
    )


@pytest.fixture
def check_101(activation) -> Task:
    """The welfare check of 张桂英's household (1号楼 101), held by 陈志愿."""
    return Task.objects.get(activation=activation, household__room="101")


def activation_body(activation: Activation, **changes) -> dict:
    activation.refresh_from_db()
    return {
        "id": activation.pk,
        "plan_id": activation.plan_id,
        "plan": "A社区防台防汛预案",
        "hazard": "typhoon",
        "grade": 4,
        "grade_name": "IV",
        "scope_id": activation.scope_id,
        "scope": "A社区",
        "is_drill": True,
        "state": "active",
        "note": "防台演练",
        "activated_at": iso(activation.activated_at),
        "stood_down_at": None,
        "stand_down_reason": "",
        "movement_rule": "community",
        "volunteer_capacity": 8,
        "acknowledge_minutes": 15,
        "retry_minutes": 30,
        "max_attempts": 2,
        "lessons": "",
        "tasks": 2,
        "tasks_by_state": by_state(assigned=2),
        "help_requests_open": 0,
        "volunteers_unavailable": 0,
        **changes,
    }


def task_body(task: Task, **changes) -> dict:
    task.refresh_from_db()
    household = task.household
    return {
        "id": task.pk,
        "activation_id": task.activation_id,
        "kind": task.kind,
        "title": task.title,
        "state": task.state,
        "priority": task.priority,
        "due_at": iso(task.due_at),
        "overdue": False,
        "household_id": task.household_id,
        "building_id": task.building_id,
        "address": str(household) if household else task.building.name,
        "assignee_id": task.assignee_id,
        "assignee": task.assignee.name if task.assignee_id else None,
        "unassigned_reason": task.unassigned_reason,
        "attempts": task.attempts,
        "outcome": task.outcome,
        "assigned_at": iso(task.assigned_at),
        "acknowledged_at": iso(task.acknowledged_at),
        "retry_at": iso(task.retry_at),
        "contacted_at": iso(task.contacted_at),
        "completed_at": iso(task.completed_at),
        "version": task.version,
        **changes,
    }


# Activations ----------------------------------------------------------------------------

# The fixture's plan has no contact tree; the plan check says so in every preview.
NO_CONTACT_TREE = (
    "The plan has no contact tree: on activation only the party secretary and the street "
    "administrator are told."
)


def test_preview_answers_the_figures_and_writes_nothing(emergency_world, plan):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/preview",
        {"plan_id": plan.pk, "scope_id": world.community.pk, "grade": 2},
    )
    assert response.status_code == 200
    assert response.json() == {
        "tasks": 4,
        "tasks_by_kind": {"welfare_check": 2, "patrol": 2},
        "targeted_households": 2,
        "volunteers_available": 2,
        "assigned": 4,
        "unassigned_by_reason": {},
        "problems": [NO_CONTACT_TREE],
    }
    assert (Activation.objects.count(), Task.objects.count()) == (0, 0)


def test_preview_reports_an_impossible_constraint_before_activation(emergency_world, plan):
    world = emergency_world
    TaskTemplate.objects.create(
        plan=plan, kind="patrol", title="车辆转运准备", required_skills=",driving,", sort_order=3
    )
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/preview",
        {"plan_id": plan.pk, "scope_id": world.community.pk, "grade": 4},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["tasks"], body["assigned"], body["unassigned_by_reason"]) == (
        4,
        2,
        {"no_worker_with_skills": 2},
    )
    assert body["problems"] == [
        NO_CONTACT_TREE,
        "“车辆转运准备” needs Driving, which no available volunteer has.",
        "2 of 4 tasks cannot be assigned (see the reasons below).",
    ]


def test_secretary_activates_a_drill_and_gets_201_with_the_counts(emergency_world, plan):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations",
        {
            "plan_id": plan.pk,
            "scope_id": world.community.pk,
            "grade": 4,
            "is_drill": True,
            "note": "防台演练",
        },
    )
    assert response.status_code == 201
    activation = Activation.objects.get()
    assert response.json() == activation_body(activation)
    assert list(activation.events.values_list("kind", flat=True)) == ["activated"]


def test_activation_with_an_unacknowledged_problem_answers_400_and_writes_nothing(
    emergency_world, plan
):
    world = emergency_world
    TaskTemplate.objects.create(
        plan=plan, kind="patrol", title="车辆转运准备", required_skills=",driving,", sort_order=3
    )
    payload = {"plan_id": plan.pk, "scope_id": world.community.pk, "grade": 4}
    response = post_json(client_for(world.users[Role.SECRETARY]), f"{URL}/activations", payload)
    assert response.status_code == 400
    assert response.json() == {
        "message": "The plan cannot be carried out in full: “车辆转运准备” needs Driving, which "
        "no available volunteer has. 2 of 4 tasks cannot be assigned (see the reasons below). "
        "Confirm to activate anyway.",
        "field": "acknowledge_problems",
    }
    assert (Activation.objects.count(), Task.objects.count()) == (0, 0)

    acknowledged = {**payload, "acknowledge_problems": True}
    response = post_json(
        client_for(world.users[Role.SECRETARY]), f"{URL}/activations", acknowledged
    )
    assert response.status_code == 201
    assert response.json()["tasks_by_state"] == by_state(assigned=2, unassigned=2)


def test_activating_the_same_scope_twice_answers_409_naming_the_scope(activation, plan):
    before = (Activation.objects.count(), Task.objects.count(), ActivationEvent.objects.count())
    response = post_json(
        client_for(activation.activated_by),
        f"{URL}/activations",
        {"plan_id": plan.pk, "scope_id": activation.scope_id, "grade": 3},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["field"] == "scope"
    assert body["message"].startswith("A社区 is already in emergency operation (A社区防台防汛预案")
    assert body["message"].endswith("change its grade or stand it down instead.")
    assert (
        Activation.objects.count(),
        Task.objects.count(),
        ActivationEvent.objects.count(),
    ) == before


def test_unknown_or_out_of_scope_plan_answers_404_naming_the_field(emergency_world, plan):
    world = emergency_world
    payload = {"plan_id": plan.pk, "scope_id": world.community.pk, "grade": 4}
    # Micro-grid leads command a live emergency but do not see or activate plans.
    response = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]), f"{URL}/activations", payload
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "plan_id"},
    )
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations",
        {**payload, "scope_id": world.other_community.pk},
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "scope_id"},
    )
    assert Activation.objects.count() == 0


def test_activation_list_and_detail(activation):
    client = client_for(activation.activated_by)
    response = client.get(f"{URL}/activations")
    assert response.status_code == 200
    summary = {
        key: value
        for key, value in activation_body(activation).items()
        if key not in ActivationDetailKeys
    }
    assert response.json() == {"items": [summary], "count": 1}
    assert client.get(f"{URL}/activations?state=stood_down").json() == {"items": [], "count": 0}
    response = client.get(f"{URL}/activations/{activation.pk}")
    assert (response.status_code, response.json()) == (200, activation_body(activation))


ActivationDetailKeys = {
    "movement_rule",
    "volunteer_capacity",
    "acknowledge_minutes",
    "retry_minutes",
    "max_attempts",
    "lessons",
    "tasks",
    "tasks_by_state",
    "help_requests_open",
    "volunteers_unavailable",
}


def test_activation_outside_the_scope_answers_404_naming_activation_id(emergency_world, activation):
    response = client_for(emergency_world.users[Role.RESIDENT]).get(
        f"{URL}/activations/{activation.pk}"
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "activation_id"},
    )


def test_raising_the_grade_adds_the_patrols(activation):
    response = post_json(
        client_for(activation.activated_by),
        f"{URL}/activations/{activation.pk}/grade",
        {"grade": 2},
    )
    assert response.status_code == 200
    assert response.json() == activation_body(
        activation, grade=2, grade_name="II", tasks=4, tasks_by_state=by_state(assigned=4)
    )
    patrols = Task.objects.filter(activation=activation, kind="patrol")
    assert sorted(patrols.values_list("building__name", "assignee__name")) == [
        ("1号楼", "刘志愿"),
        ("2号楼", "刘志愿"),
    ]


def test_setting_the_same_grade_answers_400_naming_grade(activation):
    response = post_json(
        client_for(activation.activated_by),
        f"{URL}/activations/{activation.pk}/grade",
        {"grade": 4},
    )
    assert (response.status_code, response.json()) == (
        400,
        {"message": "The emergency is already at this grade.", "field": "grade"},
    )


def test_staff_add_a_task_for_a_building(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/{activation.pk}/tasks",
        {
            "kind": "patrol",
            "title": "地下车库积水检查",
            "building_id": world.buildings["2号楼"].pk,
            "due_hours": 1,
            "required_team": "patrol",
        },
    )
    assert response.status_code == 201
    task = Task.objects.get(title="地下车库积水检查")
    assert response.json() == {
        **task_body(task),
        "instructions": "",
        "required_team": "patrol",
        "required_skills": [],
        "explanation": task.explanation,
        "explanation_text": "Assigned to 刘志愿, who lives in the same building, is in the "
        "Environment patrol team, still had room for 7 more tasks.",
        "residents": [],
        "reports": [],
    }
    assert (task.state, task.assignee_id) == ("assigned", world.second_volunteer.pk)


def test_adding_a_task_for_a_building_outside_the_scope_answers_404(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]),
        f"{URL}/activations/{activation.pk}/tasks",
        {"kind": "patrol", "title": "检查", "building_id": world.buildings["2号楼"].pk},
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "building_id"},
    )
    assert Task.objects.count() == 2


def test_marking_a_volunteer_unavailable_moves_their_tasks(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/{activation.pk}/unavailable",
        {"volunteer_id": world.volunteer.pk, "reason": "所在楼栋封控"},
    )
    assert response.status_code == 200
    # Nobody else is in the care team: both checks wait, with the reason.
    assert response.json() == activation_body(
        activation, tasks_by_state=by_state(unassigned=2), volunteers_unavailable=1
    )
    assert set(Task.objects.values_list("unassigned_reason", flat=True)) == {"no_worker_with_team"}


def test_a_volunteer_marks_themselves_unavailable(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users["volunteer2"]),
        f"{URL}/activations/{activation.pk}/unavailable",
        {"volunteer_id": world.second_volunteer.pk, "reason": "发烧"},
    )
    assert response.status_code == 200
    assert list(Unavailability.objects.values_list("volunteer_id", "reason")) == [
        (world.second_volunteer.pk, "发烧")
    ]


def test_a_volunteer_may_not_mark_a_colleague_unavailable(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users["volunteer2"]),
        f"{URL}/activations/{activation.pk}/unavailable",
        {"volunteer_id": world.volunteer.pk, "reason": "联系不上"},
    )
    assert (response.status_code, response.json()) == (
        403,
        {"message": "You may not change this volunteer's availability.", "field": None},
    )
    assert Unavailability.objects.count() == 0


def test_stand_down_closes_open_tasks_and_keeps_the_lessons(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/{activation.pk}/stand-down",
        {"reason": "台风已过境", "lessons": "2号楼地下室排水泵需检修"},
    )
    assert response.status_code == 200
    activation.refresh_from_db()
    assert response.json() == activation_body(
        activation,
        state="stood_down",
        stood_down_at=iso(activation.stood_down_at),
        stand_down_reason="台风已过境",
        lessons="2号楼地下室排水泵需检修",
        tasks_by_state=by_state(cancelled=2),
    )
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/activations/{activation.pk}/stand-down",
        {"reason": "again"},
    )
    assert (response.status_code, response.json()) == (
        409,
        {"message": "This emergency has already been stood down.", "field": "activation"},
    )


def test_board_gives_the_figures_to_staff_and_404_to_a_volunteer(emergency_world, activation):
    world = emergency_world
    response = client_for(world.users[Role.SECRETARY]).get(
        f"{URL}/activations/{activation.pk}/board"
    )
    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key]
        for key in (
            "activation_id",
            "whole_scope",
            "targeted_households",
            "contacted_households",
            "coverage_percent",
            "tasks_total",
            "tasks_open",
            "tasks_by_state",
            "unassigned_count",
            "help_by_urgency",
            "volunteers_idle",
        )
    } == {
        "activation_id": activation.pk,
        "whole_scope": True,
        "targeted_households": 2,
        "contacted_households": 0,
        "coverage_percent": 0.0,
        "tasks_total": 2,
        "tasks_open": 2,
        "tasks_by_state": by_state(assigned=2),
        "unassigned_count": 0,
        "help_by_urgency": {"1": 0, "2": 0, "3": 0},
        "volunteers_idle": [
            {"id": world.second_volunteer.pk, "name": "刘志愿", "reason": None},
            {"id": world.volunteer.pk, "name": "陈志愿", "reason": None},
        ],
    }
    response = client_for(world.users[Role.VOLUNTEER]).get(
        f"{URL}/activations/{activation.pk}/board"
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "activation_id"},
    )


# Tasks ----------------------------------------------------------------------------------


def test_volunteer_lists_their_own_tasks(emergency_world, activation, check_101):
    world = emergency_world
    response = client_for(world.users[Role.VOLUNTEER]).get(f"{URL}/tasks?mine=true")
    assert response.status_code == 200
    check_201 = Task.objects.get(household__room="201")
    assert response.json() == {"items": [task_body(check_101), task_body(check_201)], "count": 2}
    assert client_for(world.users["volunteer2"]).get(f"{URL}/tasks?mine=true").json() == {
        "items": [],
        "count": 0,
    }
    filtered = client_for(world.users[Role.SECRETARY]).get(
        f"{URL}/tasks?activation_id={activation.pk}&state=done"
    )
    assert filtered.json() == {"items": [], "count": 0}


def test_task_detail_explains_itself_and_masks_the_phone(emergency_world, check_101):
    response = client_for(emergency_world.users[Role.VOLUNTEER]).get(f"{URL}/tasks/{check_101.pk}")
    assert response.status_code == 200
    assert response.json() == {
        **task_body(check_101),
        "instructions": "",
        "required_team": "care",
        "required_skills": [],
        "explanation": check_101.explanation,
        "explanation_text": "Assigned to 陈志愿, who lives in the same building, is in the Care "
        "and assistance team, still had room for 6 more tasks.",
        "residents": [
            {"id": emergency_world.resident.pk, "name": "张桂英", "phone": "138****1234"}
        ],
        "reports": [],
    }


def test_someone_elses_task_detail_answers_404_naming_task_id(emergency_world, check_101):
    response = client_for(emergency_world.users["volunteer2"]).get(f"{URL}/tasks/{check_101.pk}")
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "task_id"},
    )


def test_volunteer_acknowledges_their_task(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]), f"{URL}/tasks/{check_101.pk}/acknowledge"
    )
    assert response.status_code == 200
    assert response.json() == task_body(check_101)
    assert (check_101.state, check_101.version) == ("acknowledged", 2)
    again = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]), f"{URL}/tasks/{check_101.pk}/acknowledge"
    )
    assert (again.status_code, again.json()) == (
        409,
        {"message": "This task has already been acknowledged or closed.", "field": "task"},
    )


def test_volunteer_declines_and_the_task_moves_on(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/decline",
        {"reason": "腿受伤"},
    )
    assert response.status_code == 200
    # Nobody else is in the care team.
    assert response.json() == task_body(check_101)
    assert (check_101.state, check_101.assignee_id, check_101.unassigned_reason) == (
        "unassigned",
        None,
        "no_worker_with_team",
    )
    assert check_101.declined_by == [emergency_world.volunteer.pk]


def test_volunteer_reports_the_household_safe(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/report",
        {"outcome": "safe", "note": "老人在家，一切正常"},
    )
    assert response.status_code == 200
    assert response.json() == {**task_body(check_101), "help_request_id": None}
    assert (check_101.state, check_101.outcome, check_101.attempts) == ("done", "safe", 1)
    assert check_101.contacted_at is not None
    assert list(check_101.reports.values_list("outcome", "note", "volunteer_id")) == [
        ("safe", "老人在家，一切正常", emergency_world.volunteer.pk)
    ]


def test_needs_help_files_a_help_request(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/report",
        {
            "outcome": "needs_help",
            "help_kind": "medicine",
            "help_urgency": 2,
            "help_description": "降压药只剩一天",
        },
    )
    assert response.status_code == 200
    filed = HelpRequest.objects.get()
    assert response.json() == {**task_body(check_101), "help_request_id": filed.pk}
    assert (filed.kind, filed.urgency, filed.description, filed.source_task_id) == (
        "medicine",
        2,
        "降压药只剩一天",
        check_101.pk,
    )


def test_a_volunteer_reporting_someone_elses_task_is_refused_and_nothing_changes(
    emergency_world, check_101
):
    before = task_state(check_101)
    events, notes = ActivationEvent.objects.count(), Notification.objects.count()
    response = post_json(
        client_for(emergency_world.users["volunteer2"]),
        f"{URL}/tasks/{check_101.pk}/report",
        {"outcome": "safe"},
    )
    assert (response.status_code, response.json()) == (
        403,
        {"message": "This task is not yours.", "field": None},
    )
    assert before == ("assigned", emergency_world.volunteer.pk, 1, 0)
    assert task_state(check_101) == before
    assert (ActivationEvent.objects.count(), Notification.objects.count()) == (events, notes)
    assert TaskReport.objects.count() == 0


def test_a_report_with_a_wrong_outcome_answers_400_naming_outcome(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/report",
        {"outcome": "done"},
    )
    assert (response.status_code, response.json()) == (
        400,
        {
            "message": "Say whether the household is safe, needs help, or did not answer.",
            "field": "outcome",
        },
    )
    assert task_state(check_101) == ("assigned", emergency_world.volunteer.pk, 1, 0)


def test_staff_reassign_a_task_to_a_named_volunteer(emergency_world, check_101):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/tasks/{check_101.pk}/reassign",
        {"expected_version": 1, "volunteer_id": world.second_volunteer.pk},
    )
    assert response.status_code == 200
    assert response.json() == task_body(check_101)
    assert (check_101.assignee_id, check_101.state, check_101.version) == (
        world.second_volunteer.pk,
        "assigned",
        2,
    )
    detail = client_for(world.users["volunteer2"]).get(f"{URL}/tasks/{check_101.pk}").json()
    assert detail["explanation_text"] == "secretary assigned the task to 刘志愿 by hand."


def test_reassigning_with_a_stale_version_answers_409_and_changes_nothing(
    emergency_world, check_101
):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/tasks/{check_101.pk}/reassign",
        {"expected_version": 0, "volunteer_id": world.second_volunteer.pk},
    )
    assert (response.status_code, response.json()) == (
        409,
        {
            "message": "Someone changed this task a moment ago; reload to see who has it now.",
            "field": "task",
        },
    )
    assert task_state(check_101) == ("assigned", world.volunteer.pk, 1, 0)


def test_reassigning_to_an_unknown_volunteer_answers_404_naming_volunteer_id(
    emergency_world, check_101
):
    response = post_json(
        client_for(emergency_world.users[Role.SECRETARY]),
        f"{URL}/tasks/{check_101.pk}/reassign",
        {"expected_version": 1, "volunteer_id": 999_999},
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "volunteer_id"},
    )
    assert task_state(check_101) == ("assigned", emergency_world.volunteer.pk, 1, 0)


def test_a_building_group_leader_may_not_reassign(emergency_world, check_101):
    response = post_json(
        client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER]),
        f"{URL}/tasks/{check_101.pk}/reassign",
        {"expected_version": 1, "volunteer_id": None},
    )
    assert (response.status_code, response.json()) == (
        403,
        {"message": "You may not reassign tasks here.", "field": None},
    )
    assert task_state(check_101) == ("assigned", emergency_world.volunteer.pk, 1, 0)


def test_the_volunteer_holding_the_task_reveals_the_phone_audited(emergency_world, check_101):
    world = emergency_world
    before = set(AuditEntry.objects.values_list("id", flat=True))
    response = post_json(
        client_for(world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/reveal",
        {
            "resident_id": world.resident.pk,
            "purpose": "emergency_contact",
            "reason": "确认是否安全",
        },
    )
    assert (response.status_code, response.json()) == (
        200,
        {"resident_id": world.resident.pk, "phone": "13812341234"},
    )
    entry = AuditEntry.objects.exclude(id__in=before).get()
    assert (entry.actor_id, entry.action, entry.object_id, entry.field) == (
        world.users[Role.VOLUNTEER].pk,
        "reveal",
        str(world.resident.pk),
        "phone",
    )


def test_reveal_by_another_volunteer_is_refused_and_not_audited(emergency_world, check_101):
    world = emergency_world
    audited = AuditEntry.objects.count()
    response = post_json(
        client_for(world.users["volunteer2"]),
        f"{URL}/tasks/{check_101.pk}/reveal",
        {
            "resident_id": world.resident.pk,
            "purpose": "emergency_contact",
            "reason": "确认是否安全",
        },
    )
    assert (response.status_code, response.json()) == (
        403,
        {"message": "Only the volunteer holding this task may see the full number.", "field": None},
    )
    assert AuditEntry.objects.count() == audited


def test_reveal_of_someone_outside_the_household_answers_404(emergency_world, check_101):
    world = emergency_world
    audited = AuditEntry.objects.count()
    response = post_json(
        client_for(world.users[Role.VOLUNTEER]),
        f"{URL}/tasks/{check_101.pk}/reveal",
        {
            "resident_id": world.neighbour.pk,
            "purpose": "emergency_contact",
            "reason": "确认是否安全",
        },
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "resident_id"},
    )
    assert AuditEntry.objects.count() == audited


# Help requests ---------------------------------------------------------------------------


def help_body(request: HelpRequest, **changes) -> dict:
    request.refresh_from_db()
    return {
        "id": request.pk,
        "activation_id": request.activation_id,
        "household_id": request.household_id,
        "address": str(request.household),
        "kind": request.kind,
        "urgency": request.urgency,
        "description": request.description,
        "state": request.state,
        "on_behalf": request.on_behalf,
        "source_task_id": request.source_task_id,
        "volunteer_id": request.volunteer_id,
        "volunteer": request.volunteer.name if request.volunteer_id else None,
        "partner_id": request.partner_id,
        "partner": request.partner.name if request.partner_id else None,
        "created_at": iso(request.created_at),
        "dispatched_at": iso(request.dispatched_at),
        "resolution": request.resolution,
        "done_at": iso(request.done_at),
        "version": request.version,
        "instructions": None,
        **changes,
    }


LIFE_THREATENING = (
    "Life-threatening: call 120 (ambulance) or 110 (police) now, then stay with the person "
    "until help arrives."
)


@pytest.fixture
def help_request(emergency_world, activation) -> HelpRequest:
    return help_request_create(
        actor=emergency_world.users[Role.RESIDENT],
        household=emergency_world.household,
        kind="food",
        urgency=3,
        description="家里没有米了",
    )


def test_resident_asks_for_help_and_sees_what_to_do_at_once(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        f"{URL}/help-requests",
        {
            "household_id": world.household.pk,
            "kind": "medical",
            "urgency": 1,
            "description": "老人摔倒起不来",
        },
    )
    assert response.status_code == 201
    filed = HelpRequest.objects.get()
    assert response.json() == help_body(filed, instructions=LIFE_THREATENING)
    assert (filed.activation_id, filed.state, filed.on_behalf) == (activation.pk, "open", False)


def test_help_for_a_household_outside_the_scope_answers_404(emergency_world, activation):
    response = post_json(
        client_for(emergency_world.users[Role.RESIDENT]),
        f"{URL}/help-requests",
        {
            "household_id": emergency_world.neighbour_household.pk,
            "kind": "food",
            "urgency": 3,
            "description": "x",
        },
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "household_id"},
    )
    assert HelpRequest.objects.count() == 0


def test_help_without_a_live_emergency_answers_400(emergency_world):
    response = post_json(
        client_for(emergency_world.users[Role.RESIDENT]),
        f"{URL}/help-requests",
        {
            "household_id": emergency_world.household.pk,
            "kind": "food",
            "urgency": 3,
            "description": "家里没有米了",
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "household"
    assert HelpRequest.objects.count() == 0


def test_help_request_list_and_detail(emergency_world, help_request):
    client = client_for(emergency_world.users[Role.SECRETARY])
    assert client.get(f"{URL}/help-requests").json() == {
        "items": [help_body(help_request)],
        "count": 1,
    }
    assert client.get(f"{URL}/help-requests?state=done").json() == {"items": [], "count": 0}
    response = client.get(f"{URL}/help-requests/{help_request.pk}")
    assert (response.status_code, response.json()) == (200, help_body(help_request))
    outsider = client_for(emergency_world.users[Role.PARTNER_LIAISON]).get(
        f"{URL}/help-requests/{help_request.pk}"
    )
    assert (outsider.status_code, outsider.json()) == (
        404,
        {"message": "Not found.", "field": "help_request_id"},
    )


def test_dispatch_and_close_a_help_request(emergency_world, help_request):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/help-requests/{help_request.pk}/dispatch",
        {"expected_version": 1, "volunteer_id": world.second_volunteer.pk},
    )
    assert response.status_code == 200
    assert response.json() == help_body(help_request)
    assert (help_request.state, help_request.volunteer_id, help_request.version) == (
        "dispatched",
        world.second_volunteer.pk,
        2,
    )
    # The volunteer it went to closes it.
    response = post_json(
        client_for(world.users["volunteer2"]),
        f"{URL}/help-requests/{help_request.pk}/close",
        {"resolution": "送去大米五斤"},
    )
    assert response.status_code == 200
    assert response.json() == help_body(help_request)
    assert (help_request.state, help_request.resolution) == ("done", "送去大米五斤")


def test_dispatching_with_a_stale_version_answers_409(emergency_world, help_request):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/help-requests/{help_request.pk}/dispatch",
        {"expected_version": 3, "volunteer_id": world.second_volunteer.pk},
    )
    assert (response.status_code, response.json()) == (
        409,
        {"message": "Someone changed this request a moment ago; reload it.", "field": "request"},
    )
    help_request.refresh_from_db()
    assert (help_request.state, help_request.version) == ("open", 1)


def test_a_resident_may_not_dispatch(emergency_world, help_request):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        f"{URL}/help-requests/{help_request.pk}/dispatch",
        {"expected_version": 1, "volunteer_id": world.second_volunteer.pk},
    )
    assert (response.status_code, response.json()) == (
        403,
        {"message": "You may not dispatch help requests here.", "field": None},
    )
    help_request.refresh_from_db()
    assert (help_request.state, help_request.version) == ("open", 1)


def test_dispatch_to_a_partner_unit(emergency_world, help_request):
    world = emergency_world
    partner = partner_create(
        actor=world.users[Role.SECRETARY],
        community=world.community,
        name="社区卫生服务中心",
        partner_type="hospital",
    )
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/help-requests/{help_request.pk}/dispatch",
        {"expected_version": 1, "partner_id": partner.pk},
    )
    assert response.status_code == 200
    assert response.json() == help_body(help_request)
    assert (help_request.state, help_request.partner_id, help_request.volunteer_id) == (
        "dispatched",
        partner.pk,
        None,
    )


def test_dispatch_to_an_unknown_partner_answers_404_naming_partner_id(
    emergency_world, help_request
):
    response = post_json(
        client_for(emergency_world.users[Role.SECRETARY]),
        f"{URL}/help-requests/{help_request.pk}/dispatch",
        {"expected_version": 1, "partner_id": 999_999},
    )
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not found.", "field": "partner_id"},
    )
    help_request.refresh_from_db()
    assert (help_request.state, help_request.version) == ("open", 1)


def test_staff_add_a_welfare_check_for_a_household(emergency_world, activation):
    world = emergency_world
    response = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]),
        f"{URL}/activations/{activation.pk}/tasks",
        {
            "kind": "welfare_check",
            "title": "邻居来电：102室老人未应门",
            "household_id": world.neighbour_household.pk,
            "required_skills": ["first_aid", "elder_care"],
        },
    )
    assert response.status_code == 201
    task = Task.objects.get(title="邻居来电：102室老人未应门")
    body = response.json()
    assert (body["id"], body["address"], body["required_skills"], body["residents"]) == (
        task.pk,
        "1号楼 102",
        ["elder_care", "first_aid"],
        [{"id": world.neighbour.pk, "name": "李建国", "phone": "139****5678"}],
    )
    assert (task.required_skills, task.assignee_id) == (
        ",elder_care,first_aid,",
        world.volunteer.pk,
    )
