"""The after-action report: exact figures from an activation built row by row with exact
times, the stand-down keeping them, the PDF, and who may read the pages."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    HelpRequest,
    Task,
    TaskReport,
)
from linli.emergency.report import (
    coverage_table_points,
    minutes_text,
    report_context,
    report_pdf,
    summary_compute,
)
from linli.emergency.services import activation_stand_down, supplies_draw
from linli.grids.services import household_create, role_assign
from linli.supplies.services import stock_location_create, supply_item_create
from linli.testing.clients import client_for

START = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def make_activation(world, plan, **overrides) -> Activation:
    values = {
        "plan": plan,
        "hazard": plan.hazard,
        "grade": 4,
        "scope": world.community,
        "grid_path": world.community.path,
        "is_drill": True,
        "movement_rule": plan.movement_rule,
        "volunteer_capacity": 8,
        "acknowledge_minutes": 15,
        "retry_minutes": 30,
        "max_attempts": 2,
        "activated_by": world.users[Role.SECRETARY],
        "activated_at": START,
    }
    values.update(overrides)
    activation = Activation.objects.create(**values)
    ActivationEvent.objects.create(
        activation=activation,
        kind="activated",
        actor=world.users[Role.SECRETARY],
        detail={"grade": 4, "tasks": 8, "assigned": 7, "unassigned": {"capacity_exhausted": 1}},
        created_at=START,
    )
    return activation


def welfare(activation, household, *, volunteer=None, state="assigned", minute=None, due=120):
    """A welfare check; `minute` is when it was done (contacted)."""
    done = minute is not None
    return Task.objects.create(
        activation=activation,
        kind="welfare_check",
        title="安全确认",
        household=household,
        building=household.building,
        grid_path=household.grid_path,
        due_at=at(due),
        state="done" if done else state,
        assignee=volunteer,
        assigned_at=START if volunteer else None,
        outcome="safe" if done else "",
        contacted_at=at(minute) if done else None,
        completed_at=at(minute) if done else None,
        created_at=START,
    )


def patrol(activation, building, *, volunteer=None, reason=""):
    return Task.objects.create(
        activation=activation,
        kind="patrol",
        title="楼道巡查",
        building=building,
        grid_path=building.grid_path,
        due_at=at(240),
        state="assigned" if volunteer else "unassigned",
        assignee=volunteer,
        assigned_at=START if volunteer else None,
        unassigned_reason=reason,
        created_at=START,
    )


def report(task, volunteer, outcome, minute):
    TaskReport.objects.create(
        task=task, volunteer=volunteer, outcome=outcome, created_at=at(minute)
    )


def help_request(activation, household, kind, urgency, created, **times):
    state = "open"
    if times.get("done") is not None:
        state = times.get("state", "done")
    elif times.get("dispatched") is not None:
        state = "dispatched"
    return HelpRequest.objects.create(
        activation=activation,
        household=household,
        grid_path=household.grid_path,
        kind=kind,
        urgency=urgency,
        description="需要帮助",
        state=state,
        volunteer=times.get("volunteer"),
        dispatched_at=at(times["dispatched"]) if times.get("dispatched") is not None else None,
        done_at=at(times["done"]) if times.get("done") is not None else None,
        created_at=at(created),
    )


@pytest.fixture
def drill(emergency_world, plan):
    """Four targeted households contacted at 10, 30, 45 and 90 minutes (2号楼 201 twice,
    the second check later), one check escalated after two unanswered tries, one patrol
    nobody could take, one still held; four help requests."""
    world = emergency_world
    first, second = world.volunteer, world.second_volunteer
    activation = make_activation(world, plan)
    room_202 = household_create(building=world.buildings["2号楼"], room="202")
    world.room_202 = room_202
    welfare(activation, world.household, volunteer=first, minute=10)
    welfare(activation, world.neighbour_household, volunteer=first, minute=30)
    needs_help = welfare(activation, world.other_micro_grid_household, volunteer=second, minute=45)
    needs_help.outcome = "needs_help"
    needs_help.save()
    welfare(activation, world.other_micro_grid_household, volunteer=second, minute=50)
    # Done after its due time.
    welfare(activation, room_202, volunteer=first, minute=90, due=60)
    escalated = welfare(activation, world.household, volunteer=first, state="escalated")
    patrol(activation, world.buildings["1号楼"], reason="capacity_exhausted")
    patrol(activation, world.buildings["2号楼"], volunteer=second)
    for task in Task.objects.filter(activation=activation, state="done"):
        report(task, task.assignee, task.outcome, (task.contacted_at - START).seconds / 60)
    report(escalated, first, "no_answer", 20)
    report(escalated, first, "not_home", 60)
    help_request(
        activation, world.other_micro_grid_household, "medical", 1, 20,
        dispatched=25, done=60, volunteer=first,
    )  # fmt: skip
    help_request(
        activation, world.household, "food", 2, 40, dispatched=55, done=100, volunteer=second
    )
    help_request(activation, world.neighbour_household, "other", 3, 50)
    help_request(
        activation, room_202, "medicine", 2, 60,
        dispatched=90, done=95, state="cancelled", volunteer=first,
    )  # fmt: skip
    ActivationEvent.objects.create(
        activation=activation,
        kind="grade_changed",
        detail={"previous": 4, "grade": 3, "added": 0, "cancelled": 0},
        created_at=at(35),
    )
    ActivationEvent.objects.create(
        activation=activation,
        kind="reassigned",
        detail={"cause": "not_acknowledged", "tasks": [1, 2], "assigned": 1, "unassigned": 1},
        created_at=at(40),
    )
    return activation


def test_coverage_curve_has_one_point_per_first_contact(drill):
    summary = summary_compute(drill)

    assert summary["targeted_households"] == 4
    assert summary["contacted_households"] == 4
    assert summary["coverage_curve"] == [
        [0.0, 0.0],
        [10.0, 0.25],
        [30.0, 0.5],
        [45.0, 0.75],
        [90.0, 1.0],
    ]
    assert summary["minutes_to"] == {"50": 30.0, "90": 90.0, "100": 90.0}


def test_tasks_are_counted_by_state_kind_reason_and_escalation(drill):
    summary = summary_compute(drill)

    assert summary["tasks_total"] == 8
    assert summary["tasks_by_state"] == {"done": 5, "escalated": 1, "unassigned": 1, "assigned": 1}
    assert summary["tasks_by_kind"] == {"welfare_check": 6, "patrol": 2}
    assert summary["tasks_done_late"] == 1
    assert summary["welfare_outcomes"] == {"safe": 4, "needs_help": 1}
    assert summary["unassigned"] == {"total": 1, "by_reason": {"capacity_exhausted": 1}}
    assert summary["escalated"] == 1
    assert summary["reassignments"] == {
        "events": 1,
        "tasks": 2,
        "by_cause": {"not_acknowledged": 2},
    }
    assert summary["grade_changes"] == [
        {"at": at(35).isoformat(), "minute": 35.0, "previous": 4, "grade": 3}
    ]


def test_help_request_handling_times_are_medians_and_maxima_in_minutes(drill):
    help_requests = summary_compute(drill)["help_requests"]

    assert help_requests["total"] == 4
    assert help_requests["by_state"] == {"done": 2, "open": 1, "cancelled": 1}
    assert help_requests["by_kind"] == {"medical": 1, "food": 1, "other": 1, "medicine": 1}
    # Dispatched after 5, 15 and 30 minutes; done (not cancelled) after 40 and 60.
    assert help_requests["minutes_to_dispatch"] == {"count": 3, "median": 15.0, "max": 30.0}
    assert help_requests["minutes_to_done"] == {"count": 2, "median": 50.0, "max": 60.0}
    assert help_requests["by_urgency"]["2"] == {
        "count": 2,
        "minutes_to_dispatch": {"count": 2, "median": 22.5, "max": 30.0},
        "minutes_to_done": {"count": 1, "median": 60.0, "max": 60.0},
    }
    assert help_requests["by_urgency"]["3"]["minutes_to_dispatch"] == {
        "count": 0,
        "median": None,
        "max": None,
    }


def test_volunteers_load_counts_tasks_done_reports_and_their_span(drill, emergency_world):
    volunteers = summary_compute(drill)["volunteers"]

    assert volunteers == [
        {
            "volunteer_id": emergency_world.volunteer.pk,
            "name": "陈志愿",
            "tasks": 4,
            "done": 3,
            "reports": 5,
            "first_report_at": at(10).isoformat(),
            "last_report_at": at(90).isoformat(),
            "hours": 0.0,
        },
        {
            "volunteer_id": emergency_world.second_volunteer.pk,
            "name": "刘志愿",
            "tasks": 3,
            "done": 2,
            "reports": 2,
            "first_report_at": at(45).isoformat(),
            "last_report_at": at(50).isoformat(),
            "hours": 0.0,
        },
    ]


def test_running_report_of_a_live_activation_is_marked_live(drill):
    summary = summary_compute(drill)

    assert summary["live"] is True
    assert summary["stood_down_at"] is None
    assert summary["is_drill"] is True


def test_stand_down_keeps_the_figures_with_hours_and_supplies(drill, emergency_world):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    location = stock_location_create(actor=secretary, grid_unit=world.community, name="物资室")
    item = supply_item_create(
        actor=secretary, location=location, name="矿泉水", category="water", unit="箱", quantity=20
    )
    supplies_draw(actor=secretary, activation=drill, item=item, quantity=3, reason="送水")
    supplies_draw(actor=secretary, activation=drill, item=item, quantity=2, reason="送水")

    activation = activation_stand_down(
        actor=secretary, activation=drill, reason="台风过境", now=at(180)
    )

    activation.refresh_from_db()
    summary = activation.summary
    assert summary["live"] is False
    assert summary["duration_minutes"] == 180.0
    assert summary["stood_down_at"] == at(180).isoformat()
    # Open tasks are cancelled at stand-down; the escalation is still counted.
    assert summary["tasks_by_state"] == {"done": 5, "cancelled": 3}
    assert summary["escalated"] == 1
    assert summary["minutes_to"] == {"50": 30.0, "90": 90.0, "100": 90.0}
    assert summary["help_requests"]["by_state"] == {"done": 2, "cancelled": 2}
    assert summary["supplies"] == [
        {"item_id": item.pk, "item": "矿泉水", "unit": "箱", "quantity": 5, "draws": 2}
    ]
    # 陈志愿 from assignment to the last report 90 minutes later: 1.5 h; 刘志愿 50 minutes,
    # rounded to the half hour: 1 h.
    assert summary["hours_credited"] == 2.5
    assert summary["volunteers_credited"] == 2
    assert [(entry["name"], entry["hours"]) for entry in summary["volunteers"]] == [
        ("陈志愿", 1.5),
        ("刘志愿", 1.0),
    ]


def test_household_not_reached_leaves_90_and_100_percent_null(emergency_world, plan):
    world = emergency_world
    activation = make_activation(world, plan)
    welfare(activation, world.household, volunteer=world.volunteer, minute=12)
    welfare(activation, world.neighbour_household, volunteer=world.volunteer)
    # Cancelled when the grade was lowered: no longer targeted.
    withdrawn = welfare(activation, world.other_micro_grid_household, state="unassigned")
    withdrawn.state = "cancelled"
    withdrawn.completed_at = at(5)
    withdrawn.save()

    summary = summary_compute(activation)

    assert summary["targeted_households"] == 2
    assert summary["coverage_curve"] == [[0.0, 0.0], [12.0, 0.5]]
    assert summary["minutes_to"] == {"50": 12.0, "90": None, "100": None}


def test_activation_without_welfare_checks_has_no_coverage(emergency_world, plan):
    world = emergency_world
    activation = make_activation(world, plan)
    patrol(activation, world.buildings["1号楼"], volunteer=world.second_volunteer)

    summary = summary_compute(activation)

    assert summary["targeted_households"] == 0
    assert summary["coverage_share"] is None
    assert summary["coverage_curve"] == [[0.0, 0.0]]
    assert summary["minutes_to"] == {"50": None, "90": None, "100": None}


def test_summary_queries_do_not_grow_with_the_number_of_tasks(
    drill, emergency_world, django_assert_max_num_queries
):
    buildings = list(emergency_world.buildings.values())
    tasks = Task.objects.bulk_create(
        Task(
            activation=drill,
            kind="patrol",
            title=f"巡查 {number}",
            building=buildings[number % 2],
            grid_path=buildings[number % 2].grid_path,
            due_at=at(240),
            state="done",
            outcome="done",
            assignee=emergency_world.second_volunteer,
            completed_at=at(number % 170),
        )
        for number in range(300)
    )
    TaskReport.objects.bulk_create(
        TaskReport(
            task=task, volunteer=emergency_world.second_volunteer, outcome="done", created_at=at(5)
        )
        for task in tasks
    )

    with django_assert_max_num_queries(6):
        summary = summary_compute(drill)

    assert summary["tasks_total"] == 308


def test_summary_is_json_serialisable(drill):
    import json

    summary = summary_compute(drill)

    assert json.loads(json.dumps(summary)) == summary


def test_report_context_puts_milestones_into_the_timeline(drill):
    context = report_context(drill)

    assert [(row["kind"], row["minute"]) for row in context["timeline"]] == [
        ("activated", 0.0),
        ("milestone", 10.0),
        ("milestone", 30.0),
        ("grade_changed", 35.0),
        ("reassigned", 40.0),
        ("milestone", 90.0),
        ("milestone", 90.0),
    ]
    assert context["timeline"][3]["text"] == ("From grade IV to III: 0 tasks added, 0 cancelled.")
    assert context["timeline"][4]["text"] == (
        "2 tasks reassigned (not acknowledged in time): 1 assigned, 1 without a volunteer."
    )


def test_pdf_is_a_pdf_with_pages_and_the_chinese_font(drill):
    content = report_pdf(drill)

    assert content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", content)) >= 1
    assert b"STSong-Light" in content


def test_pdf_of_an_activation_without_targets_still_builds(emergency_world, plan):
    activation = make_activation(emergency_world, plan, is_drill=False)

    assert report_pdf(activation).startswith(b"%PDF")


# ---------------------------------------------------------------------------------------
# Pages


def other_community_secretary(world):
    user = make_user("secretary_c")
    role_assign(
        user=user, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    return user


def test_secretary_reads_the_running_report(drill, emergency_world):
    response = client_for(emergency_world.users[Role.SECRETARY], language=None).get(
        reverse("emergency:report", args=[drill.pk])
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="report-live"' in content
    assert 'data-testid="coverage-line"' in content
    assert '<td class="num">25%</td>' in content
    assert '<td class="num">100%</td>' in content
    assert "陈志愿" in content


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.RESIDENT, Role.PARTNER_LIAISON])
def test_report_is_not_found_for_people_without_emergency_scope(drill, emergency_world, role):
    client = client_for(emergency_world.users[role], language=None)

    assert client.get(reverse("emergency:report", args=[drill.pk])).status_code == 404
    assert client.get(reverse("emergency:report_pdf", args=[drill.pk])).status_code == 404


def test_report_is_not_found_for_staff_of_another_community(drill, emergency_world):
    client = client_for(other_community_secretary(emergency_world), language=None)

    assert client.get(reverse("emergency:report", args=[drill.pk])).status_code == 404
    assert client.get(reverse("emergency:report_pdf", args=[drill.pk])).status_code == 404


def test_pdf_download_is_an_attachment_named_after_the_activation(drill, emergency_world):
    response = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None).get(
        reverse("emergency:report_pdf", args=[drill.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="linli-activation-{drill.pk}-report.pdf"'
    )
    assert response.content.startswith(b"%PDF")


def test_report_list_shows_stood_down_activations_newest_first(drill, emergency_world, plan):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    activation_stand_down(actor=secretary, activation=drill, reason="演练结束", now=at(180))
    later = make_activation(world, plan, activated_at=at(600), is_drill=False)
    activation_stand_down(actor=secretary, activation=later, reason="解除", now=at(700))
    make_activation(world, plan, activated_at=at(800))  # still active: not listed

    response = client_for(secretary, language=None).get(reverse("emergency:report_list"))

    assert response.status_code == 200
    assert [row["activation"].pk for row in response.context["rows"]] == [later.pk, drill.pk]
    with translation.override(settings.LANGUAGE_CODE):
        assert response.context["rows"][1]["to_100"] == minutes_text(90.0)
    other = client_for(other_community_secretary(world), language=None).get(
        reverse("emergency:report_list")
    )
    assert other.context["rows"] == []
    assert (
        client_for(world.users[Role.RESIDENT], language=None)
        .get(reverse("emergency:report_list"))
        .status_code
        == 404
    )


def test_secretary_records_lessons_from_the_report(drill, emergency_world):
    response = client_for(emergency_world.users[Role.SECRETARY], language=None).post(
        reverse("emergency:report_lessons", args=[drill.pk]), {"lessons": "2号楼需增派志愿者"}
    )

    assert response.status_code == 302
    drill.refresh_from_db()
    assert drill.lessons == "2号楼需增派志愿者"


def test_building_group_leader_cannot_change_lessons(drill, emergency_world):
    response = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None).post(
        reverse("emergency:report_lessons", args=[drill.pk]), {"lessons": "改写"}
    )

    assert response.status_code == 302
    drill.refresh_from_db()
    assert drill.lessons == ""


def test_report_of_a_stood_down_drill_reads_the_kept_figures(drill, emergency_world):
    secretary = emergency_world.users[Role.SECRETARY]
    activation_stand_down(actor=secretary, activation=drill, reason="演练结束", now=at(180))
    # A later change to the rows does not rewrite the record kept at stand-down.
    Task.objects.filter(activation=drill).update(contacted_at=None)

    response = client_for(secretary, language=None).get(
        reverse("emergency:report", args=[drill.pk])
    )

    assert response.status_code == 200
    assert response.context["summary"]["minutes_to"] == {"50": 30.0, "90": 90.0, "100": 90.0}
    content = response.content.decode()
    assert 'data-testid="report-live"' not in content
    assert '<td class="num">75%</td>' in content
    drill.refresh_from_db()
    assert report_pdf(drill).startswith(b"%PDF")


def test_coverage_table_of_many_contacts_keeps_each_five_percent():
    # 100 households, one contacted each minute.
    curve = [[0.0, 0.0], *[[float(n), n / 100] for n in range(1, 101)]]

    rows = coverage_table_points(curve)

    assert [number for number, _point in rows] == [0, *range(5, 101, 5)]
