"""Scope of the list selectors, matching on a worked example, and redundancy flags."""

from decimal import Decimal

from linli.accounts.roles import Role
from linli.grids.models import Building
from linli.partners import selectors
from linli.partners.services import (
    agreement_add,
    claim_need,
    claim_transition,
    need_create,
    partner_create,
    resource_offer,
)
from linli.partners.tests.conftest import a_date, serving_volunteer


def test_provider_sees_open_needs_of_own_community_only(lists):
    world = lists.world
    need_create(
        actor=world.users[Role.STREET_ADMIN],
        category="food",
        title="C社区",
        household=world.other_community_household,
    )
    liaison = world.users[Role.PARTNER_LIAISON]
    assert [n.title for n in selectors.open_needs_for_provider(user=liaison)] == ["每周助餐送餐"]
    assert [n.title for n in selectors.needs_visible(user=world.users[Role.VOLUNTEER])] == [
        "每周助餐送餐"
    ]


def test_a_claimed_need_stays_visible_to_its_claimant_only(lists):
    world = lists.world
    claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, quantity=2, partner=lists.partner
    )
    assert selectors.needs_visible(user=world.users[Role.PARTNER_LIAISON]).count() == 1
    assert selectors.needs_visible(user=world.users[Role.VOLUNTEER]).count() == 0
    assert selectors.open_needs_for_provider(user=world.users[Role.PARTNER_LIAISON]).count() == 0


def test_residents_see_their_own_household_needs_only(lists):
    world = lists.world
    need_create(
        actor=world.users[Role.SECRETARY],
        category="repair",
        title="邻居",
        household=world.neighbour_household,
    )
    assert [n.title for n in selectors.needs_visible(user=world.users[Role.RESIDENT])] == [
        "每周助餐送餐"
    ]


def test_claims_are_seen_by_staff_provider_and_beneficiary_not_other_providers(lists):
    world = lists.world
    claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, quantity=1, partner=lists.partner
    )
    counts = {
        role: selectors.claims_visible(user=world.users[role]).count() for role in Role.values
    }
    assert counts == {
        Role.STREET_ADMIN: 1,
        Role.SECRETARY: 1,
        Role.MICRO_GRID_LEAD: 1,
        Role.BUILDING_GROUP_LEADER: 0,
        Role.VOLUNTEER: 0,
        Role.PARTNER_LIAISON: 1,
        Role.RESIDENT: 1,
    }


def test_mask_name_keeps_only_the_surname():
    assert [selectors.mask_name(n) for n in ("张桂英", "李四", "")] == ["张**", "李*", ""]


def _place(building: Building, latitude: str, longitude: str) -> None:
    Building.objects.filter(pk=building.pk).update(
        latitude=Decimal(latitude), longitude=Decimal(longitude)
    )
    building.refresh_from_db()


def test_matching_ranks_by_fit_distance_availability_and_reliability(world):
    secretary = world.users[Role.SECRETARY]
    _place(world.building, "31.230000", "121.470000")
    near = partner_create(
        actor=secretary,
        community=world.community,
        name="近的助老中心",
        partner_type="social_organisation",
        latitude=Decimal("31.230900"),
        longitude=Decimal("121.470000"),
    )
    far = partner_create(
        actor=secretary,
        community=world.community,
        name="远的养老院",
        partner_type="business",
        latitude=Decimal("31.248000"),
        longitude=Decimal("121.470000"),
    )
    for partner in (near, far):
        agreement_add(
            actor=secretary,
            partner=partner,
            title="协议",
            starts_on=a_date(-10),
            ends_on=a_date(300),
        )
    near_offer = resource_offer(
        actor=secretary,
        partner=near,
        kind="people",
        category="elder_care",
        title="上门助老",
        quantity=2,
    )
    far_offer = resource_offer(
        actor=secretary,
        partner=far,
        kind="people",
        category="elder_care",
        title="助老服务",
        quantity=1,
    )
    resource_offer(
        actor=secretary,
        partner=near,
        kind="professional",
        category="legal",
        title="不相干",
        quantity=9,
    )
    # The far home has one finished claim, confirmed: full reliability.
    earlier = need_create(
        actor=secretary, category="elder_care", title="楼组助老", grid_unit=world.building_group
    )
    claim = claim_need(actor=secretary, need=earlier, partner=far)
    for action in ("start", "deliver"):
        claim = claim_transition(claim=claim, actor=secretary, action=action)
    # Whoever claimed it for the home does not confirm it (issue 13): another staff member.
    claim = claim_transition(claim=claim, actor=world.users[Role.MICRO_GRID_LEAD], action="confirm")
    carer = serving_volunteer(
        world,
        name="王阿姨",
        skills=("elder_care",),
        slots=("mon_am", "wed_am", "fri_pm"),
        building=world.building,
    )
    serving_volunteer(world, name="护士小李", skills=("nursing",), slots=())
    serving_volunteer(world, name="司机老赵", skills=("driving",))
    need = need_create(
        actor=secretary, category="elder_care", title="助餐", quantity=2, household=world.household
    )

    matches = selectors.match_suggestions(need=need)

    assert [(m.kind, m.name, m.score) for m in matches] == [
        ("volunteer", "王阿姨", 92.5),
        ("resource", "上门助老", 91.5),
        ("resource", "助老服务", 72.5),
        ("volunteer", "护士小李", 47.5),
    ]
    assert (
        matches[0].id == carer.pk
        and matches[1].id == near_offer.pk
        and matches[2].id == far_offer.pk
    )
    assert (
        matches[0].reason
        == "skill: Elder care · 0 m away · free 3 half-days a week · no finished claims yet"
    )
    assert matches[2].reason == (
        "offers Elder care · 2002 m away · can cover 1 of 2 · 1 of 1 past claims confirmed"
    )
    assert (
        matches[3].reason
        == "skill: Nursing · distance unknown · no weekly time given · no finished claims yet"
    )


