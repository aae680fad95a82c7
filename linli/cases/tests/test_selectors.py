"""Who sees which cases."""

from datetime import timedelta

import pytest
from django.http import Http404

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory
from linli.cases.selectors import case_get, cases_visible, public_board, workbench
from linli.cases.services import case_create
from linli.grids.selectors import scope_for


def file(world, category, reporter_role=Role.RESIDENT, **kwargs):
    return case_create(
        reporter=world.users[reporter_role],
        category=category,
        description="楼道堆物",
        source="resident_report",
        **{"building": world.building, **kwargs},
    )


@pytest.fixture
def cases(world, category):
    here = file(world, category)
    other_grid = file(
        world, category, Role.SECRETARY, building=world.other_micro_grid_household.building
    )
    far = file(
        world, category, Role.STREET_ADMIN, building=world.other_community_household.building
    )
    return here, other_grid, far


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.STREET_ADMIN, {0, 1, 2}),
        (Role.SECRETARY, {0, 1}),
        (Role.MICRO_GRID_LEAD, {0}),
        (Role.BUILDING_GROUP_LEADER, {0}),
        (Role.RESIDENT, {0}),
        (Role.VOLUNTEER, set()),
        (Role.PARTNER_LIAISON, set()),
        ("anonymous", set()),
    ],
)
def test_cases_visible_per_role(world, cases, role, expected):
    visible = set(cases_visible(user=world.users[role]))
    assert visible == {cases[index] for index in expected}


def test_resident_sees_only_cases_they_reported(world, category, cases):
    lead_case = file(world, category, Role.MICRO_GRID_LEAD)
    assert lead_case not in cases_visible(user=world.users[Role.RESIDENT])


def test_case_get_outside_scope_is_404(world, cases):
    with pytest.raises(Http404):
        case_get(user=world.users[Role.MICRO_GRID_LEAD], case_id=cases[1].pk)
    assert case_get(user=world.users[Role.SECRETARY], case_id=cases[1].pk) == cases[1]


def test_workbench_puts_overdue_first_then_due(world, category, cases, django_assert_num_queries):
    secretary = world.users[Role.SECRETARY]
    here, other_grid, _far = cases
    charging = file(world, CaseCategory.objects.get(code="SAF-02"))
    Case.objects.filter(pk=other_grid.pk).update(due_at=here.due_at - timedelta(days=10))
    scope_for(secretary)  # computed once per request; cached on the user
    with django_assert_num_queries(1):
        queue = list(workbench(user=secretary))
        [case.category.name_zh for case in queue]
    assert queue == [other_grid, charging, here]
    assert list(workbench(user=secretary, building=world.building)) == [charging, here]
    assert list(workbench(user=secretary, category=category, state="reported")) == [
        other_grid,
        here,
    ]


def test_public_board_has_no_names_or_rooms(world, category, cases):
    dispute = file(world, CaseCategory.objects.get(code="NEI-01"))
    board = public_board(community=world.community)
    assert [row["reference"] for row in board] == [cases[1].reference, cases[0].reference]
    assert dispute.reference not in {row["reference"] for row in board}
    assert set(board[0]) == {
        "reference",
        "category__name_zh",
        "category__name_en",
        "state",
        "created_at",
        "building__name",
    }


def test_board_is_offered_for_the_community_around_each_post_and_home(world):
    from linli.cases.selectors import board_communities

    assert board_communities(user=world.users[Role.STREET_ADMIN]) == [
        world.community,
        world.other_community,
    ]
    assert board_communities(user=world.users[Role.MICRO_GRID_LEAD]) == [world.community]
    assert board_communities(user=world.users[Role.RESIDENT]) == [world.community]
    assert board_communities(user=world.users[Role.VOLUNTEER]) == []
