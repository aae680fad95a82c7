"""Logins fixtures on the shared world (linli/conftest.py).

`logins_world` adds two logins beside the world's one-per-role:

- "c_secretary", the secretary of C社区 (outside A社区's secretary's area);
- "shared", the micro-grid lead of A2 (in A社区) who is also the building-group leader of
  C1-1 (in C社区): in both secretaries' areas, each changing only the post in their own.
"""

import pytest

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.models import GridUnit
from linli.grids.services import role_assign
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English


@pytest.fixture
def logins_world(world):
    c_secretary = make_user("c_secretary")
    role_assign(
        user=c_secretary,
        role=Role.SECRETARY,
        grid_unit=world.other_community,
        post="party_secretary",
    )
    shared = make_user("shared")
    role_assign(
        user=shared,
        role=Role.MICRO_GRID_LEAD,
        grid_unit=world.other_micro_grid,
        post="micro_grid_head",
    )
    role_assign(
        user=shared,
        role=Role.BUILDING_GROUP_LEADER,
        grid_unit=GridUnit.objects.get(code="C1-1"),
        post="building_group_head",
    )
    world.users["c_secretary"] = c_secretary
    world.users["shared"] = shared
    return world
