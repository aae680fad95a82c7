"""Emergency fixtures on the shared world (linli/conftest.py).

`emergency_world` adds coordinates to the three buildings (1号楼 and 2号楼 of A社区 about
110 m apart, 9号楼 of C社区 far away), and two approved volunteers of A社区:

- 陈志愿 (the world's volunteer user, login "volunteer"), living in 1号楼, in the care team,
  skills elder_care and first_aid;
- 刘志愿 (login "volunteer2"), living in 2号楼, in the patrol team, skill repair.

`plan` is A社区's typhoon plan: welfare checks of households with an elderly person living
alone, a disabled or pregnant member (within 2 h, care team), building patrols from grade
II (patrol team), 8 tasks per volunteer. The world has two targeted households in A社区:
张桂英 (elderly_alone, 1号楼 101) and 王芳 (pregnant, 2号楼 201).
"""

from decimal import Decimal

import pytest

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.emergency.models import Plan, TaskTemplate
from linli.grids.models import Building
from linli.grids.services import role_assign
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English
from linli.volunteers.models import ServiceKind
from linli.volunteers.services import (
    team_member_add,
    teams_create_defaults,
    volunteer_review,
    volunteer_signup,
)

# A社区 around 31.2700 N, 121.4500 E; 2号楼 about 110 m north of 1号楼.
COORDINATES = {
    "1号楼": (Decimal("31.270000"), Decimal("121.450000")),
    "2号楼": (Decimal("31.271000"), Decimal("121.450000")),
    "9号楼": (Decimal("31.290000"), Decimal("121.470000")),
}


def add_volunteer(world, *, name, user, home_building, skills, team_kind, unit=None):
    secretary = world.users[Role.SECRETARY]
    volunteer = volunteer_signup(
        actor=secretary,
        grid_unit=unit or world.community,
        name=name,
        skills=skills,
        willingness=[team_kind],
        availability=["mon_am"],
        home_building=home_building,
        user=user,
        phone="13500001111",
        work_unit="A社区志愿者协会",
    )
    volunteer = volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
    team_member_add(actor=secretary, team=world.community_teams[team_kind], volunteer=volunteer)
    return volunteer


@pytest.fixture
def emergency_world(world):
    for name, (latitude, longitude) in COORDINATES.items():
        Building.objects.filter(name=name).update(latitude=latitude, longitude=longitude)
    world.building.refresh_from_db()
    secretary = world.users[Role.SECRETARY]
    world.community_teams = {
        team.kind: team
        for team in teams_create_defaults(community=world.community, actor=secretary)
    }
    buildings = {building.name: building for building in Building.objects.all()}
    world.volunteer = add_volunteer(
        world,
        name="陈志愿",
        user=world.users[Role.VOLUNTEER],
        home_building=buildings["1号楼"],
        skills=["elder_care", "first_aid"],
        team_kind=ServiceKind.CARE,
    )
    second_user = make_user("volunteer2")
    role_assign(user=second_user, role=Role.VOLUNTEER, grid_unit=world.community, post="volunteer")
    world.users["volunteer2"] = second_user
    world.second_volunteer = add_volunteer(
        world,
        name="刘志愿",
        user=second_user,
        home_building=buildings["2号楼"],
        skills=["repair"],
        team_kind=ServiceKind.PATROL,
    )
    world.buildings = buildings
    return world


@pytest.fixture
def plan(emergency_world):
    world = emergency_world
    plan = Plan.objects.create(
        grid_unit=world.community,
        grid_path=world.community.path,
        hazard="typhoon",
        name="A社区防台防汛预案",
        movement_rule="community",
        volunteer_capacity=8,
        acknowledge_minutes=15,
        retry_minutes=30,
        max_attempts=2,
    )
    TaskTemplate.objects.create(
        plan=plan,
        kind="welfare_check",
        title="独居老人等重点人群安全确认",
        target_tags=",disabled,elderly_alone,pregnant,",
        due_hours=2,
        required_team=ServiceKind.CARE,
        lowest_grade=4,
        sort_order=1,
    )
    TaskTemplate.objects.create(
        plan=plan,
        kind="patrol",
        title="楼道及地下室巡查",
        due_hours=4,
        required_team=ServiceKind.PATROL,
        lowest_grade=2,
        sort_order=2,
    )
    return plan
