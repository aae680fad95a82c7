"""Command pages: the list, activation with its preview, an activation's controls and one
task, driven through the real services on the shared emergency world.

At grade IV the plan makes one welfare check for each of the two targeted households
(张桂英 in 1号楼 101, 王芳 in 2号楼 201); both go to 陈志愿, the only care-team member.
"""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import (
    Activation,
    ActivationState,
    EventKind,
    PlanContact,
    Task,
    TaskState,
    TaskTemplate,
    Unavailability,
)
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db


def _start(world, plan, *, grade=4, scope=None):
    return services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=scope or world.community,
        grade=grade,
        is_drill=True,
    )


def _activate_form(world, plan, **extra):
    data = {
        "plan": plan.pk,
        "scope": world.community.pk,
        "grade": 4,
        "mode": "drill",
        "note": "",
        "step": "preview",
    }
    data.update(extra)
    return data


# The list -------------------------------------------------------------------------------


def test_home_lists_live_activation_with_board_link_and_activate_button(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-testid="live-{activation.pk}"' in body
    assert reverse("emergency:board", args=[activation.pk]) in body
    assert 'data-testid="activate-link"' in body


def test_home_is_hidden_from_a_volunteer(emergency_world, plan):
    world = emergency_world
    _start(world, plan)
    client = client_for(world.users[Role.VOLUNTEER])
    assert client.get(reverse("emergency:home")).status_code == 404


def test_home_lists_stood_down_activation_with_report_link(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    services.activation_stand_down(
        actor=world.users[Role.SECRETARY], activation=activation, reason="台风过境"
    )
    client = client_for(world.users[Role.SECRETARY])
    body = client.get(reverse("emergency:home")).content.decode()
    assert reverse("emergency:report", args=[activation.pk]) in body
    assert "No emergency is active in your area." in body


def test_micro_grid_lead_has_no_activate_button(emergency_world, plan):
    world = emergency_world
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    body = client.get(reverse("emergency:home")).content.decode()
    assert 'data-testid="activate-link"' not in body
    assert client.get(reverse("emergency:activate")).status_code == 404


# Activation -----------------------------------------------------------------------------


def test_activate_offers_the_secretarys_community_and_its_micro_grids(emergency_world, plan):
    world = emergency_world
    client = client_for(world.users[Role.SECRETARY])
    form = client.get(reverse("emergency:activate")).context["form"]
    assert [unit.name for unit in form.fields["scope"].queryset] == [
        "A社区",
        "第一微网格",
        "第二微网格",
    ]
    assert list(form.fields["plan"].queryset) == [plan]


def test_street_admin_may_activate_street_blocks_and_communities(emergency_world, plan):
    world = emergency_world
    client = client_for(world.users[Role.STREET_ADMIN])
    form = client.get(reverse("emergency:activate")).context["form"]
    assert [unit.name for unit in form.fields["scope"].queryset] == [
        "G街道",
        "第一街区",
        "A社区",
        "C社区",
    ]


def test_preview_shows_exact_figures_and_writes_nothing(emergency_world, plan):
    world = emergency_world
    # With a contact tree the plan has nothing to warn about.
    PlanContact.objects.create(plan=plan, level=1, post="party_secretary")
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(reverse("emergency:activate"), _activate_form(world, plan))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.tasks, preview.targeted_households, preview.assigned) == (2, 2, 2)
    assert preview.volunteers_available == 2
    assert preview.problems == []
    body = response.content.decode()
    assert 'data-testid="preview-tasks">2<' in body
    assert 'data-testid="preview-ok"' in body
    assert Activation.objects.count() == 0


def test_preview_reports_an_impossible_constraint(emergency_world, plan):
    world = emergency_world
    TaskTemplate.objects.create(
        plan=plan,
        kind="patrol",
        title="驾车转运巡查",
        required_skills=",driving,",
        lowest_grade=4,
        sort_order=3,
    )
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(reverse("emergency:activate"), _activate_form(world, plan))
    body = response.content.decode()
    assert 'data-testid="preview-problems"' in body
    assert "“驾车转运巡查” needs Driving, which no available volunteer has." in body
    assert "The plan has no contact tree" in body
    # Two patrols (one per building) nobody can do, beside the two welfare checks.
    assert "2 of 4 tasks cannot be assigned (see the reasons below)." in body
    assert response.context["preview_unassigned"] == 2


def test_activation_with_problems_needs_the_activate_anyway_box(emergency_world, plan):
    world = emergency_world
    TaskTemplate.objects.create(
        plan=plan, kind="patrol", title="驾车巡查", required_skills=",driving,", sort_order=3
    )
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("emergency:activate")
    refused = client.post(url, _activate_form(world, plan, step="confirm"))
    assert refused.status_code == 200
    assert "Confirm to activate anyway." in refused.content.decode()
    assert Activation.objects.count() == 0

    accepted = client.post(
        url, _activate_form(world, plan, step="confirm", acknowledge_problems="on")
    )
    activation = Activation.objects.get()
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("emergency:board", args=[activation.pk])
    assert activation.is_drill is True
    assert Task.objects.filter(activation=activation, state="unassigned").count() == 2


def test_confirm_activates_a_real_emergency_and_goes_to_the_board(emergency_world, plan):
    world = emergency_world
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activate"),
        _activate_form(world, plan, step="confirm", mode="real", grade=2, note="台风红色预警"),
    )
    activation = Activation.objects.get()
    assert response["Location"] == reverse("emergency:board", args=[activation.pk])
    assert (activation.is_drill, activation.grade, activation.note) == (False, 2, "台风红色预警")
    # Grade II adds a patrol of each of the community's two buildings.
    assert Task.objects.filter(activation=activation).count() == 4


