"""Staff hear of a new correction request: the staff who may handle it (EDIT_REGISTRY on a
unit covering the household) get an inbox notification linking to it, and their home page
counts the open requests in their area."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import resident_account_link, role_assign
from linli.notify.models import Notification
from linli.privacy.corrections import correction_request_create, correction_request_decline

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def ask(user, resident, value="13812349999"):
    return correction_request_create(
        user=user, resident=resident, field="phone", requested_value=value
    )


def told(kind="privacy_correction_open") -> list[tuple[str, str, dict, str]]:
    return [
        (n.recipient.username, n.title_template, n.title_params, n.link)
        for n in Notification.objects.filter(kind=kind).order_by("recipient__username")
    ]


def test_a_new_request_is_announced_to_the_staff_covering_the_household_only(world):
    correction = ask(world.users[Role.RESIDENT], world.resident)
    link = f"/privacy/corrections/{correction.pk}/"
    title = "Correction request #%(number)s waits for you"
    params = {"number": correction.pk}
    # Not the building-group leader (no EDIT_REGISTRY), the volunteer, the partner, nor the
    # resident who asked.
    assert told() == [
        ("micro_grid_lead", title, params, link),
        ("secretary", title, params, link),
        ("street_admin", title, params, link),
    ]


def test_a_request_of_the_other_micro_grid_is_not_announced_to_this_micro_grids_lead(world):
    # A login of 2号楼 201 (A2): the lead of A1 does not cover it.
    user = make_user("wang")
    role_assign(
        user=user, role=Role.RESIDENT, grid_unit=world.other_building_group, post="resident"
    )
    resident_account_link(resident=world.other_micro_grid_resident, user=user)
    ask(user, world.other_micro_grid_resident)
    assert [username for username, *_ in told()] == ["secretary", "street_admin"]


def test_staff_who_ask_about_their_own_household_are_not_told_of_their_own_request(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    resident_account_link(resident=world.neighbour, user=lead)
    ask(lead, world.neighbour)
    assert [username for username, *_ in told()] == ["secretary", "street_admin"]


def home_of(world, role) -> str:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.users[role])
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


COUNT_LINK = '<a href="/privacy/corrections/" data-testid="open-corrections">'


def test_the_home_page_counts_the_open_requests_in_the_staff_members_area(world):
    resident_user = world.users[Role.RESIDENT]
    first = ask(resident_user, world.resident)
    ask(resident_user, world.resident, value="13812348888")
    ask(resident_user, world.resident, value="13812347777")
    correction_request_decline(
        actor=world.users[Role.SECRETARY], correction=first, reason="号码未变，无需更正"
    )
    # Two open requests in 1号楼: the lead of A1, the secretary and the administrator see 2.
    for role in (Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN):
        expected = f"{COUNT_LINK}2 personal information correction requests wait</a>"
        assert expected in home_of(world, role), role
    for role in (Role.RESIDENT, Role.VOLUNTEER, Role.BUILDING_GROUP_LEADER):
        assert "open-corrections" not in home_of(world, role), role


def test_the_count_is_absent_at_zero_and_singular_at_one(world):
    assert "open-corrections" not in home_of(world, Role.SECRETARY)
    ask(world.users[Role.RESIDENT], world.resident)
    expected = f"{COUNT_LINK}1 personal information correction request waits</a>"
    assert expected in home_of(world, Role.SECRETARY)
