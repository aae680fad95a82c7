"""A volunteer's phone during an emergency: their tasks in walking order from home, the
audited reveal of one number, the outcomes (safe, needs help, no answer → retry →
escalation) and the refusal of anyone else's task."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS
from linli.emergency import services
from linli.emergency.models import HelpRequest, Task, TaskReport, TaskState
from linli.emergency.views.my_tasks import tasks_in_walking_order
from linli.grids.models import Household
from linli.grids.services import household_create, resident_create
from linli.notify.models import Notification
from linli.testing.clients import client_for
from linli.volunteers.models import ServiceKind, Volunteer


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def activate(world, plan):
    return services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )


def task_for(world, household: Household) -> Task:
    return Task.objects.get(household=household)


@pytest.fixture
def activation(emergency_world, plan):
    return activate(emergency_world, plan)


def test_volunteer_sees_tasks_in_walking_order_from_home(emergency_world, plan):
    world = emergency_world
    # 陈志愿 now lives in 2号楼, and a disabled resident of 2号楼 202 is checked too: the walk
    # starts at home (201, then 202 in the same building) and ends 110 m away at 1号楼 101,
    # although 101 has the highest priority and the lowest task id.
    Volunteer.objects.filter(pk=world.volunteer.pk).update(home_building=world.buildings["2号楼"])
    room_202 = household_create(building=world.buildings["2号楼"], room="202")
    resident_create(
        household=room_202,
        name="孙明",
        sex="male",
        birth_year=1960,
        phone="13711112222",
        id_number=ID_NUMBERS[4],
        vulnerability_tags=["disabled"],
    )
    activate(world, plan)
    stored = list(Task.objects.filter(assignee=world.volunteer))
    assert [task.household.room for task in stored] == ["101", "202", "201"]

    response = client_for(world.users[Role.VOLUNTEER]).get(reverse("emergency:my_tasks"))

    assert response.status_code == 200
    assert [card["room"] for card in response.context["cards"]] == ["201", "202", "101"]
    assert [card["building"].name for card in response.context["cards"]] == [
        "2号楼",
        "2号楼",
        "1号楼",
    ]
    assert response.content.decode().count('data-testid="task-card"') == 3


def test_walking_order_puts_tasks_without_coordinates_last(emergency_world, plan):
    world = emergency_world
    activate(world, plan)
    tasks = list(Task.objects.filter(assignee=world.volunteer).select_related("building"))
    far = next(task for task in tasks if task.building.name == "1号楼")
    far.building.latitude = far.building.longitude = None

    ordered = tasks_in_walking_order(tasks, world.buildings["1号楼"])

    assert [task.building.name for task in ordered] == ["2号楼", "1号楼"]


def test_task_card_shows_masked_names_and_phones_only(emergency_world, activation):
    world = emergency_world
    response = client_for(world.users[Role.VOLUNTEER]).get(reverse("emergency:my_tasks"))
    page = response.content.decode()

    assert "138****1234" in page
    assert "13812341234" not in page
    assert "张**" in page
    assert "张桂英" not in page
    assert 'data-testid="acknowledge"' in page
    assert 'data-testid="outcome-safe"' in page
    assert 'data-testid="outcome-needs-help"' in page
    assert 'data-testid="reveal-phone"' in page


def test_reveal_shows_full_number_once_and_writes_one_audit_row(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)
    user = world.users[Role.VOLUNTEER]

    response = client_for(user).post(
        reverse("emergency:task_reveal", args=[task.pk]),
        {"resident": world.resident.pk, "purpose": "emergency_contact", "reason": task.title},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="tel:13812341234"' in page
    assert 'data-testid="revealed-phone"' in page
    entries = list(AuditEntry.objects.filter(action=AuditAction.REVEAL))
    assert len(entries) == 1
    assert entries[0].actor == user
    assert entries[0].object_type == "resident"
    assert entries[0].object_id == str(world.resident.pk)
    assert entries[0].field == "phone"
    assert entries[0].reason == f"Emergency task {task.pk}: {task.title}"


def test_reveal_without_htmx_shows_the_number_on_its_own_page(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.other_micro_grid_household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:task_reveal", args=[task.pk]),
        {
            "resident": world.other_micro_grid_resident.pk,
            "purpose": "emergency_contact",
            "reason": "确认是否安全",
        },
    )

    assert response.status_code == 200
    assert 'href="tel:13700001111"' in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1


def test_reveal_of_someone_outside_the_household_is_not_found(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:task_reveal", args=[task.pk]),
        {"resident": world.neighbour.pk, "purpose": "emergency_contact", "reason": "确认是否安全"},
    )

    assert response.status_code == 404
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 0


@pytest.mark.parametrize(
    ("route", "data"),
    [
        ("emergency:my_task_report", {"outcome": "safe"}),
        ("emergency:my_task_ack", {}),
        ("emergency:my_task_decline", {"reason": "busy"}),
        ("emergency:task_reveal", {"resident": "RESIDENT"}),
    ],
)
@pytest.mark.parametrize("intruder", ["volunteer2", Role.BUILDING_GROUP_LEADER])
def test_someone_elses_task_is_refused_and_nothing_changes(
    emergency_world, activation, route, data, intruder
):
    world = emergency_world
    task = task_for(world, world.household)
    if data.get("resident") == "RESIDENT":
        data = {
            "resident": world.resident.pk,
            "purpose": "emergency_contact",
            "reason": "确认是否安全",
        }

    response = client_for(world.users[intruder]).post(reverse(route, args=[task.pk]), data)

    assert response.status_code == 403
    after = Task.objects.get(pk=task.pk)
    assert (after.state, after.version, after.attempts, after.assignee_id, after.outcome) == (
        TaskState.ASSIGNED,
        1,
        0,
        world.volunteer.pk,
        "",
    )
    assert TaskReport.objects.count() == 0
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 0


def test_a_task_that_does_not_exist_answers_403_like_anyone_elses(emergency_world, activation):
    response = client_for(emergency_world.users["volunteer2"]).post(
        reverse("emergency:my_task_report", args=[999999]), {"outcome": "safe"}
    )

    assert response.status_code == 403


def test_acknowledge_takes_the_task_on(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_ack", args=[task.pk])
    )

    assert response.status_code == 302
    assert response.url == reverse("emergency:my_tasks")
    task.refresh_from_db()
    assert (task.state, task.version) == (TaskState.ACKNOWLEDGED, 2)


def test_decline_hands_the_task_on_and_never_back(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_decline", args=[task.pk]), {"reason": "家里有事"}
    )

    assert response.status_code == 302
    task.refresh_from_db()
    # Nobody else is in the care team: the task waits, with 陈志愿 never offered it again.
    assert task.state == TaskState.UNASSIGNED
    assert task.assignee_id is None
    assert task.declined_by == [world.volunteer.pk]


def test_safe_closes_the_check_and_counts_as_done_today(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)
    client = client_for(world.users[Role.VOLUNTEER])

    response = client.post(
        reverse("emergency:my_task_report", args=[task.pk]), {"outcome": "safe", "note": "一切安好"}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Recorded: 1号楼 101 is safe."]
    task.refresh_from_db()
    assert (task.state, task.outcome, task.attempts) == (TaskState.DONE, "safe", 1)
    assert task.contacted_at is not None
    page = client.get(reverse("emergency:my_tasks"))
    assert page.context["done_today"] == 1
    assert [card["room"] for card in page.context["cards"]] == ["201"]


def test_needs_help_files_a_help_request_linked_to_the_task(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_report", args=[task.pk]),
        {
            "outcome": "needs_help",
            "help_kind": "medicine",
            "help_urgency": "2",
            "help_description": "降压药只剩一天的量",
        },
    )

    assert response.status_code == 302
    help_request = HelpRequest.objects.get()
    assert help_request.source_task == task
    assert help_request.household == world.household
    assert (help_request.kind, help_request.urgency, help_request.on_behalf) == (
        "medicine",
        2,
        True,
    )
    assert help_request.description == "降压药只剩一天的量"
    assert help_request.submitted_by == world.users[Role.VOLUNTEER]
    task.refresh_from_db()
    assert (task.state, task.outcome) == (TaskState.DONE, "needs_help")


def test_needs_help_without_a_kind_shows_the_card_again_and_writes_nothing(
    emergency_world, activation
):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_report", args=[task.pk]),
        {"outcome": "needs_help", "help_urgency": "3", "help_description": "需要买菜"},
    )

    assert response.status_code == 400
    card = next(card for card in response.context["cards"] if card["task"].pk == task.pk)
    assert card["errors"] == {"kind": ["Choose the kind of help needed."]}
    assert "需要买菜" in response.content.decode()
    assert HelpRequest.objects.count() == 0
    assert TaskReport.objects.count() == 0
    task.refresh_from_db()
    assert (task.state, task.version, task.attempts) == (TaskState.ASSIGNED, 1, 0)


def test_no_answer_twice_escalates_to_the_micro_grid_lead(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)
    client = client_for(world.users[Role.VOLUNTEER])
    url = reverse("emergency:my_task_report", args=[task.pk])
    before = timezone.now()

    first = client.post(url, {"outcome": "no_answer"})

    assert first.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.attempts) == (TaskState.RETRY, 1)
    assert before + timedelta(minutes=30) <= task.retry_at <= timezone.now() + timedelta(minutes=30)
    page = client.get(reverse("emergency:my_tasks"))
    assert [card["task"].pk for card in page.context["later"]] == [task.pk]
    assert task.pk not in [card["task"].pk for card in page.context["cards"]]

    second = client.post(url, {"outcome": "not_home"})

    assert second.status_code == 302
    assert messages_of(second) == [
        "No answer after 2 tries: 1号楼 101 has gone to the micro-grid lead."
    ]
    task.refresh_from_db()
    assert (task.state, task.attempts, task.retry_at) == (TaskState.ESCALATED, 2, None)
    escalations = Notification.objects.filter(kind="emergency_task_escalated")
    assert [n.recipient for n in escalations] == [world.users[Role.MICRO_GRID_LEAD]]
    # Escalated, the task has left the volunteer's list.
    page = client.get(reverse("emergency:my_tasks"))
    assert task.pk not in [
        card["task"].pk for card in (*page.context["cards"], *page.context["later"])
    ]


def test_volunteer_without_tasks_sees_a_calm_empty_state(emergency_world, activation):
    response = client_for(emergency_world.users["volunteer2"]).get(reverse("emergency:my_tasks"))

    assert response.status_code == 200
    assert 'data-testid="no-tasks"' in response.content.decode()
    assert response.context["cards"] == []


def test_a_non_volunteer_is_told_this_page_is_for_volunteers(emergency_world, activation):
    response = client_for(emergency_world.users[Role.RESIDENT]).get(reverse("emergency:my_tasks"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="not-volunteer"' in page
    assert 'data-testid="task-card"' not in page


def test_my_tasks_needs_a_login(db):
    response = Client().get(reverse("emergency:my_tasks"))

    assert response.status_code == 302
    assert response.url == reverse("web:login") + "?next=/emergency/my-tasks/"


def test_my_tasks_reads_the_same_number_of_rows_for_more_tasks(emergency_world, activation):
    world = emergency_world
    client = client_for(world.users[Role.VOLUNTEER])
    client.get(reverse("emergency:my_tasks"))  # session and caches warmed
    with CaptureQueriesContext(connection) as two_tasks:
        client.get(reverse("emergency:my_tasks"))
    for household in (world.neighbour_household, None):
        services.activation_add_task(
            actor=world.users[Role.SECRETARY],
            activation=activation,
            kind="welfare_check" if household else "patrol",
            title="加派任务",
            household=household,
            building=world.buildings["2号楼"],
            required_team=ServiceKind.CARE,
        )

    with CaptureQueriesContext(connection) as four_tasks:
        response = client.get(reverse("emergency:my_tasks"))

    assert len(response.context["cards"]) == 4
    assert len(four_tasks) == len(two_tasks)


def test_a_patrol_is_simply_marked_done(emergency_world, activation):
    world = emergency_world
    patrol = services.activation_add_task(
        actor=world.users[Role.SECRETARY],
        activation=activation,
        kind="patrol",
        title="地下车库积水巡查",
        building=world.buildings["1号楼"],
        required_team=ServiceKind.CARE,
    )
    client = client_for(world.users[Role.VOLUNTEER])
    page = client.get(reverse("emergency:my_tasks")).content.decode()
    assert page.count('data-testid="outcome-done"') == 1

    response = client.post(
        reverse("emergency:my_task_report", args=[patrol.pk]), {"outcome": "done"}
    )

    assert messages_of(response) == ["Recorded: “地下车库积水巡查” is done."]
    patrol.refresh_from_db()
    assert (patrol.state, patrol.outcome) == (TaskState.DONE, "done")


def test_the_micro_grid_lead_reports_an_escalated_task_and_goes_back(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)
    for _try in range(2):
        services.task_report(actor=world.users[Role.VOLUNTEER], task=task, outcome="no_answer")
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    back = f"/emergency/tasks/{task.pk}/"

    refused = client.post(
        reverse("emergency:my_task_report", args=[task.pk]),
        {"outcome": "needs_help", "help_urgency": "2", "next": back},
    )
    reached = client.post(
        reverse("emergency:my_task_report", args=[task.pk]),
        {"outcome": "safe", "note": "电话联系上了，在女儿家", "next": back},
    )

    assert (refused.status_code, refused.url) == (302, back)
    assert (reached.status_code, reached.url) == (302, back)
    task.refresh_from_db()
    assert (task.state, task.outcome, task.attempts) == (TaskState.DONE, "safe", 3)


def test_an_outside_address_is_never_a_way_back(emergency_world, activation):
    world = emergency_world
    task = task_for(world, world.household)

    response = client_for(world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_ack", args=[task.pk]), {"next": "https://example.com/"}
    )

    assert response.url == reverse("emergency:my_tasks")
