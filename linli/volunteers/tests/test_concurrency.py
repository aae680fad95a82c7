"""Two staff filling the last place of a team at once, and two reviews of one application:
exactly one wins (PostgreSQL row locks)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.volunteers.models import TeamMembership, Volunteer
from linli.volunteers.services import (
    team_member_add,
    team_update,
    teams_create_defaults,
    volunteer_review,
)
from linli.volunteers.tests.conftest import register

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_staff_adding_to_the_last_place_one_wins():
    world = build_world()
    secretary, admin = world.users[Role.SECRETARY], world.users[Role.STREET_ADMIN]
    team = teams_create_defaults(community=world.community)[1]
    team_update(actor=secretary, team=team, target_size=1)
    first, second = register(world, name="甲"), register(world, name="乙")

    errors = run_together(
        lambda: team_member_add(actor=secretary, team=team, volunteer=first),
        lambda: team_member_add(actor=admin, team=team, volunteer=second),
    )

    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    # Threads run in the default language: compare the field and code, not the words.
    assert [error.code for error in errors[0].error_dict["team"]] == ["conflict"]
    assert TeamMembership.objects.current().filter(team=team).count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_and_reject_at_once_one_decision_stands():
    world = build_world()
    applicant = register(world, approve=False)
    errors = run_together(
        lambda: volunteer_review(
            actor=world.users[Role.SECRETARY], volunteer=applicant, approve=True
        ),
        lambda: volunteer_review(
            actor=world.users[Role.STREET_ADMIN], volunteer=applicant, approve=False, note="重复"
        ),
    )
    assert len(errors) == 1
    assert [error.code for error in errors[0].error_dict["status"]] == ["conflict"]
    assert Volunteer.objects.get(pk=applicant.pk).status in ("approved", "rejected")