def test_matching_leaves_out_used_up_expired_and_withdrawn_resources(lists):
    world = lists.world
    liaison = world.users[Role.PARTNER_LIAISON]
    used = resource_offer(
        actor=liaison,
        partner=lists.partner,
        kind="people",
        category="elder_care",
        title="用完的",
        quantity=1,
    )
    other = need_create(
        actor=world.users[Role.SECRETARY],
        category="elder_care",
        title="别的",
        household=world.neighbour_household,
    )
    from linli.partners.services import claim_resource, resource_withdraw

    claim_resource(actor=world.users[Role.SECRETARY], need=other, resource=used)
    later = resource_offer(
        actor=liaison,
        partner=lists.partner,
        kind="people",
        category="elder_care",
        title="以后的",
        available_from=a_date(5),
    )
    withdrawn = resource_offer(
        actor=liaison, partner=lists.partner, kind="people", category="elder_care", title="撤回的"
    )
    resource_withdraw(actor=liaison, resource=withdrawn)
    names = [m.name for m in selectors.match_suggestions(need=lists.need)]
    assert names == ["陈志愿"]
    assert later.pk  # offered, just not available yet


def test_redundancy_flags_single_points_of_failure(lists):
    world = lists.world
    secretary = world.users[Role.SECRETARY]
    liaison = world.users[Role.PARTNER_LIAISON]
    resource_offer(
        actor=liaison,
        partner=lists.partner,
        kind="professional",
        category="legal",
        title="法律咨询",
    )
    lapsed = partner_create(
        actor=secretary, community=world.community, name="律所", partner_type="business"
    )
    agreement_add(
        actor=secretary, partner=lapsed, title="旧协议", starts_on=a_date(-10), ends_on=a_date(0)
    )
    resource_offer(
        actor=secretary,
        partner=lapsed,
        kind="professional",
        category="legal",
        title="律师咨询",
        available_until=a_date(0),
    )
    hospital = partner_create(
        actor=secretary, community=world.community, name="社区医院", partner_type="hospital"
    )
    agreement_add(
        actor=secretary, partner=hospital, title="协议", starts_on=a_date(-10), ends_on=a_date(300)
    )
    resource_offer(
        actor=secretary, partner=hospital, kind="people", category="medical", title="义诊"
    )
    serving_volunteer(world, name="医生志愿者", skills=("medical",))
    serving_volunteer(world, name="司机甲", skills=("driving",))
    serving_volunteer(world, name="司机乙", skills=("driving",))
    serving_volunteer(
        world, name="外社区司机", skills=("driving",), grid_unit=world.other_community
    )

    # Tomorrow the lapsed firm's agreement and offer have run out.
    rows = {
        row["category"]: row
        for row in selectors.redundancy(community=world.community, today=a_date(1))
    }

    assert {c: (r["count"], r["flag"]) for c, r in rows.items()} == {
        "medical": (2, "ok"),
        "legal": (1, "single"),
        "food": (0, "none"),
        "water": (0, "none"),
        "shelter": (0, "none"),
        "transport": (2, "ok"),
        "repair": (0, "none"),
        "psychological": (0, "none"),
        "information": (0, "none"),
    }
    assert rows["legal"]["providers"] == ["静安区人民法院"]
    assert rows["medical"]["providers"] == ["医生志愿者", "社区医院"]
