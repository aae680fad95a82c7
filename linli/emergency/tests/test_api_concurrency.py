"""Faults: an activation that fails part-way leaves nothing behind (all tasks or none), and
two staff reassigning the same task at once: exactly one wins (PostgreSQL row locks).

Both run with real transactions (no test-wide wrapping transaction), so a rollback here is
the one production would see.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from linli.accounts.roles import Role
from linli.conftest import run_together
from linli.emergency.models import Activation, ActivationEvent, Task
from linli.emergency.services import activation as activation_services
from linli.emergency.services import activation_start, task_reassign
from linli.notify.models import Notification, OutboxMessage

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
)


def row_counts() -> dict[str, int]:
    return {
        "activations": Activation.objects.count(),
        "tasks": Task.objects.count(),
        "events": ActivationEvent.objects.count(),
        # The emergency's own notices (the world's volunteers were told of their approval).
        "notifications": Notification.objects.filter(kind__startswith="emergency").count(),
        "outbox": OutboxMessage.objects.filter(notification__kind__startswith="emergency").count(),
    }


NOTHING = {"activations": 0, "tasks": 0, "events": 0, "notifications": 0, "outbox": 0}


class Outage(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_activation_failing_after_the_tasks_are_inserted_leaves_nothing(
    emergency_world, plan, monkeypatch
):
    written = []
    insert_tasks = activation_services._insert_tasks

    def insert_then_fail(activation, drafts, now):
        insert_tasks(activation, drafts, now)
        written.append(row_counts())
        raise Outage("the database went away mid-activation")

    monkeypatch.setattr(activation_services, "_insert_tasks", insert_then_fail)
    before = row_counts()
    with pytest.raises(Outage):
        activation_start(
            actor=emergency_world.users[Role.SECRETARY],
            plan=plan,
            scope=emergency_world.community,
            grade=4,
            is_drill=True,
        )
    # The activation and its tasks were written before the failure …
    assert written == [{**NOTHING, "activations": 1, "tasks": 2}]
    assert before == NOTHING
    assert row_counts() == NOTHING  # … and rolled back with everything else


@pytest.mark.django_db(transaction=True)
def test_activation_failing_at_the_last_notification_leaves_nothing(
    emergency_world, plan, monkeypatch
):
    def fail(activation):
        # By now the activation, its tasks, its timeline and the volunteers' notices exist.
        assert row_counts() == {
            "activations": 1,
            "tasks": 2,
            "events": 1,
            "notifications": 1,
            "outbox": 1,
        }
        raise Outage("contact tree lookup failed")

    monkeypatch.setattr(activation_services, "_notify_contact_tree", fail)
    client = Client(headers={"Accept-Language": "en"}, raise_request_exception=True)
    client.force_login(emergency_world.users[Role.SECRETARY])
    with pytest.raises(Outage):
        client.post(
            "/api/v1/emergency/activations",
            {"plan_id": plan.pk, "scope_id": emergency_world.community.pk, "grade": 4},
            content_type="application/json",
        )
    assert row_counts() == NOTHING
    # The scope is free: a second try succeeds once the fault is gone.
    monkeypatch.undo()
    response = client.post(
        "/api/v1/emergency/activations",
        {"plan_id": plan.pk, "scope_id": emergency_world.community.pk, "grade": 4},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert (Activation.objects.count(), Task.objects.count()) == (1, 2)


@pytest.mark.postgres_only
@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_reassigning_the_same_task_at_once_one_wins(emergency_world, plan):
    world = emergency_world
    activation = activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    task = Task.objects.get(activation=activation, household__room="201")
    assert task.version == 1

    errors = run_together(
        lambda: task_reassign(
            actor=world.users[Role.SECRETARY],
            task=task,
            expected_version=1,
            volunteer=world.second_volunteer,
        ),
        lambda: task_reassign(
            actor=world.users[Role.STREET_ADMIN], task=task, expected_version=1, volunteer=None
        ),
    )

    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    # Threads run in the default language: compare the field and code, not the words.
    assert [error.code for error in errors[0].error_dict["task"]] == ["conflict"]
    task.refresh_from_db()
    assert task.version == 2
    assert ActivationEvent.objects.filter(activation=activation, kind="reassigned").count() == 1


@pytest.mark.postgres_only
@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_reassigning_through_the_api_get_200_and_409(emergency_world, plan):
    world = emergency_world
    activation = activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    task = Task.objects.get(activation=activation, household__room="201")
    clients = []
    for role in (Role.SECRETARY, Role.STREET_ADMIN):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(world.users[role])
        clients.append(client)
    statuses: list[int] = []

    def reassign(client):
        response = client.post(
            f"/api/v1/emergency/tasks/{task.pk}/reassign",
            {"expected_version": 1, "volunteer_id": world.second_volunteer.pk},
            content_type="application/json",
        )
        statuses.append(response.status_code)

    errors = run_together(*(lambda client=client: reassign(client) for client in clients))

    assert errors == []
    assert sorted(statuses) == [200, 409]
    task.refresh_from_db()
    assert (task.version, task.assignee_id) == (2, world.second_volunteer.pk)
