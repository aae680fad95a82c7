"""Concurrency on PostgreSQL: two people acting at once must not corrupt the registry."""

import pytest
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.grids.models import RoleAssignment, Visit
from linli.grids.services import role_assign, visit_record

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_assigning_the_same_post_twice_at_once_keeps_one_assignment():
    world = build_world()
    volunteer = world.users[Role.VOLUNTEER]
    before = RoleAssignment.objects.count()

    def assign():
        role_assign(
            user=volunteer,
            role=Role.MICRO_GRID_LEAD,
            grid_unit=world.micro_grid,
            post="social_worker_lead",
        )

    assert run_together(assign, assign) == []
    assert RoleAssignment.objects.count() == before + 1


@pytest.mark.django_db(transaction=True)
def test_two_leaders_recording_visits_at_once_both_land():
    world = build_world()

    def visit(user):
        return lambda: visit_record(
            visitor=user, household=world.household, method="door", finding="ok"
        )

    errors = run_together(
        visit(world.users[Role.BUILDING_GROUP_LEADER]), visit(world.users[Role.MICRO_GRID_LEAD])
    )
    assert errors == []
    assert sorted(Visit.objects.values_list("visitor__username", flat=True)) == [
        "building_group_leader",
        "micro_grid_lead",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_create_each_row_once():
    from linli.grids.importing import registry_import
    from linli.grids.models import Building, Household, Resident
    from linli.grids.tests.test_importing import GOOD_ROWS, csv_bytes

    world = build_world()
    secretary = world.users[Role.SECRETARY]
    before = (Building.objects.count(), Household.objects.count(), Resident.objects.count())
    reports = []

    def run_import():
        reports.append(
            registry_import(actor=secretary, source=csv_bytes(GOOD_ROWS), filename="residents.csv")
        )

    assert run_together(run_import, run_import) == []
    # The import locks the registry tables, so the second waits and then finds every row.
    assert sorted(report.residents.created for report in reports) == [0, 5]
    assert sorted(report.residents.unchanged for report in reports) == [0, 5]
    assert (Building.objects.count(), Household.objects.count(), Resident.objects.count()) == (
        before[0] + 1,
        before[1] + 3,
        before[2] + 5,
    )
