"""A provider serves its whole community, not only the building group it signed up in."""

import pytest
from django.core.exceptions import ValidationError

from linli.partners.models import Claim
from linli.partners.services import claim_need
from linli.partners.tests.conftest import serving_volunteer


def test_a_volunteer_of_another_building_group_claims_a_need_in_the_same_community(lists):
    world = lists.world
    # Registered in micro-grid A2's building group; the need is in A1's building 1号楼.
    neighbour = serving_volunteer(world, name="邻居", grid_unit=world.other_building_group)
    claim = claim_need(actor=world.users["secretary"], need=lists.need, volunteer=neighbour)
    assert (claim.volunteer, claim.quantity, claim.state) == (neighbour, 1, "claimed")


def test_a_volunteer_of_another_community_may_not_claim(lists):
    world = lists.world
    outsider = serving_volunteer(world, name="外社区", grid_unit=world.other_community)
    with pytest.raises(ValidationError) as error:
        claim_need(actor=world.users["street_admin"], need=lists.need, volunteer=outsider)
    assert list(error.value.message_dict) == ["need"]
    assert Claim.objects.count() == 0
