"""A household never visited belongs at the top of the unvisited list, not outside it."""

from datetime import timedelta

from django.utils import timezone

from linli.accounts.roles import Role
from linli.grids.services import visit_record
from linli.resilience.engine import REGISTRY, Unit, context_for


def test_never_visited_households_lead_the_thirty_day_drill_down(world):
    visit_record(
        visitor=world.users[Role.BUILDING_GROUP_LEADER],
        household=world.neighbour_household,
        method="door",
        visited_at=timezone.now() - timedelta(days=40),
    )
    context = context_for(world.community)
    unit = Unit(world.community.id, world.community.path, "community", world.community.name)
    rows = REGISTRY["S_VISIT_30D"].drilldown(context, unit, world.users[Role.SECRETARY])
    assert [row[0] for row in rows.rows] == ["1号楼 101", "2号楼 201", "1号楼 102"]
    assert [row[-1] for row in rows.rows][:2] == ["—", "—"]
    assert rows.total == 3