def test_second_activation_of_the_same_scope_is_refused_on_the_form(emergency_world, plan):
    world = emergency_world
    first = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activate"), _activate_form(world, plan, step="confirm")
    )
    assert response.status_code == 409
    errors = response.context["form"].errors["scope"]
    assert errors[0].startswith("A社区 is already in emergency operation (A社区防台防汛预案, since")
    assert errors[0].endswith("change its grade or stand it down instead.")
    assert list(Activation.objects.all()) == [first]


def test_activating_a_micro_grid_inside_a_live_community_is_refused(emergency_world, plan):
    world = emergency_world
    _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activate"),
        _activate_form(world, plan, step="preview", scope=world.micro_grid.pk),
    )
    # Refused at the preview already, before the secretary reads it through.
    assert response.status_code == 409
    assert "overlaps an emergency already active for A社区" in response.content.decode()
    response = client.post(
        reverse("emergency:activate"),
        _activate_form(world, plan, step="confirm", scope=world.micro_grid.pk),
    )
    assert response.status_code == 409
    assert "overlaps an emergency already active for A社区" in response.content.decode()
    assert Activation.objects.count() == 1


# One activation ------------------------------------------------------------------------


def test_detail_shows_the_timeline(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:activation_detail", args=[activation.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="event-activated"' in body
    assert "2 tasks generated, 2 assigned." in body


def test_regrade_by_post_adds_the_patrols(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("emergency:activation_detail", args=[activation.pk])
    response = client.post(url, {"action": "regrade", "regrade-grade": 2})
    assert response.status_code == 302
    activation.refresh_from_db()
    assert activation.grade == 2
    assert Task.objects.filter(activation=activation, kind="patrol").count() == 2
    again = client.post(url, {"action": "regrade", "regrade-grade": 2})
    assert again.context["forms"]["regrade"].errors["grade"] == [
        "The emergency is already at this grade."
    ]


def test_add_task_for_a_household_by_building_and_room(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activation_detail", args=[activation.pk]),
        {
            "action": "add_task",
            "task-kind": "welfare_check",
            "task-title": "邻居来电：102室老人",
            "task-building": world.building.pk,
            "task-room": "102",
            "task-due_hours": 1,
            "task-required_team": "care",
        },
    )
    task = Task.objects.get(title="邻居来电：102室老人")
    assert response["Location"] == reverse("emergency:task_detail", args=[task.pk])
    assert task.household == world.neighbour_household
    assert task.assignee == world.volunteer
    assert activation.events.filter(kind=EventKind.TASKS_ADDED).count() == 1


def test_add_task_names_a_room_that_does_not_exist(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activation_detail", args=[activation.pk]),
        {
            "action": "add_task",
            "task-kind": "welfare_check",
            "task-title": "检查",
            "task-building": world.building.pk,
            "task-room": "999",
            "task-due_hours": 1,
        },
    )
    assert response.context["forms"]["add_task"].errors["room"] == ["1号楼 has no room 999."]
    assert Task.objects.filter(title="检查").count() == 0


def test_add_task_offers_only_buildings_in_scope(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:activation_detail", args=[activation.pk]))
    buildings = response.context["forms"]["add_task"].fields["building"].queryset
    assert sorted(building.name for building in buildings) == ["1号楼", "2号楼"]


def test_marking_a_volunteer_unavailable_moves_their_tasks(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activation_detail", args=[activation.pk]),
        {
            "action": "unavailable",
            "unavailable-volunteer": world.volunteer.pk,
            "unavailable-reason": "所在楼栋封控",
        },
    )
    assert response.status_code == 302
    assert Unavailability.objects.get().reason == "所在楼栋封控"
    # Nobody else is in the care team: both checks are now unassigned, with the reason.
    tasks = Task.objects.filter(activation=activation)
    assert [(t.state, t.unassigned_reason) for t in tasks] == [
        (TaskState.UNASSIGNED, "no_worker_with_team"),
        (TaskState.UNASSIGNED, "no_worker_with_team"),
    ]


def test_stand_down_by_post_goes_to_the_report(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activation_detail", args=[activation.pk]),
        {"action": "stand_down", "stand-reason": "台风已过境", "stand-lessons": "提前联系独居老人"},
    )
    assert response["Location"] == reverse("emergency:report", args=[activation.pk])
    activation.refresh_from_db()
    assert activation.state == ActivationState.STOOD_DOWN
    assert activation.lessons == "提前联系独居老人"


def test_stand_down_needs_a_reason(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:activation_detail", args=[activation.pk]),
        {"action": "stand_down", "stand-reason": "", "stand-lessons": ""},
    )
    assert response.status_code == 200
    assert "reason" in response.context["forms"]["stand_down"].errors
    activation.refresh_from_db()
    assert activation.is_active


def test_lessons_are_edited_after_stand_down(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    services.activation_stand_down(
        actor=world.users[Role.SECRETARY], activation=activation, reason="结束"
    )
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("emergency:activation_detail", args=[activation.pk])
    assert 'data-testid="lessons-form"' in client.get(url).content.decode()
    client.post(url, {"action": "lessons", "lessons-lessons": "志愿者名单需每月更新"})
    activation.refresh_from_db()
    assert activation.lessons == "志愿者名单需每月更新"


def test_micro_grid_lead_may_not_regrade(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    url = reverse("emergency:activation_detail", args=[activation.pk])
    body = client.get(url).content.decode()
    # The grade is the community's call; the lead adds tasks inside their own compound.
    assert 'data-testid="regrade-form"' not in body
    assert 'data-testid="add-task-form"' in body
    assert "2号楼" not in body.split('data-testid="add-task-form"')[1].split("</form>")[0]
    assert 'data-testid="timeline"' in body
    response = client.post(url, {"action": "regrade", "regrade-grade": 2})
    assert response.status_code == 403
    activation.refresh_from_db()
    assert activation.grade == 4


# One task --------------------------------------------------------------------------------


def _welfare_task(activation, world):
    return Task.objects.get(activation=activation, household=world.household)


def test_task_page_shows_masked_target_and_the_explanation(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    task = _welfare_task(activation, world)
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(reverse("emergency:task_detail", args=[task.pk]))
    body = response.content.decode()
    assert "138****1234" in body
    assert "13812341234" not in body
    assert response.context["sentence"] == (
        "Assigned to 陈志愿, who lives in the same building, is in the Care and assistance "
        "team, still had room for 6 more tasks."
    )


def test_reassign_to_a_named_volunteer(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    task = _welfare_task(activation, world)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:task_detail", args=[task.pk]),
        {
            "action": "reassign",
            "reassign-volunteer": world.second_volunteer.pk,
            "reassign-expected_version": task.version,
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == world.second_volunteer
    assert task.explanation["by_staff"] is True


def test_reassign_with_a_stale_version_shows_the_conflict(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    task = _welfare_task(activation, world)
    seen = task.version
    services.task_reassign(
        actor=world.users[Role.SECRETARY],
        task=task,
        expected_version=seen,
        volunteer=world.second_volunteer,
    )
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("emergency:task_detail", args=[task.pk]),
        {"action": "reassign", "reassign-volunteer": "", "reassign-expected_version": seen},
    )
    assert response.status_code == 409
    assert (
        "Someone changed this task a moment ago; reload to see who has it now."
        in response.content.decode()
    )
    task.refresh_from_db()
    assert task.assignee == world.second_volunteer
    # The form now carries the version shown, so the next try can go through.
    assert response.context["reassign_form"]["expected_version"].value() == str(task.version)


def test_micro_grid_lead_records_the_outcome_of_an_escalated_task(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    task = _welfare_task(activation, world)
    volunteer_user = world.users[Role.VOLUNTEER]
    for _ in range(2):  # the plan escalates after two tries
        services.task_report(actor=volunteer_user, task=task, outcome="no_answer")
        task.refresh_from_db()
    assert task.state == TaskState.ESCALATED
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    url = reverse("emergency:task_detail", args=[task.pk])
    page = client.get(url)
    assert page.context["sentence"] == (
        "Nobody answered after 2 tries, so the task went to the micro-grid lead."
    )
    response = client.post(url, {"action": "outcome", "outcome-outcome": "safe"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.outcome) == (TaskState.DONE, "safe")


def test_task_page_is_404_for_a_lead_of_another_micro_grid_task(emergency_world, plan):
    world = emergency_world
    activation = _start(world, plan)
    other = Task.objects.get(activation=activation, household=world.other_micro_grid_household)
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    assert client.get(reverse("emergency:task_detail", args=[other.pk])).status_code == 404


def test_home_links_plans_reports_and_help_requests(emergency_world):
    world = emergency_world
    client = client_for(world.users[Role.SECRETARY])
    body = client.get(reverse("emergency:home")).content.decode()
    assert f'href="{reverse("emergency:plan_list")}" data-testid="plans-link"' in body
    assert f'href="{reverse("emergency:report_list")}" data-testid="reports-link"' in body
    assert f'href="{reverse("emergency:help_list")}" data-testid="help-link"' in body
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    body = client.get(reverse("emergency:home")).content.decode()
    assert 'data-testid="plans-link"' not in body
