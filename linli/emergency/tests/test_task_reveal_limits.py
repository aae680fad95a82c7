"""Bounded reveals of an emergency task target's phone: the same purpose list, reason and
daily quota as every reveal (linli.accounts.reveals), counted together with the registry's
reveals, and the secretary's alert (linli.emergency.services.task_phone_reveal)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.reveals import RevealQuotaExceeded
from linli.accounts.roles import Role
from linli.emergency.models import Task
from linli.emergency.services import activation_start, task_phone_reveal
from linli.grids.services import resident_reveal
from linli.notify.models import Notification
from linli.testing.clients import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 12, 5, 20, 0, tzinfo=SHANGHAI)
URL = "/api/v1/emergency"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LINLI_REVEAL_DAILY_QUOTA = 30
    settings.LINLI_REVEAL_ALERT_AT = 20


@pytest.fixture
def check_101(emergency_world, plan) -> Task:
    """The welfare check of 张桂英's household (1号楼 101), held by 陈志愿 (volunteer)."""
    with time_machine.travel(EVENING, tick=False):
        activation = activation_start(
            actor=emergency_world.users[Role.SECRETARY],
            plan=plan,
            scope=emergency_world.community,
            grade=4,
            is_drill=True,
        )
    return Task.objects.get(activation=activation, household__room="101")


def api_reveal(client: Client, task: Task, payload: dict):
    return client.post(f"{URL}/tasks/{task.pk}/reveal", payload, content_type="application/json")


def reveal(world, task, *, purpose="emergency_contact", reason="确认是否安全"):
    return task_phone_reveal(
        actor=world.users[Role.VOLUNTEER],
        task=task,
        resident=world.resident,
        purpose=purpose,
        reason=reason,
    )


def reveal_rows() -> int:
    return AuditEntry.objects.filter(action=AuditAction.REVEAL).count()


def test_task_reveal_with_the_reason_x_is_refused_naming_the_reason(emergency_world, check_101):
    with time_machine.travel(EVENING, tick=False):
        response = api_reveal(
            client_for(emergency_world.users[Role.VOLUNTEER]),
            check_101,
            {
                "resident_id": emergency_world.resident.pk,
                "purpose": "emergency_contact",
                "reason": "x",
            },
        )
    assert (response.status_code, response.json()["field"]) == (422, "reason")
    assert reveal_rows() == 0


def test_task_reveal_without_a_purpose_is_refused_naming_the_purpose(emergency_world, check_101):
    with time_machine.travel(EVENING, tick=False):
        response = api_reveal(
            client_for(emergency_world.users[Role.VOLUNTEER]),
            check_101,
            {"resident_id": emergency_world.resident.pk, "reason": "确认是否安全"},
        )
    assert (response.status_code, response.json()["field"]) == (422, "purpose")
    assert reveal_rows() == 0


def test_task_reveal_records_the_purpose_and_the_task_with_the_reason(emergency_world, check_101):
    with time_machine.travel(EVENING, tick=False):
        response = api_reveal(
            client_for(emergency_world.users[Role.VOLUNTEER]),
            check_101,
            {
                "resident_id": emergency_world.resident.pk,
                "purpose": "emergency_contact",
                "reason": "敲门无人应答",
            },
        )
    assert (response.status_code, response.json()) == (
        200,
        {"resident_id": emergency_world.resident.pk, "phone": "13812341234"},
    )
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.reason_code, entry.reason) == (
        "emergency_contact",
        f"Emergency task {check_101.pk}: 敲门无人应答",
    )


def test_other_purpose_needs_ten_characters_on_a_task_too(emergency_world, check_101):
    with time_machine.travel(EVENING, tick=False), pytest.raises(ValidationError) as error:
        reveal(emergency_world, check_101, purpose="other", reason="打个电话")
    assert error.value.message_dict == {
        "reason": ["Say in at least 10 characters why you need the full number."]
    }
    assert reveal_rows() == 0


def test_the_volunteer_holding_the_task_is_not_cut_off_by_the_daily_quota(
    emergency_world, check_101
):
    payload = {
        "resident_id": emergency_world.resident.pk,
        "purpose": "emergency_contact",
        "reason": "确认是否安全",
    }
    client = client_for(emergency_world.users[Role.VOLUNTEER])
    with time_machine.travel(EVENING, tick=False):
        answers = [api_reveal(client, check_101, payload).status_code for _ in range(31)]
    assert answers == [200] * 31
    assert reveal_rows() == 31


def test_staff_revealing_through_a_task_over_the_quota_get_429(emergency_world, check_101):
    world = emergency_world
    lead = world.users[Role.MICRO_GRID_LEAD]
    payload = {
        "resident_id": world.resident.pk,
        "purpose": "emergency_contact",
        "reason": "志愿者联系不上",
    }
    client = client_for(lead)
    with time_machine.travel(EVENING, tick=False):
        for _ in range(30):
            assert api_reveal(client, check_101, payload).status_code == 200
        response = api_reveal(client, check_101, payload)
    assert response.status_code == 429
    assert response.json() == {
        "message": "You have seen 30 full numbers today, the daily limit; nothing was shown. "
        "The limit resets at 2026-12-06 00:00.",
        "field": None,
    }
    assert response["Retry-After"] == str(4 * 3600)
    assert "13812341234" not in response.content.decode()
    assert reveal_rows() == 30


def test_task_reveals_and_registry_reveals_share_one_quota(emergency_world, check_101):
    world = emergency_world
    # The micro-grid lead may reveal in the registry and, as staff, on the task.
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(EVENING, tick=False):
        for _ in range(29):
            resident_reveal(
                user=lead,
                resident=world.neighbour,
                field="phone",
                purpose="visit_contact",
                reason="上门走访前联系",
            )
        task_phone_reveal(
            actor=lead,
            task=check_101,
            resident=world.resident,
            purpose="emergency_contact",
            reason="志愿者联系不上",
        )
        with pytest.raises(RevealQuotaExceeded):
            task_phone_reveal(
                actor=lead,
                task=check_101,
                resident=world.resident,
                purpose="emergency_contact",
                reason="志愿者联系不上",
            )
    assert reveal_rows() == 30


def test_task_reveals_alert_the_secretary_once(emergency_world, check_101):
    with time_machine.travel(EVENING, tick=False):
        for _ in range(25):
            reveal(emergency_world, check_101)
    alerts = Notification.objects.filter(kind="reveal_volume")
    assert [(alert.recipient, alert.title_params) for alert in alerts] == [
        (emergency_world.users[Role.SECRETARY], {"person": "volunteer", "count": 20})
    ]


def test_the_task_card_offers_the_purposes_with_emergency_contact_chosen(
    emergency_world, check_101
):
    with time_machine.travel(EVENING, tick=True):
        page = (
            client_for(emergency_world.users[Role.VOLUNTEER])
            .get(reverse("emergency:my_tasks"))
            .content.decode()
        )
    assert '<option value="emergency_contact" selected>' in page
    assert '<option value="visit_contact">' in page
    assert 'value="Calling the person this task is about"' in page
