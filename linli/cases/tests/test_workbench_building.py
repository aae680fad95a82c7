"""The workbench's building filter: the buildings on offer follow the user's posts, and a
chosen building narrows the queue without losing "overdue first"."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services import case_create
from linli.conftest import World
from linli.grids.services import building_create
from linli.testing.clients import client_for


def file_at(world: World, building, description: str, *, overdue: bool = False) -> Case:
    case = case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=CaseCategory.objects.get(code="SAF-01"),
        building=building,
        description=description,
        source=CaseSource.STAFF,
    )
    if overdue:
        Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    return case


def offered(response) -> list[tuple[str, str]]:
    return [(row["grid_unit__name"], row["name"]) for row in response.context["buildings"]]


def test_a_micro_grid_lead_is_offered_only_the_buildings_of_their_micro_grid(world):
    building_create(grid_unit=world.building_group, name="3号楼")
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(reverse("cases:workbench"))
    assert offered(response) == [("1号楼组", "1号楼"), ("1号楼组", "3号楼")]
    body = response.content.decode()
    assert '<optgroup label="1号楼组">' in body
    assert "2号楼" not in body


def test_a_secretary_is_offered_the_community_grouped_by_building_group(world):
    response = client_for(world.users[Role.SECRETARY]).get(reverse("cases:workbench"))
    assert offered(response) == [("1号楼组", "1号楼"), ("2号楼组", "2号楼")]
    body = response.content.decode()
    assert body.index('<optgroup label="1号楼组">') < body.index('<optgroup label="2号楼组">')


def test_the_building_filter_keeps_overdue_first(world):
    other = world.other_micro_grid_household.building
    fresh = file_at(world, world.building, "新堆物")
    late = file_at(world, world.building, "旧堆物", overdue=True)
    elsewhere = file_at(world, other, "2号楼堆物", overdue=True)
    client = client_for(world.users[Role.SECRETARY])

    everything = client.get(reverse("cases:workbench"))
    one_building = client.get(reverse("cases:workbench"), {"building": world.building.pk})

    assert list(everything.context["page"]) == [late, elsewhere, fresh]
    assert list(one_building.context["page"]) == [late, fresh]
    assert one_building.context["filters"]["building"] == str(world.building.pk)
    assert f'<option value="{world.building.pk}" selected>' in one_building.content.decode()


def test_the_building_filter_combines_with_the_state_filter(world):
    fresh = file_at(world, world.building, "新堆物")
    Case.objects.filter(pk=file_at(world, world.building, "已受理").pk).update(state="accepted")
    response = client_for(world.users[Role.SECRETARY]).get(
        reverse("cases:workbench"), {"building": world.building.pk, "state": "reported"}
    )
    assert list(response.context["page"]) == [fresh]


def test_a_building_outside_the_users_grids_is_no_filter(world):
    mine = file_at(world, world.building, "1号楼堆物")
    far = world.other_community_household.building
    file_at(world, far, "9号楼堆物")
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(
        reverse("cases:workbench"), {"building": far.pk}
    )
    assert list(response.context["page"]) == [mine]
    assert response.context["filters"]["building"] == ""


def test_the_building_choices_cost_one_query_whatever_their_number(world):
    client = client_for(world.users[Role.SECRETARY])
    client.get(reverse("cases:workbench"))  # warm the session and the scope
    for number in range(3, 13):
        building_create(grid_unit=world.other_building_group, name=f"{number}号楼")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("cases:workbench"))
    building_queries = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "grids_building"' in query["sql"]
    ]
    assert len(response.context["buildings"]) == 12
    assert len(building_queries) == 1
