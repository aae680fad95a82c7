"""`/api/v1/partners`: the permission matrix (a denied call changes nothing), masking and
the conflict answers."""

import pytest

from linli.accounts.roles import Role
from linli.partners.models import Agreement, Claim, Need, Partner
from linli.partners.services import claim_need
from linli.testing.clients import client_for

ROLES = [
    Role.STREET_ADMIN,
    Role.SECRETARY,
    Role.MICRO_GRID_LEAD,
    Role.BUILDING_GROUP_LEADER,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.RESIDENT,
]


@pytest.mark.parametrize(
    "role, count",
    [
        (Role.STREET_ADMIN, 1),
        (Role.SECRETARY, 1),
        (Role.MICRO_GRID_LEAD, 1),
        (Role.BUILDING_GROUP_LEADER, 0),
        (Role.VOLUNTEER, 0),
        (Role.PARTNER_LIAISON, 1),
        (Role.RESIDENT, 0),
    ],
)
def test_partner_list_by_role(lists, role, count):
    response = client_for(lists.world.users[role]).get("/api/v1/partners/units")
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_partner_contact_phone_leaves_masked(lists):
    item = (
        client_for(lists.world.users[Role.SECRETARY])
        .get("/api/v1/partners/units")
        .json()["items"][0]
    )
    assert (item["contact_phone"], item["has_valid_agreement"]) == ("135****5678", True)


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.STREET_ADMIN, 201),
        (Role.SECRETARY, 201),
        (Role.MICRO_GRID_LEAD, 403),
        (Role.BUILDING_GROUP_LEADER, 403),
        (Role.VOLUNTEER, 403),
        (Role.PARTNER_LIAISON, 403),
        (Role.RESIDENT, 403),
        (None, 401),
    ],
)
def test_only_street_admin_and_secretary_register_partners(lists, role, status):
    body = {
        "community_id": lists.world.community.pk,
        "name": "某社会组织",
        "partner_type": "social_organisation",
    }
    response = client_for(lists.world.users.get(role)).post(
        "/api/v1/partners/units", body, content_type="application/json"
    )
    assert response.status_code == status
    assert Partner.objects.count() == (2 if status == 201 else 1)


def test_agreement_with_end_before_start_names_the_field(lists):
    response = client_for(lists.world.users[Role.SECRETARY]).post(
        f"/api/v1/partners/units/{lists.partner.pk}/agreements",
        {"title": "续签", "starts_on": "2027-01-01", "ends_on": "2026-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "ends_on"
    assert Agreement.objects.count() == 1


@pytest.mark.parametrize(
    "role, status, beneficiary",
    [
        (Role.SECRETARY, 200, "1号楼 101 张桂英"),
        (Role.MICRO_GRID_LEAD, 200, "1号楼 101 张桂英"),
        (Role.BUILDING_GROUP_LEADER, 200, "1号楼 101 张桂英"),
        (Role.PARTNER_LIAISON, 200, "1号楼 · 张**"),
        (Role.VOLUNTEER, 200, "1号楼 · 张**"),
        (Role.RESIDENT, 200, "1号楼 101 张桂英"),
    ],
)
def test_need_beneficiary_is_masked_for_outsiders(lists, role, status, beneficiary):
    response = client_for(lists.world.users[role]).get(f"/api/v1/partners/needs/{lists.need.pk}")
    assert response.status_code == status
    assert response.json()["beneficiary"] == beneficiary


def test_a_need_of_another_community_is_not_found(lists):
    world = lists.world
    from linli.partners.services import need_create

    far = need_create(
        actor=world.users[Role.STREET_ADMIN],
        category="food",
        title="C社区",
        household=world.other_community_household,
    )
    for role in (Role.SECRETARY, Role.PARTNER_LIAISON, Role.VOLUNTEER, Role.RESIDENT):
        assert (
            client_for(lists.world.users[role]).get(f"/api/v1/partners/needs/{far.pk}").status_code
            == 404
        )


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.PARTNER_LIAISON, 201),
        (Role.VOLUNTEER, 201),
        (Role.RESIDENT, 403),
        (Role.BUILDING_GROUP_LEADER, 403),
    ],
)
def test_claiming_a_need_by_role(lists, role, status):
    response = client_for(lists.world.users[role]).post(
        f"/api/v1/partners/needs/{lists.need.pk}/claims",
        {"quantity": 1},
        content_type="application/json",
    )
    assert response.status_code == status
    assert Claim.objects.count() == (1 if status == 201 else 0)


