"""The live board: exact figures for the secretary, a micro-grid lead's part only, 404 for
those who follow no part of it, and a bounded number of queries for the polled partial.

At grade IV the plan makes one welfare check for each targeted household: 张桂英 (1号楼
101, micro-grid A1) and 王芳 (2号楼 201, micro-grid A2), both held by 陈志愿.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.board import board_data
from linli.emergency.models import PlanSupplyMinimum, Task
from linli.supplies.services import stock_location_create, supply_item_create
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db


def _start(world, plan, *, grade=4):
    return services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=grade,
        is_drill=True,
    )


def _testid(body: str, name: str) -> str:
    marker = f'data-testid="{name}">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


@pytest.fixture
def live(emergency_world, plan):
    """The activation after 陈志愿 found 张桂英 safe, and 王芳's household asked for urgent
    medical help."""
    world = emergency_world
    activation = _start(world, plan)
    task = Task.objects.get(activation=activation, household=world.household)
    services.task_report(actor=world.users[Role.VOLUNTEER], task=task, outcome="safe")
    services.help_request_create(
        actor=world.users[Role.SECRETARY],
        household=world.other_micro_grid_household,
        kind="medical",
        urgency=1,
        description="孕妇腹痛",
        on_behalf=True,
    )
    return activation


def test_board_shows_exact_figures_to_the_secretary(emergency_world, live):
    world = emergency_world
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:board", args=[live.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-trigger="every 5s"' in body
    assert reverse("emergency:board_live", args=[live.pk]) in body
    assert _testid(body, "coverage-share") == "50.0%"
    assert _testid(body, "coverage-contacted") == "1"
    assert _testid(body, "coverage-targeted") == "2"
    assert _testid(body, "tasks-total") == "2"
    assert _testid(body, "tasks-done") == "1"
    assert _testid(body, "tasks-open") == "1"
    assert _testid(body, "tasks-overdue") == "0"
    assert _testid(body, "help-open") == "1"
    assert _testid(body, "help-urgency-1") == "1"
    # 陈志愿 reported a moment ago; 刘志愿 has done nothing yet.
    assert _testid(body, "volunteers-active") == "1"
    assert _testid(body, "volunteers-idle") == "1"
    assert _testid(body, "volunteers-unavailable") == "0"
    assert 'class="life-threatening"' in body


def test_board_partial_returns_the_figures_alone(emergency_world, live):
    client = client_for(emergency_world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:board_live", args=[live.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert _testid(body, "coverage-share") == "50.0%"
    assert _testid(body, "help-open") == "1"


def test_micro_grid_lead_sees_only_their_part(emergency_world, live):
    world = emergency_world
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    body = client.get(reverse("emergency:board_live", args=[live.pk])).content.decode()
    # Only 张桂英 (A1) is theirs: reached, so 100 %; 王芳's help request (A2) is not shown.
    assert _testid(body, "coverage-targeted") == "1"
    assert _testid(body, "coverage-share") == "100.0%"
    assert _testid(body, "tasks-total") == "1"
    assert _testid(body, "help-open") == "0"
    assert "孕妇腹痛" not in body
    assert "Your part of the scope only." in body
    # 陈志愿 lives in 1号楼 (theirs); 刘志愿 lives in 2号楼 (the other micro-grid).
    assert _testid(body, "volunteers-active") == "1"
    assert _testid(body, "volunteers-idle") == "0"


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER])
def test_board_is_404_for_residents_and_volunteers(emergency_world, live, role):
    client = client_for(emergency_world.users[role])
    assert client.get(reverse("emergency:board", args=[live.pk])).status_code == 404
    assert client.get(reverse("emergency:board_live", args=[live.pk])).status_code == 404


def test_board_of_another_community_is_404(client, emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    other_secretary_user = world.users[Role.PARTNER_LIAISON]  # no emergency permission
    client.force_login(other_secretary_user)
    assert client.get(reverse("emergency:board", args=[activation.pk])).status_code == 404


def test_board_partial_runs_a_bounded_number_of_queries(
    emergency_world, live, django_assert_max_num_queries
):
    client = client_for(emergency_world.users[Role.SECRETARY])
    url = reverse("emergency:board_live", args=[live.pk])
    client.get(url)  # warm the session and caches
    # Four for the session, the user and their scope; one for the activation; at most ten
    # for the board's figures and lists, however large the scope.
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200


def test_unassigned_tasks_are_listed_with_their_reason(
    emergency_world, live, django_assert_max_num_queries
):
    world = emergency_world
    services.volunteer_mark_unavailable(
        actor=world.users[Role.SECRETARY],
        activation=live,
        volunteer=world.volunteer,
        reason="所在楼栋封控",
    )
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("emergency:board_live", args=[live.pk])
    client.get(url)
    # The two extra lists (reasons, unassigned tasks) stay within the same bound.
    with django_assert_max_num_queries(15):
        body = client.get(url).content.decode()
    assert _testid(body, "tasks-unassigned") == "1"
    assert _testid(body, "volunteers-unavailable") == "1"
    assert "No available volunteer of the required team: <b>1</b>" in body
    assert "Not assigned: no available volunteer here is in the Care and assistance team." in body
    assert "陈志愿: 所在楼栋封控" in body


def test_overdue_tasks_are_counted_and_listed(emergency_world, live):
    world = emergency_world
    later = timezone.now() + timedelta(hours=3)  # the checks were due within 2 hours
    board = board_data(live, world.users[Role.SECRETARY], now=later)
    assert board.overdue_count == 1
    assert [task.household for task in board.overdue] == [world.other_micro_grid_household]


def test_coverage_curve_rises_at_the_first_contact(emergency_world, live):
    world = emergency_world
    task = Task.objects.get(activation=live, household=world.household)
    board = board_data(
        live, world.users[Role.SECRETARY], now=live.activated_at + timedelta(minutes=120)
    )
    before = [p.contacted for p in board.curve if p.at < task.contacted_at]
    after = [p.contacted for p in board.curve if p.at >= task.contacted_at]
    assert set(before) <= {0}
    assert set(after) == {1}
    assert board.curve[-1].share == 50.0
    assert len(board.curve) == 13


def test_supplies_below_minimum_and_plan_minimums(emergency_world, live):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    location = stock_location_create(actor=secretary, grid_unit=world.community, name="医药箱")
    supply_item_create(
        actor=secretary,
        location=location,
        name="矿泉水",
        category="water",
        unit="箱",
        minimum_level=10,
        quantity=4,
    )
    supply_item_create(
        actor=secretary,
        location=location,
        name="方便面",
        category="food",
        unit="箱",
        minimum_level=2,
        quantity=5,
    )
    PlanSupplyMinimum.objects.create(plan=live.plan, category="water", minimum_quantity=20)
    PlanSupplyMinimum.objects.create(plan=live.plan, category="food", minimum_quantity=5)
    board = board_data(live, secretary)
    assert [item.name for item in board.supplies_below] == ["矿泉水"]
    assert [(row["category"], row["quantity"], row["short"]) for row in board.supply_minimums] == [
        ("food", 5, False),
        ("water", 4, True),
    ]
