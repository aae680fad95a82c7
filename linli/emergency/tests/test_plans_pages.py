"""Plan pages through the test client: the list by hazard, the default plans button, a
copy of the street's plan, the editor (plan, tasks, supply levels, contact tree) and the
read-only view for those who may not edit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.accounts.roles import Role
from linli.emergency.models import Plan, PlanContact, PlanSupplyMinimum, TaskTemplate
from linli.emergency.services import plans as services
from linli.testing.clients import client_for


@pytest.fixture
def street_plans(world):
    return services.plans_create_defaults(owner=world.street, actor=None)


@pytest.fixture
def community_plan(world):
    plan = services.plan_create(
        actor=world.users[Role.SECRETARY],
        owner=world.community,
        hazard="heatwave",
        name="A社区高温预案",
    )
    services.template_create(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        kind="welfare_check",
        title="独居老人防暑探访",
        target_tags=["elderly_alone"],
    )
    return plan


def test_anonymous_is_sent_to_login(world):
    response = client_for(world.users["anonymous"]).get(reverse("emergency:plan_list"))
    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.RESIDENT, Role.MICRO_GRID_LEAD])
def test_plans_list_is_not_found_without_plan_permissions(world, role):
    assert client_for(world.users[role]).get(reverse("emergency:plan_list")).status_code == 404


def test_secretary_sees_street_plans_grouped_by_hazard_with_copy_and_defaults(world, street_plans):
    page = client_for(world.users[Role.SECRETARY]).get(reverse("emergency:plan_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="hazard-typhoon"' in html
    assert 'data-testid="hazard-gas_leak"' in html
    assert "防台防汛预案" in html
    assert "G街道" in html
    typhoon = Plan.objects.get(grid_unit=world.street, hazard="typhoon")
    assert f'data-testid="copy-{typhoon.pk}-A"' in html
    assert 'data-testid="add-defaults-A"' in html


def test_street_admin_with_plans_sees_no_defaults_button(world, street_plans):
    html = client_for(world.users[Role.STREET_ADMIN]).get(reverse("emergency:plan_list")).content
    assert b"add-defaults-S" not in html
    assert b"Read-only" not in html


def test_secretary_adds_default_plans_for_the_community(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:plan_defaults"), {"owner": world.community.pk}
    )
    assert response.status_code == 302
    assert Plan.objects.filter(grid_unit=world.community).count() == 8


def test_defaults_for_a_unit_not_ones_own_are_not_found(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:plan_defaults"), {"owner": world.street.pk}
    )
    assert response.status_code == 404
    assert Plan.objects.count() == 0


def test_secretary_reads_the_streets_plan_without_forms(world, street_plans):
    plan = street_plans[0]
    page = client_for(world.users[Role.SECRETARY]).get(
        reverse("emergency:plan_detail", args=[plan.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="read-only"' in html
    assert 'data-testid="plan-form"' not in html
    assert 'data-testid="template-new"' not in html
    assert "独居、残疾、重病居民安全确认" in html
    assert 'data-testid="copy-A"' in html


def test_secretary_may_not_post_to_the_streets_plan(world, street_plans):
    plan = street_plans[0]
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:plan_detail", args=[plan.pk]), {"name": "改名", "hazard": "typhoon"}
    )
    assert response.status_code == 403
    response = client.post(
        reverse("emergency:plan_supply_set", args=[plan.pk]),
        {"category": "water", "minimum_quantity": "1"},
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.name == "防台防汛预案"
    assert plan.supply_minimums.get(category="water").minimum_quantity == 200


def test_secretary_copies_the_streets_plan_and_lands_on_the_copy(world, street_plans):
    plan = street_plans[2]
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:plan_copy", args=[plan.pk]),
        {"owner": world.community.pk, "name": "A社区疫情封控预案"},
    )
    copy = Plan.objects.get(grid_unit=world.community)
    assert response.status_code == 302
    assert response["Location"] == reverse("emergency:plan_detail", args=[copy.pk])
    assert (copy.name, copy.templates.count()) == ("A社区疫情封控预案", plan.templates.count())


def test_secretary_edits_own_plan_fields(world, community_plan):
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("emergency:plan_detail", args=[community_plan.pk])
    assert 'data-testid="plan-form"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": "A社区高温应急预案",
            "hazard": "heatwave",
            "description": "",
            "movement_rule": "micro_grid",
            "volunteer_capacity": "6",
            "acknowledge_minutes": "20",
            "retry_minutes": "30",
            "max_attempts": "3",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    community_plan.refresh_from_db()
    assert (
        community_plan.name,
        community_plan.movement_rule,
        community_plan.volunteer_capacity,
        community_plan.acknowledge_minutes,
    ) == ("A社区高温应急预案", "micro_grid", 6, 20)


def test_bad_plan_fields_are_shown_at_the_field_and_nothing_changes(world, community_plan):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:plan_detail", args=[community_plan.pk]),
        {
            "name": "A社区高温预案",
            "hazard": "heatwave",
            "movement_rule": "community",
            "volunteer_capacity": "500",
            "acknowledge_minutes": "15",
            "retry_minutes": "30",
            "max_attempts": "3",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-volunteer_capacity"' in html
    assert "Give a whole number from 1 to 50." in html
    community_plan.refresh_from_db()
    assert (community_plan.volunteer_capacity, community_plan.is_active) == (8, True)


def test_secretary_adds_edits_and_removes_a_task(world, community_plan):
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:plan_template_new", args=[community_plan.pk]),
        {
            "kind": "patrol",
            "title": "楼道巡查",
            "due_hours": "3",
            "required_team": "patrol",
            "required_skills": ["repair"],
            "lowest_grade": "3",
        },
    )
    assert response.status_code == 302
    patrol = TaskTemplate.objects.get(title="楼道巡查")
    assert (patrol.required_skills, patrol.lowest_grade, patrol.sort_order) == (",repair,", 3, 2)
    response = client.post(
        reverse("emergency:plan_template_edit", args=[community_plan.pk, patrol.pk]),
        {"kind": "patrol", "title": "楼道巡查", "due_hours": "2", "lowest_grade": "2"},
    )
    assert response.status_code == 302
    patrol.refresh_from_db()
    assert (patrol.due_hours, patrol.lowest_grade, patrol.required_skills) == (2, 2, "")
    response = client.post(
        reverse("emergency:plan_template_delete", args=[community_plan.pk, patrol.pk])
    )
    assert response.status_code == 302
    assert not TaskTemplate.objects.filter(pk=patrol.pk).exists()


def test_welfare_check_without_tags_is_refused_on_the_form(world, community_plan):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:plan_template_new", args=[community_plan.pk]),
        {"kind": "welfare_check", "title": "安全确认", "due_hours": "2", "lowest_grade": "4"},
    )
    assert response.status_code == 200
    assert 'data-testid="error-target_tags"' in response.content.decode()
    assert TaskTemplate.objects.count() == 1


def test_secretary_sets_supply_levels_and_contact_tree(world, community_plan):
    client = client_for(world.users[Role.SECRETARY])
    client.post(
        reverse("emergency:plan_supply_set", args=[community_plan.pk]),
        {"category": "water", "minimum_quantity": "120"},
    )
    client.post(
        reverse("emergency:plan_contact_set", args=[community_plan.pk]),
        {"post": "party_secretary", "level": "1", "duty": "总指挥"},
    )
    response = client.post(
        reverse("emergency:plan_contact_set", args=[community_plan.pk]),
        {"post": "mayor", "level": "1"},
    )
    assert response.status_code == 302
    assert list(PlanSupplyMinimum.objects.values_list("category", "minimum_quantity")) == [
        ("water", 120)
    ]
    assert list(PlanContact.objects.values_list("post", "level", "duty")) == [
        ("party_secretary", 1, "总指挥")
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Unknown value: mayor" in page
    assert "Water ≥ <strong>120</strong>" in page
    minimum = PlanSupplyMinimum.objects.get()
    contact = PlanContact.objects.get()
    client.post(reverse("emergency:plan_supply_delete", args=[community_plan.pk, minimum.pk]))
    client.post(reverse("emergency:plan_contact_delete", args=[community_plan.pk, contact.pk]))
    assert (PlanSupplyMinimum.objects.count(), PlanContact.objects.count()) == (0, 0)


def test_plan_page_lists_static_problems(world, community_plan):
    html = (
        client_for(world.users[Role.SECRETARY])
        .get(reverse("emergency:plan_detail", args=[community_plan.pk]))
        .content.decode()
    )
    assert 'data-testid="problems"' in html
    assert "The plan has no contact tree" in html


def test_new_plan_page_creates_a_plan(world):
    client = client_for(world.users[Role.SECRETARY])
    assert client.get(reverse("emergency:plan_new")).status_code == 200
    response = client.post(
        reverse("emergency:plan_new"),
        {
            "owner": world.community.pk,
            "name": "A社区地下车库防汛预案",
            "hazard": "typhoon",
            "movement_rule": "community",
            "volunteer_capacity": "8",
            "acknowledge_minutes": "15",
            "retry_minutes": "30",
            "max_attempts": "3",
        },
    )
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("emergency:plan_detail", args=[plan.pk])
    assert plan.grid_unit == world.community


def test_list_costs_the_same_queries_for_more_plans(world, street_plans):
    client = client_for(world.users[Role.SECRETARY])
    client.get(reverse("emergency:plan_list"))  # session and scope warm-up
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("emergency:plan_list"))
    services.plans_create_defaults(owner=world.community, actor=world.users[Role.SECRETARY])
    with CaptureQueriesContext(connection) as more:
        page = client.get(reverse("emergency:plan_list"))
    assert page.content.decode().count('data-testid="plan-') == 16 + 1  # + "New plan"
    assert len(more.captured_queries) == len(few.captured_queries)
