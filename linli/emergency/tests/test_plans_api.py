"""Behaviour of `/api/v1/emergency/plans` and `linli plans defaults`: list and detail in
scope, defaults, edits of plan and templates, 400 naming the field, 403 and 404 that
change nothing."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from linli.accounts.roles import Role
from linli.emergency.models import Plan, PlanContact, PlanSupplyMinimum, TaskTemplate
from linli.emergency.services import plans as services
from linli.testing.clients import client_for

URL = "/api/v1/emergency/plans"


def send(client: Client, method: str, url: str, data: dict):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def street_plans(world):
    return services.plans_create_defaults(owner=world.street, actor=None)


@pytest.fixture
def community_plan(world):
    return services.plan_create(
        actor=world.users[Role.SECRETARY],
        owner=world.community,
        hazard="fire",
        name="A社区消防预案",
    )


def test_secretary_lists_street_and_own_plans_with_what_they_may_edit(
    world, street_plans, community_plan
):
    body = client_for(world.users[Role.SECRETARY]).get(URL, {"limit": 100}).json()
    assert body["count"] == 9
    editable = {item["name"]: item["editable"] for item in body["items"]}
    assert editable["A社区消防预案"] is True
    assert editable["防台防汛预案"] is False
    hazard = client_for(world.users[Role.SECRETARY]).get(URL, {"hazard": "fire"}).json()
    assert sorted(item["name"] for item in hazard["items"]) == ["A社区消防预案", "消防应急预案"]


def test_list_pages(world, street_plans):
    body = client_for(world.users[Role.STREET_ADMIN]).get(URL, {"limit": 3, "offset": 6}).json()
    assert (body["count"], len(body["items"])) == (8, 2)


def test_other_communitys_plan_is_404_naming_the_field(world):
    other = services.plan_create(
        actor=world.users[Role.STREET_ADMIN],
        owner=world.other_community,
        hazard="fire",
        name="C社区消防预案",
    )
    response = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{other.pk}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "plan_id"}


def test_detail_has_templates_minimums_contacts_and_problems(world, street_plans):
    typhoon = street_plans[0]
    body = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{typhoon.pk}").json()
    assert body["owner"] == "G街道"
    assert body["templates"][1]["target_tags"] == ["disabled", "elderly_alone", "serious_illness"]
    assert body["templates"][1]["lowest_grade"] == 4
    assert {"category": "water", "minimum_quantity": 200} in [
        {k: m[k] for k in ("category", "minimum_quantity")} for m in body["supply_minimums"]
    ]
    assert body["contacts"][0]["level"] == 1
    assert body["problems"] == []


def test_secretary_adds_defaults_for_the_community(world):
    client = client_for(world.users[Role.SECRETARY])
    response = send(client, "post", f"{URL}/defaults", {"owner_id": world.community.pk})
    assert response.status_code == 201
    assert len(response.json()) == 8
    again = send(client, "post", f"{URL}/defaults", {"owner_id": world.community.pk})
    assert (again.status_code, again.json()) == (201, [])


def test_secretary_may_not_add_the_streets_defaults(world):
    # The street is outside the secretary's registry scope: not found, naming the field.
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "post",
        f"{URL}/defaults",
        {"owner_id": world.street.pk},
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "owner_id"}
    assert Plan.objects.count() == 0


def test_defaults_for_a_micro_grid_are_400_naming_the_owner(world):
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "post",
        f"{URL}/defaults",
        {"owner_id": world.micro_grid.pk},
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Plans belong to a street, a block or a community.",
        "field": "owner",
    }


def test_patch_changes_only_the_fields_sent(world, community_plan):
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "patch",
        f"{URL}/{community_plan.pk}",
        {"movement_rule": "building", "max_attempts": 2},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["movement_rule"], body["max_attempts"], body["volunteer_capacity"]) == (
        "building",
        2,
        8,
    )


def test_patch_bad_value_is_400_naming_the_field_and_writes_nothing(world, community_plan):
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "patch",
        f"{URL}/{community_plan.pk}",
        {"movement_rule": "anywhere"},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown value: anywhere", "field": "movement_rule"}
    community_plan.refresh_from_db()
    assert community_plan.movement_rule == "community"


def test_secretary_patching_the_streets_plan_is_403(world, street_plans):
    plan = street_plans[0]
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "patch",
        f"{URL}/{plan.pk}",
        {"volunteer_capacity": 1},
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.volunteer_capacity == 12


@pytest.mark.parametrize("role", [Role.MICRO_GRID_LEAD, Role.VOLUNTEER])
def test_plan_outside_the_plan_permission_is_404(world, community_plan, role):
    response = send(
        client_for(world.users[role]),
        "patch",
        f"{URL}/{community_plan.pk}",
        {"volunteer_capacity": 1},
    )
    assert response.status_code == 404
    community_plan.refresh_from_db()
    assert community_plan.volunteer_capacity == 8


def test_anonymous_is_401(world):
    assert client_for(world.users["anonymous"]).get(URL).status_code == 401


def test_templates_are_added_changed_and_removed(world, community_plan):
    client = client_for(world.users[Role.SECRETARY])
    response = send(
        client,
        "post",
        f"{URL}/{community_plan.pk}/templates",
        {
            "kind": "welfare_check",
            "title": "行动不便居民疏散协助",
            "target_tags": ["disabled", "elderly_alone"],
            "due_hours": 1,
            "required_team": "emergency_response",
            "required_skills": ["first_aid"],
        },
    )
    assert response.status_code == 201
    template = response.json()
    assert (template["target_tags"], template["sort_order"]) == (["disabled", "elderly_alone"], 1)
    url = f"{URL}/{community_plan.pk}/templates/{template['id']}"
    response = send(client, "patch", url, {"lowest_grade": 3, "target_tags": ["disabled"]})
    assert response.status_code == 200
    assert (response.json()["lowest_grade"], response.json()["target_tags"]) == (3, ["disabled"])
    assert client.delete(url).status_code == 204
    assert TaskTemplate.objects.count() == 0
    assert client.delete(url).status_code == 404


def test_welfare_check_without_tags_is_400_and_writes_nothing(world, community_plan):
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "post",
        f"{URL}/{community_plan.pk}/templates",
        {"kind": "welfare_check", "title": "安全确认"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "target_tags"
    assert TaskTemplate.objects.count() == 0


def test_supply_levels_and_contacts_are_put_and_deleted(world, community_plan):
    client = client_for(world.users[Role.SECRETARY])
    base = f"{URL}/{community_plan.pk}"
    response = send(client, "put", f"{base}/supplies/water", {"minimum_quantity": 50})
    assert (response.status_code, response.json()["minimum_quantity"]) == (200, 50)
    response = send(
        client, "put", f"{base}/contacts/party_secretary", {"level": 1, "duty": "总指挥"}
    )
    assert (response.status_code, response.json()["duty"]) == (200, "总指挥")
    response = send(client, "put", f"{base}/contacts/mayor", {"level": 1})
    assert (response.status_code, response.json()["field"]) == (400, "post")
    assert client.delete(f"{base}/supplies/water").status_code == 204
    assert client.delete(f"{base}/contacts/party_secretary").status_code == 204
    assert (PlanSupplyMinimum.objects.count(), PlanContact.objects.count()) == (0, 0)


def test_copy_of_the_streets_plan_through_the_api(world, street_plans):
    response = send(
        client_for(world.users[Role.SECRETARY]),
        "post",
        f"{URL}/{street_plans[3].pk}/copy",
        {"owner_id": world.community.pk},
    )
    assert response.status_code == 201
    assert (response.json()["owner"], response.json()["name"], response.json()["editable"]) == (
        "A社区",
        "高温应急预案",
        True,
    )


# The command ------------------------------------------------------------------------------


def test_command_seeds_defaults_once(world):
    out = io.StringIO()
    call_command("plans", "defaults", "--unit", "S", stdout=out)
    assert out.getvalue().splitlines()[-1] == "S: 8 plans added"
    out = io.StringIO()
    call_command("plans", "defaults", "--unit", "S", stdout=out)
    assert out.getvalue().splitlines() == ["S: 0 plans added"]
    assert Plan.objects.filter(created_by__isnull=True).count() == 8


def test_command_refuses_an_unknown_or_too_small_unit(world):
    with pytest.raises(CommandError):
        call_command("plans", "defaults", "--unit", "NOPE")
    with pytest.raises(CommandError, match="Plans belong to a street, a block or a community."):
        call_command("plans", "defaults", "--unit", "A1")
