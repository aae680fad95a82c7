"""Issue 13, item 12: the after-action report is scoped like the live board. A building-group
leader reads their own group's tasks, help requests and volunteers; the secretary the whole
community. Built on test_report's drill (A1-1: households 101 and 102, 1号楼; A2-1: 2号楼)."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.emergency import report as report_module
from linli.emergency.models import ActivationEvent
from linli.emergency.services import activation_stand_down
from linli.emergency.tests.test_report import at, drill  # noqa: F401
from linli.testing.clients import client_for

__all__ = ["drill"]


def volunteer_rows(summary: dict) -> list[tuple]:
    return [
        (row["name"], row["tasks"], row["done"], row["reports"]) for row in summary["volunteers"]
    ]


def test_building_group_leader_reads_only_their_groups_part(drill, emergency_world):  # noqa: F811
    response = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None).get(
        reverse("emergency:report", args=[drill.pk])
    )
    assert response.status_code == 200
    summary = response.context["summary"]
    # 1号楼: two checks done (101 at 10, 102 at 30), the escalated one, the unassigned patrol.
    assert volunteer_rows(summary) == [("陈志愿", 3, 2, 4)]
    assert summary["tasks_total"] == 4
    assert summary["targeted_households"] == 2
    assert summary["help_requests"]["total"] == 2
    assert summary["part_paths"] == [emergency_world.building_group.path]
    content = response.content.decode()
    assert "刘志愿" not in content
    assert 'data-testid="report-part"' in content


def test_secretary_reads_the_whole_community(drill, emergency_world):  # noqa: F811
    response = client_for(emergency_world.users[Role.SECRETARY], language=None).get(
        reverse("emergency:report", args=[drill.pk])
    )
    summary = response.context["summary"]
    assert volunteer_rows(summary) == [("陈志愿", 4, 3, 5), ("刘志愿", 3, 2, 2)]
    assert summary["tasks_total"] == 8
    assert summary["part_paths"] == []
    assert 'data-testid="report-part"' not in response.content.decode()


def test_micro_grid_lead_of_the_other_grid_reads_neither_group_of_a1(drill, emergency_world):  # noqa: F811
    from linli.conftest import make_user
    from linli.grids.services import role_assign

    lead = make_user("lead_a2")
    role_assign(user=lead, role=Role.MICRO_GRID_LEAD, grid_unit=emergency_world.other_micro_grid)
    summary = (
        client_for(lead, language=None)
        .get(reverse("emergency:report", args=[drill.pk]))
        .context["summary"]
    )
    # A2: 201 twice (刘志愿), 202 (陈志愿), the patrol of 2号楼 (刘志愿).
    assert volunteer_rows(summary) == [("刘志愿", 3, 2, 2), ("陈志愿", 1, 1, 1)]


def test_leaders_pdf_is_built_from_their_part(drill, emergency_world, monkeypatch):  # noqa: F811
    built = []
    original = report_module.report_context

    def spy(activation, paths=None):
        context = original(activation, paths)
        built.append(context)
        return context

    monkeypatch.setattr("linli.emergency.report.pdf.report_context", spy)
    response = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None).get(
        reverse("emergency:report_pdf", args=[drill.pk])
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert [volunteer_rows(context["summary"]) for context in built] == [[("陈志愿", 3, 2, 4)]]


def test_leaders_timeline_leaves_out_other_parts_unavailable_volunteers(
    drill,  # noqa: F811
    emergency_world,
):
    ActivationEvent.objects.create(
        activation=drill,
        kind="volunteer_unavailable",
        detail={
            "volunteer": emergency_world.second_volunteer.pk,
            "name": "刘志愿",
            "reason": "家中有事",
            "tasks": 2,
        },
        created_at=at(70),
    )
    leader = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None)
    rows = leader.get(reverse("emergency:report", args=[drill.pk])).context["timeline"]
    kinds = [row["kind"] for row in rows]
    assert "volunteer_unavailable" not in kinds
    assert {"activated", "grade_changed"} <= set(kinds)
    secretary = client_for(emergency_world.users[Role.SECRETARY], language=None)
    rows = secretary.get(reverse("emergency:report", args=[drill.pk])).context["timeline"]
    assert "volunteer_unavailable" in [row["kind"] for row in rows]


def test_stood_down_report_list_hides_whole_scope_figures_from_a_part(
    drill,  # noqa: F811
    emergency_world,
):
    activation_stand_down(
        activation=drill, actor=emergency_world.users[Role.SECRETARY], reason="演练结束"
    )
    leader = client_for(emergency_world.users[Role.BUILDING_GROUP_LEADER], language=None)
    rows = leader.get(reverse("emergency:report_list")).context["rows"]
    assert [(row["targeted"], row["help_requests"]) for row in rows] == [(None, None)]
    summary = leader.get(reverse("emergency:report", args=[drill.pk])).context["summary"]
    assert volunteer_rows(summary) == [("陈志愿", 3, 2, 4)]
    secretary = client_for(emergency_world.users[Role.SECRETARY], language=None)
    rows = secretary.get(reverse("emergency:report_list")).context["rows"]
    assert [(row["targeted"], row["help_requests"]) for row in rows] == [(4, 4)]


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.RESIDENT])
def test_report_stays_404_without_emergency_scope(drill, emergency_world, role):  # noqa: F811
    client = client_for(emergency_world.users[role], language=None)
    assert client.get(reverse("emergency:report", args=[drill.pk])).status_code == 404
