"""The services of partners and the three lists: validation, claiming, the claim table."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.roles import Role
from linli.grids.services import visit_record
from linli.partners.models import (
    Agreement,
    Claim,
    ClaimEvent,
    Need,
    NeedState,
    Partner,
    Project,
    Resource,
)
from linli.partners.services import (
    agreement_add,
    claim_need,
    claim_resource,
    claim_transition,
    need_create,
    need_from_case,
    need_from_visit,
    partner_create,
    project_create,
    resource_offer,
)
from linli.partners.tests.conftest import a_date
from linli.volunteers.models import ServiceHoursEntry


def test_partner_create_names_the_bad_fields_and_writes_nothing(world):
    with pytest.raises(ValidationError) as error:
        partner_create(
            actor=world.users[Role.SECRETARY],
            community=world.community,
            name="",
            partner_type="bank",
            contact_phone="12345",
        )
    assert set(error.value.message_dict) == {"name", "partner_type", "contact_phone"}
    assert Partner.objects.count() == 0


def test_partner_create_refuses_a_micro_grid_lead(world):
    with pytest.raises(ValidationError) as error:
        partner_create(
            actor=world.users[Role.MICRO_GRID_LEAD],
            community=world.community,
            name="某企业",
            partner_type="enterprise",
        )
    assert error.value.code == "permission_denied"
    assert Partner.objects.count() == 0


def test_partner_contact_phone_is_masked(lists):
    assert lists.partner.contact_phone_masked == "135****5678"


def test_agreement_must_end_after_it_starts(lists):
    with pytest.raises(ValidationError) as error:
        agreement_add(
            actor=lists.world.users[Role.SECRETARY],
            partner=lists.partner,
            title="续签",
            starts_on=a_date(10),
            ends_on=a_date(5),
        )
    assert list(error.value.message_dict) == ["ends_on"]
    assert Agreement.objects.count() == 1


def test_an_expired_agreement_refuses_an_offer_with_its_end_date(world):
    secretary = world.users[Role.SECRETARY]
    partner = partner_create(
        actor=secretary, community=world.community, name="某大学", partner_type="university"
    )
    agreement_add(
        actor=secretary,
        partner=partner,
        title="2025协议",
        starts_on=a_date(-400),
        ends_on=a_date(-35),
    )
    with pytest.raises(ValidationError) as error:
        resource_offer(
            actor=secretary,
            partner=partner,
            kind="professional",
            category="legal",
            title="法律讲座",
        )
    assert error.value.error_dict["partner"][0].code == "agreement_expired"
    assert error.value.message_dict["partner"] == [
        f"The cooperation agreement “2025协议” expired on {a_date(-35).isoformat()}; renew it first."
    ]
    assert Resource.objects.count() == 0


def test_offer_beyond_the_agreement_is_refused_on_available_until(lists):
    with pytest.raises(ValidationError) as error:
        resource_offer(
            actor=lists.world.users[Role.PARTNER_LIAISON],
            partner=lists.partner,
            kind="professional",
            category="legal",
            title="每月法律咨询",
            available_until=a_date(400),
        )
    assert list(error.value.message_dict) == ["available_until"]
    assert Resource.objects.count() == 0


def test_liaison_offers_for_own_partner_only(lists):
    world = lists.world
    other = partner_create(
        actor=world.users[Role.SECRETARY],
        community=world.community,
        name="某医院",
        partner_type="hospital",
    )
    with pytest.raises(ValidationError) as error:
        resource_offer(
            actor=world.users[Role.PARTNER_LIAISON],
            partner=other,
            kind="people",
            category="medical",
            title="义诊",
        )
    assert error.value.code == "permission_denied"
    resource = resource_offer(
        actor=world.users[Role.PARTNER_LIAISON],
        partner=lists.partner,
        kind="professional",
        category="legal",
        title="每月法律咨询",
        quantity=12,
    )
    assert (resource.grid_path, resource.remaining) == (world.community.path, 12)


def test_need_create_names_the_bad_fields_and_writes_nothing(world):
    before = Need.objects.count()
    with pytest.raises(ValidationError) as error:
        need_create(
            actor=world.users[Role.SECRETARY],
            category="spaceship",
            title="",
            quantity=0,
            urgency="now",
            recurrence="daily",
        )
    assert set(error.value.message_dict) == {
        "category",
        "title",
        "quantity",
        "urgency",
        "recurrence",
        "household",
    }
    assert Need.objects.count() == before


def test_resident_adds_a_need_for_own_household_only(world):
    resident = world.users[Role.RESIDENT]
    need = need_create(
        actor=resident,
        category="repair",
        title="水龙头漏水",
        household=world.household,
        source="resident",
    )
    assert (need.grid_path, need.state, need.quantity) == (world.household.grid_path, "open", 1)
    with pytest.raises(ValidationError) as error:
        need_create(
            actor=resident,
            category="repair",
            title="邻居的",
            household=world.neighbour_household,
            source="resident",
        )
    assert error.value.code == "permission_denied"
    assert Need.objects.count() == 1


def test_a_visit_becomes_a_need_in_one_step(world):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    visit = visit_record(
        visitor=leader,
        household=world.household,
        method="door",
        finding="独居老人，需要助餐",
        needs_follow_up=True,
    )
    need = need_from_visit(
        actor=world.users[Role.MICRO_GRID_LEAD], visit=visit, category="elder_care"
    )
    assert (need.source, need.visit_id, need.household_id, need.title) == (
        "visit",
        visit.pk,
        world.household.pk,
        "独居老人，需要助餐",
    )


def test_partial_claims_add_up_and_the_need_becomes_fully_claimed(lists):
    world = lists.world
    first = claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, quantity=1, partner=lists.partner
    )
    lists.need.refresh_from_db()
    assert (lists.need.claimed_quantity, lists.need.state) == (1, NeedState.OPEN)
    claim_need(
        actor=world.users[Role.VOLUNTEER], need=lists.need, quantity=1, volunteer=lists.volunteer
    )
    lists.need.refresh_from_db()
    assert (lists.need.claimed_quantity, lists.need.state) == (2, NeedState.CLAIMED)
    assert [e.action for e in ClaimEvent.objects.filter(claim=first)] == ["claim"]


def test_claiming_more_than_is_left_names_quantity_and_writes_nothing(lists):
    world = lists.world
    with pytest.raises(ValidationError) as error:
        claim_need(
            actor=world.users[Role.PARTNER_LIAISON],
            need=lists.need,
            quantity=3,
            partner=lists.partner,
        )
    assert error.value.message_dict == {"quantity": ["Only 2 of 2 are still open to claim."]}
    assert Claim.objects.count() == 0
    lists.need.refresh_from_db()
    assert lists.need.claimed_quantity == 0


def test_a_fully_claimed_need_answers_a_conflict_and_writes_nothing(lists):
    world = lists.world
    claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, quantity=2, partner=lists.partner
    )
    with pytest.raises(ValidationError) as error:
        claim_need(
            actor=world.users[Role.VOLUNTEER],
            need=lists.need,
            quantity=1,
            volunteer=lists.volunteer,
        )
    assert error.value.code == "conflict"
    assert error.value.messages == ["This need is already fully claimed; nothing was recorded."]
    assert Claim.objects.count() == 1
    assert ClaimEvent.objects.count() == 1


def test_volunteer_cannot_claim_for_another_volunteer(lists):
    from linli.partners.tests.conftest import serving_volunteer

    someone = serving_volunteer(lists.world, name="别人")
    with pytest.raises(ValidationError) as error:
        claim_need(actor=lists.world.users[Role.VOLUNTEER], need=lists.need, volunteer=someone)
    assert error.value.code == "permission_denied"
    assert Claim.objects.count() == 0


def test_a_partner_cannot_claim_a_need_of_another_community(lists):
    world = lists.world
    far = need_create(
        actor=world.users[Role.STREET_ADMIN],
        category="elder_care",
        title="C社区助餐",
        household=world.other_community_household,
    )
    with pytest.raises(ValidationError) as error:
        claim_need(actor=world.users[Role.PARTNER_LIAISON], need=far, partner=lists.partner)
    assert list(error.value.message_dict) == ["need"]
    assert Claim.objects.count() == 0


def test_steps_outside_the_table_are_refused(lists):
    world = lists.world
    claim = claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, partner=lists.partner
    )
    with pytest.raises(ValidationError) as error:
        claim_transition(claim=claim, actor=world.users[Role.PARTNER_LIAISON], action="deliver")
    assert error.value.code == "illegal_transition"
    claim.refresh_from_db()
    assert (claim.state, claim.version) == ("claimed", 1)


def test_only_the_beneficiary_confirms_a_household_need(lists):
    world = lists.world
    liaison = world.users[Role.PARTNER_LIAISON]
    claim = claim_need(actor=liaison, need=lists.need, quantity=2, partner=lists.partner)
    claim = claim_transition(claim=claim, actor=liaison, action="start")
    claim = claim_transition(claim=claim, actor=liaison, action="deliver")
    for someone in (liaison, world.users[Role.SECRETARY]):
        with pytest.raises(ValidationError) as error:
            claim_transition(claim=claim, actor=someone, action="confirm")
        assert error.value.code == "permission_denied"
    claim = claim_transition(claim=claim, actor=world.users[Role.RESIDENT], action="confirm")
    lists.need.refresh_from_db()
    assert (claim.state, lists.need.state) == ("confirmed", NeedState.FULFILLED)
    assert [e.action for e in claim.events.all()] == ["claim", "start", "deliver", "confirm"]


def test_cancelling_needs_a_reason_and_returns_the_quantity(lists):
    world = lists.world
    liaison = world.users[Role.PARTNER_LIAISON]
    claim = claim_need(actor=liaison, need=lists.need, quantity=2, partner=lists.partner)
    with pytest.raises(ValidationError) as error:
        claim_transition(claim=claim, actor=liaison, action="cancel")
    assert list(error.value.message_dict) == ["reason"]
    claim = claim_transition(claim=claim, actor=liaison, action="cancel", note="人手不足")
    lists.need.refresh_from_db()
    assert (claim.state, claim.cancel_reason) == ("cancelled", "人手不足")
    assert (lists.need.claimed_quantity, lists.need.state) == (0, NeedState.OPEN)


def test_confirmed_volunteer_claim_credits_service_hours_once(lists):
    world = lists.world
    volunteer_user = world.users[Role.VOLUNTEER]
    claim = claim_need(actor=volunteer_user, need=lists.need, volunteer=lists.volunteer)
    claim = claim_transition(claim=claim, actor=volunteer_user, action="start")
    with pytest.raises(ValidationError) as error:
        claim_transition(claim=claim, actor=volunteer_user, action="deliver")
    assert list(error.value.message_dict) == ["hours"]
    claim = claim_transition(claim=claim, actor=volunteer_user, action="deliver", hours="1.5")
    assert ServiceHoursEntry.objects.count() == 0  # not before the beneficiary confirms
    claim_transition(claim=claim, actor=world.users[Role.RESIDENT], action="confirm")
    entry = ServiceHoursEntry.objects.get()
    assert (entry.volunteer_id, entry.hours, entry.source_kind, entry.source_id) == (
        lists.volunteer.pk,
        Decimal("1.50"),
        "claim",
        claim.pk,
    )


def test_community_claims_an_offered_resource_for_a_need(lists):
    world = lists.world
    resource = resource_offer(
        actor=world.users[Role.PARTNER_LIAISON],
        partner=lists.partner,
        kind="people",
        category="elder_care",
        title="助老志愿服务",
        quantity=5,
    )
    with pytest.raises(ValidationError) as error:
        claim_resource(actor=world.users[Role.PARTNER_LIAISON], need=lists.need, resource=resource)
    assert error.value.code == "permission_denied"
    claim = claim_resource(
        actor=world.users[Role.SECRETARY], need=lists.need, resource=resource, quantity=2
    )
    resource.refresh_from_db()
    assert (claim.direction, claim.partner_id, resource.committed_quantity) == (
        "community",
        lists.partner.pk,
        2,
    )
    claim_transition(
        claim=claim, actor=world.users[Role.PARTNER_LIAISON], action="cancel", note="改期"
    )
    resource.refresh_from_db()
    assert resource.committed_quantity == 0


def test_project_matches_a_need_to_a_resource_with_milestones(lists):
    world = lists.world
    resource = resource_offer(
        actor=world.users[Role.PARTNER_LIAISON],
        partner=lists.partner,
        kind="professional",
        category="legal",
        title="乔法官工作室",
        quantity=12,
    )
    with pytest.raises(ValidationError) as error:
        project_create(
            actor=world.users[Role.SECRETARY],
            need=lists.need,
            resource=resource,
            title="",
            owner=world.users[Role.RESIDENT],
            starts_on=a_date(0),
            ends_on=a_date(-1),
        )
    assert set(error.value.message_dict) == {"owner", "ends_on"}
    project = project_create(
        actor=world.users[Role.SECRETARY],
        need=lists.need,
        resource=resource,
        title="每月法律咨询",
        owner=world.users[Role.PARTNER_LIAISON],
        starts_on=a_date(0),
        ends_on=a_date(90),
        schedule="每月第一个周二",
        milestones=[("第一次咨询", a_date(7)), ("季度总结", a_date(90))],
    )
    assert (project.state, [m.title for m in project.milestones.all()]) == (
        "active",
        ["第一次咨询", "季度总结"],
    )
    assert Project.objects.count() == 1


def test_agreement_check_uses_the_date_of_use(lists):
    # Valid today, but an offer starting after the agreement has run out is refused.
    agreement = lists.partner.agreements.get()
    with pytest.raises(ValidationError) as error:
        resource_offer(
            actor=lists.world.users[Role.PARTNER_LIAISON],
            partner=lists.partner,
            kind="venue",
            category="shelter",
            title="礼堂",
            available_from=agreement.ends_on + timedelta(days=1),
        )
    assert error.value.error_dict["partner"][0].code == "agreement_expired"


def test_a_case_becomes_a_need_for_the_reporters_household(world):
    from linli.cases.models import CaseCategory
    from linli.cases.services import case_create

    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="SAF-01"),
        description="楼道灯坏了，老人夜里看不见",
        source="resident_report",
        building=world.building,
    )
    need = need_from_case(actor=world.users[Role.SECRETARY], case=case, category="repair")
    assert (need.source, need.case_id, need.household_id, need.beneficiary_id) == (
        "case",
        case.pk,
        world.household.pk,
        world.resident.pk,
    )
    assert need.description == "楼道灯坏了，老人夜里看不见"


def test_delivery_asks_the_beneficiary_to_confirm(lists):
    from linli.notify.models import Notification

    liaison = lists.world.users[Role.PARTNER_LIAISON]
    claim = claim_need(actor=liaison, need=lists.need, partner=lists.partner)
    claim = claim_transition(claim=claim, actor=liaison, action="start")
    claim_transition(claim=claim, actor=liaison, action="deliver")
    note = Notification.objects.get(kind="claim_delivered")
    assert (note.recipient.username, note.kind, note.link) == (
        Role.RESIDENT,
        "claim_delivered",
        f"/partners/claims/{claim.pk}/",
    )
