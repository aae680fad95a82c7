"""Fixtures for partners and the three lists, built on the shared `world`.

`lists` adds to the world: a partner unit of community A with a valid agreement and the
partner-liaison login linked to it, a serving volunteer record for the volunteer login,
and an open need of household 101 (beneficiary 张桂英) for 2 visits.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.conftest import World
from linli.grids.models import Building
from linli.partners.models import Need, Partner
from linli.partners.services import agreement_add, liaison_link, need_create, partner_create
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English
from linli.volunteers.models import Volunteer, VolunteerOrigin, VolunteerStatus, encode_codes


@dataclass
class Lists:
    world: World
    partner: Partner
    volunteer: Volunteer
    need: Need


def serving_volunteer(
    world: World,
    *,
    user=None,
    name="志愿者",
    skills=("elder_care",),
    slots=("thu_pm",),
    building: Building | None = None,
    grid_unit=None,
) -> Volunteer:
    # The volunteers app owns sign-up and review; these tests only need an approved record.
    unit = grid_unit or world.community
    return Volunteer.objects.create(
        user=user,
        origin=VolunteerOrigin.OUTSIDE,
        name=name,
        grid_unit=unit,
        grid_path=unit.path,
        home_building=building,
        skills=encode_codes(skills),
        availability=encode_codes(slots),
        status=VolunteerStatus.APPROVED,
    )


def build_lists(world: World) -> Lists:
    secretary = world.users[Role.SECRETARY]
    partner = partner_create(
        actor=secretary,
        community=world.community,
        name="静安区人民法院",
        partner_type="court",
        contact_name="乔法官",
        contact_phone="13512345678",
        offers="法律咨询",
    )
    today = timezone.localdate()
    agreement_add(
        actor=secretary,
        partner=partner,
        title="共建协议",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=335),
    )
    liaison_link(actor=secretary, partner=partner, user=world.users[Role.PARTNER_LIAISON])
    volunteer = serving_volunteer(world, user=world.users[Role.VOLUNTEER], name="陈志愿")
    need = need_create(
        actor=secretary,
        category="elder_care",
        title="每周助餐送餐",
        quantity=2,
        unit="次",
        household=world.household,
        beneficiary=world.resident,
        urgency="high",
    )
    return Lists(world=world, partner=partner, volunteer=volunteer, need=need)


@pytest.fixture
def lists(world) -> Lists:
    return build_lists(world)


def a_date(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