def test_a_fully_claimed_need_answers_409_and_writes_nothing(lists):
    claim_need(
        actor=lists.world.users[Role.PARTNER_LIAISON],
        need=lists.need,
        quantity=2,
        partner=lists.partner,
    )
    response = client_for(lists.world.users[Role.VOLUNTEER]).post(
        f"/api/v1/partners/needs/{lists.need.pk}/claims",
        {"quantity": 1},
        content_type="application/json",
    )
    # Fully claimed, the need is no longer on the volunteer's list at all.
    assert response.status_code == 404
    response = client_for(lists.world.users[Role.SECRETARY]).post(
        f"/api/v1/partners/needs/{lists.need.pk}/claims",
        {"quantity": 1, "volunteer_id": lists.volunteer.pk},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["message"] == "This need is already fully claimed; nothing was recorded."
    assert Claim.objects.count() == 1


def test_claim_lifecycle_through_the_api(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    claim = liaison.post(
        f"/api/v1/partners/needs/{lists.need.pk}/claims",
        {"quantity": 2},
        content_type="application/json",
    ).json()
    for action, version in (("start", 1), ("deliver", 2)):
        response = liaison.post(
            f"/api/v1/partners/claims/{claim['id']}/actions",
            {"action": action, "expected_version": version},
            content_type="application/json",
        )
        assert response.status_code == 200
    stale = client_for(lists.world.users[Role.RESIDENT]).post(
        f"/api/v1/partners/claims/{claim['id']}/actions",
        {"action": "confirm", "expected_version": 2},
        content_type="application/json",
    )
    assert stale.status_code == 409
    denied = liaison.post(
        f"/api/v1/partners/claims/{claim['id']}/actions",
        {"action": "confirm", "expected_version": 3},
        content_type="application/json",
    )
    assert denied.status_code == 403
    done = client_for(lists.world.users[Role.RESIDENT]).post(
        f"/api/v1/partners/claims/{claim['id']}/actions",
        {"action": "confirm", "expected_version": 3},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert [e["action"] for e in done.json()["events"]] == ["claim", "start", "deliver", "confirm"]
    assert Need.objects.get(pk=lists.need.pk).state == "fulfilled"


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 200),
        (Role.BUILDING_GROUP_LEADER, 404),
        (Role.PARTNER_LIAISON, 404),
        (Role.RESIDENT, 404),
    ],
)
def test_matches_are_for_staff_who_plan_resources(lists, role, status):
    assert (
        client_for(lists.world.users[role])
        .get(f"/api/v1/partners/needs/{lists.need.pk}/matches")
        .status_code
        == status
    )


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 200),
        (Role.VOLUNTEER, 404),
        (Role.RESIDENT, 404),
    ],
)
def test_redundancy_by_role(lists, role, status):
    response = client_for(lists.world.users[role]).get(
        f"/api/v1/partners/redundancy/{lists.world.community.pk}"
    )
    assert response.status_code == status


def test_resident_adds_a_need_for_own_household(lists):
    response = client_for(lists.world.users[Role.RESIDENT]).post(
        "/api/v1/partners/needs",
        {"category": "repair", "title": "灯坏了", "household_id": lists.world.household.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert (response.json()["source"], response.json()["state"]) == ("resident", "open")


def test_liaison_offers_a_resource_for_own_unit(lists):
    response = client_for(lists.world.users[Role.PARTNER_LIAISON]).post(
        "/api/v1/partners/resources",
        {"kind": "professional", "category": "legal", "title": "法律咨询", "quantity": 4},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert (response.json()["provider"], response.json()["remaining"]) == ("静安区人民法院", 4)


def test_need_list_queries_do_not_grow_with_the_page(lists):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.partners.services import need_create

    world = lists.world
    for room_household in (world.neighbour_household, world.other_micro_grid_household):
        need_create(
            actor=world.users[Role.SECRETARY],
            category="food",
            title="助餐",
            household=room_household,
        )
    client = client_for(lists.world.users[Role.PARTNER_LIAISON])
    counts = []
    for limit in (1, 3):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/partners/needs?limit={limit}")
        assert len(response.json()["items"]) == limit
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role, status", [(Role.PARTNER_LIAISON, 403), (Role.SECRETARY, 200)])
def test_cancelling_a_need_through_the_api(lists, role, status):
    response = client_for(lists.world.users[role]).post(
        f"/api/v1/partners/needs/{lists.need.pk}/cancel",
        {"reason": "已由家属解决"},
        content_type="application/json",
    )
    assert response.status_code == status
    assert Need.objects.get(pk=lists.need.pk).state == ("cancelled" if status == 200 else "open")


def test_a_need_with_claims_under_way_cannot_be_cancelled(lists):
    claim_need(
        actor=lists.world.users[Role.PARTNER_LIAISON], need=lists.need, partner=lists.partner
    )
    response = client_for(lists.world.users[Role.SECRETARY]).post(
        f"/api/v1/partners/needs/{lists.need.pk}/cancel",
        {"reason": "重复"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert Need.objects.get(pk=lists.need.pk).state == "open"


def test_withdraw_and_milestone_actions(lists):
    from datetime import timedelta

    from django.utils import timezone

    from linli.partners.services import project_create, resource_offer

    world = lists.world
    resource = resource_offer(
        actor=world.users[Role.PARTNER_LIAISON],
        partner=lists.partner,
        kind="professional",
        category="legal",
        title="法律咨询",
    )
    today = timezone.localdate()
    project = project_create(
        actor=world.users[Role.SECRETARY],
        need=lists.need,
        resource=resource,
        title="每月法律咨询",
        owner=world.users[Role.PARTNER_LIAISON],
        starts_on=today,
        milestones=[("第一次", today + timedelta(days=7))],
    )
    milestone = project.milestones.get()
    denied = client_for(lists.world.users[Role.VOLUNTEER]).post(
        f"/api/v1/partners/projects/{project.pk}/milestones/{milestone.pk}/done"
    )
    assert denied.status_code == 404
    done = client_for(lists.world.users[Role.PARTNER_LIAISON]).post(
        f"/api/v1/partners/projects/{project.pk}/milestones/{milestone.pk}/done"
    )
    assert (done.status_code, done.json()["state"]) == (200, "completed")
    withdrawn = client_for(lists.world.users[Role.PARTNER_LIAISON]).post(
        f"/api/v1/partners/resources/{resource.pk}/withdraw"
    )
    assert (withdrawn.status_code, withdrawn.json()["is_active"]) == (200, False)
