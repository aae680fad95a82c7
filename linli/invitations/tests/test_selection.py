"""Which households a batch invites: a building, a unit, the elderly living alone — only
inside the inviting person's scope, and without the households that already have a login
unless asked."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from linli.accounts.roles import Role
from linli.invitations.models import Invitation, InvitationBatch
from linli.invitations.selectors import household_selection
from linli.invitations.tests.conftest import invite

pytestmark = pytest.mark.django_db


def rooms(result) -> list[str]:
    return [issued.household.room for issued in result.issued]


def test_a_building_invites_its_households_without_a_login(world, more):
    result = invite(world.users[Role.SECRETARY], building=world.building)

    assert rooms(result) == ["102", "103"]
    assert result.skipped_registered == 1
    batch = result.batch
    assert (batch.description, batch.selection, batch.count, batch.skipped_registered) == (
        "1号楼",
        "building",
        2,
        1,
    )
    assert batch.grid_path == world.building_group.path
    # The household's contact: the first current resident, with a phone when one has it.
    assert [issued.resident for issued in result.issued] == [world.neighbour, more["sun"]]


def test_households_with_a_login_are_invited_too_when_skipping_is_off(world, more):
    result = invite(world.users[Role.SECRETARY], building=world.building, skip_registered=False)

    assert rooms(result) == ["101", "102", "103"]
    assert result.skipped_registered == 0


def test_a_micro_grid_invites_every_household_below_it(world, more):
    result = invite(
        world.users[Role.SECRETARY],
        kind="grid_unit",
        grid_unit=world.community,
        skip_registered=False,
    )

    assert rooms(result) == ["101", "102", "103", "201"]
    assert result.batch.description == "A社区"


def test_the_micro_grid_lead_invites_their_own_building_group(world, more):
    result = invite(
        world.users[Role.MICRO_GRID_LEAD], kind="grid_unit", grid_unit=world.building_group
    )

    assert rooms(result) == ["102", "103"]


def test_elderly_alone_are_found_in_the_whole_scope_and_only_there(world, more):
    secretary = world.users[Role.SECRETARY]
    result = invite(secretary, kind="elderly_alone", skip_registered=False)

    # 周大爷 in community C is outside the secretary's scope.
    assert rooms(result) == ["101", "103"]
    assert [issued.resident for issued in result.issued] == [world.resident, more["sun"]]
    assert result.batch.description == "Elderly living alone"
    assert result.batch.grid_path == world.community.path


def test_the_street_administrator_finds_the_elderly_alone_of_every_community(world, more):
    result = invite(world.users[Role.STREET_ADMIN], kind="elderly_alone")

    assert rooms(result) == ["103", "902"]
    assert result.batch.grid_path == world.street.path


def test_elderly_alone_in_one_unit(world, more):
    result = invite(
        world.users[Role.STREET_ADMIN], kind="elderly_alone", grid_unit=world.other_community
    )

    assert rooms(result) == ["902"]
    assert result.batch.description == "Elderly living alone · C社区"


def test_a_resident_who_moved_out_is_not_invited_as_elderly_alone(world, more):
    from datetime import date

    more["sun"].moved_out_on = date(2026, 1, 1)
    more["sun"].save()

    with pytest.raises(ValidationError) as refused:
        invite(world.users[Role.SECRETARY], kind="elderly_alone")

    assert refused.value.message_dict == {
        "selection": [
            "No household to invite: every household here already has a login, or none was found."
        ]
    }
    assert not InvitationBatch.objects.exists()


@pytest.mark.parametrize(
    ("role", "kind", "target"),
    [
        (Role.SECRETARY, "building", "far_building"),
        (Role.SECRETARY, "grid_unit", "other_community"),
        (Role.SECRETARY, "elderly_alone", "other_community"),
        (Role.MICRO_GRID_LEAD, "building", "other_building"),
        (Role.MICRO_GRID_LEAD, "grid_unit", "community"),
        (Role.MICRO_GRID_LEAD, "grid_unit", "other_micro_grid"),
        (Role.BUILDING_GROUP_LEADER, "building", "building"),
        (Role.RESIDENT, "grid_unit", "building_group"),
    ],
)
def test_a_building_or_unit_outside_the_scope_is_not_found(world, more, role, kind, target):
    from linli.grids.models import Building

    targets = {
        "far_building": Building.objects.get(name="9号楼"),
        "other_building": Building.objects.get(name="2号楼"),
        "building": world.building,
    }
    thing = targets.get(target) or getattr(world, target)
    with pytest.raises(Http404):
        household_selection(
            user=world.users[role],
            kind=kind,
            building_id=thing.pk if kind == "building" else None,
            grid_unit_id=thing.pk if kind != "building" else None,
        )
    assert not Invitation.objects.exists()


def test_a_selection_built_outside_the_actor_scope_is_refused_by_the_service(world, more):
    """The service checks the households again: a selection made by someone else is not
    a way round the scope."""
    from linli.invitations.services import invitations_create

    street_selection = household_selection(
        user=world.users[Role.STREET_ADMIN], kind="grid_unit", grid_unit_id=world.street.pk
    )
    with pytest.raises(Http404):
        invitations_create(
            actor=world.users[Role.SECRETARY],
            households=street_selection,
            resident_filter="",
            days=30,
            channel="letter",
        )
    assert not InvitationBatch.objects.exists()
