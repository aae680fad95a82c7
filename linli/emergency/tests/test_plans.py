"""Behaviour of the plan services (linli.emergency.services.plans): the default plans, editing a
plan's rules, templates, supply levels and contact tree, copying the street's plan, the
permission matrix (a refused call changes nothing) and the static problems."""

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.emergency.models import (
    Hazard,
    MovementRule,
    Plan,
    PlanContact,
    PlanSupplyMinimum,
    TaskTemplate,
)
from linli.emergency.services import plans as services


def snapshot() -> tuple:
    """Everything a plan write could touch."""
    return (
        list(Plan.objects.order_by("pk").values()),
        list(TaskTemplate.objects.order_by("pk").values()),
        list(PlanSupplyMinimum.objects.order_by("pk").values()),
        list(PlanContact.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def field_codes(error: ValidationError) -> dict[str, list[str]]:
    return {name: [e.code for e in errors] for name, errors in error.error_dict.items()}


@pytest.fixture
def community_plan(world):
    return services.plan_create(
        actor=world.users[Role.SECRETARY],
        owner=world.community,
        hazard=Hazard.HEATWAVE,
        name="A社区高温预案",
    )


@pytest.fixture
def street_plan(world):
    return services.plan_create(
        actor=world.users[Role.STREET_ADMIN],
        owner=world.street,
        hazard=Hazard.TYPHOON,
        name="街道防台预案",
    )


# Default plans ---------------------------------------------------------------------------


def test_defaults_create_one_plan_per_hazard_with_no_static_problem(world):
    created = services.plans_create_defaults(owner=world.street, actor=None)
    assert [plan.name for plan in created] == [
        "防台防汛预案",
        "消防应急预案",
        "疫情封控预案",
        "高温应急预案",
        "停电应急预案",
        "停水应急预案",
        "地震应急预案",
        "燃气泄漏应急预案",
    ]
    assert sorted(plan.hazard for plan in created) == sorted(Hazard.values)
    for plan in created:
        assert plan.grid_path == world.street.path
        assert plan.templates.count() >= 4
        assert plan.supply_minimums.exists()
        assert plan.contacts.filter(level=1, post="party_secretary").exists()
        assert services.plan_check(plan) == []
    assert AuditEntry.objects.filter(object_type="emergency_plan", action="create").count() == 8


def test_defaults_are_idempotent_and_keep_a_plan_of_the_same_name(world):
    secretary = world.users[Role.SECRETARY]
    own = services.plan_create(
        actor=secretary, owner=world.community, hazard=Hazard.FIRE, name="消防应急预案"
    )
    first = services.plans_create_defaults(owner=world.community, actor=secretary)
    second = services.plans_create_defaults(owner=world.community, actor=secretary)
    assert len(first) == 7
    assert second == []
    assert Plan.objects.filter(grid_unit=world.community).count() == 8
    assert Plan.objects.get(grid_unit=world.community, name="消防应急预案") == own
    assert own.templates.count() == 0


def test_typhoon_default_checks_the_most_vulnerable_first_and_patrols_from_grade_three(world):
    services.plans_create_defaults(owner=world.street, actor=None)
    plan = Plan.objects.get(hazard=Hazard.TYPHOON)
    rows = [
        (t.kind, t.target_tags, t.due_hours, t.required_team, t.lowest_grade)
        for t in plan.templates.all()
    ]
    assert rows == [
        ("information_relay", "", 1, "liaison", 4),
        ("welfare_check", ",disabled,elderly_alone,serious_illness,", 2, "", 4),
        ("welfare_check", ",empty_nest,left_behind_child,pregnant,", 4, "", 3),
        ("patrol", "", 4, "patrol", 3),
        ("patrol", "", 3, "patrol", 3),
        ("supply_distribution", "", 6, "supplies", 2),
    ]
    assert plan.movement_rule == MovementRule.COMMUNITY


def test_epidemic_default_keeps_volunteers_in_their_compound(world):
    services.plans_create_defaults(owner=world.street, actor=None)
    plan = Plan.objects.get(hazard=Hazard.EPIDEMIC)
    tags = {
        tag
        for value in plan.templates.filter(kind="welfare_check").values_list(
            "target_tags", flat=True
        )
        for tag in value.strip(",").split(",")
    }
    assert plan.movement_rule == MovementRule.MICRO_GRID
    assert {"pregnant", "low_income", "elderly_alone"} <= tags
    assert plan.templates.filter(kind="supply_distribution").count() == 1


def test_gas_leak_default_keeps_volunteers_in_their_building_group(world):
    services.plans_create_defaults(owner=world.street, actor=None)
    assert Plan.objects.get(hazard=Hazard.GAS_LEAK).movement_rule == MovementRule.BUILDING_GROUP


@pytest.mark.parametrize(
    "role", [Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER, Role.VOLUNTEER, Role.RESIDENT]
)
def test_defaults_refused_below_the_secretary_and_nothing_written(world, role):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plans_create_defaults(owner=world.community, actor=world.users[role])
    assert caught.value.code == "permission_denied"
    assert snapshot() == before


def test_secretary_may_not_create_the_streets_defaults(world):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plans_create_defaults(owner=world.street, actor=world.users[Role.SECRETARY])
    assert caught.value.messages == ["You may not edit the plans of G街道."]
    assert snapshot() == before


def test_plans_belong_to_a_community_or_wider(world):
    with pytest.raises(ValidationError) as caught:
        services.plans_create_defaults(owner=world.micro_grid, actor=None)
    assert caught.value.message_dict == {
        "owner": ["Plans belong to a street, a block or a community."]
    }
    assert Plan.objects.count() == 0


# Plans -----------------------------------------------------------------------------------


def test_plan_create_names_every_bad_field_and_writes_nothing(world):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plan_create(
            actor=world.users[Role.SECRETARY],
            owner=world.community,
            hazard="meteor",
            name="  ",
            movement_rule="anywhere",
            volunteer_capacity=0,
            acknowledge_minutes="soon",
            retry_minutes=True,
            max_attempts=11,
        )
    assert caught.value.message_dict == {
        "hazard": ["Unknown value: meteor"],
        "name": ["Give the plan a name."],
        "movement_rule": ["Unknown value: anywhere"],
        "volunteer_capacity": ["Give a whole number from 1 to 50."],
        "acknowledge_minutes": ["Give a whole number."],
        "retry_minutes": ["Give a whole number."],
        "max_attempts": ["Give a whole number from 1 to 10."],
    }
    assert snapshot() == before


def test_plan_create_refuses_a_name_the_owner_already_uses(world, community_plan):
    with pytest.raises(ValidationError) as caught:
        services.plan_create(
            actor=world.users[Role.SECRETARY],
            owner=world.community,
            hazard=Hazard.FIRE,
            name="A社区高温预案",
        )
    assert caught.value.message_dict == {
        "name": ["A社区 already has a plan named “A社区高温预案”."]
    }


def test_plan_create_is_audited(world, community_plan):
    entry = AuditEntry.objects.get(object_type="emergency_plan")
    assert (entry.action, entry.actor, entry.object_id, entry.grid_path) == (
        "create",
        world.users[Role.SECRETARY],
        str(community_plan.pk),
        world.community.path,
    )
    assert entry.changes["name"] == "A社区高温预案"


def test_secretary_edits_own_community_plan_with_one_audit_row(world, community_plan):
    plan = services.plan_update(
        actor=world.users[Role.SECRETARY],
        plan=community_plan,
        movement_rule="building",
        volunteer_capacity="5",
        max_attempts=3,
        is_active=False,
    )
    assert (plan.movement_rule, plan.volunteer_capacity, plan.is_active) == ("building", 5, False)
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {
        "movement_rule": ["community", "building"],
        "volunteer_capacity": [8, 5],
        "is_active": [True, False],
    }


def test_secretary_may_not_edit_the_streets_plan(world, street_plan):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plan_update(
            actor=world.users[Role.SECRETARY], plan=street_plan, volunteer_capacity=3
        )
    assert caught.value.code == "permission_denied"
    assert snapshot() == before


def test_street_admin_edits_street_plans(world, street_plan):
    plan = services.plan_update(
        actor=world.users[Role.STREET_ADMIN], plan=street_plan, name="街道防台防汛预案"
    )
    assert plan.name == "街道防台防汛预案"


@pytest.mark.parametrize("role", [Role.MICRO_GRID_LEAD, Role.VOLUNTEER, "anonymous"])
def test_micro_grid_lead_and_volunteer_may_not_edit_a_plan(world, community_plan, role):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plan_update(actor=world.users[role], plan=community_plan, volunteer_capacity=3)
    assert caught.value.code == "permission_denied"
    assert snapshot() == before


def test_plan_update_refuses_fields_that_are_not_editable(world, community_plan):
    with pytest.raises(ValidationError) as caught:
        services.plan_update(
            actor=world.users[Role.SECRETARY], plan=community_plan, grid_path="/S/"
        )
    assert caught.value.message_dict == {"grid_path": ["This field cannot be changed."]}


def test_plan_update_without_change_writes_no_audit_row(world, community_plan):
    before = AuditEntry.objects.count()
    services.plan_update(
        actor=world.users[Role.SECRETARY], plan=community_plan, volunteer_capacity=8
    )
    assert AuditEntry.objects.count() == before


# Copies ----------------------------------------------------------------------------------


def test_community_copies_the_streets_plan_with_everything_in_it(world):
    services.plans_create_defaults(owner=world.street, actor=None)
    source = Plan.objects.get(grid_unit=world.street, hazard=Hazard.EPIDEMIC)
    copy = services.plan_copy(actor=world.users[Role.SECRETARY], plan=source, owner=world.community)
    assert (copy.grid_unit, copy.name, copy.movement_rule) == (
        world.community,
        "疫情封控预案",
        "micro_grid",
    )
    assert list(copy.templates.values_list("title", "target_tags", "lowest_grade")) == list(
        source.templates.values_list("title", "target_tags", "lowest_grade")
    )
    assert copy.supply_minimums.count() == source.supply_minimums.count()
    assert copy.contacts.count() == source.contacts.count()
    assert AuditEntry.objects.get(object_id=str(copy.pk)).changes == {
        "copied_from": source.pk,
        "copied_from_owner": "G街道",
    }
    # The copy is the community's own: its secretary edits it, the street's stays.
    services.plan_update(actor=world.users[Role.SECRETARY], plan=copy, volunteer_capacity=4)
    source.refresh_from_db()
    assert source.volunteer_capacity == 12


def test_copy_refuses_a_name_already_used_by_the_community(world, street_plan):
    secretary = world.users[Role.SECRETARY]
    services.plan_copy(actor=secretary, plan=street_plan, owner=world.community)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plan_copy(actor=secretary, plan=street_plan, owner=world.community)
    assert caught.value.message_dict == {"name": ["A社区 already has a plan named “街道防台预案”."]}
    assert snapshot() == before


def test_copy_into_another_community_is_refused(world, street_plan):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.plan_copy(
            actor=world.users[Role.SECRETARY], plan=street_plan, owner=world.other_community
        )
    assert caught.value.code == "permission_denied"
    assert snapshot() == before


def test_copy_only_from_a_unit_above(world):
    other = services.plan_create(
        actor=world.users[Role.STREET_ADMIN],
        owner=world.other_community,
        hazard=Hazard.FIRE,
        name="C社区消防预案",
    )
    with pytest.raises(ValidationError) as caught:
        services.plan_copy(actor=world.users[Role.STREET_ADMIN], plan=other, owner=world.community)
    assert caught.value.message_dict == {
        "plan": ["Only a plan of A社区 or of a unit above it can be copied."]
    }


# Templates -------------------------------------------------------------------------------


def test_template_create_stores_codes_and_orders_after_the_last(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    first = services.template_create(
        actor=secretary,
        plan=community_plan,
        kind="welfare_check",
        title="独居老人防暑探访",
        target_tags=["elderly_alone", "empty_nest"],
        due_hours="4",
        required_team="care",
        required_skills="elder_care",
        lowest_grade=4,
    )
    second = services.template_create(
        actor=secretary, plan=community_plan, kind="patrol", title="楼道巡查", lowest_grade=3
    )
    assert (first.target_tags, first.required_skills, first.sort_order) == (
        ",elderly_alone,empty_nest,",
        ",elder_care,",
        1,
    )
    assert (second.sort_order, second.target_tags, second.lowest_grade) == (2, "", 3)
    assert AuditEntry.objects.filter(object_type="emergency_task_template").count() == 2


def test_welfare_check_without_tags_and_unknown_codes_are_refused(world, community_plan):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.template_create(
            actor=world.users[Role.SECRETARY],
            plan=community_plan,
            kind="welfare_check",
            title="安全确认",
            target_tags=[],
            required_team="firefighting",
            required_skills=["first_aid", "flying"],
            due_hours=0,
            lowest_grade=5,
        )
    assert caught.value.message_dict == {
        "target_tags": [
            "A welfare check needs at least one vulnerability tag: it visits the households "
            "with a member carrying one."
        ],
        "required_team": ["Unknown value: firefighting"],
        "required_skills": ["Unknown codes: flying"],
        "due_hours": ["Give a whole number from 1 to 168."],
        "lowest_grade": ["Give a whole number from 1 to 4."],
    }
    assert snapshot() == before


def test_unknown_tag_and_tags_on_a_patrol_are_refused(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    with pytest.raises(ValidationError) as caught:
        services.template_create(
            actor=secretary,
            plan=community_plan,
            kind="welfare_check",
            title="确认",
            target_tags=["elderly_alone", "rich"],
        )
    assert caught.value.message_dict == {"target_tags": ["Unknown codes: rich"]}
    with pytest.raises(ValidationError) as caught:
        services.template_create(
            actor=secretary,
            plan=community_plan,
            kind="patrol",
            title="巡查",
            target_tags="disabled",
        )
    assert list(caught.value.message_dict) == ["target_tags"]
    assert TaskTemplate.objects.count() == 0


def test_duplicate_title_in_one_plan_is_refused(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    services.template_create(actor=secretary, plan=community_plan, kind="patrol", title="巡查")
    with pytest.raises(ValidationError) as caught:
        services.template_create(
            actor=secretary, plan=community_plan, kind="information_relay", title="巡查"
        )
    assert caught.value.message_dict == {"title": ["This plan already has a task titled “巡查”."]}
    assert TaskTemplate.objects.count() == 1


def test_template_update_checks_the_template_as_it_will_be_stored(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    patrol = services.template_create(
        actor=secretary, plan=community_plan, kind="patrol", title="巡查"
    )
    with pytest.raises(ValidationError) as caught:
        services.template_update(actor=secretary, template=patrol, kind="welfare_check")
    assert list(caught.value.message_dict) == ["target_tags"]
    patrol.refresh_from_db()
    assert patrol.kind == "patrol"
    check = services.template_update(
        actor=secretary,
        template=patrol,
        kind="welfare_check",
        target_tags=["disabled"],
        lowest_grade=2,
    )
    assert (check.kind, check.target_tags, check.lowest_grade) == ("welfare_check", ",disabled,", 2)
    assert AuditEntry.objects.filter(
        object_type="emergency_task_template", action="update"
    ).get().changes == {
        "kind": ["patrol", "welfare_check"],
        "target_tags": ["", ",disabled,"],
        "lowest_grade": [4, 2],
    }


def test_template_delete_is_audited_and_refused_to_a_micro_grid_lead(world, community_plan):
    patrol = services.template_create(
        actor=world.users[Role.SECRETARY], plan=community_plan, kind="patrol", title="巡查"
    )
    before = snapshot()
    with pytest.raises(ValidationError):
        services.template_delete(actor=world.users[Role.MICRO_GRID_LEAD], template=patrol)
    assert snapshot() == before
    services.template_delete(actor=world.users[Role.SECRETARY], template=patrol)
    assert TaskTemplate.objects.count() == 0
    assert (
        AuditEntry.objects.filter(object_type="emergency_task_template", action="delete").count()
        == 1
    )


# Supplies and contacts ---------------------------------------------------------------------


def test_supply_minimum_set_creates_then_changes_one_row_per_category(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    services.supply_minimum_set(
        actor=secretary, plan=community_plan, category="water", minimum_quantity=100
    )
    services.supply_minimum_set(
        actor=secretary, plan=community_plan, category="water", minimum_quantity="300"
    )
    services.supply_minimum_set(
        actor=secretary, plan=community_plan, category="water", minimum_quantity=300
    )
    assert list(community_plan.supply_minimums.values_list("category", "minimum_quantity")) == [
        ("water", 300)
    ]
    assert list(
        AuditEntry.objects.filter(object_type="emergency_plan_supply")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["create", "update"]


def test_supply_minimum_refuses_unknown_category_and_zero(world, community_plan):
    with pytest.raises(ValidationError) as caught:
        services.supply_minimum_set(
            actor=world.users[Role.SECRETARY],
            plan=community_plan,
            category="gold",
            minimum_quantity=0,
        )
    assert caught.value.message_dict == {
        "category": ["Unknown value: gold"],
        "minimum_quantity": ["Give a whole number from 1 to 1000000."],
    }
    assert PlanSupplyMinimum.objects.count() == 0


def test_supply_minimum_delete(world, community_plan):
    minimum = services.supply_minimum_set(
        actor=world.users[Role.SECRETARY], plan=community_plan, category="food", minimum_quantity=5
    )
    services.supply_minimum_delete(actor=world.users[Role.SECRETARY], minimum=minimum)
    assert PlanSupplyMinimum.objects.count() == 0


def test_contact_set_moves_a_post_already_in_the_tree(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    services.contact_set(actor=secretary, plan=community_plan, post="party_secretary", level=1)
    contact = services.contact_set(
        actor=secretary, plan=community_plan, post="micro_grid_head", level=3, duty="组织本网格"
    )
    services.contact_set(
        actor=secretary, plan=community_plan, post="micro_grid_head", level=2, duty="组织本网格"
    )
    assert list(community_plan.contacts.values_list("level", "post", "duty")) == [
        (1, "party_secretary", ""),
        (2, "micro_grid_head", "组织本网格"),
    ]
    services.contact_delete(actor=secretary, contact=contact)
    assert community_plan.contacts.count() == 1


def test_contact_set_refuses_unknown_post_and_level_zero(world, community_plan):
    with pytest.raises(ValidationError) as caught:
        services.contact_set(
            actor=world.users[Role.SECRETARY], plan=community_plan, post="mayor", level=0
        )
    assert caught.value.message_dict == {
        "post": ["Unknown value: mayor"],
        "level": ["Give a whole number from 1 to 9."],
    }
    assert PlanContact.objects.count() == 0


def test_street_admin_may_edit_a_community_plan_but_not_a_volunteer(world, community_plan):
    services.contact_set(
        actor=world.users[Role.STREET_ADMIN], plan=community_plan, post="street_admin", level=1
    )
    before = snapshot()
    with pytest.raises(ValidationError):
        services.supply_minimum_set(
            actor=world.users[Role.VOLUNTEER],
            plan=community_plan,
            category="food",
            minimum_quantity=5,
        )
    assert snapshot() == before


# Static problems ---------------------------------------------------------------------------


def test_plan_check_of_an_empty_plan(community_plan):
    assert services.plan_check(community_plan) == [
        "The plan has no task templates: activating it creates no tasks.",
        "The plan has no contact tree: on activation only the party secretary and the street "
        "administrator are told.",
    ]


def test_plan_check_reports_double_visits_grade_gaps_and_tree_gaps(world, community_plan):
    secretary = world.users[Role.SECRETARY]
    for title, tags in (
        ("独居老人确认", ["elderly_alone", "disabled"]),
        ("残疾人确认", ["disabled"]),
    ):
        services.template_create(
            actor=secretary,
            plan=community_plan,
            kind="welfare_check",
            title=title,
            target_tags=tags,
            lowest_grade=3,
        )
    services.contact_set(actor=secretary, plan=community_plan, post="party_secretary", level=1)
    services.contact_set(actor=secretary, plan=community_plan, post="micro_grid_head", level=3)
    assert services.plan_check(community_plan) == [
        "No task applies at grade IV: activating at that grade is refused.",
        "Households tagged Disability are checked twice, by “独居老人确认” and “残疾人确认”.",
        "The contact tree skips level 2.",
    ]


def test_plan_check_reports_rows_written_around_the_services(world, community_plan):
    # Rows from before a code was retired, or written by hand, are still shown.
    TaskTemplate.objects.create(
        plan=community_plan, kind="patrol", title="巡查", required_team="firefighting"
    )
    TaskTemplate.objects.create(plan=community_plan, kind="patrol", title="巡查")
    PlanContact.objects.create(plan=community_plan, level=1, post="mayor")
    assert services.plan_check(community_plan) == [
        "“巡查” names unknown codes: firefighting.",
        "2 tasks are titled “巡查”.",
        "Unknown posts: mayor.",
    ]
