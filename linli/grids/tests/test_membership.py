"""Who belongs to a community: the one definition (linli.grids.membership)."""

import pytest

from linli.accounts.models import User
from linli.grids.membership import is_member, member_community_ids
from linli.grids.models import ResidentAccount
from linli.volunteers.models import VolunteerStatus
from linli.volunteers.services import volunteer_review, volunteer_signup

pytestmark = pytest.mark.django_db


def test_a_post_makes_its_holder_a_member_of_the_community_above_it(world):
    assert member_community_ids(user=world.users["micro_grid_lead"]) == [world.community.pk]
    assert member_community_ids(user=world.users["partner_liaison"]) == [world.community.pk]
    assert member_community_ids(user=world.users["street_admin"]) == []


def test_a_resident_linked_only_by_their_login_belongs_to_their_community(world):
    # Linked through the admin: a login row and no post. The activities and the
    # deliberation hall read this, so such a resident sees their community's activities.
    person = User.objects.create_user(username="linked", password="x")
    ResidentAccount.objects.create(resident=world.other_community_resident, user=person)
    assert member_community_ids(user=person) == [world.other_community.pk]
    assert is_member(user=person, community=world.other_community)
    assert not is_member(user=person, community=world.community)


def test_an_approved_volunteer_belongs_and_an_applicant_does_not(world):
    person = User.objects.create_user(username="helper", password="x")
    volunteer = volunteer_signup(
        actor=person,
        skills=[],
        willingness=[],
        availability=[],
        grid_unit=world.other_community,
        name="陈志愿",
        phone="13500001111",
        work_unit="区图书馆",
    )
    assert volunteer.status == VolunteerStatus.APPLIED
    assert member_community_ids(user=person) == []
    volunteer_review(actor=world.users["street_admin"], volunteer=volunteer, approve=True)
    person = User.objects.get(pk=person.pk)
    assert member_community_ids(user=person) == [world.other_community.pk]


def test_nobody_signed_out_or_deactivated_is_a_member(world):
    resident = world.users["resident"]
    resident.is_active = False
    assert member_community_ids(user=resident) == []
    assert member_community_ids(user=None) == []
