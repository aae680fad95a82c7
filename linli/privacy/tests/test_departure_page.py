"""The resident page's "Moving out and erasure" page, as a secretary uses it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.grids.models import Resident

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def page(world):
    return reverse("privacy:resident_departure", args=[world.neighbour.pk])


def test_the_secretary_records_a_move_out_and_the_resident_page_says_so(client, world):
    client.force_login(world.users[Role.SECRETARY])

    response = client.post(page(world), {"action": "move_out", "moved_out_on": "2027-03-01"})

    assert response.status_code == 302
    assert Resident.objects.get(pk=world.neighbour.pk).moved_out_on == date(2027, 3, 1)
    detail = client.get(reverse("grids:resident_detail", args=[world.neighbour.pk]))
    assert "2027-03-01迁出" in detail.content.decode()


def test_erasing_without_ticking_the_confirmation_writes_nothing(client, world):
    client.force_login(world.users[Role.SECRETARY])

    response = client.post(page(world), {"action": "anonymise", "reason": "本人书面申请删除"})

    assert response.status_code == 400
    assert 'id="id_confirm"' in response.content.decode()
    assert Resident.objects.get(pk=world.neighbour.pk).name == "李建国"
    assert not AuditEntry.objects.filter(action=AuditAction.ANONYMISE).exists()


def test_the_secretary_erases_a_resident_at_their_request(client, world):
    client.force_login(world.users[Role.SECRETARY])

    response = client.post(
        page(world), {"action": "anonymise", "reason": "本人书面申请删除", "confirm": "on"}
    )

    assert response.status_code == 302
    assert Resident.objects.get(pk=world.neighbour.pk).name == "（已匿名）"
    assert AuditEntry.objects.get(action=AuditAction.ANONYMISE).reason == "本人书面申请删除"


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_people_who_may_not_change_residents_do_not_find_the_page(client, world, role):
    client.force_login(world.users[role])

    assert client.get(page(world)).status_code == 404
    assert (
        client.post(
            page(world), {"action": "anonymise", "reason": "本人书面申请删除", "confirm": "on"}
        ).status_code
        == 404
    )
    assert Resident.objects.get(pk=world.neighbour.pk).anonymised_at is None
