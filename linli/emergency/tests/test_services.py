"""The services of emergency operation on the shared world (see conftest.py here): what an
activation writes, who gets which task and why, and how tasks move on."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    HelpRequest,
    Task,
    TaskReport,
    TaskTemplate,
)
from linli.emergency.services import (
    activation_add_task,
    activation_preview,
    activation_regrade,
    activation_start,
    help_request_create,
    household_priority,
    task_acknowledge,
    task_decline,
    task_phone_reveal,
    task_report,
    tasks_sweep,
    volunteer_mark_unavailable,
    zone_key,
)
from linli.notify.models import Notification
from linli.volunteers.models import ServiceKind


def start(world, plan, *, grade=4, drill=True, **kwargs):
    return activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=grade,
        is_drill=drill,
        **kwargs,
    )


def welfare_tasks(activation):
    return {task.household.room: task for task in activation.tasks.filter(kind="welfare_check")}


def test_activation_generates_and_assigns_welfare_checks_for_targeted_households(
    emergency_world, plan
):
    world = emergency_world
    activation = start(world, plan, grade=4)

    tasks = welfare_tasks(activation)
    assert set(tasks) == {"101", "201"}
    # Both go to the only care-team volunteer, who lives in 1号楼.
    assert {task.assignee for task in tasks.values()} == {world.volunteer}
    assert {task.state for task in tasks.values()} == {"assigned"}
    assert tasks["101"].explanation["distance_metres"] == 0
    assert tasks["101"].explanation["same_building"] is True
    assert tasks["201"].explanation["distance_metres"] == 111
    # Elderly living alone and 80 or older weighs more than pregnant.
    assert tasks["101"].priority == 4
    assert tasks["201"].priority == 2
    # Patrols apply from grade II only.
    assert activation.tasks.filter(kind="patrol").count() == 0
    assert tasks["101"].due_at == activation.activated_at + timedelta(hours=2)


def test_activation_notifies_assigned_volunteers_and_the_contact_tree(emergency_world, plan):
    world = emergency_world
    # What the activation sends, not the approval notices of the world's volunteers.
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    start(world, plan, grade=4)
    activation_notices = Notification.objects.filter(pk__gt=before)
    volunteer_titles = list(
        activation_notices.filter(recipient=world.users[Role.VOLUNTEER]).values_list("kind", "link")
    )
    assert volunteer_titles == [("emergency_tasks", "/emergency/my-tasks/")]
    # No contact tree on the plan: the party secretary and the street are told.
    told = set(
        Notification.objects.filter(kind="emergency_activated").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {Role.SECRETARY, Role.STREET_ADMIN}
    # The patrol volunteer got nothing to do at grade IV and is not disturbed.
    assert not activation_notices.filter(recipient=world.users["volunteer2"]).exists()


def test_activation_records_the_timeline_event_with_counts(emergency_world, plan):
    activation = start(emergency_world, plan, grade=2)
    event = ActivationEvent.objects.get(activation=activation)
    assert event.kind == "activated"
    assert event.detail["tasks"] == 4
    assert event.detail["assigned"] == 4
    assert event.detail["volunteers"] == 2
    assert event.detail["drill"] is True


def test_activating_the_same_scope_twice_is_refused_and_writes_nothing(emergency_world, plan):
    world = emergency_world
    start(world, plan)
    with pytest.raises(ValidationError) as refused:
        start(world, plan)
    assert "A社区 is already in emergency operation" in refused.value.message_dict["scope"][0]
    assert Activation.objects.count() == 1
    assert Task.objects.count() == 2


def test_activating_a_street_over_an_active_community_is_refused(emergency_world, plan):
    world = emergency_world
    start(world, plan)
    street_plan = plan
    street_plan.grid_unit = world.street
    street_plan.grid_path = world.street.path
    street_plan.save()
    with pytest.raises(ValidationError) as refused:
        activation_start(
            actor=world.users[Role.STREET_ADMIN],
            plan=street_plan,
            scope=world.street,
            grade=4,
            is_drill=False,
        )
    assert refused.value.message_dict["scope"][0].startswith(
        "G街道 overlaps an emergency already active for A社区"
    )


def test_preview_reports_an_impossible_team_before_activation(emergency_world, plan):
    world = emergency_world
    TaskTemplate.objects.create(
        plan=plan,
        kind="supply_distribution",
        title="发放应急物资",
        required_team=ServiceKind.SUPPLIES,
        lowest_grade=4,
    )
    preview = activation_preview(
        actor=world.users[Role.SECRETARY], plan=plan, scope=world.community, grade=4
    )
    assert preview.tasks == 4
    assert preview.tasks_by_kind == {"welfare_check": 2, "supply_distribution": 2}
    assert preview.assigned == 2
    assert preview.unassigned_by_reason == {"no_worker_with_team": 2}
    assert preview.problems == [
        "The plan has no contact tree: on activation only the party secretary and the street "
        "administrator are told.",
        "“发放应急物资” needs the Supplies support team, and no available volunteer is in it.",
        "2 of 4 tasks cannot be assigned (see the reasons below).",
    ]
    with pytest.raises(ValidationError) as refused:
        start(world, plan)
    assert "Confirm to activate anyway" in refused.value.message_dict["acknowledge_problems"][0]
    assert Activation.objects.count() == 0
    activation = start(world, plan, acknowledge_problems=True)
    unassigned = activation.tasks.filter(state="unassigned")
    assert {task.unassigned_reason for task in unassigned} == {"no_worker_with_team"}


def test_others_may_not_activate(emergency_world, plan):
    world = emergency_world
    for role in (Role.MICRO_GRID_LEAD, Role.VOLUNTEER, Role.RESIDENT):
        with pytest.raises(ValidationError) as refused:
            activation_start(
                actor=world.users[role], plan=plan, scope=world.community, grade=4, is_drill=True
            )
        assert refused.value.code == "permission_denied"
    assert Activation.objects.count() == 0


def test_raising_the_grade_adds_patrols_and_lowering_cancels_unstarted_ones(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan, grade=4)
    activation_regrade(actor=world.users[Role.SECRETARY], activation=activation, grade=2)
    patrols = activation.tasks.filter(kind="patrol")
    assert sorted(patrols.values_list("building__name", flat=True)) == ["1号楼", "2号楼"]
    assert {task.assignee for task in patrols} == {world.second_volunteer}
    activation_regrade(actor=world.users[Role.SECRETARY], activation=activation, grade=3)
    assert set(activation.tasks.filter(kind="patrol").values_list("state", flat=True)) == {
        "cancelled"
    }
    # Welfare checks stay.
    assert activation.tasks.filter(kind="welfare_check", state="assigned").count() == 2
    grades = list(activation.events.filter(kind="grade_changed").values_list("detail", flat=True))
    assert [(g["previous"], g["grade"], g["added"], g["cancelled"]) for g in grades] == [
        (4, 2, 2, 0),
        (2, 3, 0, 2),
    ]


def test_a_declined_task_goes_to_no_one_else_when_nobody_else_qualifies(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    task_decline(actor=world.users[Role.VOLUNTEER], task=task, reason="我在医院")
    task.refresh_from_db()
    assert task.state == "unassigned"
    assert task.assignee is None
    # 刘志愿 is not in the care team.
    assert task.unassigned_reason == "no_worker_with_team"
    assert task.declined_by == [world.volunteer.pk]


def test_a_declined_task_goes_to_the_next_best_volunteer(emergency_world, plan):
    world = emergency_world
    plan.templates.filter(kind="welfare_check").update(required_team="")
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    assert task.assignee == world.volunteer
    task_decline(actor=world.users[Role.VOLUNTEER], task=task, reason="腿受伤")
    task.refresh_from_db()
    assert task.assignee == world.second_volunteer
    assert task.state == "assigned"
    assert task.explanation["distance_metres"] == 111
    assert Notification.objects.filter(
        recipient=world.users["volunteer2"], kind="emergency_tasks"
    ).exists()


def test_unacknowledged_tasks_move_on_after_the_plan_time(emergency_world, plan):
    world = emergency_world
    plan.templates.filter(kind="welfare_check").update(required_team="")
    activation = start(world, plan)
    tasks = welfare_tasks(activation)
    # Each goes to the volunteer living in the same building.
    assert tasks["101"].assignee == world.volunteer
    assert tasks["201"].assignee == world.second_volunteer
    task_acknowledge(actor=world.users["volunteer2"], task=tasks["201"])
    assert tasks_sweep(now=timezone.now() + timedelta(minutes=14)) == {"reassigned": 0}
    assert tasks_sweep(now=timezone.now() + timedelta(minutes=16)) == {"reassigned": 1}
    tasks["101"].refresh_from_db()
    tasks["201"].refresh_from_db()
    assert tasks["101"].assignee == world.second_volunteer
    assert tasks["101"].declined_by == [world.volunteer.pk]
    assert tasks["201"].state == "acknowledged"
    cause = activation.events.get(kind="reassigned").detail["cause"]
    assert cause == "not_acknowledged"


def test_marking_a_volunteer_unavailable_reassigns_their_tasks(emergency_world, plan):
    world = emergency_world
    plan.templates.filter(kind="welfare_check").update(required_team="")
    activation = start(world, plan)
    volunteer_mark_unavailable(
        actor=world.users[Role.MICRO_GRID_LEAD],
        activation=activation,
        volunteer=world.volunteer,
        reason="1号楼封控",
    )
    assert set(
        activation.tasks.filter(kind="welfare_check").values_list("assignee__name", flat=True)
    ) == {"刘志愿"}
    with pytest.raises(ValidationError) as twice:
        volunteer_mark_unavailable(
            actor=world.users[Role.SECRETARY],
            activation=activation,
            volunteer=world.volunteer,
            reason="again",
        )
    assert twice.value.message_dict["volunteer"] == ["陈志愿 is already marked unavailable."]


def test_under_a_compound_rule_volunteers_serve_only_their_own_micro_grid(emergency_world, plan):
    world = emergency_world
    plan.movement_rule = "micro_grid"
    plan.save()
    plan.templates.filter(kind="welfare_check").update(required_team="")
    activation = start(world, plan)
    tasks = welfare_tasks(activation)
    assert tasks["101"].assignee == world.volunteer
    assert tasks["201"].assignee == world.second_volunteer


def test_no_answer_is_retried_then_escalated_to_the_micro_grid_lead(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    volunteer = world.users[Role.VOLUNTEER]
    now = timezone.now()
    task_report(actor=volunteer, task=task, outcome="no_answer", now=now)
    task.refresh_from_db()
    assert (task.state, task.attempts, task.retry_at) == ("retry", 1, now + timedelta(minutes=30))
    task_report(actor=volunteer, task=task, outcome="not_home", now=now + timedelta(minutes=31))
    task.refresh_from_db()
    assert (task.state, task.attempts, task.retry_at) == ("escalated", 2, None)
    escalation = Notification.objects.get(kind="emergency_task_escalated")
    assert escalation.recipient == world.users[Role.MICRO_GRID_LEAD]
    assert escalation.link == f"/emergency/tasks/{task.pk}/"
    # The lead reaches the household and closes it.
    task_report(actor=world.users[Role.MICRO_GRID_LEAD], task=task, outcome="safe")
    task.refresh_from_db()
    assert task.state == "done"
    assert task.contacted_at is not None
    assert TaskReport.objects.filter(task=task).count() == 3


def test_needs_help_files_a_help_request_in_the_same_step(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    task_report(
        actor=world.users[Role.VOLUNTEER],
        task=task,
        outcome="needs_help",
        note="降压药只剩一天",
        help_kind="medicine",
        help_urgency=2,
    )
    request = HelpRequest.objects.get()
    assert (request.kind, request.urgency, request.description) == ("medicine", 2, "降压药只剩一天")
    assert request.source_task == task
    assert request.on_behalf is True
    assert request.activation == activation
    task.refresh_from_db()
    assert (task.state, task.outcome) == ("done", "needs_help")


def test_needs_help_without_a_kind_writes_nothing(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    with pytest.raises(ValidationError) as refused:
        task_report(actor=world.users[Role.VOLUNTEER], task=task, outcome="needs_help")
    assert set(refused.value.message_dict) == {"kind", "urgency", "description"}
    task.refresh_from_db()
    assert (task.state, task.version, task.attempts) == ("assigned", 1, 0)
    assert TaskReport.objects.count() == 0


def test_a_volunteer_reporting_someone_elses_task_is_refused_and_nothing_changes(
    emergency_world, plan
):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    with pytest.raises(ValidationError) as refused:
        task_report(actor=world.users["volunteer2"], task=task, outcome="safe")
    assert refused.value.code == "permission_denied"
    task.refresh_from_db()
    assert (task.state, task.version, task.outcome) == ("assigned", 1, "")
    assert TaskReport.objects.count() == 0


def test_help_request_outside_an_emergency_points_to_120_and_110(world):
    with pytest.raises(ValidationError) as refused:
        help_request_create(
            actor=world.users[Role.RESIDENT],
            household=world.household,
            kind="medical",
            urgency=1,
            description="胸口疼",
        )
    assert "120" in refused.value.message_dict["household"][0]
    assert HelpRequest.objects.count() == 0


def test_a_resident_asks_for_help_for_their_own_household_only(emergency_world, plan):
    world = emergency_world
    start(world, plan)
    request = help_request_create(
        actor=world.users[Role.RESIDENT],
        household=world.household,
        kind="medical",
        urgency=1,
        description="胸口疼",
    )
    assert request.on_behalf is False
    notified = Notification.objects.get(kind="emergency_help", recipient__username="secretary")
    assert notified.title_template == "LIFE-THREATENING help request: %(kind)s at %(place)s"
    assert notified.title_params["place"] == "1号楼 101"
    with pytest.raises(ValidationError) as refused:
        help_request_create(
            actor=world.users[Role.RESIDENT],
            household=world.neighbour_household,
            kind="food",
            urgency=3,
            description="没菜了",
        )
    assert refused.value.code == "permission_denied"


def test_adding_a_task_by_hand_assigns_it_at_once(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = activation_add_task(
        actor=world.users[Role.MICRO_GRID_LEAD],
        activation=activation,
        kind="patrol",
        title="1号楼地下室进水",
        building=world.buildings["1号楼"],
        due_hours=1,
    )
    assert task.assignee == world.volunteer
    assert task.explanation["same_building"] is True
    assert task.due_at - task.created_at == timedelta(hours=1)
    # The lead of the first micro-grid adds nothing in the second one.
    with pytest.raises(ValidationError) as refused:
        activation_add_task(
            actor=world.users[Role.MICRO_GRID_LEAD],
            activation=activation,
            kind="patrol",
            title="2号楼",
            building=world.buildings["2号楼"],
        )
    assert refused.value.code == "permission_denied"
    with pytest.raises(ValidationError) as outside:
        activation_add_task(
            actor=world.users[Role.SECRETARY],
            activation=activation,
            kind="patrol",
            title="9号楼",
            building=world.buildings["9号楼"],
        )
    assert outside.value.message_dict["building"] == [
        "The target is outside this emergency's scope."
    ]
    assert activation.tasks.count() == 3


def test_revealing_the_targets_phone_is_audited(emergency_world, plan):
    world = emergency_world
    activation = start(world, plan)
    task = welfare_tasks(activation)["101"]
    phone = task_phone_reveal(
        actor=world.users[Role.VOLUNTEER],
        task=task,
        resident=world.resident,
        purpose="emergency_contact",
        reason="确认是否安全",
    )
    assert phone == "13812341234"
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.actor, entry.object_id, entry.field) == (
        world.users[Role.VOLUNTEER],
        str(world.resident.pk),
        "phone",
    )
    with pytest.raises(ValidationError):
        task_phone_reveal(
            actor=world.users["volunteer2"],
            task=task,
            resident=world.resident,
            purpose="emergency_contact",
            reason="确认是否安全",
        )
    assert AuditEntry.objects.filter(action="reveal").count() == 1


def test_household_priority_adds_tag_weights_and_great_age():
    assert household_priority({"elderly_alone", "disabled"}, 1950, 2026) == 6
    assert household_priority({"elderly_alone"}, 1940, 2026) == 4
    assert household_priority({"low_income"}, None, 2026) == 1


def test_zone_keys_follow_the_movement_rule():
    path = "/S/B/A/A1/A1-1/"
    assert zone_key("community", path, 7) == "/S/B/A/"
    assert zone_key("micro_grid", path, 7) == "/S/B/A/A1/"
    assert zone_key("building_group", path, 7) == "/S/B/A/A1/A1-1/"
    assert zone_key("building", path, 7) == "building:7"
    # A volunteer registered at the community with no home building has no compound.
    assert zone_key("micro_grid", "/S/B/A/", None) == "above:/S/B/A/"


def test_tasks_inserted_by_copy_read_back_like_inserted_ones(emergency_world, plan, monkeypatch):
    # PostgreSQL takes large activations by COPY; force it here (SQLite inserts as usual).
    monkeypatch.setattr("linli.emergency.services.activation.COPY_THRESHOLD", 0)
    world = emergency_world
    activation = start(world, plan, grade=2)
    task = welfare_tasks(activation)["201"]
    assert (task.state, task.assignee, task.version, task.declined_by) == (
        "assigned",
        world.volunteer,
        1,
        [],
    )
    assert task.explanation["distance_metres"] == 111
    assert task.explanation["team"] == "care"
    assert task.assigned_at == activation.activated_at
    assert task.template.title == "独居老人等重点人群安全确认"
    assert activation.tasks.count() == 4
